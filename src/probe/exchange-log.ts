/**
 * The probe's exchange log: JSON lines that a person can read, share, and that the simulator can
 * replay (`mcm-simulator --replay <file>`). Every value is redacted as it is recorded, and the
 * whole text is scanned for the key once more before it is written: a log that still holds the
 * key in any form is refused.
 *
 * Lines, in order:
 * - `{"type":"probe", format, url, prefix, clientId, ...}`: the run's settings (a replay re-runs with them);
 * - `{"type":"exchange", seq, step, method, path, status, requestHeaders, requestBody, responseHeaders,
 *   responseBody, bytesSent, bytesReceived, startedAt, ms, error?, expect?}`: one per HTTP exchange;
 * - `{"type":"conformance", rows}`: the table the run printed;
 * - `{"type":"result", exitCode, outcome, problem?, leftovers}`.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Exchange } from '../mcm/transport';
import { TableRow } from './points';
import { KeyRedactor } from './redact';

export const LOG_FORMAT = 'mimoe-probe-log/1';

export interface LogHeader {
  type: 'probe';
  format: typeof LOG_FORMAT;
  /** The base URL (the client refuses one with credentials). */
  url: string;
  prefix: string;
  clientId?: string;
  deviceDir: string;
  timeoutMs: number;
  startWaitMs: number;
  pollMs: number;
  startedAt: string;
  node: string;
}

/** A body that is not text: its size and digest only. */
export interface BinarySummary {
  binary: true;
  bytes: number;
  sha256: string;
}

export interface LogExchange {
  type: 'exchange';
  seq: number;
  /** The probe step that made the request. */
  step: string;
  method: string;
  /** Under the base URL, as sent (ids URL-encoded). */
  path: string;
  /** 0 when no answer came. */
  status: number;
  requestHeaders: Record<string, string>;
  /** A JSON body as sent, or a summary of an upload. */
  requestBody?: unknown;
  responseHeaders: Record<string, string>;
  responseBody: string | BinarySummary;
  bytesSent: number;
  bytesReceived: number;
  startedAt: string;
  ms: number;
  /** Why no answer came (timeout, connection, ...). */
  error?: string;
  /** For a request sent with `Expect: 100-continue`: did 100 come, and was the body sent. */
  expect?: { continued: boolean; bodySent: boolean };
}

export interface LogConformance {
  type: 'conformance';
  rows: TableRow[];
}

export interface LogResult {
  type: 'result';
  exitCode: number;
  outcome: string;
  problem?: string;
  leftovers: string[];
}

export type LogLine = LogHeader | LogExchange | LogConformance | LogResult;

export type ExchangeRecord = Omit<LogExchange, 'type' | 'seq' | 'step' | 'startedAt'> & { startedAt: number };

export class LogRefused extends Error {}

export class ExchangeLog {
  readonly exchanges: LogExchange[] = [];
  private readonly redactor: KeyRedactor;
  /** Filled in when the run ends. */
  conformance?: LogConformance;
  result?: LogResult;

  constructor(
    key: string,
    readonly header: LogHeader,
  ) {
    this.redactor = new KeyRedactor(key);
    this.header = this.redactor.value(header);
  }

  /** Records one exchange under `step`, redacted. */
  add(step: string, record: ExchangeRecord): LogExchange {
    const entry: LogExchange = this.redactor.value({
      type: 'exchange',
      seq: this.exchanges.length + 1,
      step,
      ...record,
      startedAt: new Date(record.startedAt).toISOString(),
    });
    this.exchanges.push(entry);
    return entry;
  }

  /** Records an exchange the client reported. */
  addClientExchange(step: string, exchange: Exchange): LogExchange {
    return this.add(step, {
      method: exchange.method,
      path: exchange.path,
      status: exchange.status,
      requestHeaders: exchange.requestHeaders,
      requestBody: exchange.requestBody,
      responseHeaders: exchange.responseHeaders,
      responseBody: exchange.responseText,
      bytesSent: exchange.bytesSent,
      bytesReceived: exchange.bytesReceived,
      startedAt: exchange.startedAt,
      ms: exchange.ms,
      error: exchange.error,
    });
  }

  ofStep(step: string): LogExchange[] {
    return this.exchanges.filter((entry) => entry.step === step);
  }

  /** The whole log as JSON lines, checked: throws LogRefused when the key is still in it. */
  text(): string {
    const lines: LogLine[] = [this.header, ...this.exchanges];
    if (this.conformance) lines.push(this.conformance);
    if (this.result) lines.push(this.result);
    // JSON escaping can turn a key into a form that was not in any value: redact the text too.
    const text = this.redactor.text(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const leaks = this.redactor.leaks(text);
    if (leaks.length) throw new LogRefused(`the log still holds the key (${leaks.join(', ')}); it was not written`);
    return text;
  }

  /** Writes the checked log (mode 0600: it holds the device's answers). */
  write(file: string): void {
    writeFileSync(file, this.text(), { mode: 0o600 });
  }
}

/** A response body as the log keeps it: text when it is text, a summary otherwise. */
export function bodyForLog(body: Buffer): string | BinarySummary {
  const text = body.toString('utf8');
  // eslint-disable-next-line no-control-regex
  const binary = !Buffer.from(text, 'utf8').equals(body) || /[\u0000-\u0008\u000e-\u001f]/.test(text);
  return binary ? { binary: true, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') } : text;
}

/** Reads a log's lines; throws an Error naming the line that is not one. */
export function parseLog(text: string): LogLine[] {
  return text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, number }) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new Error(`line ${number} is not JSON (${(err as Error).message})`, { cause: err });
      }
      const type = (value as { type?: unknown } | null)?.type;
      if (type !== 'probe' && type !== 'exchange' && type !== 'conformance' && type !== 'result') {
        throw new Error(`line ${number} is not a probe log line (type ${JSON.stringify(type)})`);
      }
      return value as LogLine;
    });
}
