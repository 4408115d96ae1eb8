/**
 * The bytes on the wire: one HTTP exchange with the runtime, made by axios over the shared
 * keep-alive pool, within the concurrency bound, the time limits, the answer cap, a proxy where
 * one applies, and the caller's abort signals. It knows nothing of MCM's answers: statuses and
 * bodies go back to the client as they came; only failures to exchange at all (network, TLS,
 * time limits, abort, too large) are McmErrors here.
 *
 * Time limits, each named in the error that hits it:
 * - silence: nothing received for timeoutMs, while connecting, waiting or reading an answer
 *   (every chunk of an answer starts it again, so a long but moving answer succeeds);
 * - while an upload's body is sent: fewer than lowSpeedBytes accepted over lowSpeedWindowMs
 *   (the kernel takes megabytes at once and frees them in large steps, so a per-write timer
 *   would fail slow links that are still moving);
 * - after an upload's last byte: answerTimeoutMs for the answer to begin.
 */
import axios, { AxiosInstance, AxiosProxyConfig, isAxiosError } from 'axios';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { McmError, McmErrorCode, McmOperation } from './errors';
import { PartSummary, UploadBody } from './image-source';
import { ConcurrencyLimiter } from './limiter';
import { ProxyOptions, ProxyRoute, proxyFor } from './proxy';

export type { ProxyOptions } from './proxy';

export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** false accepts self-signed and otherwise unverifiable certificates. Default true. */
  rejectUnauthorized?: boolean;
}

/** One finished exchange, for logs and probes. Authorization headers are never in it. */
export interface Exchange {
  operation: McmOperation;
  method: string;
  /** Path under the base URL, e.g. /mcm/v1/mims. */
  path: string;
  requestHeaders: Record<string, string>;
  /** The JSON body sent, or a summary of an upload ({multipart: [{name, filename, contentType, bytes}]}). */
  requestBody?: unknown;
  /** 0 when no answer came. */
  status: number;
  responseHeaders: Record<string, string>;
  responseText: string;
  /** Body bytes sent (an upload's multipart body included) and received. */
  bytesSent: number;
  bytesReceived: number;
  startedAt: number;
  ms: number;
  /** The failure's code when the exchange did not complete. */
  error?: McmErrorCode;
}

export interface TransportOptions {
  /** The runtime's base URL without /mcm/v1. */
  url: string;
  maxConcurrent: number;
  tls?: TlsOptions;
  /** After an upload's last byte, how long the answer may take to begin; 0: no limit. */
  answerTimeoutMs: number;
  /** While an upload is sent: fail when fewer than lowSpeedBytes went out over lowSpeedWindowMs (0 bytes: never). */
  lowSpeedBytes: number;
  lowSpeedWindowMs: number;
  /** Answers longer than this fail, and their connection is closed. */
  maxResponseBytes: number;
  /** Undefined: from the environment, as Node-RED does; false: never. */
  proxy?: ProxyOptions | false;
  /** Limit for a proxy to open a tunnel (CONNECT); 0: none. */
  tunnelTimeoutMs: number;
  /** Removes secrets from texts that go into errors. */
  redact: (text: string) => string;
  onExchange?: (exchange: Exchange) => void;
}

export interface TransportRequest {
  operation: McmOperation;
  method: 'GET' | 'POST' | 'DELETE';
  /** Under the base URL, e.g. /mcm/v1/mims. */
  path: string;
  /** Built per attempt: the token may change between attempts. */
  headers: () => Record<string, string>;
  json?: unknown;
  /** Builds a fresh upload body for this attempt. */
  upload?: () => Promise<UploadBody>;
  /** Milliseconds of silence before the call fails; 0: none. */
  timeoutMs: number;
  signals: AbortSignal[];
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Why the transport itself ended an exchange: the error code and the words for it. */
class Limit {
  constructor(
    readonly code: McmErrorCode,
    readonly detail: string,
  ) {}
}

/** Samples per low-speed window: a stalled upload fails within the window plus one eighth. */
const LOW_SPEED_SAMPLES = 8;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|EPROTO$|HOSTNAME_MISMATCH)/;
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization']);

export class HttpTransport {
  private readonly target: URL;
  private readonly route?: ProxyRoute;
  private readonly agent: http.Agent;
  private readonly http: AxiosInstance;
  private readonly limiter: ConcurrencyLimiter;

  constructor(private readonly options: TransportOptions) {
    this.target = new URL(options.url);
    this.route = proxyFor(this.target, options.proxy);
    this.limiter = new ConcurrencyLimiter(options.maxConcurrent);
    // axios sets TCP keep-alive probes to 60 s on every request's socket, and the pool set them back
    // to its own 1 s default when the socket came back: two system calls per request. Agreeing on
    // 60 s makes both no-ops on a reused socket.
    const pool = { keepAlive: true, keepAliveMsecs: 60_000, maxSockets: options.maxConcurrent, scheduling: 'lifo' as const };
    const secureTarget = this.target.protocol === 'https:';
    if (secureTarget && this.route) {
      this.agent = new TunnelAgent(this.route, options.tunnelTimeoutMs, { ...pool, ...options.tls });
    } else if (secureTarget) {
      this.agent = new https.Agent({ ...pool, ...options.tls });
    } else if (this.route?.url.protocol === 'https:') {
      this.agent = new https.Agent(pool);
    } else {
      this.agent = new http.Agent(pool);
    }
    // An http target through a proxy: absolute-form requests sent to the proxy, naming the target
    // in Host and carrying the proxy's credentials. Everything else goes through the agent alone
    // (https through a proxy in its CONNECT tunnel): axios never picks a proxy of its own.
    const forward = secureTarget ? undefined : this.route;
    const fixedHeaders = {
      // Only what the client asks for: no axios User-Agent, no request for compressed answers.
      'User-Agent': false,
      'Accept-Encoding': false,
      ...(forward && { Host: this.target.host, ...(forward.authorization && { 'Proxy-Authorization': forward.authorization }) }),
    };
    this.http = axios.create({
      baseURL: `${this.target.origin}${this.target.pathname.replace(/\/+$/, '')}`,
      httpAgent: this.agent,
      httpsAgent: this.agent,
      proxy: forward ? proxyConfig(forward.url) : false,
      headers: fixedHeaders,
      // No redirects: following them, axios keeps a copy of every request body to send it again
      // (measured: 1,090 MiB RSS for a 1 GiB upload; 94 MiB without).
      maxRedirects: 0,
      // Every status is an answer: McmClient decides what it means.
      validateStatus: () => true,
      // The answer's bytes as they come, to read under the silence timer and the cap. Nothing is
      // decompressed (none was asked for), so the cap and the byte counts are the wire's.
      responseType: 'stream',
      decompress: false,
      // Bodies go as they are (JSON as bytes, the upload as its form) and answers come as a stream:
      // axios's JSON transforms have nothing to do.
      transformRequest: [],
      transformResponse: [],
      adapter: 'http',
      // maxBodyLength and maxContentLength stay unset: a limit there puts an extra stream in every body.
    });
    // axios.create adds its own defaults per method (Accept, a form Content-Type for POST...), cloned
    // and merged into every request; the client sends its own, so only these stay.
    this.http.defaults.headers = fixedHeaders as unknown as AxiosInstance['defaults']['headers'];
    delete this.http.defaults.transitional;
    delete this.http.defaults.env;
  }

  /** One exchange: resolves with whatever status the runtime answered; rejects only when none came. */
  async request(spec: TransportRequest): Promise<TransportResponse> {
    const { operation } = spec;
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (spec.signals.some((signal) => signal.aborted)) throw new McmError({ operation, code: 'aborted' });
    for (const signal of spec.signals) signal.addEventListener('abort', abort, { once: true });
    const startedAt = Date.now();
    const record: ExchangeRecord = { requestHeaders: {}, bytesSent: 0, bytesReceived: 0 };
    let upload: UploadBody | undefined;
    let response: TransportResponse | undefined;
    let failure: McmError | undefined;
    try {
      response = await this.limiter.run(async () => {
        upload = await spec.upload?.();
        return await this.exchange(spec, upload, controller, record);
      }, controller.signal);
      return response;
    } catch (err) {
      const reason: unknown = controller.signal.reason;
      // axios wraps what failed beneath it: that error names the failure.
      const cause: unknown = isAxiosError(err) && err.cause !== undefined ? err.cause : err;
      if (cause instanceof McmError) failure = cause;
      // A source that failed or changed size ends the exchange with its own McmError.
      else if (reason instanceof McmError) failure = reason;
      else if (reason instanceof Limit) failure = new McmError({ operation, code: reason.code, detail: reason.detail });
      else if (controller.signal.aborted) failure = new McmError({ operation, code: 'aborted' });
      else failure = this.networkError(operation, cause);
      throw failure;
    } finally {
      upload?.destroy();
      for (const signal of spec.signals) signal.removeEventListener('abort', abort);
      if (upload) record.bytesSent = upload.sent();
      this.report(spec, upload?.summary, record, startedAt, response, failure);
    }
  }

  /** Ends the pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  /** Sends the request through axios and reads the answer, within the time limits and the cap. */
  private async exchange(
    spec: TransportRequest,
    upload: UploadBody | undefined,
    controller: AbortController,
    record: ExchangeRecord,
  ): Promise<TransportResponse> {
    const { timeoutMs } = spec;
    const json = spec.json === undefined ? undefined : Buffer.from(JSON.stringify(spec.json));
    const headers: Record<string, string> = {
      ...spec.headers(),
      ...(json ? { 'Content-Type': 'application/json', 'Content-Length': String(json.length) } : {}),
      ...upload?.headers,
    };
    record.requestHeaders = headers;
    const limits = new Limits(controller);
    let request: http.ClientRequest | undefined;
    let answered = false;
    // axios makes its request through this, so the timers can follow the request itself.
    const transport = {
      request: (options: https.RequestOptions, onResponse: (res: http.IncomingMessage) => void) => {
        const req = (options.protocol === 'https:' ? https : http).request(options, onResponse);
        request = req;
        req.once('response', () => {
          answered = true;
          limits.silence(timeoutMs);
        });
        if (!upload) {
          req.once('finish', () => (record.bytesSent = json?.length ?? 0));
          return req;
        }
        countWritten(req, upload.written);
        const { lowSpeedBytes, answerTimeoutMs } = this.options;
        const windowMs = Math.max(this.options.lowSpeedWindowMs, timeoutMs);
        // Connecting is silence; once connected, the upload moves at the link's pace (uploadProgress).
        req.once('socket', (socket: net.Socket) => {
          const sending = () => answered || limits.lowSpeed(uploadProgress(socket, upload), lowSpeedBytes, windowMs);
          if (socket.connecting) socket.once('connect', sending);
          else sending();
        });
        req.once('finish', () => answered || limits.answer(answerTimeoutMs));
        return req;
      },
    };
    limits.silence(timeoutMs);
    try {
      upload?.start((error) => controller.abort(error));
      const response = await this.http.request<http.IncomingMessage>({
        method: spec.method,
        url: spec.path,
        headers,
        data: upload?.body ?? json,
        signal: controller.signal,
        transport,
      });
      // With responseType 'stream', nothing decompressed and no axios cap, the data is Node's answer itself.
      return await this.read(response.data, request, controller, limits, record);
    } finally {
      limits.dispose();
    }
  }

  /** Reads the answer chunk by chunk: each chunk restarts the silence timer; past the cap, the connection is closed. */
  private read(
    res: http.IncomingMessage,
    req: http.ClientRequest | undefined,
    controller: AbortController,
    limits: Limits,
    record: ExchangeRecord,
  ): Promise<TransportResponse> {
    const cap = this.options.maxResponseBytes;
    const tooLarge = () => new Limit('too-large', `over ${describeBytes(cap)}, the limit for one answer`);
    return new Promise<TransportResponse>((resolve, reject) => {
      const fail = (err: unknown) => {
        controller.signal.removeEventListener('abort', aborted);
        res.destroy();
        req?.destroy();
        reject(err);
      };
      const aborted = () => fail(controller.signal.reason);
      if (controller.signal.aborted) return aborted();
      controller.signal.addEventListener('abort', aborted, { once: true });
      if (Number(res.headers['content-length']) > cap) return controller.abort(tooLarge());
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        record.bytesReceived += chunk.length;
        if (record.bytesReceived > cap) return controller.abort(tooLarge());
        chunks.push(chunk);
        limits.touch();
      });
      res.once('end', () => {
        controller.signal.removeEventListener('abort', aborted);
        // An answer that came before the whole body went out leaves a connection that cannot be reused.
        if (!req?.writableFinished) req?.destroy();
        // A small answer comes in one chunk: read as it is, not copied first.
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), text: body.toString('utf8') });
      });
      res.on('error', fail);
    });
  }

  private report(
    spec: TransportRequest,
    uploadSummary: { multipart: PartSummary[] } | undefined,
    record: ExchangeRecord,
    startedAt: number,
    response: TransportResponse | undefined,
    failure: McmError | undefined,
  ): void {
    if (!this.options.onExchange) return;
    const shown = Object.fromEntries(Object.entries(record.requestHeaders).filter(([name]) => !SECRET_HEADERS.has(name.toLowerCase())));
    this.options.onExchange({
      operation: spec.operation,
      method: spec.method,
      path: spec.path,
      requestHeaders: shown,
      requestBody: uploadSummary ?? spec.json,
      status: response?.status ?? 0,
      responseHeaders: response?.headers ?? {},
      responseText: response?.text ?? '',
      bytesSent: record.bytesSent,
      bytesReceived: record.bytesReceived,
      startedAt,
      ms: Date.now() - startedAt,
      error: failure?.code,
    });
  }

  private networkError(operation: McmOperation, err: unknown): McmError {
    const e = err as { code?: string; message?: string };
    const code = e.code ?? '';
    const where = this.route ? `${this.target.host} via the proxy ${this.route.url.host}` : this.target.host;
    let kind: McmErrorCode = 'connection';
    if (err instanceof TunnelError || UNREACHABLE_CODES.has(code)) kind = 'unreachable';
    else if (TLS_CODES.test(code)) kind = 'tls';
    const message = this.options.redact(e.message ?? 'unknown error');
    const detail =
      err instanceof TunnelError ? message : `${code || (message.length > 120 ? `${message.slice(0, 120)}…` : message)} ${where}`;
    return new McmError({ operation, code: kind, detail });
  }
}

interface ExchangeRecord {
  requestHeaders: Record<string, string>;
  bytesSent: number;
  bytesReceived: number;
}

/** The timers of one exchange; each ends it through the controller with a Limit that names itself. */
class Limits {
  private timer?: NodeJS.Timeout;
  private sampler?: NodeJS.Timeout;
  /** Set when the exchange is over: late events (a socket connecting after an abort) start nothing. */
  private disposed = false;

  constructor(private readonly controller: AbortController) {}

  /** Fails after `ms` without touch(); 0: never. */
  silence(ms: number): void {
    if (!this.clear()) return;
    if (ms > 0) this.timer = setTimeout(() => this.end('timeout', `nothing from the runtime for ${describeMs(ms)}`), ms);
  }

  /** Something arrived: the silence starts again. */
  touch(): void {
    this.timer?.refresh();
  }

  /** Samples the bytes sent; fails when fewer than `bytes` went out over the last `windowMs`. */
  lowSpeed(sent: () => number, bytes: number, windowMs: number): void {
    if (!this.clear()) return;
    if (bytes <= 0 || windowMs <= 0) return;
    const samples = [sent()];
    this.sampler = setInterval(() => {
      samples.push(sent());
      if (samples.length <= LOW_SPEED_SAMPLES) return;
      samples.shift();
      if (samples[LOW_SPEED_SAMPLES - 1] - samples[0] < bytes) {
        this.end('timeout', `the upload stalled: fewer than ${bytes} bytes sent in ${describeMs(windowMs)}`);
      }
    }, windowMs / LOW_SPEED_SAMPLES);
  }

  /** The last byte went out: the answer must begin within `ms` (0: no limit). */
  answer(ms: number): void {
    if (!this.clear()) return;
    if (ms > 0) this.timer = setTimeout(() => this.end('timeout', `no answer ${describeMs(ms)} after the upload's last byte`), ms);
  }

  dispose(): void {
    this.clear();
    this.disposed = true;
  }

  /** Stops the running timer; false once disposed. */
  private clear(): boolean {
    clearTimeout(this.timer);
    clearInterval(this.sampler);
    this.timer = this.sampler = undefined;
    return !this.disposed;
  }

  private end(code: McmErrorCode, detail: string): void {
    this.dispose();
    this.controller.abort(new Limit(code, detail));
  }
}

/** A proxy answered its CONNECT with something other than 200, or not in time. */
class TunnelError extends Error {}

/**
 * An https agent whose connections go through an http(s) proxy's CONNECT tunnel, then TLS to
 * the runtime inside it (the certificate checked against the runtime's name, as when direct).
 */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly route: ProxyRoute,
    private readonly tunnelTimeoutMs: number,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(requested: http.RequestOptions, onConnection?: (err: Error | null, stream: Duplex) => void): undefined {
    const options = requested as tls.ConnectionOptions;
    // Node's agent calls back with an error and no stream when a connection cannot be made.
    const callback = (onConnection ?? (() => undefined)) as (err: Error | null, stream?: Duplex) => void;
    const proxy = this.route.url;
    const authority = `${options.host?.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const request = (proxy.protocol === 'https:' ? https : http).request({
      host: unbracket(proxy.hostname),
      port: proxy.port || undefined,
      method: 'CONNECT',
      path: authority,
      headers: { Host: authority, ...(this.route.authorization ? { 'Proxy-Authorization': this.route.authorization } : {}) },
      agent: false,
    });
    const failed = (text: string) => callback(new TunnelError(`the proxy ${proxy.host} ${text} for ${authority}`));
    // Its own timer, not a socket timeout: that would stay on the tunnel's socket and end it when idle.
    const timer =
      this.tunnelTimeoutMs > 0
        ? setTimeout(() => {
            request.destroy();
            failed(`opened no tunnel within ${describeMs(this.tunnelTimeoutMs)}`);
          }, this.tunnelTimeoutMs)
        : undefined;
    request.once('close', () => clearTimeout(timer));
    request.once('connect', (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        return failed(`answered HTTP ${res.statusCode} to the tunnel request (CONNECT)`);
      }
      if (head.length) socket.unshift(head);
      callback(null, tls.connect({ ...options, socket }));
    });
    request.once('error', (err: NodeJS.ErrnoException) => callback(err));
    request.end();
    return undefined;
  }
}

/** Node's own counters on a socket, read by its socket timeout too; either may be missing. */
interface SocketCounters {
  _bytesDispatched?: unknown;
  _handle?: { writeQueueSize?: unknown } | null;
}

/**
 * How far an upload has gone on this socket, for the low-speed limit, which must see a slow link
 * move while a write is still under way. On a plain socket (Linux, macOS), the bytes Node handed to
 * libuv minus those libuv still holds are the bytes the kernel took, at any moment: there the body's chunks
 * go whole (one write per 512 KiB read: in 64 KiB pieces a 512 MiB upload to a receiver that only
 * counts took 10-20% longer, docs/performance.md). A TLS socket's queue holds the
 * whole of a write until it is done: there the body goes in small pieces, counted as each is written.
 */
export function uploadProgress(socket: net.Socket, upload: Pick<UploadBody, 'sent' | 'sendWhole'>): () => number {
  const counters = socket as unknown as SocketCounters;
  const kernelTook = () => {
    const queued = counters._handle?.writeQueueSize;
    return typeof counters._bytesDispatched === 'number' && typeof queued === 'number' ? counters._bytesDispatched - queued : undefined;
  };
  const first = kernelTook();
  // libuv on Windows lowers the queue only when a whole write is done (uv__process_tcp_write_req).
  if (socket instanceof tls.TLSSocket || process.platform === 'win32' || first === undefined) return upload.sent;
  upload.sendWhole();
  // A socket closed under the sampler has no handle: its last count stands.
  let last = first;
  return () => (last = kernelTook() ?? last);
}

/**
 * Tells the upload body of each chunk the request has written to its socket (it counts it as
 * sent and reuses its read buffer): the body is piped into the request without asking when a write
 * is done, and only the request's own write callback says so.
 */
function countWritten(req: http.ClientRequest, written: (chunk: Buffer) => void): void {
  type Done = (error?: Error | null) => void;
  const write = req.write.bind(req) as (chunk: unknown, encoding?: BufferEncoding, done?: Done) => boolean;
  req.write = ((chunk: unknown, encoding?: BufferEncoding | Done, callback?: Done) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    const given = typeof encoding === 'function' ? undefined : encoding;
    if (!Buffer.isBuffer(chunk)) return write(chunk, given, done);
    return write(chunk, given, (error) => {
      if (!error) written(chunk);
      done?.(error);
    });
  }) as typeof req.write;
}

/** [::1] -> ::1 for node:http's host option. */
function unbracket(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '');
}

/** A proxy URL as axios's proxy option; credentials go as our own Proxy-Authorization header. */
function proxyConfig(url: URL): AxiosProxyConfig {
  const protocol = url.protocol;
  return { protocol, host: unbracket(url.hostname), port: Number(url.port) || (protocol === 'https:' ? 443 : 80) };
}

function describeMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

/** Response headers as lowercase name -> one string (repeated headers joined). */
function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
