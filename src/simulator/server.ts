/**
 * The MCM simulator: an HTTP(S) server that speaks the MCM wire contract (docs/mcm-api.md) as
 * one of its profiles says (profile.ts), from in-memory state (state.ts), with a fault table for
 * failure tests (faults.ts), a request log, in-flight counters, and the same controls over HTTP
 * under /_simulator/ for out-of-process users (control.ts). Beside MCM it serves Insight
 * (insight.ts) and the started mims' own APIs (mim-api.ts).
 *
 * This file is the listener and the request pipeline: log, route, authorise (auth.ts), device
 * modes and faults, then the route's handler (mcm-routes.ts for /mcm/v1). What a request body
 * must hold is request-rules.ts, written from the contract, never from the client's checks.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { authorise } from './auth';
import { CONTROL_PREFIX, CONTROL_ROUTES, controlHandlers } from './control';
import { Fault, FaultTable, SimRoute, answerWithFault } from './faults';
import {
  DEFAULT_INSIGHT_TOKEN,
  INSIGHT_PREFIX,
  INSIGHT_ROUTES,
  SimInsightNode,
  describeNode,
  insightAnswer,
  insightRefusal,
} from './insight';
import { chooseKey, randomKey, writeKeyFile } from './key-file';
import { Listener, baseUrl } from './listener';
import { MCM_PREFIX, mcmHandlers, mcmRoutes } from './mcm-routes';
import { serveMimApi } from './mim-api';
import { DEFAULT_BODY_TIMEOUT_MS, SimulatorOptions } from './options';
import { PROFILES, ProfileRules, isProfileName, profileFromEnvironment } from './profile';
import { RequestLogEntry, redactHeaders } from './request-log';
import { refuseAndClose, sendEmpty, sendError, sendJson } from './responses';
import { Ctx, Handler, RouteHost, dispatch, matchRoute, under } from './routing';
import { SimImage, SimMim } from './shapes';
import { SimError, SimState } from './state';

export type { SimulatorOptions } from './options';

/** What the control API's stats route answers. */
export interface SimulatorStats {
  inFlight: number;
  maxInFlight: number;
  connections: number;
  requests: number;
  byRoute: Record<string, number>;
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

  /** What the route handlers see of this simulator. */
  private readonly host: RouteHost = {
    state: this.state,
    options: () => this.options,
    rules: () => this.rules,
    sleep: (ms) => this.sleep(ms),
    applyFault: (ctx, route) => this.applyFault(ctx, route),
  };

  private readonly handlers: Record<SimRoute, Handler> = {
    ...mcmHandlers(this.host),
    insightNodes: async (ctx) => sendJson(ctx.res, 200, insightAnswer('insightNodes', ctx.query, this.insightNode(), this.insightPeers())),
    insightInfo: async (ctx) => sendJson(ctx.res, 200, insightAnswer('insightInfo', ctx.query, this.insightNode(), [])),
    mimApi: (ctx) => serveMimApi(ctx, this.host),
  };

  private readonly controls = controlHandlers(this, this.faults);

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

  mims(clientId?: string): SimMim[] {
    return this.state.listMims(clientId);
  }

  images(clientId?: string): SimImage[] {
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

  /** Requests in flight now and at most, connections accepted, requests by route (control calls apart). */
  stats(): SimulatorStats {
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
    const mcmMatch = matchRoute(mcmRoutes(rules), entry.method, mcm ?? []);
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
      const auth = authorise(req, this.key, this.options);
      if ('refused' in auth) {
        const refusal = rules.refuse(auth.refused);
        return sendError(res, refusal.status, refusal.message);
      }
      const { clientId } = auth;
      entry.clientId = clientId;
      const ctx: Ctx = { req, res, entry, clientId, id: '', query, bodyTimeoutMs };
      if (control) return await dispatch(ctx, matchRoute(CONTROL_ROUTES, entry.method, control), (d) => this.controls[d.name]);
      if (mcmMatch.kind === 'found' && (await this.applyDeviceMode(ctx, mcmMatch.def.route))) return;
      if (mcmMatch.kind === 'found' && (await this.applyFault(ctx, mcmMatch.def.route))) return;
      await dispatch(ctx, mcmMatch, (d) => this.handlers[d.route]);
    } catch (err) {
      if (err instanceof SimError) return sendError(res, err.status, err.message);
      sendError(res, 500, `simulator error: ${(err as Error).message}`);
    }
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

  // ------------------------------------------------------------ faults

  /** Applies the route's fault, if any; true when the fault answered (or will never answer). */
  private async applyFault(ctx: Ctx, route: SimRoute): Promise<boolean> {
    const fault = this.faults.take(route);
    return fault ? answerWithFault(ctx, route, fault, (ms) => this.sleep(ms)) : false;
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
    if (!insight) return serveMimApi(ctx, this.host);
    const match = matchRoute(INSIGHT_ROUTES, ctx.entry.method, insight);
    if (match.kind === 'found') ctx.entry.route = match.def.route;
    const refusal = insightRefusal(ctx.req.headers.authorization, this.options.insightToken ?? DEFAULT_INSIGHT_TOKEN);
    if (refusal) return sendError(ctx.res, refusal.status, refusal.message);
    if (match.kind === 'found' && (await this.applyFault(ctx, match.def.route))) return;
    await dispatch(ctx, match, (d) => this.handlers[d.route]);
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
}

export function startSimulator(options?: SimulatorOptions): Promise<McmSimulator> {
  return McmSimulator.start(options);
}
