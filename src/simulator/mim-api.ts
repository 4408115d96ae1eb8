/**
 * The mims' own APIs as the simulator serves them: a mim with `MCM.BASE_API_PATH` in its env is
 * mounted at `/<clientId><MCM.BASE_API_PATH>` (and at `/api<MCM.BASE_API_PATH>` when
 * `MCM.API_ALIAS` is "true"), as the runtime mounts it. It answers a small JSON echo that names
 * the mim, so health checks and tests can tell which mim answered.
 */
import { consumeBody } from './request-body';
import { sendEmpty, sendError, sendJson } from './responses';
import { Ctx, RouteHost } from './routing';
import { SimMim } from './shapes';

const MIM_API_METHODS = ['GET', 'HEAD', 'POST'];

export interface MountedMim {
  mim: SimMim;
  /** The path below the mount point, '/' at least, query string excluded. */
  rest: string;
}

/** '/hello/v1/' and 'hello/v1' both mount at '/hello/v1'; no base path: not served. */
function basePath(mim: SimMim): string | undefined {
  const raw = mim.env?.['MCM.BASE_API_PATH']?.trim().replace(/\/+$/, '');
  if (!raw) return undefined;
  return raw.startsWith('/') ? raw : `/${raw}`;
}

function mountPoints(mim: SimMim): string[] {
  const base = basePath(mim);
  if (!base) return [];
  const points = [`/${mim.clientId}${base}`];
  if (mim.env?.['MCM.API_ALIAS'] === 'true') points.push(`/api${base}`);
  return points;
}

/** The mim mounted at `path` (the longest mount point wins), or undefined. */
function findMounted(mims: SimMim[], path: string): MountedMim | undefined {
  let found: MountedMim | undefined;
  let longest = 0;
  for (const mim of mims) {
    for (const point of mountPoints(mim)) {
      if (point.length <= longest || (path !== point && !path.startsWith(`${point}/`))) continue;
      found = { mim, rest: path.slice(point.length) || '/' };
      longest = point.length;
    }
  }
  return found;
}

/** What a started, healthy mim answers. */
function mimAnswer({ mim, rest }: MountedMim, method: string, bytes: number): Record<string, unknown> {
  return { mim: mim.id, name: mim.name, image: mim.image, clientId: mim.clientId, method, path: rest, bytesReceived: bytes };
}

/**
 * 200 from a started mim; 503 from one not started (or unhealthy); where none is mounted,
 * 404 (the field profile: an empty 503), logged as 'unknown'.
 */
export async function serveMimApi(ctx: Ctx, host: RouteHost): Promise<void> {
  const { res, entry } = ctx;
  const path = entry.url.split('?')[0];
  const mounted = findMounted(host.state.listMims(), path);
  if (!mounted && host.rules().unmountedPath === 'empty-503') return sendEmpty(res, 503);
  if (!mounted) {
    return sendError(res, 404, `nothing is mounted at ${path} (MCM is under /mcm/v1; a started mim serves /<clientId><MCM.BASE_API_PATH>)`);
  }
  entry.route = 'mimApi';
  if (await host.applyFault(ctx, 'mimApi')) return;
  if (!MIM_API_METHODS.includes(entry.method)) {
    res.setHeader('Allow', MIM_API_METHODS.join(', '));
    return sendError(res, 405, `the simulated mim "${mounted.mim.id}" answers ${MIM_API_METHODS.join(', ')} only`);
  }
  let bytes = 0;
  await consumeBody(ctx, (chunk) => (bytes += chunk.length));
  if (mounted.mim.state !== 'started') return sendError(res, 503, `mim "${mounted.mim.id}" is not started (state ${mounted.mim.state})`);
  if (host.options().unhealthyMims) return sendError(res, 503, `mim "${mounted.mim.id}" is unhealthy (simulated)`);
  sendJson(res, 200, mimAnswer(mounted, entry.method, bytes));
}
