/**
 * Short descriptions of what a runtime answered, for the conformance table. They are built from
 * statuses and bodies only (never from timings or anything local), except the answer wait, which
 * is put in coarse buckets: a replay of the same log then gives the same table.
 */
import { McmError } from '../mcm/errors';
import { serverMessage } from '../mcm/client';
import { isPlainObject } from '../mcm/validate';
import type { LogExchange } from './exchange-log';

/** A runtime's words in a table cell; the log keeps the whole answer. */
const MESSAGE_CHARS = 80;

/** One line; past `limit` characters cut after a whole word, with "…". */
function clip(text: string, limit: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine.length <= limit) return oneLine;
  const space = oneLine.lastIndexOf(' ', limit);
  const cut = space > limit / 2 ? oneLine.slice(0, space) : oneLine.slice(0, limit);
  return `${cut.replace(/[\s,;:(]+$/, '')}…`;
}

/**
 * "HTTP 409 mim "x" already exists", "HTTP 503 with an empty body", "no answer (timeout)". The
 * runtime's message is cut at a word past `limit` characters (Infinity: whole).
 */
export function answerText(entry: Pick<LogExchange, 'status' | 'responseBody' | 'error'>, limit = MESSAGE_CHARS): string {
  if (entry.status === 0) return `no answer (${entry.error ?? 'no reason given'})`;
  if (typeof entry.responseBody !== 'string') return `HTTP ${entry.status} with a binary body (${entry.responseBody.bytes} bytes)`;
  if (entry.responseBody.trim() === '') return `HTTP ${entry.status} with an empty body`;
  return `HTTP ${entry.status} ${clip(serverMessage(entry.responseBody).text, limit)}`;
}

/** A client failure in the same words; `entry` is the exchange that failed, when there was one. */
export function failureText(err: unknown, entry?: LogExchange, limit = MESSAGE_CHARS): string {
  if (entry && entry.status >= 300) return answerText(entry, limit);
  if (err instanceof McmError) {
    if (err.code === 'operation-failed') return `status "failed": ${clip(err.serverMessage ?? '', limit)}`;
    if (err.statusCode) return `HTTP ${err.statusCode} ${clip(err.serverMessage ?? '', limit)}`.trimEnd();
    return `${err.code}: ${clip(err.message, limit)}`;
  }
  return clip(err instanceof Error ? err.message : String(err), limit);
}

/** What to do when the runtime refused the key: a 401 or 403 to a call made with it. */
export function refusedKeyHint(err: unknown, entry?: LogExchange): string {
  const status = entry?.status ?? (err instanceof McmError && err.code === 'http' ? err.statusCode : undefined);
  return status === 401 || status === 403
    ? '; the runtime refused the key (401: missing or expired, 403: wrong): check the key that --key-file or --key-env gives'
    : '';
}

/** The answer's body parsed as JSON; undefined when there is none or it is not JSON. */
export function jsonBody(entry: LogExchange | undefined): unknown {
  if (!entry || typeof entry.responseBody !== 'string') return undefined;
  try {
    return JSON.parse(entry.responseBody) as unknown;
  } catch {
    return undefined;
  }
}

export const isSuccess = (entry: LogExchange | undefined): boolean => !!entry && entry.status >= 200 && entry.status < 300;

/** The items of a list answer, wrapped or bare. */
export function listItems(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  if (isPlainObject(body) && Array.isArray(body.data)) return body.data;
  return undefined;
}

export function listShape(body: unknown): 'wrapped' | 'a bare array' | 'not a list' {
  if (isPlainObject(body) && Array.isArray(body.data)) return 'wrapped';
  return Array.isArray(body) ? 'a bare array' : 'not a list';
}

/** The item named `name` in a list answer, as the runtime sent it. */
export function rawItem(entry: LogExchange | undefined, name: string): Record<string, unknown> | undefined {
  const item = listItems(jsonBody(entry))?.find((candidate) => isPlainObject(candidate) && candidate.name === name);
  return isPlainObject(item) ? item : undefined;
}

/** How a body answers a create: with the object (`name` set), or otherwise. */
export function createAnswer(entry: LogExchange): { object: boolean; text: string } {
  if (!isSuccess(entry)) return { object: false, text: answerText(entry) };
  const body = jsonBody(entry);
  const object = isPlainObject(body) ? (isPlainObject(body.data) ? body.data : body) : undefined;
  if (object && typeof object.name === 'string') return { object: true, text: `HTTP ${entry.status} with the object` };
  if (typeof entry.responseBody === 'string' && entry.responseBody.trim() === '')
    return { object: false, text: `HTTP ${entry.status} with an empty body` };
  return {
    object: false,
    text: `HTTP ${entry.status} with ${body === undefined ? 'a body that is not JSON' : 'JSON that is not the object'}`,
  };
}

export function envShape(env: unknown, sent: Record<string, string>): { documented: boolean; text: string } {
  if (isPlainObject(env)) {
    if (!Object.values(env).every((value) => typeof value === 'string'))
      return { documented: false, text: 'an object with values that are not strings' };
    const kept = Object.entries(sent).every(([key, value]) => env[key] === value);
    return kept
      ? { documented: true, text: 'an object of strings' }
      : { documented: false, text: 'an object without the env that was sent' };
  }
  if (Array.isArray(env)) {
    if (env.every((item) => typeof item === 'string')) return { documented: false, text: 'an array of "KEY=VALUE" strings' };
    if (env.every((item) => isPlainObject(item) && 'name' in item)) return { documented: false, text: 'an array of {name, value} objects' };
    return { documented: false, text: 'an array' };
  }
  return { documented: false, text: env === undefined ? 'no env field' : `a ${typeof env}` };
}

export function createdType(created: unknown): { documented: boolean; text: string } {
  if (typeof created === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(created) && Number.isFinite(Date.parse(created)))
    return { documented: true, text: 'an ISO 8601 string' };
  if (typeof created === 'number') return { documented: false, text: 'a number' };
  if (created === undefined) return { documented: false, text: 'missing' };
  return { documented: false, text: typeof created === 'string' ? 'a string that is not ISO 8601' : `a ${typeof created}` };
}

/** Whether an error body has the contract's shape; `kind` says what it was instead. */
export function errorShape(entry: LogExchange): { documented: boolean; kind: string } {
  const body = jsonBody(entry);
  if (body === undefined) return { documented: false, kind: 'plain text' };
  const error = isPlainObject(body) ? body.error : undefined;
  if (isPlainObject(error) && typeof error.message === 'string' && typeof error.code === 'number')
    return { documented: true, kind: 'the shape' };
  return { documented: false, kind: 'other JSON' };
}

/** Seconds the answer wait is known to exceed; 0 within the documented 2 s. */
const WAIT_BUCKETS_S = [60, 30, 10, 5, 2];
export const PROMPT_ANSWER_MS = 2000;

export function waitBucket(ms: number): number {
  return WAIT_BUCKETS_S.find((seconds) => ms > seconds * 1000) ?? 0;
}
