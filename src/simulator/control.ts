/**
 * The control API under /_simulator/: the simulator's library controls (log, stats, state,
 * faults, reset, options, key rotation) over HTTP, for users in another process (the CLI's
 * benchmarks, `npm start`). It needs the simulator's key, as MCM does, in both profiles.
 */
import { FaultTable, Fault, faultProblem, isSimRoute } from './faults';
import { SimulatorOptions } from './options';
import { isProfileName } from './profile';
import { isJsonObject, readJson } from './request-body';
import { sendJson } from './responses';
import { Handler, RouteDef } from './routing';
import { SimError } from './state';
import type { McmSimulator } from './server';

export const CONTROL_PREFIX = ['_simulator'];

type ControlName = 'log' | 'stats' | 'state' | 'listFaults' | 'setFault' | 'clearFaults' | 'reset' | 'resetStats' | 'options' | 'rotateKey';

export const CONTROL_ROUTES: Array<RouteDef & { name: ControlName }> = [
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

/** The library controls the routes call. */
export type ControlHost = Pick<
  McmSimulator,
  'log' | 'options' | 'stats' | 'mims' | 'images' | 'setFault' | 'clearFaults' | 'reset' | 'resetStats' | 'rotateKey'
>;

export function controlHandlers(sim: ControlHost, faults: FaultTable): Record<ControlName, Handler> {
  return {
    log: async (ctx) => {
      const route = ctx.query.get('route');
      sendJson(ctx.res, 200, { data: route ? sim.log.filter((e) => e.route === route) : sim.log });
    },
    stats: async (ctx) => sendJson(ctx.res, 200, sim.stats()),
    state: async (ctx) => {
      const clientId = ctx.query.get('clientId') ?? undefined;
      sendJson(ctx.res, 200, { mims: sim.mims(clientId), images: sim.images(clientId) });
    },
    listFaults: async (ctx) => sendJson(ctx.res, 200, { data: faults.list() }),
    setFault: async (ctx) => {
      const body = await readJson(ctx);
      const { route, fault } = isJsonObject(body) ? body : ({} as Record<string, unknown>);
      if (!isSimRoute(route)) throw new SimError(400, `route must be one of the simulator's route names (got ${JSON.stringify(route)})`);
      const problem = faultProblem(fault);
      if (problem) throw new SimError(400, problem);
      sim.setFault(route, fault as Fault);
      sendJson(ctx.res, 200, { data: faults.list() });
    },
    clearFaults: async (ctx) => {
      sim.clearFaults();
      sendJson(ctx.res, 200, { data: [] });
    },
    reset: async (ctx) => {
      sim.reset();
      sendJson(ctx.res, 200, { reset: true });
    },
    resetStats: async (ctx) => {
      sim.resetStats();
      sendJson(ctx.res, 200, sim.stats());
    },
    options: async (ctx) => sendJson(ctx.res, 200, changeOptions(sim.options, await readJson(ctx))),
    rotateKey: async (ctx) => {
      const body = (await readJson(ctx).catch(() => undefined)) as { key?: unknown } | undefined;
      const key = sim.rotateKey(typeof body?.key === 'string' && body.key ? body.key : undefined);
      sendJson(ctx.res, 200, { key });
    },
  };
}

/** Applies the options a control call may change; answers the ones it may change as they now are. */
function changeOptions(options: SimulatorOptions, body: unknown): Record<string, unknown> {
  if (!isJsonObject(body)) throw new SimError(400, 'the body must be a JSON object of options');
  const { startDelayMs, asyncDataStore, tokens, profile, expiredTokens, uploadAnswerDelayMs } = body;
  if (profile !== undefined && !isProfileName(profile)) throw new SimError(400, `unknown profile ${JSON.stringify(profile)}`);
  if (expiredTokens !== undefined && !(Array.isArray(expiredTokens) && expiredTokens.every((t) => typeof t === 'string'))) {
    throw new SimError(400, 'expiredTokens must be an array of strings');
  }
  if (startDelayMs !== undefined) options.startDelayMs = Number(startDelayMs) || 0;
  if (asyncDataStore !== undefined) options.asyncDataStore = asyncDataStore as SimulatorOptions['asyncDataStore'];
  if (tokens !== undefined) options.tokens = tokens as Record<string, string>;
  if (profile !== undefined) options.profile = profile;
  if (expiredTokens !== undefined) options.expiredTokens = expiredTokens as string[];
  if (uploadAnswerDelayMs !== undefined) options.uploadAnswerDelayMs = Number(uploadAnswerDelayMs) || 0;
  return {
    startDelayMs: options.startDelayMs ?? 0,
    asyncDataStore: options.asyncDataStore ?? false,
    profile: options.profile ?? 'contract',
    expiredTokens: options.expiredTokens ?? [],
    uploadAnswerDelayMs: options.uploadAnswerDelayMs ?? 0,
  };
}
