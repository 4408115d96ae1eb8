/**
 * McmClient: one method per MCM operation of mimik's SDK; the bytes go through HttpTransport (transport.ts).
 * No Node-RED imports: the config node owns one client and lends it to the action nodes.
 *
 * Every call: Bearer token, optional x-client-id, ids URL-encoded, a timeout that measures
 * silence (an upload that keeps moving never times out), an AbortSignal, the shared
 * keep-alive pool and concurrency bound, retries only for idempotent reads, and failures
 * as one McmError that never carries the token.
 */
import { setMaxListeners } from 'node:events';
import { delay } from './delay';
import { McmError, McmOperation } from './errors';
import { ImageSource, OpenedSource, openImageSource, SourceOptions, UploadBody, UploadProgress, uploadBody } from './image-source';
import {
  DATA_STORE_STATUSES,
  DataStoreAction,
  DataStoreResult,
  Env,
  Mim,
  MimImage,
  MimSpec,
  normalizeDataStoreResult,
  normalizeImage,
  normalizeMim,
  unwrapList,
} from './models';
import { Exchange, HttpTransport, ProxyOptions, TlsOptions, TransportResponse } from './transport';
import { checkEnv, checkId, checkImageName, checkName, checkPath, checkSpecs, isPlainObject } from './validate';

export { UPLOAD_CHUNK_BYTES } from './image-source';
export type { ImageSource, UploadProgress } from './image-source';
export type { Exchange, ProxyOptions, TlsOptions } from './transport';

export const MCM_BASE_PATH = '/mcm/v1';
export interface McmClientOptions {
  /** The runtime's base URL, e.g. http://127.0.0.1:8083 (the client adds /mcm/v1). */
  url: string;
  /** The MCM API key or an access token with scope edge:mcm; a function is asked on every call. */
  token: string | (() => string);
  /**
   * Asked after a 403: when it resolves true (the token changed, e.g. a re-read key file),
   * the call is repeated once with the new token.
   */
  reloadToken?: () => boolean | Promise<boolean>;
  /** Sent as x-client-id when set. */
  clientId?: string;
  /** Milliseconds without progress before a call fails. Default 30 000. */
  timeoutMs?: number;
  /** Requests in flight at once; the rest wait in order. Default 8. */
  maxConcurrent?: number;
  /** Extra attempts for idempotent reads after connection errors, 429/502/503/504. Default 2. */
  retries?: number;
  /** First retry delay (doubles, with jitter). Default 250 ms. */
  retryBaseMs?: number;
  /** Longest wait between retries, Retry-After included; a longer Retry-After fails at once. Default 10 000 ms. */
  retryMaxMs?: number;
  /** `containers` for edgeEngine-era runtimes. Default `mims`. */
  mimsResource?: 'mims' | 'containers';
  tls?: TlsOptions;
  /** How often to ask about an `inProgress` data store operation. Default 500 ms. */
  dataStorePollMs?: number;
  /** Longest wait for a data store operation to finish. Default 10 minutes. */
  dataStoreMaxWaitMs?: number;
  /**
   * After an upload's last byte, how long to wait for the answer (some runtimes unpack large
   * images first). Separate from timeoutMs. Default 300 000 ms.
   */
  answerTimeoutMs?: number;
  /**
   * While an upload's body is being sent, it fails only when fewer than lowSpeedBytes were
   * accepted over lowSpeedWindowMs (curl's low-speed limit). Defaults 1024 bytes, 60 000 ms;
   * the window is never shorter than timeoutMs.
   */
  lowSpeedBytes?: number;
  lowSpeedWindowMs?: number;
  /** Answers larger than this fail (and their connection is closed). Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * An HTTP(S) proxy. Undefined: from the environment (http_proxy, https_proxy, no_proxy), as
   * Node-RED's core http request node does; false: never. Loopback is never proxied.
   */
  proxy?: ProxyOptions | false;
  /** Called after every HTTP exchange (probes, logs); never sees the Authorization header. */
  onExchange?: (exchange: Exchange) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
}

export interface UploadOptions extends CallOptions, SourceOptions {
  onProgress?: (progress: UploadProgress) => void;
}

export interface DataStoreOptions extends CallOptions {
  /** Called with every `inProgress` answer. */
  onProgress?: (result: DataStoreResult) => void;
}

export interface ConnectionCheck {
  url: string;
  mims: number;
}

interface RequestSpec {
  operation: McmOperation;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  json?: unknown;
  /** Builds a fresh upload body for each attempt; undefined when it cannot be built twice. */
  upload?: () => Promise<ReturnType<typeof uploadBody>>;
  /** Safe to repeat: reads and polls. */
  idempotent?: boolean;
  /** False when the body cannot be sent twice (a caller's stream): no repeat even after a new token. */
  replayable?: boolean;
  /** The answer's body is not used (deletes): any 2xx will do, whatever it holds. */
  ignoreBody?: boolean;
  /** A 2xx whose body is not JSON counts as one without a body (the caller looks the result up). */
  optionalBody?: boolean;
  call?: CallOptions;
}

interface Response {
  status: number;
  body: unknown;
}

/** setTimeout's limit: longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export class McmClient {
  readonly url: string;
  private readonly options: Required<
    Pick<
      McmClientOptions,
      'timeoutMs' | 'retries' | 'retryBaseMs' | 'retryMaxMs' | 'mimsResource' | 'dataStorePollMs' | 'dataStoreMaxWaitMs'
    >
  > &
    McmClientOptions;
  private readonly transport: HttpTransport;
  /** Aborted by close(): ends every call in flight or queued. */
  private readonly closing = new AbortController();

  constructor(options: McmClientOptions) {
    const url = options.url
      ?.trim()
      .replace(/\/+$/, '')
      .replace(/\/mcm\/v1$/, '');
    if (!url || !/^https?:\/\/[^/]/i.test(url))
      throw new TypeError(`the runtime URL must start with http:// or https:// (got "${options.url ?? ''}")`);
    this.url = url;
    // Field by field: an option given as undefined must not erase its default.
    this.options = {
      ...options,
      timeoutMs: Math.min(options.timeoutMs ?? 30_000, MAX_TIMER_MS),
      retries: options.retries ?? 2,
      retryBaseMs: options.retryBaseMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 10_000,
      mimsResource: options.mimsResource ?? 'mims',
      dataStorePollMs: options.dataStorePollMs ?? 500,
      dataStoreMaxWaitMs: options.dataStoreMaxWaitMs ?? 10 * 60_000,
    };
    // Every call in flight or queued listens for close(): no listener limit applies.
    setMaxListeners(0, this.closing.signal);
    this.transport = new HttpTransport({
      url,
      maxConcurrent: Math.max(1, options.maxConcurrent ?? 8),
      tls: options.tls,
      answerTimeoutMs: Math.min(options.answerTimeoutMs ?? 300_000, MAX_TIMER_MS),
      lowSpeedBytes: options.lowSpeedBytes ?? 1024,
      lowSpeedWindowMs: Math.min(options.lowSpeedWindowMs ?? 60_000, MAX_TIMER_MS),
      maxResponseBytes: options.maxResponseBytes ?? 64 * 1024 * 1024,
      proxy: options.proxy,
      tunnelTimeoutMs: this.options.timeoutMs,
      redact: (text) => this.redact(text),
      onExchange: options.onExchange,
    });
  }

  async listMims(call?: CallOptions): Promise<Mim[]> {
    const op = 'listMims';
    const { body } = await this.send({ operation: op, method: 'GET', path: this.mimsPath(), idempotent: true, call });
    return list(op, body).map(normalizeMim);
  }

  async deployMim(name: string, image: string, env?: Env, call?: CallOptions): Promise<Mim> {
    const op = 'deployMim';
    const spec: MimSpec = { name: checkName(op, name), image: checkImageName(op, image), env: checkEnv(op, env) };
    const { body } = await this.send({ operation: op, method: 'POST', path: this.mimsPath(), json: spec, call });
    if (isPlainObject(body)) return normalizeMim(unwrapObject(body));
    // A 2xx without a body: the mim exists; its id depends on the client id, so ask for it.
    const mim = (await this.listMims(call)).find((m) => m.name === spec.name);
    if (!mim)
      throw new McmError({ operation: op, code: 'bad-response', detail: `answered without a body and "${spec.name}" is not listed` });
    return mim;
  }

  async removeMim(id: string, call?: CallOptions): Promise<void> {
    const op = 'removeMim';
    await this.send({ operation: op, method: 'DELETE', path: this.mimsPath(checkId(op, id)), ignoreBody: true, call });
  }

  async listImages(call?: CallOptions): Promise<MimImage[]> {
    const op = 'listImages';
    const { body } = await this.send({ operation: op, method: 'GET', path: '/images', idempotent: true, call });
    return list(op, body).map(normalizeImage);
  }

  /**
   * Streams the tar to the runtime with its Content-Length: a file is never read whole into
   * memory; a stream of unknown length is first kept in a temporary file, removed afterwards.
   */
  async uploadImage(source: ImageSource, options: UploadOptions = {}): Promise<MimImage> {
    const signals = [options.signal, this.closing.signal].filter((s): s is AbortSignal => s !== undefined);
    const opened = await openImageSource(source, options, AbortSignal.any(signals));
    try {
      return await this.sendImage(opened, options);
    } finally {
      await opened.release();
    }
  }

  private async sendImage(opened: OpenedSource, options: UploadOptions): Promise<MimImage> {
    const op = 'uploadImage';
    let sent: UploadBody | undefined;
    const upload = async () => (sent = uploadBody(opened, options.onProgress));
    const response = await this.send({
      operation: op,
      method: 'POST',
      path: '/images',
      upload,
      replayable: opened.replayable,
      optionalBody: true,
      call: options,
    });
    if (isPlainObject(response.body)) return normalizeImage(unwrapObject(response.body));
    // No usable body: the image's name was read from the tar as it went out; ask the list for it.
    const name = sent?.imageName();
    if (name === undefined) {
      throw new McmError({ operation: op, code: 'bad-response', detail: 'answered without the image, and the tar names no image' });
    }
    const stored = (await this.listImages(options)).find((image) => image.name === name);
    if (!stored)
      throw new McmError({ operation: op, code: 'bad-response', detail: `answered without the image, and "${name}" is not listed` });
    return stored;
  }

  async deleteImage(id: string, call?: CallOptions): Promise<void> {
    const op = 'deleteImage';
    await this.send({ operation: op, method: 'DELETE', path: `/images/${encodeURIComponent(checkId(op, id))}`, ignoreBody: true, call });
  }

  /** Deploys several mims at once; the runtime decides whether a partial failure is undone. */
  async deployComposition(specs: MimSpec[], call?: CallOptions): Promise<Mim[]> {
    const op = 'deployComposition';
    const mims = checkSpecs(op, specs);
    const { body } = await this.send({ operation: op, method: 'POST', path: '/compositions', json: { mims }, call });
    if (body === undefined) {
      const names = new Set(mims.map((spec) => spec.name));
      return (await this.listMims(call)).filter((mim) => names.has(mim.name));
    }
    return list(op, body).map(normalizeMim);
  }

  backupDataStore(mimId: string, path: string, options?: DataStoreOptions): Promise<DataStoreResult> {
    return this.dataStore('backupDataStore', 'backup', mimId, path, options);
  }

  restoreDataStore(mimId: string, path: string, options?: DataStoreOptions): Promise<DataStoreResult> {
    return this.dataStore('restoreDataStore', 'restore', mimId, path, options);
  }

  /** Reachable and authorised? Lists mims once, without retries. */
  async checkConnection(call?: CallOptions): Promise<ConnectionCheck> {
    const op = 'checkConnection';
    const { body } = await this.send({ operation: op, method: 'GET', path: this.mimsPath(), call });
    return { url: this.url, mims: list(op, body).length };
  }

  /** Ends every call in flight or queued and closes the pooled connections. */
  close(): void {
    this.closing.abort();
    this.transport.close();
  }

  private mimsPath(id?: string): string {
    const base = `/${this.options.mimsResource}`;
    return id === undefined ? base : `${base}/${encodeURIComponent(id)}`;
  }

  private async dataStore(
    op: McmOperation,
    action: DataStoreAction,
    mimId: string,
    path: string,
    options: DataStoreOptions = {},
  ): Promise<DataStoreResult> {
    const id = checkId(op, mimId);
    const body = { action, path: checkPath(op, path) };
    const endpoint = `${this.mimsPath(id)}/dataStore`;
    let result = dataStoreResult(
      op,
      (await this.send({ operation: op, method: 'POST', path: endpoint, json: body, call: options })).body,
      action,
    );
    const deadline = Date.now() + this.options.dataStoreMaxWaitMs;
    while (result.status === 'inProgress') {
      options.onProgress?.(result);
      if (Date.now() + this.options.dataStorePollMs > deadline) {
        throw new McmError({
          operation: op,
          code: 'timeout',
          detail: `still in progress at ${result.percentage}% after ${this.options.dataStoreMaxWaitMs} ms`,
        });
      }
      await this.pause(op, this.options.dataStorePollMs, options.signal);
      const polled = await this.send({ operation: op, method: 'GET', path: endpoint, idempotent: true, call: options });
      result = dataStoreResult(op, polled.body, action);
    }
    if (result.status === 'failed') {
      throw new McmError({
        operation: op,
        code: 'operation-failed',
        serverMessage: result.message || `${action} of ${result.path || path} failed`,
        result,
      });
    }
    return result;
  }

  /** One call with its retries: idempotent reads on transient failures, any call once after a reloaded token. */
  private async send(spec: RequestSpec): Promise<Response> {
    let tokenReloaded = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(spec);
      } catch (err) {
        const error = err as McmError;
        if (error.statusCode === 403 && !tokenReloaded && this.options.reloadToken && spec.replayable !== false) {
          tokenReloaded = true;
          // A reload that fails (key file gone) leaves the 403 as the answer.
          if (await Promise.resolve(this.options.reloadToken()).catch(() => false)) continue;
        }
        const delay = spec.idempotent ? this.retryDelay(error, attempt, this.timeoutOf(spec)) : undefined;
        if (delay === undefined) throw error;
        await this.pause(spec.operation, delay, spec.call?.signal);
      }
    }
  }

  /** How long to wait before retrying; undefined: do not retry. Never longer than one timeout. */
  private retryDelay(error: McmError, attempt: number, timeoutMs: number): number | undefined {
    if (attempt >= this.options.retries) return undefined;
    const transient =
      error.code === 'unreachable' || error.code === 'connection' || (error.code === 'http' && RETRYABLE_STATUS.has(error.statusCode ?? 0));
    if (!transient) return undefined;
    const longest = Math.min(this.options.retryMaxMs, timeoutMs > 0 ? timeoutMs : Infinity);
    if (error.retryAfterMs !== undefined) return error.retryAfterMs <= longest ? error.retryAfterMs : undefined;
    const backoff = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** attempt);
    return backoff / 2 + Math.random() * (backoff / 2);
  }

  private async attempt(spec: RequestSpec): Promise<Response> {
    const { operation } = spec;
    const response: TransportResponse = await this.transport.request({
      operation,
      method: spec.method,
      path: MCM_BASE_PATH + spec.path,
      headers: () => this.headers(operation),
      json: spec.json,
      upload: spec.upload,
      timeoutMs: this.timeoutOf(spec),
      signals: [spec.call?.signal, this.closing.signal].filter((s): s is AbortSignal => s !== undefined),
    });
    return this.readResponse(
      operation,
      response.status,
      response.text,
      response.headers['retry-after'],
      spec.ignoreBody,
      spec.optionalBody,
    );
  }

  /** The token now: a function token is asked each time (a key file may have been rotated). */
  private token(): string {
    return typeof this.options.token === 'function' ? this.options.token() : this.options.token;
  }

  /** The timeout of one call: its own, else the client's, within what setTimeout can wait. */
  private timeoutOf(spec: RequestSpec): number {
    return Math.min(spec.call?.timeoutMs ?? this.options.timeoutMs, MAX_TIMER_MS);
  }

  private headers(operation: McmOperation): Record<string, string> {
    let token: string;
    try {
      token = this.token();
    } catch (err) {
      throw McmError.invalid(operation, 'token-unavailable', { reason: err instanceof Error ? err.message : String(err) });
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (this.options.clientId) headers['x-client-id'] = this.options.clientId;
    return headers;
  }

  private readResponse(
    operation: McmOperation,
    status: number,
    text: string | undefined,
    retryAfter: unknown,
    ignoreBody = false,
    optionalBody = false,
  ): Response {
    const raw = typeof text === 'string' ? text : '';
    if (status >= 200 && status < 300) {
      if (ignoreBody || raw.trim() === '') return { status, body: undefined };
      try {
        return { status, body: JSON.parse(raw) as unknown };
      } catch {
        if (optionalBody) return { status, body: undefined };
        throw new McmError({
          operation,
          code: 'bad-response',
          detail: `HTTP ${status} with malformed JSON: ${clip(this.redact(raw), 80)}`,
        });
      }
    }
    throw new McmError({
      operation,
      code: 'http',
      statusCode: status,
      serverMessage: clip(serverMessage(this.redact(raw)), 500) || undefined,
      retryAfterMs: parseRetryAfter(retryAfter),
    });
  }

  /** A server that echoes the request must not leak the token into an error text. */
  private redact(text: string): string {
    let token = '';
    try {
      token = this.token();
    } catch {
      // No token to leak.
    }
    return token ? text.split(token).join('***') : text;
  }

  private pause(operation: McmOperation, ms: number, signal?: AbortSignal): Promise<void> {
    return delay(operation, ms, signal, this.closing.signal);
  }
}

/** A data store answer; a status the contract does not name is not taken for success. */
function dataStoreResult(operation: McmOperation, body: unknown, action: DataStoreAction): DataStoreResult {
  const status = isPlainObject(body) ? body.status : undefined;
  if (status !== undefined && !(DATA_STORE_STATUSES as readonly unknown[]).includes(status)) {
    throw new McmError({ operation, code: 'bad-response', detail: `unknown data store status "${String(status)}"` });
  }
  return normalizeDataStoreResult(body, action);
}

/** A list body, wrapped or bare; 2xx without a body is an empty list. */
function list(operation: McmOperation, body: unknown): unknown[] {
  if (body === undefined) return [];
  const items = unwrapList(body);
  if (!items) throw new McmError({ operation, code: 'bad-response', detail: 'expected a list' });
  return items;
}

/** A single object, bare or wrapped in {data: {...}}. */
function unwrapObject(body: Record<string, unknown>): Record<string, unknown> {
  return isPlainObject(body.data) && body.id === undefined ? body.data : body;
}

/** The server's own words, from whichever error shape it used; never assumes JSON. */
export function serverMessage(raw: string): string {
  try {
    const body = JSON.parse(raw) as Record<string, unknown>;
    if (isPlainObject(body)) {
      const error = body.error;
      if (isPlainObject(error) && typeof error.message === 'string') return error.message;
      if (typeof body.message === 'string') return body.message;
      if (typeof error === 'string') return error;
      if (typeof body.errorMessage === 'string') return body.errorMessage;
    }
  } catch {
    // Not JSON: the raw text is the message.
  }
  return raw.trim();
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Retry-After in seconds or as an HTTP date. */
function parseRetryAfter(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
