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
import { CLIENT_DEFAULTS } from './defaults';
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
import { maskUrl, Redactor } from './redact';
import { Exchange, HttpTransport, ProxyOptions, TlsOptions, TransportResponse } from './transport';
import { checkEnv, checkId, checkImageName, checkName, checkPath, checkSpecs, isPlainObject, sendableInHeader } from './validate';

export { UPLOAD_CHUNK_BYTES } from './image-source';
export type { ImageSource, UploadProgress } from './image-source';
export type { Exchange, ProxyOptions, TlsOptions } from './transport';

export const MCM_BASE_PATH = '/mcm/v1';
export interface McmClientOptions {
  /**
   * The runtime's base URL, e.g. http://127.0.0.1:8083 (the client adds /mcm/v1; a trailing
   * /mcm/v1 is removed). No user:pass@, query or fragment: the constructor throws a TypeError.
   */
  url: string;
  /**
   * The MCM API key or an access token with scope edge:mcm; a function is asked on every call.
   * Surrounding whitespace is trimmed; a control character or a character outside Latin-1 inside
   * is refused before any request (a TypeError from the constructor, or an invalid-input McmError
   * from the call for a function), and so is a blank one (an invalid-input McmError from the call).
   */
  token: string | (() => string);
  /**
   * Asked after a 401 or 403: when it resolves true (the token changed, e.g. a re-read key
   * file), the call is repeated once with the new token.
   */
  reloadToken?: () => boolean | Promise<boolean>;
  /** Sent as x-client-id when set (trimmed; the same characters as the token are refused). */
  clientId?: string;
  /** Milliseconds without progress before a call fails. Default 30 000. */
  timeoutMs?: number;
  /** Requests in flight at once; the rest wait in order. Default 4. */
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
  /**
   * A create whose result can be found otherwise: a 2xx whose body is not JSON counts as one
   * without a body, not as a malformed answer.
   */
  anyBody?: boolean;
  /** The answer's body is not used (deletes): any 2xx will do, whatever it holds. */
  ignoreBody?: boolean;
  call?: CallOptions;
}

interface Response {
  status: number;
  body: unknown;
}

/** setTimeout's limit: longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Answers that refuse a key: a wrong one (403) or a missing or expired one (401). */
const AUTH_STATUS = new Set([401, 403]);
/** Answers to a data store follow-up that mean the runtime offers no way to follow the work. */
const NO_FOLLOW_UP_STATUS = new Set([404, 405, 501]);
const CLIENT_ID_UNSENDABLE =
  'the client id holds a line break, another control character or a character outside Latin-1, so it cannot be sent';

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
  /** Every token this client sent, and the proxy's password: none may reach an error text. */
  private readonly redactor = new Redactor();

  constructor(options: McmClientOptions) {
    const url = runtimeUrl(options.url);
    const token = typeof options.token === 'string' ? options.token.trim() : options.token;
    if (typeof token === 'string' && !sendableInHeader(token)) throw new TypeError(McmError.ruleText('token-invalid', {}));
    const clientId = typeof options.clientId === 'string' ? options.clientId.trim() || undefined : options.clientId;
    if (clientId !== undefined && !sendableInHeader(clientId)) throw new TypeError(CLIENT_ID_UNSENDABLE);
    this.url = url;
    if (typeof token === 'string') this.redactor.add(token);
    if (options.proxy) this.redactor.add(options.proxy.password);
    // Field by field: an option given as undefined must not erase its default.
    this.options = {
      ...options,
      url,
      token,
      clientId,
      timeoutMs: Math.min(options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs, MAX_TIMER_MS),
      retries: options.retries ?? CLIENT_DEFAULTS.retries,
      retryBaseMs: options.retryBaseMs ?? CLIENT_DEFAULTS.retryBaseMs,
      retryMaxMs: options.retryMaxMs ?? CLIENT_DEFAULTS.retryMaxMs,
      mimsResource: options.mimsResource ?? CLIENT_DEFAULTS.mimsResource,
      dataStorePollMs: options.dataStorePollMs ?? CLIENT_DEFAULTS.dataStorePollMs,
      dataStoreMaxWaitMs: options.dataStoreMaxWaitMs ?? CLIENT_DEFAULTS.dataStoreMaxWaitMs,
    };
    // Every call in flight or queued listens for close(): no listener limit applies.
    setMaxListeners(0, this.closing.signal);
    this.transport = new HttpTransport({
      url,
      maxConcurrent: Math.max(1, options.maxConcurrent ?? CLIENT_DEFAULTS.maxConcurrent),
      tls: options.tls,
      answerTimeoutMs: Math.min(options.answerTimeoutMs ?? CLIENT_DEFAULTS.answerTimeoutMs, MAX_TIMER_MS),
      lowSpeedBytes: options.lowSpeedBytes ?? CLIENT_DEFAULTS.lowSpeedBytes,
      lowSpeedWindowMs: Math.min(options.lowSpeedWindowMs ?? CLIENT_DEFAULTS.lowSpeedWindowMs, MAX_TIMER_MS),
      maxResponseBytes: options.maxResponseBytes ?? CLIENT_DEFAULTS.maxResponseBytes,
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
    const { status, body } = await this.send({ operation: op, method: 'POST', path: this.mimsPath(), json: spec, anyBody: true, call });
    const answered = answeredMims(body);
    const mim =
      answered.find((m) => m.name === spec.name) ??
      // One mim without a name but with an id: the runtime's answer for this spec.
      (answered.length === 1 && !answered[0].name && answered[0].id ? { ...answered[0], name: spec.name } : undefined);
    if (mim) return mim;
    // A 2xx without the mim (no body, not JSON, another shape): its id depends on the client id, so ask the list.
    const listed = (await this.listMims(call)).find((m) => m.name === spec.name);
    if (!listed)
      throw new McmError({
        operation: op,
        code: 'bad-response',
        detail: `HTTP ${status} without the mim, and "${spec.name}" is not listed`,
      });
    return listed;
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
      anyBody: true,
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

  /**
   * Deploys several mims at once, resolving them in the order of the specs; the runtime decides
   * whether a partial failure is undone.
   */
  async deployComposition(specs: MimSpec[], call?: CallOptions): Promise<Mim[]> {
    const op = 'deployComposition';
    const mims = checkSpecs(op, specs);
    const { status, body } = await this.send({ operation: op, method: 'POST', path: '/compositions', json: { mims }, anyBody: true, call });
    const answered = answeredMims(body);
    let found = mims.map((spec) => answered.find((m) => m.name === spec.name));
    if (found.every((mim) => mim)) return found as Mim[];
    // A 2xx without (all) the mims: ask the list for the rest.
    const listed = await this.listMims(call);
    found = found.map((mim, i) => mim ?? listed.find((m) => m.name === mims[i].name));
    const missing = mims.filter((_, i) => !found[i]).map((spec) => `"${spec.name}"`);
    if (missing.length)
      throw new McmError({ operation: op, code: 'bad-response', detail: `HTTP ${status} without ${missing.join(', ')}, and not listed` });
    return found as Mim[];
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
    const request = { action, path: checkPath(op, path) };
    const endpoint = `${this.mimsPath(id)}/dataStore`;
    const answer = await this.send({ operation: op, method: 'POST', path: endpoint, json: request, anyBody: true, call: options });
    let result = dataStoreResult(op, answer.body, request);
    const deadline = Date.now() + this.options.dataStoreMaxWaitMs;
    for (let polls = 0; result.status === 'inProgress'; polls++) {
      options.onProgress?.(result);
      if (Date.now() + this.options.dataStorePollMs > deadline) {
        throw new McmError({
          operation: op,
          code: 'timeout',
          detail: `still in progress at ${result.percentage}% after ${this.options.dataStoreMaxWaitMs} ms`,
        });
      }
      await this.pause(op, this.options.dataStorePollMs, options.signal);
      let polled: Response;
      try {
        polled = await this.send({ operation: op, method: 'GET', path: endpoint, idempotent: true, call: options });
      } catch (err) {
        // No way to follow the work on this runtime: its own `inProgress` is the answer, not a failure.
        if (polls === 0 && cannotFollow(err)) return result;
        throw err;
      }
      result = dataStoreResult(op, polled.body, request);
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
        const refused = error.code === 'http' && AUTH_STATUS.has(error.statusCode ?? 0);
        if (refused && !tokenReloaded && this.options.reloadToken && spec.replayable !== false) {
          tokenReloaded = true;
          // A reload that fails (key file gone) leaves the 401 or 403 as the answer.
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
    return this.readResponse(spec, response);
  }

  /** The token now, trimmed: a function token is asked each time (a key file may have been rotated). */
  private token(): string {
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    return String(token ?? '').trim();
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
    // mimOE answers every call without a key 401 or 403: say so before sending one.
    if (!token) throw McmError.invalid(operation, 'token-missing');
    if (!sendableInHeader(token)) throw McmError.invalid(operation, 'token-invalid');
    this.redactor.add(token);
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${token}` };
    if (this.options.clientId) headers['x-client-id'] = this.options.clientId;
    return headers;
  }

  private readResponse(spec: RequestSpec, response: TransportResponse): Response {
    const { operation } = spec;
    const { status, headers } = response;
    const raw = typeof response.text === 'string' ? response.text : '';
    if (status >= 200 && status < 300) {
      if (spec.ignoreBody || raw.trim() === '') return { status, body: undefined };
      const json = answerJson(operation, status, raw);
      try {
        return { status, body: parseAnswer(json) };
      } catch {
        if (spec.anyBody) return { status, body: undefined };
        throw new McmError({
          operation,
          code: 'bad-response',
          detail: `HTTP ${status} with malformed JSON: ${this.redactor.excerpt(raw, 80)}`,
        });
      }
    }
    const contentType = mediaType(headers['content-type']);
    // Nothing mounted at that path (a wrong base URL): retrying cannot help.
    if (status === 503 && raw.trim() === '') {
      const tried = this.redact(`${spec.method} ${this.url}${MCM_BASE_PATH}${spec.path}`);
      throw new McmError({
        operation,
        code: 'no-api',
        statusCode: status,
        detail: `${tried}: HTTP 503 with an empty body`,
        contentType,
        structured: false,
      });
    }
    const message = serverMessage(raw);
    throw new McmError({
      operation,
      code: 'http',
      statusCode: status,
      serverMessage: this.redactor.excerpt(message.text, 500) || undefined,
      retryAfterMs: parseRetryAfter(headers['retry-after']),
      contentType,
      structured: message.structured,
    });
  }

  /** A server that echoes the request must not leak a secret into an error text, in any encoding. */
  private redact(text: string): string {
    return this.redactor.redact(text);
  }

  private pause(operation: McmOperation, ms: number, signal?: AbortSignal): Promise<void> {
    return delay(operation, ms, signal, this.closing.signal);
  }
}

/** A data store answer; a status the contract does not name is not taken for success, and none at all is `accepted`. */
function dataStoreResult(operation: McmOperation, body: unknown, request: { action: DataStoreAction; path: string }): DataStoreResult {
  const status = isPlainObject(body) ? body.status : undefined;
  if (status !== undefined && status !== null && status !== '' && !(DATA_STORE_STATUSES as readonly unknown[]).includes(status)) {
    throw new McmError({ operation, code: 'bad-response', detail: `unknown data store status "${String(status)}"` });
  }
  return normalizeDataStoreResult(body, request);
}

/** A follow-up of a data store operation that found no route to ask: 404, 405, 501, or nothing mounted there. */
function cannotFollow(err: unknown): boolean {
  return err instanceof McmError && (err.code === 'no-api' || (err.code === 'http' && NO_FOLLOW_UP_STATUS.has(err.statusCode ?? 0)));
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

/** The mims a create was answered with: one object (bare or wrapped), a list, or none at all. */
function answeredMims(body: unknown): Mim[] {
  const items = unwrapList(body) ?? (isPlainObject(body) ? [unwrapObject(body)] : []);
  return items.filter(isPlainObject).map(normalizeMim);
}

/**
 * Deepest nesting of arrays and objects taken from an answer: MCM's answers are a few levels
 * deep, and thousands would overflow the stack of whatever copies or prints the msg later
 * (Node-RED's clone for a second wire, the debug sidebar), losing it without a word.
 */
export const MAX_ANSWER_DEPTH = 64;

/**
 * An answer's JSON text as it is parsed. Fails when it nests deeper than MAX_ANSWER_DEPTH; an
 * integer past 2^53 (a numeric id, a time in nanoseconds) is quoted, so it keeps every digit as
 * text instead of becoming another number. Strings are skipped whole: their brackets and digits
 * do not count.
 */
export function answerJson(operation: McmOperation, status: number, text: string): string {
  let depth = 0;
  /** Start and end of each integer literal to quote. */
  const unsafe: Array<[number, number]> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // On to the closing quote (JSON.parse judges a string that never closes).
      do i = text.indexOf('"', i + 1);
      while (i > 0 && escapedAt(text, i));
      if (i < 0) break;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_ANSWER_DEPTH) {
        throw new McmError({
          operation,
          code: 'bad-response',
          detail: `HTTP ${status} with JSON nested deeper than ${MAX_ANSWER_DEPTH} levels`,
        });
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (isDigit(c)) {
      const start = text.charCodeAt(i - 1) === 0x2d ? i - 1 : i;
      while (isDigit(text.charCodeAt(i + 1))) i++;
      if (i - start >= 15 && wholeInteger(text, start, i) && !Number.isSafeInteger(Number(text.slice(start, i + 1))))
        unsafe.push([start, i + 1]);
    }
  }
  if (unsafe.length === 0) return text;
  let quoted = '';
  let from = 0;
  for (const [start, end] of unsafe) {
    quoted += `${text.slice(from, start)}"${text.slice(start, end)}"`;
    from = end;
  }
  return quoted + text.slice(from);
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** Whether the digits from `start` to `last` are a whole integer: not a fraction's or an exponent's, nor followed by them. */
function wholeInteger(text: string, start: number, last: number): boolean {
  return !/[.eE+-]/.test(text[start - 1] ?? '') && !/[.eE]/.test(text[last + 1] ?? '');
}

/**
 * An answer's JSON without `__proto__` keys: Node-RED's copy of a msg for a second wire would make
 * such a key's value the copy's prototype (and drop a text one), so each wire would see other data.
 * Any key may be written with \u escapes; text without `proto` or an escape is parsed as it is.
 */
export function parseAnswer(text: string): unknown {
  const mayHoldProto = text.includes('proto') || text.includes('\\u');
  return mayHoldProto ? JSON.parse(text, (key, value: unknown) => (key === '__proto__' ? undefined : value)) : JSON.parse(text);
}

/** Whether the character at `i` follows an odd number of backslashes. */
function escapedAt(text: string, i: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}

export interface ServerMessage {
  text: string;
  /** True when the text came from a recognised JSON error shape. */
  structured: boolean;
}

/** The server's own words, from whichever error shape it used; never assumes JSON. */
export function serverMessage(raw: string): ServerMessage {
  try {
    const body = JSON.parse(raw) as unknown;
    if (isPlainObject(body)) {
      const error = body.error;
      const shapes = [isPlainObject(error) ? error.message : undefined, body.message, error, body.errorMessage];
      const text = shapes.find((shape): shape is string => typeof shape === 'string');
      if (text !== undefined) return { text, structured: true };
    }
  } catch {
    // Not JSON: the raw text is the message.
  }
  return { text: raw.trim(), structured: false };
}

/** `text/html; charset=utf-8` -> `text/html`; undefined without a Content-Type. */
function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0].trim().toLowerCase();
  return type || undefined;
}

/**
 * The runtime's base URL as it is used: trimmed, the scheme in lower case (`HTTPS://` works), no
 * trailing slash or /mcm/v1. Credentials, a query or a fragment would silently change what is
 * sent, so they are refused, and no error text repeats them.
 */
function runtimeUrl(given: unknown): string {
  const text = typeof given === 'string' ? given.trim() : '';
  if (!text) throw new TypeError('the runtime URL is required, e.g. http://127.0.0.1:8083');
  const scheme = /^(https?):\/\//i.exec(text);
  const rest = scheme ? text.slice(scheme[0].length) : '';
  if (!scheme || !/^[^/?#]/.test(rest))
    throw new TypeError(`the runtime URL must start with http:// or https:// and a host (got "${maskUrl(text)}")`);
  if (rest.split('/')[0].includes('@'))
    throw new TypeError('the runtime URL must not hold a user name or password (user:pass@): the key is set on its own');
  if (rest.includes('?')) throw new TypeError('the runtime URL must not hold a query (?…): give the base URL, e.g. http://127.0.0.1:8083');
  if (rest.includes('#'))
    throw new TypeError('the runtime URL must not hold a fragment (#…): give the base URL, e.g. http://127.0.0.1:8083');
  const url = `${scheme[1].toLowerCase()}://${rest}`.replace(/\/+$/, '').replace(/\/mcm\/v1$/, '');
  if (!URL.canParse(url)) throw new TypeError(`the runtime URL "${url}" is not a valid URL`);
  return url;
}

/** Retry-After in seconds or as an HTTP date. */
function parseRetryAfter(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
