/**
 * Request bodies as the simulator reads them: streamed, given up when they stall, JSON bounded
 * in size and multipart uploads scanned as they arrive, each summarised in the request log; then
 * what they hold (mim specs, compositions, data store requests), checked as the runtime does.
 */
import type http from 'node:http';
import { McmError } from '../mcm/errors';
import { ImageTarError, ImageTarInfo, ImageTarScanner } from '../wire/image-tar';
import { DataStoreAction, Env, MimSpec } from '../mcm/models';
import { checkImageName, checkName, checkPath, isPlainObject, typeName } from '../mcm/validate';
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

// ---------------------------------------------------------------- what bodies hold

/** Runs a validate.ts check; its McmError becomes a 400 with the rule's text. */
function check<T>(fn: () => T, label = ''): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof McmError)) throw err;
    const text = err.rule ? McmError.ruleText(err.rule, err.params) : err.message;
    throw new SimError(400, label + text);
  }
}

/** Server side, env values must be strings already (the client converts numbers, the runtime does not). */
function strictEnv(env: unknown, label: string): Env {
  if (env === undefined || env === null) return {};
  if (!isPlainObject(env)) throw new SimError(400, label + McmError.ruleText('env-not-object', {}));
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== 'string') throw new SimError(400, label + McmError.ruleText('env-value', { key, type: typeName(value) }));
  }
  return { ...(env as Env) };
}

export function toSpec(raw: unknown, label = ''): MimSpec {
  if (!isPlainObject(raw)) throw new SimError(400, `${label}a mim spec must be a JSON object {name, image, env}`);
  return {
    name: check(() => checkName('deployMim', raw.name), label),
    image: check(() => checkImageName('deployMim', raw.image), label),
    env: strictEnv(raw.env, label),
  };
}

/** Composition bodies: {"mims": [...]}, {"data": [...]} or a bare array. */
export function toSpecs(body: unknown): MimSpec[] {
  const list = Array.isArray(body) ? body : isPlainObject(body) ? (body.mims ?? body.data) : undefined;
  if (!Array.isArray(list))
    throw new SimError(400, 'a composition must be {"mims": [mim specs]}, {"data": [...]} or an array of mim specs');
  if (list.length === 0) throw new SimError(400, McmError.ruleText('specs-empty', {}));
  return list.map((raw, index) => toSpec(raw, `mim spec ${index}: `));
}

export function toDataStoreRequest(body: unknown): { action: DataStoreAction; path: string } {
  if (!isPlainObject(body)) throw new SimError(400, 'the body must be a JSON object {action, path}');
  const action = body.action;
  if (action !== 'backup' && action !== 'restore') {
    throw new SimError(400, `action must be "backup" or "restore" (got ${JSON.stringify(action) ?? 'nothing'})`);
  }
  return { action, path: check(() => checkPath('backupDataStore', body.path)) };
}
