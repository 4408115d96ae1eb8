/**
 * The simulator's request log: one entry per request, of bounded size (a long run or a hostile
 * client cannot grow it much), with Authorization redacted unless a test asks for it.
 */
import type http from 'node:http';
import type { SimRoute } from './faults';

/** A JSON body larger than this is logged by its size only. */
export const LOG_BODY_BYTES = 16 * 1024;
/** Multipart parts logged per request. */
export const LOG_PARTS = 16;
/** Part names, file names and types are cut to this many characters. */
const LOG_TEXT_CHARS = 200;

export interface UploadPartLog {
  name?: string;
  filename?: string;
  contentType?: string;
  bytes: number;
}

export interface RequestLogEntry {
  method: string;
  /** The raw request url, encoding included. */
  url: string;
  route: SimRoute | 'unknown' | 'control';
  /** As received (lowercase names), Authorization redacted unless `logSecrets`. */
  headers: Record<string, string | string[] | undefined>;
  /** '' when the request was not authorised. */
  clientId: string;
  /** 0 while unanswered, and for requests that never got an answer (hang, reset). */
  status: number;
  /** The parsed JSON body of JSON requests, left out when it is over LOG_BODY_BYTES (then see bodyBytes). */
  body?: unknown;
  /** The size of a JSON body that was read. */
  bodyBytes?: number;
  /** The first LOG_PARTS parts of a multipart upload ... */
  parts?: UploadPartLog[];
  /** ... and how many more there were. */
  partsOmitted?: number;
  startedAt: number;
  endedAt?: number;
}

/** A part's name, file name or type as the log keeps it. */
export const clipForLog = (text: string | undefined): string | undefined =>
  text !== undefined && text.length > LOG_TEXT_CHARS ? `${text.slice(0, LOG_TEXT_CHARS)}...` : text;

/** Authorization values become `<scheme> ***`: the log is read by tests, printed and served over HTTP. */
export function redactHeaders(headers: http.IncomingHttpHeaders): RequestLogEntry['headers'] {
  const copy: RequestLogEntry['headers'] = { ...headers };
  for (const name of ['authorization', 'proxy-authorization']) {
    const value = copy[name];
    if (typeof value !== 'string') continue;
    const scheme = /^\S+(?=\s)/.exec(value.trim())?.[0];
    copy[name] = scheme ? `${scheme} ***` : '***';
  }
  return copy;
}
