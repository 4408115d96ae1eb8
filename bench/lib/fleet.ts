/**
 * A simulated fleet in its own process (`mcm-simulator --fleet N`), so its memory and CPU never
 * count against a contender: N devices on consecutive ports of 127.0.0.1, one key for all.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readKeyFile } from '../../src/simulator';
import { cpuMsOf, stop, track } from './processes';

export class FleetProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly urls: string[],
    readonly key: string,
  ) {}

  /** `uploadDelayMs`: each device waits this long after an upload's last byte before it answers (unpacking the image). */
  static async start(root: string, keyFile: string, size: number, uploadDelayMs: number): Promise<FleetProcess> {
    const cli = join(root, 'build', 'src', 'simulator', 'cli.js');
    const args = [cli, '--fleet', String(size), '--quiet', '--key-file', keyFile, '--upload-delay', String(uploadDelayMs)];
    const child = track(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const urls = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`the fleet printed no devices within 30 s: ${out} ${err}`)), 30_000);
      child.stderr?.setEncoding('utf8').on('data', (text: string) => (err += text));
      child.stdout?.setEncoding('utf8').on('data', (text: string) => {
        out += text;
        const devices = [...out.matchAll(/^\S+ (https?:\/\/\S+)$/gm)].map((m) => m[1]);
        if (devices.length === size) {
          clearTimeout(timer);
          resolve(devices);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the fleet exited with ${code}: ${err.trim()}`));
      });
    });
    child.stdout?.resume();
    const key = readKeyFile(keyFile);
    if (!key) throw new Error(`no MCM_API_KEY in ${keyFile}`);
    return new FleetProcess(child, urls, key);
  }

  /** CPU time (user + system) the fleet has used so far. */
  cpuMs(): number | undefined {
    return cpuMsOf(this.child.pid);
  }

  async stop(): Promise<void> {
    await stop(this.child);
  }
}
