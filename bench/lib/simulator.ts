/**
 * The MCM simulator in its own process (`mcm-simulator --port 0 --quiet --key-file <tmp>`), so
 * its memory never counts against a contender, and its /_simulator/ controls over HTTP.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { readKeyFile } from '../../src/simulator';
import { cpuMsOf, stop, track, urlPrinted } from './processes';

/** A call to a local test server with the key; resolves the parsed JSON answer, rejects on a non-2xx status. */
export function callJson(base: string, key: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      {
        method,
        agent: false,
        headers: {
          Authorization: `Bearer ${key}`,
          ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
          try {
            resolve(text ? JSON.parse(text) : undefined);
          } catch {
            resolve(text);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export class SimulatorProcess {
  readonly name = 'simulator';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly key: string,
  ) {}

  static async start(root: string, keyFile: string): Promise<SimulatorProcess> {
    const cli = join(root, 'build', 'src', 'simulator', 'cli.js');
    const child = track(process.execPath, [cli, '--port', '0', '--quiet', '--key-file', keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await urlPrinted(child, 'the simulator', /listening on (https?:\/\/\S+?)\/mcm\/v1/);
    const key = readKeyFile(keyFile);
    if (!key) throw new Error(`no MCM_API_KEY in ${keyFile}`);
    return new SimulatorProcess(child, url, key);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** CPU time (user + system) the simulator has used so far. */
  cpuMs(): number | undefined {
    return cpuMsOf(this.child.pid);
  }

  /** A call to the simulator; resolves the parsed JSON answer, rejects on a non-2xx status. */
  request(method: string, path: string, body?: unknown): Promise<unknown> {
    return callJson(this.url, this.key, method, path, body);
  }

  /** Forgets every image and mim, the faults and the log. */
  async reset(): Promise<void> {
    await this.request('POST', '/_simulator/reset');
  }

  /** Clears the request log (it holds each request's headers). */
  async resetStats(): Promise<void> {
    await this.request('POST', '/_simulator/reset-stats');
  }

  /** Checks that the last upload got a 201 with all the bytes in its `image` part. */
  async checkLastUpload(expectedBytes: number): Promise<string | undefined> {
    const log = (await this.request('GET', '/_simulator/log?route=uploadImage')) as {
      data: Array<{ status: number; parts?: Array<{ name?: string; bytes: number }> }>;
    };
    const last = log.data[log.data.length - 1];
    if (!last) return 'the simulator saw no upload';
    const image = last.parts?.find((p) => p.name === 'image');
    if (last.status !== 201) return `the simulator answered ${last.status}`;
    if (image?.bytes !== expectedBytes) return `the simulator got ${image?.bytes ?? 0} of ${expectedBytes} bytes`;
    return undefined;
  }

  async stop(): Promise<void> {
    await stop(this.child);
  }
}
