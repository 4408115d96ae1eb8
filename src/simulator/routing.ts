/**
 * The simulator's router: tables of one-level paths (`:id` a parameter, `:mims` the mims
 * resource or its older name `containers`), matched segment by segment so that an encoded `/`
 * in an id never reaches another route, and dispatch to a table's handler with 404 and 405.
 */
import type { SimRoute } from './faults';
import type { SimulatorOptions } from './options';
import type { ProfileRules } from './profile';
import { BodyContext } from './request-body';
import { sendError } from './responses';
import { SimError, SimState } from './state';

export interface RouteDef {
  method: string;
  path: string[];
}

/** A request on its way to its handler, authorised (or on a route that needs no key). */
export interface Ctx extends BodyContext {
  clientId: string;
  /** The decoded {id} path parameter ('' when the route has none). */
  id: string;
  query: URLSearchParams;
}

export type Handler = (ctx: Ctx) => Promise<void>;

/** What route handlers need of their simulator; options and rules are read per request (both may change while it runs). */
export interface RouteHost {
  readonly state: SimState;
  options(): SimulatorOptions;
  rules(): ProfileRules;
  /** A wait that the simulator's stop() cuts short. */
  sleep(ms: number): Promise<void>;
  /** Answers as the route's fault says, if one is set; true when the fault answered. */
  applyFault(ctx: Ctx, route: SimRoute): Promise<boolean>;
}

export type Match<T> = { kind: 'found'; def: T; params: Record<string, string> } | { kind: 'method'; allow: string[] } | { kind: 'none' };

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

export function matchRoute<T extends RouteDef>(table: T[], method: string, segments: string[]): Match<T> {
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
export function under(prefix: string[], segments: string[]): string[] | undefined {
  return prefix.every((p, i) => segments[i] === p) ? segments.slice(prefix.length) : undefined;
}

/** Runs the matched route's handler; 404 when no route has the path, 405 (with Allow) when none has the method. */
export async function dispatch<T extends RouteDef>(ctx: Ctx, match: Match<T>, handlerOf: (def: T) => Handler): Promise<void> {
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

/** Ids arrive URL-encoded: `..%2Fimages%2Fx` is the id `../images/x`, never another route. */
function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new SimError(400, `the id in the path is not valid URL encoding: ${raw}`);
  }
}
