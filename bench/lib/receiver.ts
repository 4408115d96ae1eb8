/**
 * The fast receiver (bench/receiver.ts) in its own process: lists and deploys answered from memory
 * and uploads only counted, so a contender's own cost is measured without the simulator's parsing,
 * hashing, state and log.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cpuMsOf, stop, track, urlPrinted } from './processes';
import { callJson } from './simulator';

export class ReceiverProcess {
  readonly name = 'fast receiver';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly key: string,
  ) {}

  /**
   * `imageName`: the name the answers give the uploaded image (the receiver does not read the tar)
   * and the listed mims' image; `mims`: how many mims a list holds.
   */
  static async start(root: string, imageName: string, mims: number): Promise<ReceiverProcess> {
    const key = randomBytes(16).toString('hex');
    const script = join(root, 'build', 'bench', 'receiver.js');
    const args = [script, '--key', key, '--image', imageName, '--mims', String(mims)];
    const child = track(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await urlPrinted(child, 'the fast receiver', /listening on (http:\/\/\S+)/);
    return new ReceiverProcess(child, url, key);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** CPU time (user + system) the receiver has used so far. */
  cpuMs(): number | undefined {
    return cpuMsOf(this.child.pid);
  }

  /** Checks that the last upload was answered 201 with all the image's bytes inside its multipart framing. */
  async checkLastUpload(expectedBytes: number): Promise<string | undefined> {
    const last = (await callJson(this.url, this.key, 'GET', '/_receiver/last')) as { status?: number; bytes?: number; imageBytes?: number };
    if (last.status === undefined) return 'the receiver saw no upload';
    if (last.status !== 201) return `the receiver answered ${last.status} after ${last.bytes} bytes`;
    if (last.imageBytes !== expectedBytes) return `the receiver got ${last.imageBytes} of ${expectedBytes} bytes in the image part`;
    return undefined;
  }

  /** Forgets the last upload. */
  async resetStats(): Promise<void> {
    await callJson(this.url, this.key, 'DELETE', '/_receiver/last');
  }

  async stop(): Promise<void> {
    await stop(this.child);
  }
}
