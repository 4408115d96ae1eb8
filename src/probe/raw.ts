/**
 * Plain HTTP requests for the observations McmClient would never make on purpose: a wrong or
 * missing key, a path where nothing is mounted, a chunked upload, an upload that asks for
 * `100-continue`. One exchange each, no retries, no pooling; the answer comes back as it came.
 */
import http from 'node:http';
import https from 'node:https';

export interface RawRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Under the base URL. */
  path: string;
  headers: Record<string, string>;
  /** Sent with Content-Length, or with chunked framing when `chunked`. */
  body?: Buffer;
  chunked?: boolean;
  /** Ask for 100-continue and send the body only after it (or, as curl does, after a second without an answer). */
  expectContinue?: boolean;
  /** Milliseconds without progress before giving up. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  startedAt: number;
  ms: number;
  /** Why no answer came. */
  error?: string;
  expect?: { continued: boolean; bodySent: boolean };
}

/** How long to wait for `100 Continue` before sending the body anyway (curl's default). */
const EXPECT_WAIT_MS = 1000;
/** Chunk size for chunked uploads: small, so a tiny image still goes in several chunks. */
const CHUNK_BYTES = 1024;

export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawAnswer> {
  const startedAt = Date.now();
  const url = new URL(baseUrl.replace(/\/+$/, '') + request.path);
  const headers: Record<string, string> = { ...request.headers };
  if (request.body && !request.chunked) headers['content-length'] = String(request.body.length);
  if (request.chunked) headers['transfer-encoding'] = 'chunked';
  if (request.expectContinue) headers.expect = '100-continue';
  const send = url.protocol === 'https:' ? https.request : http.request;

  return new Promise((resolve) => {
    const expect = request.expectContinue ? { continued: false, bodySent: false } : undefined;
    let settled = false;
    let bodyWritten = false;
    let answered = false;
    let expectTimer: NodeJS.Timeout | undefined;
    const finish = (answer: Omit<RawAnswer, 'startedAt' | 'ms' | 'expect'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(expectTimer);
      request.signal?.removeEventListener('abort', onAbort);
      resolve({ ...answer, startedAt, ms: Date.now() - startedAt, expect });
      req.destroy();
    };
    const failed = (error: string): void => finish({ status: 0, headers: {}, body: Buffer.alloc(0), error });
    const onAbort = (): void => failed('aborted');

    const req = send(url, { method: request.method, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish({ status: res.statusCode ?? 0, headers: flat(res.headers), body: Buffer.concat(chunks) }));
      res.on('error', (err) => failed(errorCode(err)));
    });
    // A runtime may answer and close while the body is still going out: the answer counts.
    req.on('error', (err) => {
      if (!answered) failed(errorCode(err));
    });
    req.setTimeout(request.timeoutMs, () => failed('timeout'));
    if (request.signal?.aborted) return failed('aborted');
    request.signal?.addEventListener('abort', onAbort, { once: true });

    const writeBody = (): void => {
      if (bodyWritten || answered || settled) return;
      bodyWritten = true;
      clearTimeout(expectTimer);
      if (expect) expect.bodySent = true;
      const body = request.body ?? Buffer.alloc(0);
      if (request.chunked) for (let at = 0; at < body.length; at += CHUNK_BYTES) req.write(body.subarray(at, at + CHUNK_BYTES));
      else if (body.length) req.write(body);
      req.end();
    };
    if (expect) {
      req.on('continue', () => {
        expect.continued = true;
        writeBody();
      });
      req.flushHeaders();
      expectTimer = setTimeout(writeBody, EXPECT_WAIT_MS);
    } else writeBody();
  });
}

function errorCode(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

function flat(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
