/**
 * The fault table: what a route should do instead of (or before) its normal answer.
 * Tests and benchmarks set faults by route name; the server takes one per request.
 */
import { sendError, sendJson } from './responses';
import type { Ctx } from './routing';

export const SIM_ROUTES = [
  'listImages',
  'uploadImage',
  'deleteImage',
  'listMims',
  'deployMim',
  'removeMim',
  'deployComposition',
  'dataStore',
  'dataStoreStatus',
  'insightNodes',
  'insightInfo',
  'mimApi',
] as const;

/**
 * `dataStore` is POST /mims/{id}/dataStore; `dataStoreStatus` is GET on the same path.
 * `insightNodes` and `insightInfo` are Insight's GET /nodes and /info; `mimApi` is any request
 * to a deployed mim's own API.
 */
export type SimRoute = (typeof SIM_ROUTES)[number];

export function isSimRoute(value: unknown): value is SimRoute {
  return typeof value === 'string' && (SIM_ROUTES as readonly string[]).includes(value);
}

export interface Fault {
  /** Answer with this status ... */
  status?: number;
  /** ... and this body (a string is sent raw, an object as JSON). Default: the contract's error shape. */
  body?: string | object;
  /** Extra response headers, e.g. {'Retry-After': '1'}; also added to a normal answer. */
  headers?: Record<string, string>;
  /** Wait this long first, then go on (normal handling unless another switch says otherwise). */
  delayMs?: number;
  /** Never answer: the socket stays open until the client gives up or the simulator stops. */
  hang?: boolean;
  /** Destroy the socket without answering. */
  reset?: boolean;
  /** Send 200 headers and part of a JSON body, then destroy the socket. */
  resetMidResponse?: boolean;
  /** Answer 200 with truncated, invalid JSON. */
  malformed?: boolean;
  /** Apply to the next N matching requests only (default: until cleared). */
  times?: number;
}

/** Checks a fault that came over HTTP; returns a problem text or undefined. */
export function faultProblem(fault: unknown): string | undefined {
  if (fault === null || typeof fault !== 'object' || Array.isArray(fault)) return 'fault must be an object';
  const f = fault as Record<string, unknown>;
  const intIn = (key: string, min: number, max: number): string | undefined => {
    const v = f[key];
    if (v === undefined) return undefined;
    return Number.isInteger(v) && (v as number) >= min && (v as number) <= max
      ? undefined
      : `fault.${key} must be an integer ${min}..${max}`;
  };
  for (const key of ['hang', 'reset', 'resetMidResponse', 'malformed']) {
    if (f[key] !== undefined && typeof f[key] !== 'boolean') return `fault.${key} must be a boolean`;
  }
  if (f.headers !== undefined) {
    const h = f.headers;
    if (h === null || typeof h !== 'object' || Object.values(h).some((v) => typeof v !== 'string')) {
      return 'fault.headers must be an object of string values';
    }
  }
  if (f.body !== undefined && typeof f.body !== 'string' && (f.body === null || typeof f.body !== 'object')) {
    return 'fault.body must be a string or an object';
  }
  return intIn('status', 100, 599) ?? intIn('delayMs', 0, 3_600_000) ?? intIn('times', 1, Number.MAX_SAFE_INTEGER);
}

/** One active fault per route; a newer setFault replaces the older one. */
export class FaultTable {
  private readonly faults = new Map<SimRoute, { fault: Fault; left: number }>();

  set(route: SimRoute, fault: Fault): void {
    const left = fault.times ?? Infinity;
    if (left <= 0)
      this.faults.delete(route); // "the next 0 requests": nothing to do
    else this.faults.set(route, { fault: { ...fault }, left });
  }

  clear(): void {
    this.faults.clear();
  }

  /** The fault for this request, counting it against `times`. */
  take(route: SimRoute): Fault | undefined {
    const entry = this.faults.get(route);
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.faults.delete(route);
    return entry.fault;
  }

  /** Snapshot, for the control endpoint. */
  list(): Array<{ route: SimRoute; fault: Fault; left: number | null }> {
    return [...this.faults].map(([route, e]) => ({ route, fault: { ...e.fault }, left: Number.isFinite(e.left) ? e.left : null }));
  }
}

/**
 * Answers a request as its route's fault says; true when the fault answered (or will never
 * answer), false when the normal answer follows (a fault with only a delay or headers).
 */
export async function answerWithFault(ctx: Ctx, route: SimRoute, fault: Fault, sleep: (ms: number) => Promise<void>): Promise<boolean> {
  const { req, res } = ctx;
  for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
  if (fault.delayMs) await sleep(fault.delayMs);
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
  if (fault.status === undefined) return false;
  if (fault.body === undefined) sendError(res, fault.status, `simulated fault: HTTP ${fault.status} on ${route}`);
  else if (typeof fault.body === 'string') {
    if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.writeHead(fault.status, { 'Content-Length': Buffer.byteLength(fault.body) });
    res.end(fault.body);
  } else sendJson(res, fault.status, fault.body);
  return true;
}
