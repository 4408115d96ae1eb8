/**
 * The probe: a short, safe sequence against a real mimOE runtime through McmClient, plus a few
 * harmless raw requests, filling in one conformance verdict per point of docs/mcm-api.md.
 *
 * Safety: every name it creates derives from its prefix, and it starts only when none of them
 * exists yet, so cleanup (which runs whatever happened: a failed step, an abort) removes only
 * what this run made. It never touches anything else on the runtime.
 */
import FormData from 'form-data';
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { CallOptions, McmClient } from '../mcm/client';
import { delay } from '../mcm/delay';
import { McmError } from '../mcm/errors';
import { buildImageTar } from '../wire/image-tar';
import { DataStoreResult, Env, Mim, MimImage } from '../mcm/models';
import { isPlainObject } from '../mcm/validate';
import { ExchangeLog, LOG_FORMAT, LogExchange, bodyForLog } from './exchange-log';
import {
  PROMPT_ANSWER_MS,
  answerText,
  createAnswer,
  createdType,
  envShape,
  errorShape,
  failureText,
  isSuccess,
  jsonBody,
  listItems,
  listShape,
  rawItem,
  refusedKeyHint,
  waitBucket,
} from './observe';
import { Findings, TableRow } from './points';
import { rawRequest } from './raw';
import { KEY_PLACEHOLDER, MIN_KEY_LENGTH } from './redact';

export interface ProbeOptions {
  /** The runtime's base URL (the probe adds /mcm/v1). */
  url: string;
  /** The MCM API key or an access token; never logged. */
  key: string;
  /** Sent as x-client-id. */
  clientId?: string;
  /** Every name the probe creates starts with it. Default mimoe-probe-<random>. */
  prefix?: string;
  /** Milliseconds without progress before a call fails. Default 30 000. */
  timeoutMs?: number;
  /** How long to wait for the test mim to start. Default 60 000. */
  startWaitMs?: number;
  /** Interval of the start and data store polls. Default 1000. */
  pollMs?: number;
  /** A directory on the device for the data store backup file. Default /tmp. */
  deviceDir?: string;
  /** Aborting it stops the sequence; cleanup still runs. */
  signal?: AbortSignal;
  /** One line per step, for a person watching. */
  onProgress?: (line: string) => void;
}

export type Outcome = 'ran' | 'could not run' | 'interrupted';

export const EXIT_CODES = { ran: 0, couldNotRun: 1, usage: 2, leftovers: 3, interrupted: 130 } as const;

export interface ProbeResult {
  rows: TableRow[];
  log: ExchangeLog;
  outcome: Outcome;
  /** Why the sequence could not run. */
  problem?: string;
  /** What may be left on the runtime (empty when cleanup removed everything). */
  leftovers: string[];
  exitCode: number;
  /** Cleanup ran (the run's names were free at the start) and left nothing. */
  cleanedUp: boolean;
  /** The backup file on the device: no MCM call removes it. */
  deviceFiles: string[];
}

const PREFIX_RULE = /^[a-z][a-z0-9-]{2,38}[a-z0-9]$/;

export function checkPrefix(prefix: string): string | undefined {
  return PREFIX_RULE.test(prefix) ? undefined : 'lowercase letters, digits and "-", 4 to 40 characters, starting with a letter';
}

export const defaultPrefix = (): string => `mimoe-probe-${randomBytes(3).toString('hex')}`;

/** The names a run with this prefix uses (and the only ones its cleanup removes). */
export function probeNames(prefix: string) {
  return {
    image: `${prefix}-img`,
    tarFile: `${prefix}-file.tar`,
    mim: `${prefix}-mim`,
    composition: `${prefix}-comp`,
    orphan: `${prefix}-orphan`,
    missingImage: `${prefix}-missing`,
    chunkedImage: `${prefix}-chunked`,
    expectImage: `${prefix}-expect`,
    otherClient: `${prefix}-scope`,
  };
}

class CouldNotRun extends Error {}
class Interrupted extends Error {}

type Auth = 'key' | 'wrong key' | 'no key';

/** A JWT (header.payload.signature): the client id comes from the token, not "api". */
const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

export class Probe {
  readonly prefix: string;
  readonly names: ReturnType<typeof probeNames>;
  readonly log: ExchangeLog;
  private readonly client: McmClient;
  private readonly findings = new Findings();
  private readonly timeoutMs: number;
  private readonly startWaitMs: number;
  private readonly pollMs: number;
  private readonly deviceDir: string;
  private readonly env: Env;
  private current = 'preflight';
  /** Set once the run's names were found free: only then does cleanup remove anything. */
  private claimed = false;
  /** Names a create was sent for, until they are known to be gone. */
  private readonly pending = new Set<string>();
  private readonly deviceFiles: string[] = [];

  // What the sequence learnt so far.
  private image?: MimImage;
  private mim?: Mim;
  private imageGone = false;
  private uploaded?: LogExchange;
  private deployed?: LogExchange;

  constructor(private readonly options: ProbeOptions) {
    if (options.key.length < MIN_KEY_LENGTH) throw new Error(`the key is shorter than ${MIN_KEY_LENGTH} characters`);
    this.prefix = options.prefix ?? defaultPrefix();
    const problem = checkPrefix(this.prefix);
    if (problem) throw new Error(`the prefix "${this.prefix}" is not usable: ${problem}`);
    this.names = probeNames(this.prefix);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.startWaitMs = options.startWaitMs ?? 60_000;
    this.pollMs = options.pollMs ?? 1000;
    this.deviceDir = options.deviceDir ?? '/tmp';
    this.env = { 'MCM.BASE_API_PATH': `/${this.prefix}/v1`, PROBE: this.prefix };
    this.client = new McmClient({
      url: options.url,
      token: options.key,
      clientId: options.clientId,
      timeoutMs: this.timeoutMs,
      dataStorePollMs: this.pollMs,
      onExchange: (exchange) => this.log.addClientExchange(this.current, exchange),
    });
    this.log = new ExchangeLog(options.key, {
      type: 'probe',
      format: LOG_FORMAT,
      url: this.client.url,
      prefix: this.prefix,
      clientId: options.clientId,
      deviceDir: this.deviceDir,
      timeoutMs: this.timeoutMs,
      startWaitMs: this.startWaitMs,
      pollMs: this.pollMs,
      startedAt: new Date().toISOString(),
      node: process.version,
    });
  }

  /** What may be on the runtime right now because of this run (for an exit without cleanup). */
  mayBeLeft(): string[] {
    return [...this.pending];
  }

  /** The whole run: sequence, cleanup, table. Never throws for what the runtime answers. */
  async run(): Promise<ProbeResult> {
    let outcome: Outcome = 'ran';
    let problem: string | undefined;
    try {
      await this.sequence();
    } catch (err) {
      if (err instanceof Interrupted || this.options.signal?.aborted) outcome = 'interrupted';
      else {
        outcome = 'could not run';
        problem = err instanceof CouldNotRun ? err.message : failureText(err);
      }
    }
    const leftovers = this.claimed ? await this.cleanup() : [];
    this.judgeAcrossExchanges();
    // Why a run could not go on is printed once, after the table (and kept in the log's result).
    const why =
      outcome === 'interrupted' ? 'interrupted before this point' : problem ? 'not reached (the probe could not run)' : 'not reached';
    const rows = this.findings.rows(why);
    const exitCode =
      outcome === 'interrupted' ? EXIT_CODES.interrupted : leftovers.length ? EXIT_CODES.leftovers : outcome === 'ran' ? 0 : 1;
    this.log.conformance = { type: 'conformance', rows };
    this.log.result = { type: 'result', exitCode, outcome, problem, leftovers };
    this.client.close();
    return {
      rows,
      log: this.log,
      outcome,
      problem,
      leftovers,
      exitCode,
      cleanedUp: this.claimed && !leftovers.length,
      deviceFiles: this.deviceFiles,
    };
  }

  /** Only removes what a run with this prefix may have left; resolves to what is still there. */
  async cleanupOnly(): Promise<string[]> {
    this.claimed = true;
    const left = await this.cleanup();
    this.client.close();
    return left;
  }

  // ------------------------------------------------------------------ the sequence

  private async sequence(): Promise<void> {
    const n = this.names;
    await this.step('preflight', [], true, () => this.preflight());
    this.claimed = true;
    await this.step('auth.wrong-key', ['auth.wrong-key'], false, async () => {
      const entry = await this.raw('GET', '/mcm/v1/mims', 'wrong key');
      this.findings.judge('auth.wrong-key', entry.status === 403, answerText(entry));
    });
    await this.step('auth.missing-key', ['auth.missing-key'], false, async () => {
      const entry = await this.raw('GET', '/mcm/v1/mims', 'no key');
      this.findings.judge('auth.missing-key', entry.status === 403, answerText(entry));
    });
    await this.step('path.unmounted', ['path.unmounted'], false, async () => {
      const entry = await this.raw('GET', '/mcm/v1/mcm/v1/mims', 'key');
      const withBody = typeof entry.responseBody !== 'string' || entry.responseBody.trim() !== '';
      this.findings.judge('path.unmounted', entry.status === 404 && withBody, answerText(entry));
    });
    await this.step('path.containers', ['path.containers'], false, async () => {
      const entry = await this.raw('GET', '/mcm/v1/containers', 'key');
      const listed = isSuccess(entry) && listItems(jsonBody(entry)) !== undefined;
      this.findings.judge('path.containers', listed, listed ? `HTTP ${entry.status} with a list` : answerText(entry));
    });
    await this.step('upload', ['create.body', 'upload.answer-delay'], true, () => this.uploadTestImage());
    await this.step('images', ['image.name-from-tar', 'image.id-shape'], false, () => this.findTestImage());
    await this.step('deploy', ['create.body', 'mim.id-shape'], true, () => this.deployTestMim());
    await this.step('wait-started', ['mim.start', 'mim.env-shape', 'created.type'], false, () => this.waitStarted());
    await this.step('client-scope', ['clientid.scope'], false, async () => {
      const entry = await this.raw('GET', '/mcm/v1/mims', 'key', { headers: { 'x-client-id': n.otherClient } });
      if (!isSuccess(entry)) return this.findings.differs('clientid.scope', answerText(entry));
      const seen = !!rawItem(entry, n.mim);
      this.findings.judge(
        'clientid.scope',
        !seen,
        seen ? `x-client-id "${n.otherClient}" lists the mim` : 'not listed for another client id',
      );
    });
    await this.step('duplicate', ['mim.duplicate'], false, async () => {
      const again = () => this.client.deployMim(n.mim, n.image, this.env, this.call());
      await this.expectRefusal('mim.duplicate', 409, again, 'the duplicate was accepted');
    });
    await this.step('unknown-image', ['deploy.unknown-image'], false, async () => {
      this.pending.add(n.orphan);
      const deploy = () => this.client.deployMim(n.orphan, n.missingImage, {}, this.call());
      if (await this.expectRefusal('deploy.unknown-image', 404, deploy, 'deployed')) this.pending.delete(n.orphan);
    });
    const backupPath = posix.join(this.deviceDir, `${this.prefix}.backup`);
    let backedUp = false;
    await this.step('backup', ['datastore.backup'], false, async () => {
      this.deviceFiles.push(backupPath);
      backedUp = this.judgeDataStore('datastore.backup', await this.client.backupDataStore(this.mimId(), backupPath, this.call()));
    });
    await this.step('follow-up', ['datastore.follow-up'], false, async () => {
      const entry = await this.raw('GET', `/mcm/v1/mims/${encodeURIComponent(this.mimId())}/dataStore`, 'key');
      const body = jsonBody(entry);
      const status = isPlainObject(body) ? body.status : undefined;
      const result = isSuccess(entry) && ['completed', 'failed', 'inProgress'].includes(status as string);
      this.findings.judge('datastore.follow-up', result, result ? `HTTP ${entry.status} status "${String(status)}"` : answerText(entry));
    });
    await this.step('restore', ['datastore.restore'], false, async () => {
      if (!backedUp) return this.findings.notObserved('datastore.restore', 'the backup did not complete');
      this.judgeDataStore('datastore.restore', await this.client.restoreDataStore(this.mimId(), backupPath, this.call()));
    });
    await this.step('restore-missing', ['datastore.restore-missing'], false, async () => {
      const nowhere = posix.join(this.deviceDir, `${this.prefix}-absent.backup`);
      try {
        const result = await this.client.restoreDataStore(this.mimId(), nowhere, this.call());
        this.findings.differs('datastore.restore-missing', `status "${result.status}"`);
      } catch (err) {
        if (!(err instanceof McmError) || err.code !== 'operation-failed') throw err;
        this.findings.asDocumented('datastore.restore-missing', failureText(err));
      }
    });
    await this.step('composition', ['composition.answer'], false, async () => {
      this.pending.add(n.composition);
      await this.client.deployComposition([{ name: n.composition, image: n.image }], this.call());
      const entry = this.lastOfStep('POST');
      const listed = listItems(jsonBody(entry))?.some((item) => isPlainObject(item) && item.name === n.composition);
      this.findings.judge('composition.answer', !!listed, listed ? `HTTP ${entry?.status} with the list` : createAnswer(entry!).text);
    });
    await this.step('upload-chunked', ['upload.chunked'], false, async () => {
      const entry = await this.rawUpload(n.chunkedImage, { chunked: true });
      this.findings.judge('upload.chunked', isSuccess(entry), isSuccess(entry) ? `HTTP ${entry.status}: accepted` : answerText(entry));
    });
    await this.step('upload-expect', ['upload.expect'], false, async () => {
      const entry = await this.rawUpload(n.expectImage, { expectContinue: true });
      const how = entry.expect?.continued ? '100 Continue, then ' : entry.expect?.bodySent ? 'body sent after a second, then ' : '';
      const after = entry.expect && !entry.expect.bodySent ? ' (answered before the body was sent)' : '';
      this.findings.judge('upload.expect', entry.status === 417, `${how}${answerText(entry)}${after}`);
    });
    await this.step('delete-in-use', ['image.delete-in-use'], false, async () => {
      const image = this.testImage();
      try {
        await this.client.deleteImage(image.id, this.call());
      } catch (err) {
        if (!(err instanceof McmError) || err.code !== 'http') throw err;
        return this.findings.judge('image.delete-in-use', err.statusCode === 409, failureText(err, this.lastOfStep('DELETE')));
      }
      this.imageGone = true;
      this.pending.delete(n.image);
      this.findings.differs(
        'image.delete-in-use',
        `HTTP ${this.lastOfStep('DELETE')?.status}: deleted while mim "${this.mimId()}" used it`,
      );
    });
    let removed = false;
    await this.step('remove', [], false, async () => {
      for (const mim of await this.client.listMims(this.call())) {
        if (mim.name !== n.mim && mim.name !== n.composition) continue;
        await this.client.removeMim(mim.id, this.call());
        this.pending.delete(mim.name);
      }
      removed = true;
    });
    await this.step('remove-again', ['mim.remove-unknown'], false, async () => {
      if (!removed) return this.findings.notObserved('mim.remove-unknown', 'the test mim was not removed');
      await this.expectRefusal('mim.remove-unknown', 404, () => this.client.removeMim(this.mimId(), this.call()), 'removed again');
    });
    await this.step('delete-by-name', ['image.delete-by-name'], false, () => this.deleteByName());
  }

  private async preflight(): Promise<void> {
    const n = this.names;
    const images = await this.client.listImages(this.call());
    const mims = await this.client.listMims(this.call());
    const taken = [
      ...images.filter((image) => this.isOurs('image', image.name)).map((image) => `image ${image.name}`),
      ...mims.filter((mim) => this.isOurs('mim', mim.name)).map((mim) => `mim ${mim.name}`),
    ];
    if (taken.length) {
      throw new CouldNotRun(
        `the runtime already has ${taken.join(', ')}: choose another --prefix, or remove what an earlier run left with --cleanup --prefix ${this.prefix}`,
      );
    }
    this.options.onProgress?.(
      `  ${images.length} images and ${mims.length} mims listed; the probe's names (${n.image}, ${n.mim}, ...) are free`,
    );
  }

  private async uploadTestImage(): Promise<void> {
    const tar = buildImageTar({ name: this.names.image });
    let lastByteAt: number | undefined;
    this.pending.add(this.names.image);
    try {
      this.image = await this.client.uploadImage(tar, {
        ...this.call(),
        filename: this.names.tarFile,
        onProgress: (progress) => {
          if (progress.bytes === tar.length) lastByteAt = Date.now();
        },
      });
    } catch (err) {
      // Only an answer that never came after the last byte says something about the wait.
      if (err instanceof McmError && err.code === 'timeout' && lastByteAt !== undefined)
        this.findings.differs('upload.answer-delay', `no answer after the last byte (${failureText(err)})`);
      else this.findings.notObserved('upload.answer-delay', 'the upload failed');
      throw err;
    }
    const entry = this.lastOfStep('POST')!;
    this.uploaded = entry;
    const waited = Date.parse(entry.startedAt) + entry.ms - (lastByteAt ?? Date.parse(entry.startedAt));
    const bucket = waitBucket(waited);
    this.findings.judge(
      'upload.answer-delay',
      bucket === 0,
      bucket === 0 ? `answered within ${PROMPT_ANSWER_MS / 1000} s of the last byte` : `answered more than ${bucket} s after the last byte`,
    );
  }

  private async findTestImage(): Promise<void> {
    const n = this.names;
    const images = await this.client.listImages(this.call());
    const image = images.find((candidate) => candidate.name === n.image);
    if (!image) {
      const others = images.filter((candidate) => candidate.name.startsWith(this.prefix)).map((candidate) => candidate.name);
      this.findings.differs('image.name-from-tar', `not listed as "${n.image}"${others.length ? ` (listed: ${others.join(', ')})` : ''}`);
      return;
    }
    this.image = image;
    this.findings.asDocumented('image.name-from-tar', `listed as "${image.name}"`);
    this.judgeId('image.id-shape', image.id, image.name);
  }

  private async deployTestMim(): Promise<void> {
    const n = this.names;
    this.pending.add(n.mim);
    try {
      this.mim = await this.client.deployMim(n.mim, n.image, this.env, this.call());
    } finally {
      this.deployed = this.lastOfStep('POST');
    }
    this.judgeId('mim.id-shape', this.mim.id, n.mim);
    const answers = [
      ['upload', this.uploaded],
      ['deploy', this.deployed],
    ] as const;
    const described = answers.map(([what, entry]) => ({ what, ...createAnswer(entry!) }));
    this.findings.judge(
      'create.body',
      described.every((answer) => answer.object),
      described.map((answer) => `${answer.what}: ${answer.text}`).join('; '),
    );
  }

  private async waitStarted(): Promise<void> {
    const n = this.names;
    const polls = Math.max(1, Math.ceil(this.startWaitMs / this.pollMs));
    let mim: Mim | undefined;
    for (let poll = 1; ; poll++) {
      mim = (await this.client.listMims(this.call())).find((candidate) => candidate.name === n.mim);
      if (!mim || mim.state === 'started' || poll >= polls) break;
      await delay('listMims', this.pollMs, this.options.signal);
    }
    if (!mim) {
      this.findings.differs('mim.start', 'the test mim is not listed');
      return;
    }
    this.mim = mim;
    this.findings.judge(
      'mim.start',
      mim.state === 'started',
      mim.state === 'started' ? 'state "started"' : `state "${mim.state}" after ${this.startWaitMs / 1000} s`,
    );
    const listed = rawItem(this.lastOfStep('GET'), n.mim);
    const env = envShape(listed?.env, this.env);
    this.findings.judge('mim.env-shape', env.documented, `listed with env as ${env.text}`);
    const imageEntry = this.log.ofStep('images').at(-1);
    const types = [
      ['images', createdType(rawItem(imageEntry, n.image)?.created)],
      ['mims', createdType(listed?.created)],
    ] as const;
    this.findings.judge(
      'created.type',
      types.every(([, type]) => type.documented),
      types.map(([what, type]) => `${what}: ${type.text}`).join('; '),
    );
  }

  private async deleteByName(): Promise<void> {
    const n = this.names;
    if (this.imageGone) return this.findings.notObserved('image.delete-by-name', 'the image was deleted already (image.delete-in-use)');
    const image = this.testImage();
    if (image.id === n.image) return this.findings.notObserved('image.delete-by-name', 'the image id is its bare name');
    try {
      await this.client.deleteImage(n.image, this.call());
    } catch (err) {
      if (!(err instanceof McmError) || err.code !== 'http') throw err;
      this.findings.differs('image.delete-by-name', failureText(err, this.lastOfStep('DELETE')));
      await this.client.deleteImage(image.id, this.call());
      this.pending.delete(n.image);
      return;
    }
    const still = (await this.client.listImages(this.call())).some((candidate) => candidate.name === n.image);
    this.findings.judge('image.delete-by-name', !still, still ? 'answered 2xx, but the image is still listed' : 'deleted');
    if (still) await this.client.deleteImage(image.id, this.call());
    this.pending.delete(n.image);
  }

  // ------------------------------------------------------------------ cleanup

  /** Removes the run's mims, then its images; resolves to what is still there (or may be). */
  private async cleanup(): Promise<string[]> {
    this.current = 'cleanup';
    this.options.onProgress?.('cleanup');
    // A fresh call: an interrupted run still cleans up.
    const call: CallOptions = {};
    const problems: string[] = [];
    const attempt = async (what: string, action: () => Promise<unknown>): Promise<void> => {
      try {
        await action();
      } catch (err) {
        problems.push(`${what}: ${failureText(err)}`);
      }
    };
    await attempt('list mims', async () => {
      for (const mim of await this.client.listMims(call))
        if (this.isOurs('mim', mim.name)) await attempt(`remove mim ${mim.id}`, () => this.client.removeMim(mim.id, call));
    });
    await attempt('list images', async () => {
      for (const image of await this.client.listImages(call))
        if (this.isOurs('image', image.name)) await attempt(`delete image ${image.id}`, () => this.client.deleteImage(image.id, call));
    });
    let left: string[];
    try {
      left = [
        ...(await this.client.listMims(call)).filter((mim) => this.isOurs('mim', mim.name)).map((mim) => `mim ${mim.id}`),
        ...(await this.client.listImages(call)).filter((image) => this.isOurs('image', image.name)).map((image) => `image ${image.id}`),
      ];
      this.pending.clear();
    } catch (err) {
      left = this.mayBeLeft().map((name) => `${name} (not verified: ${failureText(err)})`);
    }
    for (const problem of problems) this.options.onProgress?.(`  cleanup problem: ${problem}`);
    return left;
  }

  private isOurs(kind: 'mim' | 'image', name: string): boolean {
    const n = this.names;
    const names = kind === 'mim' ? [n.mim, n.composition, n.orphan] : [n.image, n.chunkedImage, n.expectImage, n.missingImage];
    return names.includes(name);
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Runs one step. An essential step that fails stops the sequence; any other failure becomes
   * a `differs` for the points the step looks at (those it had not judged yet).
   */
  private async step(name: string, points: string[], essential: boolean, body: () => Promise<void>): Promise<void> {
    if (this.options.signal?.aborted) throw new Interrupted();
    this.current = name;
    this.options.onProgress?.(name);
    try {
      await body();
    } catch (err) {
      if (this.options.signal?.aborted || (err instanceof McmError && err.code === 'aborted')) throw new Interrupted();
      if (err instanceof CouldNotRun) throw err;
      const entry = this.log.ofStep(name).at(-1);
      const text = failureText(err, entry);
      for (const point of points) if (!this.findings.has(point)) this.findings.differs(point, `${name}: ${text}`);
      // Said whole where a person reads why: the progress line and the problem (printed once, and in the log).
      const whole = failureText(err, entry, Infinity);
      this.options.onProgress?.(`  failed: ${whole}`);
      if (essential) throw new CouldNotRun(`${name} failed: ${whole}${refusedKeyHint(err, entry)}`);
    }
  }

  /** Calls that must be refused with `status`; the refusal is the finding. Resolves true when refused. */
  private async expectRefusal(point: string, status: number, call: () => Promise<unknown>, accepted: string): Promise<boolean> {
    try {
      await call();
    } catch (err) {
      if (!(err instanceof McmError) || err.code !== 'http') throw err;
      this.findings.judge(point, err.statusCode === status, failureText(err, this.lastOfStep()));
      return true;
    }
    this.findings.differs(point, `HTTP ${this.lastOfStep()?.status}: ${accepted}`);
    return false;
  }

  /** True when the result is completed; the verdict goes to `point`. */
  private judgeDataStore(point: string, result: DataStoreResult): boolean {
    if (result.status === 'completed') this.findings.asDocumented(point, 'status "completed"');
    else this.findings.differs(point, `status "${result.status}"${result.status === 'inProgress' ? ', with no way to follow it' : ''}`);
    return result.status === 'completed';
  }

  private judgeId(point: string, id: string, name: string): void {
    const expected = this.options.clientId ?? (looksLikeJwt(this.options.key) ? undefined : 'api');
    if (expected !== undefined) {
      this.findings.judge(point, id === `${expected}-${name}`, `id "${id}"`);
      return;
    }
    const fits = id.endsWith(`-${name}`) && id.length > name.length + 1;
    this.findings.judge(point, fits, fits ? `id "${id}" (client id "${id.slice(0, -name.length - 1)}" from the token)` : `id "${id}"`);
  }

  private mimId(): string {
    if (!this.mim) throw new CouldNotRun('no test mim');
    return this.mim.id;
  }

  private testImage(): MimImage {
    if (!this.image) throw new CouldNotRun('no test image');
    return this.image;
  }

  private call(): CallOptions {
    return { signal: this.options.signal };
  }

  private lastOfStep(method?: string): LogExchange | undefined {
    return this.log
      .ofStep(this.current)
      .filter((entry) => !method || entry.method === method)
      .at(-1);
  }

  /** A raw request with the given auth, recorded in the log under the current step. */
  private async raw(
    method: 'GET' | 'POST',
    path: string,
    auth: Auth,
    extra: { headers?: Record<string, string>; body?: Buffer; chunked?: boolean; expectContinue?: boolean; summary?: unknown } = {},
  ): Promise<LogExchange> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra.headers };
    if (this.options.clientId && !headers['x-client-id']) headers['x-client-id'] = this.options.clientId;
    if (auth === 'key') headers.authorization = `Bearer ${this.options.key}`;
    if (auth === 'wrong key') headers.authorization = `Bearer ${this.prefix}-wrong-${randomBytes(8).toString('hex')}`;
    const answer = await rawRequest(this.client.url, {
      method,
      path,
      headers,
      body: extra.body,
      chunked: extra.chunked,
      expectContinue: extra.expectContinue,
      timeoutMs: this.timeoutMs,
      signal: this.options.signal,
    });
    const sent = { ...headers, ...(auth === 'key' ? { authorization: `Bearer ${KEY_PLACEHOLDER}` } : {}) };
    const entry = this.log.add(this.current, {
      method,
      path,
      status: answer.status,
      requestHeaders: sent,
      requestBody: extra.summary,
      responseHeaders: answer.headers,
      responseBody: bodyForLog(answer.body),
      bytesSent: extra.body?.length ?? 0,
      bytesReceived: answer.body.length,
      startedAt: answer.startedAt,
      ms: answer.ms,
      error: answer.error,
      expect: answer.expect,
    });
    if (answer.error === 'aborted') throw new Interrupted();
    return entry;
  }

  /** Uploads a tiny image of the run's own by hand, framed as asked. */
  private async rawUpload(name: string, framing: { chunked?: boolean; expectContinue?: boolean }): Promise<LogExchange> {
    this.pending.add(name);
    const tar = buildImageTar({ name });
    const filename = `${name}.tar`;
    const form = new FormData();
    form.append('image', tar, { filename, contentType: 'application/x-tar' });
    const entry = await this.raw('POST', '/mcm/v1/images', 'key', {
      ...framing,
      headers: form.getHeaders(),
      body: form.getBuffer(),
      summary: { multipart: [{ name: 'image', filename, contentType: 'application/x-tar', bytes: tar.length }] },
    });
    if (entry.status >= 300) this.pending.delete(name);
    return entry;
  }

  /** list.wrapped and error.shape look at every exchange of the run. */
  private judgeAcrossExchanges(): void {
    const lists = this.log.exchanges.filter(
      (entry) => entry.method === 'GET' && ['/mcm/v1/images', '/mcm/v1/mims'].includes(entry.path) && isSuccess(entry),
    );
    if (lists.length) {
      const shapes = new Map<string, string>();
      for (const entry of lists) {
        const shape = listShape(jsonBody(entry));
        if (shape !== 'wrapped') shapes.set(entry.path, shape);
      }
      this.findings.judge(
        'list.wrapped',
        shapes.size === 0,
        shapes.size === 0 ? 'images and mims: {"data":[...]}' : [...shapes].map(([path, shape]) => `${path}: ${shape}`).join('; '),
      );
    }
    const errors = this.log.exchanges.filter(
      (entry) => entry.status >= 400 && typeof entry.responseBody === 'string' && entry.responseBody.trim() !== '',
    );
    if (errors.length) {
      const statuses = (pick: (entry: LogExchange) => boolean): string =>
        [
          ...new Set(
            errors.filter(pick).map((entry) => `${entry.status}${errorShape(entry).documented ? '' : ` (${errorShape(entry).kind})`}`),
          ),
        ]
          .sort()
          .join(', ');
      const odd = statuses((entry) => !errorShape(entry).documented);
      this.findings.judge(
        'error.shape',
        odd === '',
        odd === '' ? `HTTP ${statuses(() => true)}: all in that shape` : `not in that shape: HTTP ${odd}`,
      );
    }
  }
}
