/**
 * Request bodies as the simulator reads them: streamed, given up when they stall, JSON bounded
 * in size and multipart uploads scanned as they arrive, each summarised in the request log. What
 * they must hold is request-rules.ts.
 */
import type http from 'node:http';
import { ImageTarError, ImageTarInfo, ImageTarScanner } from '../wire/image-tar';
import { MultipartError, MultipartParser } from './multipart';
import { LOG_BODY_BYTES, LOG_PARTS, RequestLogEntry, UploadPartLog, clipForLog } from './request-log';
import { SimError } from './state';

/** What reading a body needs of its request. */
export interface BodyContext {
  req: http.IncomingMessage;
  /** Its answer: a body that stalls closes the connection. */
  res: http.ServerResponse;
  /** Its log entry, which gets a summary of the body. */
  entry: RequestLogEntry;
  /** How long the body may send nothing (0: forever). */
  bodyTimeoutMs: number;
}

/** A JSON object (not an array, not null): what every JSON body of MCM is. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** JSON bodies are small specs; anything bigger is a mistake. */
const MAX_JSON_BYTES = 1024 * 1024;

/**
 * Hands a request body on chunk by chunk and resolves at its end. A body that sends nothing
 * for `ctx.bodyTimeoutMs` is given up: the promise rejects with a 408 (sent with
 * Connection: close, the body being unfinished).
 */
export function consumeBody(ctx: BodyContext, onData: (chunk: Buffer) => void): Promise<void> {
  const { req, res, bodyTimeoutMs } = ctx;
  return new Promise((resolve, reject) => {
    const timer =
      bodyTimeoutMs > 0
        ? setTimeout(() => {
            res.setHeader('Connection', 'close');
            reject(new SimError(408, `the request body stalled: nothing arrived for ${bodyTimeoutMs} ms`));
          }, bodyTimeoutMs)
        : undefined;
    req.on('data', (chunk: Buffer) => {
      timer?.refresh();
      onData(chunk);
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('close', () => {
      clearTimeout(timer);
      if (!req.complete) reject(new SimError(400, 'the client went away before the body ended'));
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Collects a JSON body (bounded); 400 when it is missing or not JSON. Logs it when it is small. */
export async function readJson(ctx: BodyContext): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  await consumeBody(ctx, (chunk) => {
    size += chunk.length;
    if (size <= MAX_JSON_BYTES) chunks.push(chunk);
  });
  ctx.entry.bodyBytes = size;
  if (size > MAX_JSON_BYTES) throw new SimError(413, `the request body is too large (over ${MAX_JSON_BYTES} bytes)`);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new SimError(400, 'the request body must be JSON (it is empty)');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new SimError(400, `the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (size <= LOG_BODY_BYTES) ctx.entry.body = body;
  return body;
}

/**
 * Streams a multipart upload through the parser into an ImageTarScanner, part `image` only.
 * On a malformed body it stops parsing but keeps reading, so the client can finish sending
 * and then read a clean 400.
 */
export async function receiveImage(ctx: BodyContext, boundary: string): Promise<ImageTarInfo> {
  const { entry } = ctx;
  let scanner: ImageTarScanner | undefined;
  let current: UploadPartLog | undefined;
  let toScanner = false;
  let problem: string | undefined;
  const parts: UploadPartLog[] = (entry.parts = []);
  const parser = new MultipartParser(boundary, {
    partStart(part) {
      current = { name: clipForLog(part.name), filename: clipForLog(part.filename), contentType: clipForLog(part.contentType), bytes: 0 };
      if (parts.length < LOG_PARTS) parts.push(current);
      else entry.partsOmitted = (entry.partsOmitted ?? 0) + 1;
      // The first part named `image` is the tar; other fields are ignored, as the runtime does.
      toScanner = part.name === 'image' && !scanner;
      if (toScanner) scanner = new ImageTarScanner();
    },
    partData(chunk) {
      if (current) current.bytes += chunk.length;
      if (toScanner) scanner?.write(chunk);
    },
    partEnd() {
      toScanner = false;
    },
  });
  await consumeBody(ctx, (chunk) => {
    if (problem) return;
    try {
      parser.write(chunk);
    } catch (err) {
      problem = err instanceof MultipartError ? err.message : String(err);
    }
  });
  try {
    if (problem) throw new SimError(400, problem);
    parser.end();
    if (!scanner) throw new SimError(400, 'no image received');
    return scanner.finish();
  } catch (err) {
    const badInput = err instanceof MultipartError || err instanceof ImageTarError;
    throw badInput ? new SimError(400, (err as Error).message) : err;
  }
}
