/**
 * The MCM simulator: an HTTP(S) server that speaks the MCM wire contract (docs/mcm-api.md) as
 * one of its profiles says (profile.ts), from in-memory state, with a fault table for failure
 * tests, a request log, in-flight counters, and the same controls over HTTP under /_simulator/
 * for out-of-process users. Beside MCM it serves Insight (insight.ts) and the started mims' own
 * APIs (mim-api.ts).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { ImageTarInfo } from '../mcm/image-tar';
import { Mim, MimImage } from '../mcm/models';
import { isPlainObject } from '../mcm/validate';
import { Fault, FaultTable, SimRoute, faultProblem, isSimRoute } from './faults';
import {
  DEFAULT_INSIGHT_TOKEN,
  INSIGHT_PREFIX,
  INSIGHT_ROUTES,
  SimInsightIdentity,
  SimInsightNode,
  describeNode,
  insightAnswer,
  insightRefusal,
} from './insight';
import { chooseKey, randomKey, sameToken, writeKeyFile } from './key-file';
import { Listener, baseUrl } from './listener';
import { MIM_API_METHODS, findMounted, mimAnswer } from './mim-api';
import { boundaryOf } from './multipart';
import { PROFILES, ProfileName, ProfileRules, Refusal, isProfileName, profileFromEnvironment } from './profile';
import { BodyContext, consumeBody, readJson, receiveImage, toDataStoreRequest, toSpec, toSpecs } from './request-body';
import { RequestLogEntry, redactHeaders } from './request-log';
import { SimError, SimState } from './state';

export interface SimulatorOptions {
  /**
   * `contract` answers as the written contract says; `field` as real runtimes were recorded
   * answering (profile.ts lists every difference). Control routes work alike in both. Default:
   * the environment variable MCM_SIMULATOR_PROFILE, else `contract`.
   */
  profile?: ProfileName;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** The MCM API key; default: MCM_API_KEY from keyFile if it has one, else random. */
  key?: string;
  /** A mimoe-api-key.env style file: the key is read from it, or written to it. */
  keyFile?: string;
  /** Extra accepted bearer tokens -> the client id each implies (stands in for JWT access tokens). */
  tokens?: Record<string, string>;
  /** Tokens refused as expired (the key itself may be listed): 401 in the field profile, 403 in the contract's. */
  expiredTokens?: string[];
  /** A deployed mim stays 'created' this long, then 'started' (0: at once; negative: never). */
  startDelayMs?: number;
  /**
   * Compositions deploy in order and stop at the first failure, leaving the mims before it
   * (the contract does not say whether real runtimes are all-or-nothing). Default false.
   */
  partialCompositions?: boolean;
  /** Data store calls answer 'inProgress' first and finish after `steps` status polls (default 4). */
  asyncDataStore?: boolean | { steps: number };
  /** Serve https. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The Insight API's own Bearer token (default '1234', mimOE's default). */
  insightToken?: string;
  /** How Insight describes this device (default: a random id, name 'mcm-simulator', this host's os). */
  insightNode?: SimInsightIdentity;
  /** The other nodes Insight lists (a fleet sets this); a lone simulator lists none. */
  insightPeers?: () => SimInsightNode[];
  /** Device mode: every MCM request waits this long before it is handled (a slow device). */
  slowMs?: number;
  /** Device mode: deploys and compositions fail with this answer. */
  refuseDeploys?: { status: number; message: string };
  /** Device mode: started mims' own APIs answer 503. */
  unhealthyMims?: boolean;
  /** Starts each access line (a fleet's device names). */
  logLabel?: string;
  /** The library prints nothing unless quiet is explicitly false (then one access line per request). */
  quiet?: boolean;
  /** Keep at most this many log entries, dropping the oldest (default: all; the CLI keeps 100000). */
  logLimit?: number;
  /** Wait this long after an upload's last byte before answering it (real builds unpack big images first). */
  uploadAnswerDelayMs?: number;
  /** A request body that sends nothing for this long is given up: 408, or its socket destroyed (default 30 000; 0: never). */
  bodyTimeoutMs?: number;
  /** Keep the Authorization header in the request log as sent (default: `Bearer ***`). */
  logSecrets?: boolean;
}

/** Matches the runtime's one-level paths; `:mims` is `mims` or its older alias `containers`. */
interface RouteDef {
  method: string;
  path: string[];
}

/** A request on its way to its handler, authorised (or a route that needs no key). */
interface Ctx extends BodyContext {
  clientId: string;
  /** The decoded {id} path parameter ('' when the route has none). */
  id: string;
  query: URLSearchParams;
}

type Handler = (ctx: Ctx) => Promise<void>;

const MCM_PREFIX = ['mcm', 'v1'];
const CONTROL_PREFIX = ['_simulator'];

const MCM_ROUTES: Array<RouteDef & { route: SimRoute }> = [
  { method: 'GET', path: ['images'], route: 'listImages' },
  { method: 'POST', path: ['images'], route: 'uploadImage' },
  { method: 'DELETE', path: ['images', ':id'], route: 'deleteImage' },
  { method: 'GET', path: [':mims'], route: 'listMims' },
  { method: 'POST', path: [':mims'], route: 'deployMim' },
  { method: 'DELETE', path: [':mims', ':id'], route: 'removeMim' },
  { method: 'POST', path: [':mims', ':id', 'dataStore'], route: 'dataStore' },
  { method: 'GET', path: [':mims', ':id', 'dataStore'], route: 'dataStoreStatus' },
  { method: 'POST', path: ['compositions'], route: 'deployComposition' },
];

type ControlName = 'log' | 'stats' | 'state' | 'listFaults' | 'setFault' | 'clearFaults' | 'reset' | 'resetStats' | 'options' | 'rotateKey';

const CONTROL_ROUTES: Array<RouteDef & { name: ControlName }> = [
  { method: 'GET', path: ['log'], name: 'log' },
  { method: 'GET', path: ['stats'], name: 'stats' },
  { method: 'GET', path: ['state'], name: 'state' },
  { method: 'GET', path: ['faults'], name: 'listFaults' },
  { method: 'POST', path: ['faults'], name: 'setFault' },
  { method: 'DELETE', path: ['faults'], name: 'clearFaults' },
  { method: 'POST', path: ['reset'], name: 'reset' },
  { method: 'POST', path: ['reset-stats'], name: 'resetStats' },
  { method: 'POST', path: ['options'], name: 'options' },
  { method: 'POST', path: ['rotate-key'], name: 'rotateKey' },
];

const DEFAULT_ASYNC_STEPS = 4;
const DEFAULT_BODY_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------- routing

type Match<T> = { kind: 'found'; def: T; params: Record<string, string> } | { kind: 'method'; allow: string[] } | { kind: 'none' };

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    const s = segments[i];
    if (p === ':mims') {
      if (s !== 'mims' && s !== 'containers') return undefined;
    } else if (p.startsWith(':')) {
      if (s === '') return undefined;
      params[p.slice(1)] = s; // still encoded: an encoded '/' never splits a segment
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}

function matchRoute<T extends RouteDef>(table: T[], method: string, segments: string[]): Match<T> {
  const allow: string[] = [];
  for (const def of table) {
    const params = matchSegments(def.path, segments);
    if (!params) continue;
    if (def.method === method) return { kind: 'found', def, params };
    allow.push(def.method);
  }
  return allow.length ? { kind: 'method', allow } : { kind: 'none' };
}

/** Segments after the prefix, or undefined if the path is not under it. */
function under(prefix: string[], segments: string[]): string[] | undefined {
  return prefix.every((p, i) => segments[i] === p) ? segments.slice(prefix.length) : undefined;
}

// ---------------------------------------------------------------- responses

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The error shape of both profiles (the field's recorded auth answers have it too). */
function sendError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { code: status, message } });
}

function sendEmpty(res: http.ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** Answers at once, without reading the body: the client may or may not send it now. */
function refuseAndClose(res: http.ServerResponse, status: number, message: string): void {
  res.setHeader('Connection', 'close');
  sendError(res, status, message);
}

// ---------------------------------------------------------------- the simulator

export class McmSimulator {
  key: string;
  options: SimulatorOptions;
  readonly log: RequestLogEntry[] = [];
  private readonly state = new SimState();
  private readonly faults = new FaultTable();

  /** Undefined while stopped. */
  private listener?: Listener;
  /** Kept while stopped: restart() and resume() listen on it again. */
  private listeningPort = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private maxActive = 0;
  private accepted = 0;
  /** Counts stop() calls, so a restart that is waiting can tell it was stopped meanwhile. */
  private stops = 0;
  /** Insight's id for this device: one per instance, so it stays the same across restarts. */
  private readonly insightId = randomUUID();
  /** What reset() goes back to: the options and key it was started with. */
  private readonly startOptions: SimulatorOptions;
  private readonly startKey: string;

  private readonly handlers: Record<SimRoute, Handler> = {
    listImages: async (ctx) => sendJson(ctx.res, 200, { data: this.state.listImages(ctx.clientId).map((i) => this.wireImage(i)) }),
    uploadImage: (ctx) => this.uploadImage(ctx),
    deleteImage: async (ctx) =>
      sendJson(ctx.res, 200, this.wireImage(this.state.deleteImage(ctx.clientId, ctx.id, this.rules.imageDeleteByName))),
    listMims: async (ctx) => sendJson(ctx.res, 200, { data: this.state.listMims(ctx.clientId).map((m) => this.wireMim(m)) }),
    deployMim: (ctx) => this.deployMim(ctx),
    removeMim: async (ctx) => sendJson(ctx.res, 200, this.wireMim(this.state.removeMim(ctx.clientId, ctx.id))),
    deployComposition: (ctx) => this.deployComposition(ctx),
    dataStore: (ctx) => this.startDataStore(ctx),
    dataStoreStatus: async (ctx) => sendJson(ctx.res, 200, this.state.pollDataStore(ctx.clientId, ctx.id)),
    insightNodes: async (ctx) => sendJson(ctx.res, 200, insightAnswer('insightNodes', ctx.query, this.insightNode(), this.insightPeers())),
    insightInfo: async (ctx) => sendJson(ctx.res, 200, insightAnswer('insightInfo', ctx.query, this.insightNode(), [])),
    mimApi: (ctx) => this.serveMimApi(ctx),
  };

  private readonly controls: Record<ControlName, Handler> = {
    log: async (ctx) => {
      const route = ctx.query.get('route');
      sendJson(ctx.res, 200, { data: route ? this.log.filter((e) => e.route === route) : this.log });
    },
    stats: async (ctx) => sendJson(ctx.res, 200, this.stats()),
    state: async (ctx) => {
      const clientId = ctx.query.get('clientId') ?? undefined;
      sendJson(ctx.res, 200, { mims: this.mims(clientId), images: this.images(clientId) });
    },
    listFaults: async (ctx) => sendJson(ctx.res, 200, { data: this.faults.list() }),
    setFault: async (ctx) => {
      const body = await readJson(ctx);
      const { route, fault } = isPlainObject(body) ? body : ({} as Record<string, unknown>);
      if (!isSimRoute(route)) throw new SimError(400, `route must be one of the simulator's route names (got ${JSON.stringify(route)})`);
      const problem = faultProblem(fault);
      if (problem) throw new SimError(400, problem);
      this.setFault(route, fault as Fault);
      sendJson(ctx.res, 200, { data: this.faults.list() });
    },
    clearFaults: async (ctx) => {
      this.clearFaults();
      sendJson(ctx.res, 200, { data: [] });
    },
    reset: async (ctx) => {
      this.reset();
      sendJson(ctx.res, 200, { reset: true });
    },
    resetStats: async (ctx) => {
      this.resetStats();
      sendJson(ctx.res, 200, this.stats());
    },
    options: async (ctx) => {
      const body = await readJson(ctx);
      if (!isPlainObject(body)) throw new SimError(400, 'the body must be a JSON object of options');
      const { startDelayMs, asyncDataStore, tokens, profile, expiredTokens, uploadAnswerDelayMs } = body;
      if (profile !== undefined && !isProfileName(profile)) throw new SimError(400, `unknown profile ${JSON.stringify(profile)}`);
      if (expiredTokens !== undefined && !(Array.isArray(expiredTokens) && expiredTokens.every((t) => typeof t === 'string'))) {
        throw new SimError(400, 'expiredTokens must be an array of strings');
      }
      if (startDelayMs !== undefined) this.options.startDelayMs = Number(startDelayMs) || 0;
      if (asyncDataStore !== undefined) this.options.asyncDataStore = asyncDataStore as SimulatorOptions['asyncDataStore'];
      if (tokens !== undefined) this.options.tokens = tokens as Record<string, string>;
      if (profile !== undefined) this.options.profile = profile;
      if (expiredTokens !== undefined) this.options.expiredTokens = expiredTokens as string[];
      if (uploadAnswerDelayMs !== undefined) this.options.uploadAnswerDelayMs = Number(uploadAnswerDelayMs) || 0;
      sendJson(ctx.res, 200, {
        startDelayMs: this.options.startDelayMs ?? 0,
        asyncDataStore: this.options.asyncDataStore ?? false,
        profile: this.options.profile ?? 'contract',
        expiredTokens: this.options.expiredTokens ?? [],
        uploadAnswerDelayMs: this.options.uploadAnswerDelayMs ?? 0,
      });
    },
    rotateKey: async (ctx) => {
      const body = (await readJson(ctx).catch(() => undefined)) as { key?: unknown } | undefined;
      const key = this.rotateKey(typeof body?.key === 'string' && body.key ? body.key : undefined);
      sendJson(ctx.res, 200, { key });
    },
  };

  private constructor(options: SimulatorOptions) {
    if (options.profile !== undefined && !isProfileName(options.profile)) {
      throw new Error(`unknown simulator profile ${JSON.stringify(options.profile)} (known: contract, field)`);
    }
    this.options = options;
    this.key = chooseKey(options.key, options.keyFile);
    this.startOptions = { ...options };
    this.startKey = this.key;
  }

  static async start(options: SimulatorOptions = {}): Promise<McmSimulator> {
    const sim = new McmSimulator({ ...options, profile: options.profile ?? profileFromEnvironment() });
    await sim.listen(options.port ?? 0);
    return sim;
  }

  get port(): number {
    return this.listeningPort;
  }

  get url(): string {
    return baseUrl(this.options.tls ? 'https' : 'http', this.options.host ?? '127.0.0.1', this.listeningPort);
  }

  /** The rules of the current profile (options.profile may be changed while running). */
  get rules(): ProfileRules {
    return PROFILES[this.options.profile ?? 'contract'];
  }

  get inFlight(): number {
    return this.active;
  }

  get maxInFlight(): number {
    return this.maxActive;
  }

  /** TCP connections accepted since start/resetStats(): shows whether clients keep connections alive. */
  get connections(): number {
    return this.accepted;
  }

  setFault(route: SimRoute, fault: Fault): void {
    this.faults.set(route, fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  rotateKey(newKey?: string): string {
    this.key = newKey ?? randomKey();
    if (this.options.keyFile) writeKeyFile(this.options.keyFile, this.key);
    return this.key;
  }

  mims(clientId?: string): Mim[] {
    return this.state.listMims(clientId);
  }

  images(clientId?: string): MimImage[] {
    return this.state.listImages(clientId);
  }

  requests(route?: SimRoute): RequestLogEntry[] {
    return route ? this.log.filter((e) => e.route === route) : [...this.log];
  }

  /** Clears the log in place (callers may hold the array); maxInFlight and connections count from now. */
  resetStats(): void {
    this.log.length = 0;
    this.maxActive = this.active;
    this.accepted = 0;
  }

  /** Back to how it started: no state, faults or log, its first options (in place) and key. */
  reset(): void {
    this.state.reset();
    this.faults.clear();
    this.resetStats();
    for (const name of Object.keys(this.options)) delete this.options[name as keyof SimulatorOptions];
    Object.assign(this.options, this.startOptions);
    if (this.key !== this.startKey) this.rotateKey(this.startKey);
  }

  /** Closes the server and destroys every socket (keep-alive, hung, mid-upload); state stays. */
  async stop(): Promise<void> {
    this.stops += 1;
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await listener.close();
  }

  /** Stops, stays down `downMs`, and listens again on the same port with the same state. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    const stops = this.stops;
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    if (this.stops !== stops) return; // stop() was called while down: stay down
    await this.listen(this.listeningPort);
  }

  /** Listens again on the port it had, with the same state (after stop(); nothing to do while listening). */
  async resume(): Promise<void> {
    if (!this.listener) await this.listen(this.listeningPort);
  }

  private stats(): { inFlight: number; maxInFlight: number; connections: number; requests: number; byRoute: Record<string, number> } {
    const byRoute: Record<string, number> = {};
    for (const e of this.log) byRoute[e.route] = (byRoute[e.route] ?? 0) + 1;
    const requests = this.log.filter((e) => e.route !== 'control').length;
    return { inFlight: this.active, maxInFlight: this.maxActive, connections: this.accepted, requests, byRoute };
  }

  private async listen(port: number): Promise<void> {
    const tls = this.options.tls;
    const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }) : http.createServer();
    // Big uploads over slow links must not be cut off by Node's default request timeout.
    server.requestTimeout = 0;
    server.on('request', (req, res) => void this.onRequest(req, res, false));
    // The runtime never answers 100 Continue, so neither does the simulator (the profile says what it answers).
    server.on('checkContinue', (req, res) => void this.onRequest(req, res, true));
    server.on('checkExpectation', (req, res) => void this.onRequest(req, res, true));
    server.on('connection', () => (this.accepted += 1));
    this.listener = await Listener.start(server, this.options.host ?? '127.0.0.1', port);
    this.listeningPort = this.listener.port;
  }

  // ------------------------------------------------------------ request pipeline

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse, expect: boolean): Promise<void> {
    const entry: RequestLogEntry = {
      method: req.method ?? '',
      url: req.url ?? '',
      route: 'unknown',
      headers: this.options.logSecrets ? { ...req.headers } : redactHeaders(req.headers),
      clientId: '',
      status: 0,
      startedAt: Date.now(),
    };
    this.appendLog(entry);
    const [rawPath, rawQuery = ''] = entry.url.split('?', 2);
    const segments = rawPath.split('/').slice(1);
    const control = under(CONTROL_PREFIX, segments);
    const mcm = control ? undefined : under(MCM_PREFIX, segments);
    const rules = this.rules;
    const mcmRoutes = rules.dataStoreFollowUp ? MCM_ROUTES : MCM_ROUTES.filter((r) => r.route !== 'dataStoreStatus');
    const mcmMatch = matchRoute(mcmRoutes, entry.method, mcm ?? []);
    if (mcmMatch.kind === 'found') entry.route = mcmMatch.def.route;
    if (control) entry.route = 'control';
    this.track(req, res, entry);

    try {
      if (expect && rules.expectContinue === 'any-route-417') {
        return refuseAndClose(res, 417, 'Expect: 100-continue is not supported; send the request without an Expect header');
      }
      const bodyTimeoutMs = this.options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
      const query = new URLSearchParams(rawQuery);
      if (!control && !mcm) return await this.serveBeyondMcm({ req, res, entry, clientId: '', id: '', query, bodyTimeoutMs }, segments);
      if (!control && mcmMatch.kind === 'none' && rules.unmountedPath === 'empty-503') return sendEmpty(res, 503);
      const auth = this.authorise(req);
      if ('refused' in auth) {
        const refusal = rules.refuse(auth.refused);
        return sendError(res, refusal.status, refusal.message);
      }
      const { clientId } = auth;
      entry.clientId = clientId;
      const ctx: Ctx = { req, res, entry, clientId, id: '', query, bodyTimeoutMs };
      if (control) return await this.dispatch(ctx, matchRoute(CONTROL_ROUTES, entry.method, control), (d) => this.controls[d.name]);
      if (mcmMatch.kind === 'found' && (await this.applyDeviceMode(ctx, mcmMatch.def.route))) return;
      if (mcmMatch.kind === 'found' && (await this.applyFault(ctx, mcmMatch.def.route))) return;
      await this.dispatch(ctx, mcmMatch, (d) => this.handlers[d.route]);
    } catch (err) {
      if (err instanceof SimError) return sendError(res, err.status, err.message);
      sendError(res, 500, `simulator error: ${(err as Error).message}`);
    }
  }

  private async dispatch<T extends RouteDef>(ctx: Ctx, match: Match<T>, handlerOf: (def: T) => Handler): Promise<void> {
    const { res, entry } = ctx;
    const path = entry.url.split('?')[0];
    if (match.kind === 'none') return sendError(res, 404, `no such endpoint: ${entry.method} ${path}`);
    if (match.kind === 'method') {
      res.setHeader('Allow', match.allow.join(', '));
      return sendError(res, 405, `${entry.method} is not allowed on ${path} (allowed: ${match.allow.join(', ')})`);
    }
    if (match.params.id !== undefined) ctx.id = decodeId(match.params.id);
    await handlerOf(match.def)(ctx);
  }

  /** Long runs (benchmarks against the CLI) must not grow the log without bound. */
  private appendLog(entry: RequestLogEntry): void {
    this.log.push(entry);
    const limit = this.options.logLimit;
    // Drop in batches so trimming stays cheap.
    if (limit && limit > 0 && this.log.length > limit + Math.ceil(limit / 10)) this.log.splice(0, this.log.length - limit);
  }

  /**
   * Counts the request in flight until its answer is out or its socket is gone. A body still
   * coming after the answer is read and dropped, and its socket destroyed if it stalls.
   */
  private track(req: http.IncomingMessage, res: http.ServerResponse, entry: RequestLogEntry): void {
    const counted = entry.route !== 'control'; // control calls would blur the client's concurrency
    if (counted) this.maxActive = Math.max(this.maxActive, ++this.active);
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      if (counted) this.active -= 1;
      entry.endedAt = Date.now();
      entry.status = res.headersSent ? res.statusCode : 0;
      if (this.options.quiet === false) {
        const label = this.options.logLabel ? `${this.options.logLabel} ` : '';
        console.log(`${label}${entry.method} ${entry.url} -> ${entry.status || 'no answer'} (${entry.endedAt - entry.startedAt} ms)`);
      }
    };
    res.on('finish', end);
    res.on('close', end);
    res.on('finish', () => {
      if (!req.complete) this.dropRestOfBody(req);
    });
  }

  private dropRestOfBody(req: http.IncomingMessage): void {
    const ms = this.options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    if (ms > 0) {
      const timer = setTimeout(() => req.socket.destroy(), ms);
      req.on('data', () => timer.refresh());
      req.on('end', () => clearTimeout(timer));
      req.on('close', () => clearTimeout(timer));
    }
    req.resume();
  }

  /** The client id the bearer token implies (x-client-id overrides), or why it is refused. */
  private authorise(req: http.IncomingMessage): { clientId: string } | { refused: Refusal } {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return { refused: 'missing' }; // no header, another scheme, or an empty token
    if ((this.options.expiredTokens ?? []).some((expired) => sameToken(token, expired))) return { refused: 'expired' };
    const tokens = this.options.tokens ?? {};
    const base = sameToken(token, this.key) ? 'api' : Object.prototype.hasOwnProperty.call(tokens, token) ? tokens[token] : undefined;
    if (base === undefined) return { refused: 'wrong' };
    const header = req.headers['x-client-id'];
    return { clientId: typeof header === 'string' && header.trim() ? header.trim() : base };
  }

  // ------------------------------------------------------------ faults

  /** Applies the route's fault, if any; true when the fault answered (or will never answer). */
  private async applyFault(ctx: Ctx, route: SimRoute): Promise<boolean> {
    const fault = this.faults.take(route);
    if (!fault) return false;
    const { req, res } = ctx;
    for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
    if (fault.delayMs) await this.sleep(fault.delayMs);
    if (res.destroyed) return true; // the client gave up while we waited
    if (fault.reset) {
      req.socket.destroy();
      return true;
    }
    if (fault.hang) return true; // nothing is ever sent; stop() destroys the socket
    if (fault.resetMidResponse) {
      const text = JSON.stringify({ data: [{ id: 'cut-short', name: 'cut-short', note: 'this answer never completes' }] });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => req.socket.destroy());
      return true;
    }
    if (fault.malformed) {
      const text = '{"data": [{"id": "malformed", "name": ';
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return true;
    }
    if (fault.status !== undefined) {
      if (fault.body === undefined) sendError(res, fault.status, `simulated fault: HTTP ${fault.status} on ${route}`);
      else if (typeof fault.body === 'string') {
        if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.writeHead(fault.status, { 'Content-Length': Buffer.byteLength(fault.body) });
        res.end(fault.body);
      } else sendJson(res, fault.status, fault.body);
      return true;
    }
    return false;
  }

  /** A timer that stop() clears (the request it delays dies with its socket). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  // ------------------------------------------------------------ beyond MCM: Insight, the mims' own APIs, device modes

  /** This device as Insight describes it. */
  insightNode(): SimInsightNode {
    return describeNode({ ...this.options.insightNode, id: this.options.insightNode?.id ?? this.insightId }, this.url);
  }

  private insightPeers(): SimInsightNode[] {
    return this.options.insightPeers?.() ?? [];
  }

  /** Insight (its own token) and the mims' APIs (no token: mims serve their own) share the port with MCM. */
  private async serveBeyondMcm(ctx: Ctx, segments: string[]): Promise<void> {
    const insight = under(INSIGHT_PREFIX, segments);
    if (!insight) return this.serveMimApi(ctx);
    const match = matchRoute(INSIGHT_ROUTES, ctx.entry.method, insight);
    if (match.kind === 'found') ctx.entry.route = match.def.route;
    const refusal = insightRefusal(ctx.req.headers.authorization, this.options.insightToken ?? DEFAULT_INSIGHT_TOKEN);
    if (refusal) return sendError(ctx.res, refusal.status, refusal.message);
    if (match.kind === 'found' && (await this.applyFault(ctx, match.def.route))) return;
    await this.dispatch(ctx, match, (d) => this.handlers[d.route]);
  }

  /**
   * 200 from a started mim; 503 from one not started (or unhealthy); where none is mounted,
   * 404 (the field profile: an empty 503), logged as 'unknown'.
   */
  private async serveMimApi(ctx: Ctx): Promise<void> {
    const { res, entry } = ctx;
    const path = entry.url.split('?')[0];
    const mounted = findMounted(this.state.listMims(), path);
    if (!mounted && this.rules.unmountedPath === 'empty-503') return sendEmpty(res, 503);
    if (!mounted) {
      return sendError(
        res,
        404,
        `nothing is mounted at ${path} (MCM is under /mcm/v1; a started mim serves /<clientId><MCM.BASE_API_PATH>)`,
      );
    }
    entry.route = 'mimApi';
    if (await this.applyFault(ctx, 'mimApi')) return;
    if (!MIM_API_METHODS.includes(entry.method)) {
      res.setHeader('Allow', MIM_API_METHODS.join(', '));
      return sendError(res, 405, `the simulated mim "${mounted.mim.id}" answers ${MIM_API_METHODS.join(', ')} only`);
    }
    let bytes = 0;
    await consumeBody(ctx, (chunk) => (bytes += chunk.length));
    if (mounted.mim.state !== 'started') return sendError(res, 503, `mim "${mounted.mim.id}" is not started (state ${mounted.mim.state})`);
    if (this.options.unhealthyMims) return sendError(res, 503, `mim "${mounted.mim.id}" is unhealthy (simulated)`);
    sendJson(res, 200, mimAnswer(mounted, entry.method, bytes));
  }

  /** The slow and refusing device modes; true when the mode answered. */
  private async applyDeviceMode(ctx: Ctx, route: SimRoute): Promise<boolean> {
    if (this.options.slowMs) await this.sleep(this.options.slowMs);
    if (ctx.res.destroyed) return true; // the client gave up while we waited
    const refusal = this.options.refuseDeploys;
    if (!refusal || (route !== 'deployMim' && route !== 'deployComposition')) return false;
    sendError(ctx.res, refusal.status, refusal.message);
    return true;
  }

  // ------------------------------------------------------------ route handlers

  private async uploadImage(ctx: Ctx): Promise<void> {
    const { req, res } = ctx;
    const rules = this.rules;
    if (req.headers.expect !== undefined && rules.expectContinue === 'upload-no-image') {
      return refuseAndClose(res, 400, 'no image received');
    }
    if (rules.chunkedUpload && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined) {
      throw SimError.of(rules.chunkedUpload);
    }
    const boundary = boundaryOf(req.headers['content-type']);
    if (!boundary) {
      throw new SimError(400, 'expected a multipart/form-data body (with a boundary) holding the image tar in a part named "image"');
    }
    let info: ImageTarInfo;
    try {
      info = await receiveImage(ctx, boundary);
    } finally {
      // Like a runtime unpacking what it received (valid or not); a body that never ended waits for nothing.
      const delayMs = this.options.uploadAnswerDelayMs ?? 0;
      if (req.complete && delayMs > 0) await this.sleep(delayMs);
    }
    this.sendCreated(res, this.wireImage(this.state.putImage(ctx.clientId, info)));
  }

  private async deployMim(ctx: Ctx): Promise<void> {
    const spec = toSpec(await readJson(ctx));
    const [mim] = this.state.deploy(ctx.clientId, [spec], this.options.startDelayMs ?? 0, this.rules);
    this.sendCreated(ctx.res, this.wireMim(mim));
  }

  private async deployComposition(ctx: Ctx): Promise<void> {
    const specs = toSpecs(await readJson(ctx));
    const delayMs = this.options.startDelayMs ?? 0;
    let mims: Mim[];
    if (this.options.partialCompositions) {
      for (const spec of specs) this.state.deploy(ctx.clientId, [spec], delayMs, this.rules);
      mims = specs.map((spec) => this.state.getMim(ctx.clientId, `${ctx.clientId}-${spec.name}`));
    } else {
      mims = this.state.deploy(ctx.clientId, specs, delayMs, this.rules);
    }
    this.sendCreated(ctx.res, { data: mims.map((m) => this.wireMim(m)) });
  }

  private async startDataStore(ctx: Ctx): Promise<void> {
    this.state.getMim(ctx.clientId, ctx.id); // 404 before looking at the body
    const { action, path } = toDataStoreRequest(await readJson(ctx));
    const steps = this.asyncSteps();
    if (steps > 0 && !this.rules.dataStoreFollowUp) {
      // Nothing can follow the operation: the work is done now, the answer says what the runtime says.
      this.state.startDataStore(ctx.clientId, ctx.id, action, path, 0);
      return sendJson(ctx.res, 200, { action, status: 'inProgress', message: `${action} in progress`, path, percentage: 0 });
    }
    sendJson(ctx.res, 200, this.state.startDataStore(ctx.clientId, ctx.id, action, path, steps));
  }

  /** A create's answer, with or without the created object(s) as the profile says. */
  private sendCreated(res: http.ServerResponse, body: unknown): void {
    const { status, withBody } = this.rules.createAnswer;
    if (withBody) sendJson(res, status, body);
    else sendEmpty(res, status);
  }

  private wireImage(image: MimImage): Record<string, unknown> {
    return { ...image, created: this.rules.created(String(image.created)) };
  }

  private wireMim(mim: Mim): Record<string, unknown> {
    return { ...mim, created: this.rules.created(String(mim.created)), env: this.rules.env(mim.env) };
  }

  private asyncSteps(): number {
    const mode = this.options.asyncDataStore;
    if (!mode) return 0;
    return mode === true ? DEFAULT_ASYNC_STEPS : Math.max(1, Math.floor(mode.steps || DEFAULT_ASYNC_STEPS));
  }
}

/** Ids arrive URL-encoded: `..%2Fimages%2Fx` is the id `../images/x`, never another route. */
function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new SimError(400, `the id in the path is not valid URL encoding: ${raw}`);
  }
}

export function startSimulator(options?: SimulatorOptions): Promise<McmSimulator> {
  return McmSimulator.start(options);
}
