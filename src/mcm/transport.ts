/**
 * The bytes on the wire: one HTTP exchange with the runtime over the shared keep-alive pool,
 * within the concurrency bound, a timeout that measures silence, and the caller's abort
 * signals. It knows nothing of MCM's answers: statuses and bodies go back to the client as they
 * came; only failures to exchange at all (network, TLS, timeout, abort) are McmErrors here.
 */
import axios, { AxiosInstance, AxiosRequestConfig } from 'axios';
import http from 'node:http';
import https from 'node:https';
import { McmError, McmErrorCode, McmOperation } from './errors';
import { UploadBody } from './image-source';
import { ConcurrencyLimiter } from './limiter';

export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** false accepts self-signed and otherwise unverifiable certificates. Default true. */
  rejectUnauthorized?: boolean;
}

/** One finished exchange, for logs and probes. The Authorization header is never in it. */
export interface Exchange {
  operation: McmOperation;
  method: string;
  /** Path under the base URL, e.g. /mcm/v1/mims. */
  path: string;
  requestHeaders: Record<string, string>;
  /** The JSON body sent, or a summary of an upload ({multipart: [{name, filename, bytes}]}). */
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

/** An HTTP(S) proxy, as Node-RED's core `http proxy` config node describes one. */
export interface ProxyOptions {
  /** http://host:port of the proxy. */
  url: string;
  /** Hosts reached directly, no_proxy style (`.example.com`, `host:port`, `*`). */
  noProxy?: string[];
  username?: string;
  password?: string;
}

export interface TransportOptions {
  /** The runtime's base URL without /mcm/v1. */
  url: string;
  maxConcurrent: number;
  tls?: TlsOptions;
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

const TIMEOUT = Symbol('timeout');
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|EPROTO$|HOSTNAME_MISMATCH)/;

export class HttpTransport {
  private readonly http: AxiosInstance;
  private readonly agent: http.Agent | https.Agent;
  private readonly limiter: ConcurrencyLimiter;

  constructor(private readonly options: TransportOptions) {
    this.limiter = new ConcurrencyLimiter(options.maxConcurrent);
    const agentOptions = { keepAlive: true, maxSockets: options.maxConcurrent, scheduling: 'lifo' as const };
    this.agent = options.url.startsWith('https') ? new https.Agent({ ...agentOptions, ...options.tls }) : new http.Agent(agentOptions);
    this.http = axios.create({
      baseURL: options.url,
      httpAgent: this.agent,
      httpsAgent: this.agent,
      proxy: false,
      // Redirects would make axios keep a copy of every upload body: 0 keeps uploads streaming.
      maxRedirects: 0,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
    });
  }

  /** One exchange: resolves with whatever status the runtime answered; rejects only when none came. */
  async request(spec: TransportRequest): Promise<TransportResponse> {
    const { operation, timeoutMs } = spec;
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (spec.signals.some((signal) => signal.aborted)) throw new McmError({ operation, code: 'aborted' });
    for (const signal of spec.signals) signal.addEventListener('abort', abort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(timer);
      if (timeoutMs > 0) timer = setTimeout(() => controller.abort(TIMEOUT), timeoutMs);
    };
    let upload: UploadBody | undefined;
    const startedAt = Date.now();
    let requestHeaders: Record<string, string> = {};
    let response: TransportResponse | undefined;
    let failure: McmError | undefined;
    try {
      response = await this.limiter.run(async () => {
        touch();
        upload = await spec.upload?.();
        upload?.form.on('data', touch);
        requestHeaders = {
          ...spec.headers(),
          ...(spec.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...upload?.headers,
        };
        const config: AxiosRequestConfig = {
          method: spec.method,
          url: spec.path,
          signal: controller.signal,
          headers: requestHeaders,
          data: upload ? upload.form : spec.json,
        };
        const res = await this.http.request<string>(config);
        return { status: res.status, headers: flatHeaders(res.headers), text: typeof res.data === 'string' ? res.data : '' };
      }, controller.signal);
      return response;
    } catch (err) {
      const sourceError = upload?.sourceError();
      if (err instanceof McmError) failure = err;
      else if (sourceError) failure = McmError.invalid(operation, 'source-stream-failed', { reason: sourceError.message });
      else if (controller.signal.reason === TIMEOUT)
        failure = new McmError({ operation, code: 'timeout', detail: `nothing for ${timeoutMs} ms` });
      else if (controller.signal.aborted) failure = new McmError({ operation, code: 'aborted' });
      else failure = this.networkError(operation, err);
      throw failure;
    } finally {
      clearTimeout(timer);
      upload?.destroy();
      for (const signal of spec.signals) signal.removeEventListener('abort', abort);
      this.report(spec, requestHeaders, startedAt, response, failure);
    }
  }

  /** Ends the pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  private report(
    spec: TransportRequest,
    requestHeaders: Record<string, string>,
    startedAt: number,
    response: TransportResponse | undefined,
    failure: McmError | undefined,
  ): void {
    if (!this.options.onExchange) return;
    const { Authorization: _secret, ...shown } = requestHeaders;
    this.options.onExchange({
      operation: spec.operation,
      method: spec.method,
      path: spec.path,
      requestHeaders: shown,
      requestBody: spec.json,
      status: response?.status ?? 0,
      responseHeaders: response?.headers ?? {},
      responseText: response?.text ?? '',
      bytesSent: spec.json === undefined ? 0 : Buffer.byteLength(JSON.stringify(spec.json)),
      bytesReceived: Buffer.byteLength(response?.text ?? ''),
      startedAt,
      ms: Date.now() - startedAt,
      error: failure?.code,
    });
  }

  private networkError(operation: McmOperation, err: unknown): McmError {
    const e = err as { code?: string; message?: string; cause?: { code?: string } };
    const code = e.cause?.code ?? e.code ?? '';
    const where = new URL(this.options.url).host;
    let kind: McmErrorCode = 'connection';
    if (UNREACHABLE_CODES.has(code)) kind = 'unreachable';
    else if (TLS_CODES.test(code)) kind = 'tls';
    const message = this.options.redact(e.message ?? 'unknown error');
    const detail = `${code || (message.length > 120 ? `${message.slice(0, 120)}…` : message)} ${where}`;
    return new McmError({ operation, code: kind, detail });
  }
}

/** Response headers as lowercase name -> one string (repeated headers joined). */
function flatHeaders(headers: unknown): Record<string, string> {
  const flat: Record<string, string> = {};
  const source =
    headers && typeof (headers as { toJSON?: () => unknown }).toJSON === 'function'
      ? (headers as { toJSON: () => unknown }).toJSON()
      : headers;
  for (const [name, value] of Object.entries((source ?? {}) as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}
