/**
 * Replay: serves a recorded exchange log (mimoe-probe's JSON lines) as the recorded runtime
 * answered, so a log from a real device becomes a regression test.
 *
 * Rules:
 * - A request takes the first recorded exchange not yet used with the same method and path (query
 *   included, compared as sent, ids URL-encoded). A probe re-run with the log's prefix and settings
 *   asks the same things in the same order and gets the same answers.
 * - The answer is the recorded status, headers (framing headers recomputed) and body, sent the
 *   recorded number of milliseconds after the request's body has arrived. A binary body that the
 *   log kept only as a summary comes back as that many zero bytes.
 * - A recorded exchange without an answer is played back as one: a timeout never answers (the
 *   client gives up), any other failure closes the connection.
 * - `Expect: 100-continue`: 100 is sent only when the recorded runtime sent it; when it answered
 *   before the body, the answer goes out without waiting for the body.
 * - The key is not checked (the log holds none): the recorded answers say what the runtime did
 *   with the key it was sent.
 * - A request with no recorded exchange left is answered 501 with the contract's error shape and
 *   `x-mimoe-replay: unmatched`, and counted in `unmatched`.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Listener, baseUrl } from './listener';

export interface ReplayOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** The library prints nothing unless quiet is explicitly false (then one line per request). */
  quiet?: boolean;
}

/** The fields of a log line the replay uses. */
interface Recorded {
  method: string;
  path: string;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: string | { bytes: number };
  ms: number;
  error?: string;
  expect?: { continued: boolean; bodySent: boolean };
}

export interface UnmatchedRequest {
  method: string;
  path: string;
}

/** Headers that describe the recorded connection, not the answer: the replay sends its own. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

export class ReplayError extends Error {}

/** The exchanges of a log text, in order; throws ReplayError naming a line it cannot use. */
function recordedExchanges(text: string): Recorded[] {
  const exchanges: Recorded[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new ReplayError(`line ${index + 1} is not JSON (${(err as Error).message})`);
    }
    if (value?.type !== 'exchange') return;
    const { method, path, status } = value;
    if (typeof method !== 'string' || typeof path !== 'string' || typeof status !== 'number') {
      throw new ReplayError(`line ${index + 1}: an exchange needs method, path and status`);
    }
    exchanges.push({
      method,
      path,
      status,
      responseHeaders: (value.responseHeaders as Record<string, string>) ?? {},
      responseBody: (value.responseBody as Recorded['responseBody']) ?? '',
      ms: typeof value.ms === 'number' && value.ms > 0 ? value.ms : 0,
      error: typeof value.error === 'string' ? value.error : undefined,
      expect: value.expect as Recorded['expect'],
    });
  });
  return exchanges;
}

export class ReplayServer {
  readonly unmatched: UnmatchedRequest[] = [];
  private readonly used: boolean[];
  private listener?: Listener;
  private listeningPort = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly exchanges: Recorded[],
    private readonly options: ReplayOptions,
  ) {
    this.used = exchanges.map(() => false);
  }

  static async start(logText: string, options: ReplayOptions = {}): Promise<ReplayServer> {
    const replay = new ReplayServer(recordedExchanges(logText), options);
    await replay.listen(options.port ?? 0);
    return replay;
  }

  static fromFile(file: string, options: ReplayOptions = {}): Promise<ReplayServer> {
    return ReplayServer.start(readFileSync(file, 'utf8'), options);
  }

  get url(): string {
    return baseUrl('http', this.options.host ?? '127.0.0.1', this.listeningPort);
  }

  get recorded(): number {
    return this.exchanges.length;
  }

  /** Recorded exchanges that no request has used yet. */
  get unused(): Array<{ method: string; path: string }> {
    return this.exchanges.filter((_, index) => !this.used[index]).map(({ method, path }) => ({ method, path }));
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await listener.close();
  }

  private async listen(port: number): Promise<void> {
    const server = http.createServer();
    server.requestTimeout = 0;
    server.on('request', (req, res) => this.answer(req, res, false));
    // Node would send 100 Continue by itself: the recorded runtime decides instead.
    server.on('checkContinue', (req, res) => this.answer(req, res, true));
    this.listener = await Listener.start(server, this.options.host ?? '127.0.0.1', port);
    this.listeningPort = this.listener.port;
  }

  private take(method: string, path: string): Recorded | undefined {
    const index = this.exchanges.findIndex((entry, at) => !this.used[at] && entry.method === method && entry.path === path);
    if (index < 0) return undefined;
    this.used[index] = true;
    return this.exchanges[index];
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): void {
    const method = req.method ?? '';
    const path = req.url ?? '';
    const recorded = this.take(method, path);
    this.note(`${method} ${path} -> ${recorded ? recorded.status || `no answer (${recorded.error ?? 'failure'})` : '501 unmatched'}`);
    if (!recorded) {
      this.unmatched.push({ method, path });
      return this.afterBody(req, () => {
        const text = JSON.stringify({ error: { code: 501, message: `replay: no recorded answer left for ${method} ${path}` } });
        res.writeHead(501, {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(text),
          'x-mimoe-replay': 'unmatched',
        });
        res.end(text);
      });
    }
    const reply = (): void => this.later(recorded.ms, () => this.send(req, res, recorded));
    if (expectContinue && !recorded.expect?.continued && !recorded.expect?.bodySent) {
      // The runtime answered before any body: so does the replay, and the connection ends with it.
      res.setHeader('Connection', 'close');
      return reply();
    }
    if (expectContinue && recorded.expect?.continued) res.writeContinue();
    this.afterBody(req, reply);
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, recorded: Recorded): void {
    if (res.destroyed) return;
    if (recorded.status === 0) {
      // A recorded timeout stays silent until the client gives up; other failures drop the connection.
      if (recorded.error !== 'timeout') req.socket.destroy();
      return;
    }
    const body =
      typeof recorded.responseBody === 'string'
        ? Buffer.from(recorded.responseBody, 'utf8')
        : Buffer.alloc(recorded.responseBody.bytes ?? 0);
    for (const [name, value] of Object.entries(recorded.responseHeaders)) if (!FRAMING.has(name.toLowerCase())) res.setHeader(name, value);
    res.setHeader('Content-Length', body.length);
    res.writeHead(recorded.status);
    res.end(body);
  }

  /** Reads (and drops) the request body, then calls `then`. */
  private afterBody(req: http.IncomingMessage, then: () => void): void {
    if (req.readableEnded) return then();
    req.on('end', then);
    req.on('error', () => undefined);
    req.resume();
  }

  private later(ms: number, action: () => void): void {
    if (ms <= 0) return action();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private note(line: string): void {
    if (this.options.quiet === false) console.log(line);
  }
}
