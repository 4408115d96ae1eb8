/**
 * The MCM routes under /mcm/v1 (docs/mcm-api.md, "Operations"): images, mims (also under their
 * older name /containers), compositions and data stores, answered from the simulator's state as
 * the current profile says.
 */
import type http from 'node:http';
import type { ImageTarInfo } from '../wire/image-tar';
import type { SimRoute } from './faults';
import type { InsightRoute } from './insight';
import { DEFAULT_ASYNC_STEPS } from './options';
import { ProfileRules } from './profile';
import { boundaryOf } from './multipart';
import { readJson, receiveImage } from './request-body';
import { toDataStoreRequest, toSpec, toSpecs } from './request-rules';
import { refuseAndClose, sendEmpty, sendJson } from './responses';
import { Ctx, Handler, RouteDef, RouteHost } from './routing';
import { SimImage, SimMim } from './shapes';
import { SimError } from './state';

export const MCM_PREFIX = ['mcm', 'v1'];

export type McmRoute = Exclude<SimRoute, InsightRoute | 'mimApi'>;

const MCM_ROUTES: Array<RouteDef & { route: McmRoute }> = [
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

/** The routes the profile serves: without a data store follow-up, GET .../dataStore is not one (405). */
export const mcmRoutes = (rules: ProfileRules): Array<RouteDef & { route: McmRoute }> =>
  rules.dataStoreFollowUp ? MCM_ROUTES : MCM_ROUTES.filter((r) => r.route !== 'dataStoreStatus');

export function mcmHandlers(host: RouteHost): Record<McmRoute, Handler> {
  const { state } = host;

  const wireImage = (image: SimImage): Record<string, unknown> => ({ ...image, created: host.rules().created(image.created) });
  const wireMim = (mim: SimMim): Record<string, unknown> => {
    const rules = host.rules();
    return { ...mim, created: rules.created(mim.created), env: rules.env(mim.env) };
  };

  /** A create's answer, with or without the created object(s) as the profile says. */
  const sendCreated = (res: http.ServerResponse, body: unknown): void => {
    const { status, withBody } = host.rules().createAnswer;
    if (withBody) sendJson(res, status, body);
    else sendEmpty(res, status);
  };

  const asyncSteps = (): number => {
    const mode = host.options().asyncDataStore;
    if (!mode) return 0;
    return mode === true ? DEFAULT_ASYNC_STEPS : Math.max(1, Math.floor(mode.steps || DEFAULT_ASYNC_STEPS));
  };

  const uploadImage = async (ctx: Ctx): Promise<void> => {
    const { req, res } = ctx;
    const rules = host.rules();
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
      const delayMs = host.options().uploadAnswerDelayMs ?? 0;
      if (req.complete && delayMs > 0) await host.sleep(delayMs);
    }
    sendCreated(res, wireImage(state.putImage(ctx.clientId, info)));
  };

  const deployMim = async (ctx: Ctx): Promise<void> => {
    const spec = toSpec(await readJson(ctx));
    const [mim] = state.deploy(ctx.clientId, [spec], host.options().startDelayMs ?? 0, host.rules());
    sendCreated(ctx.res, wireMim(mim));
  };

  const deployComposition = async (ctx: Ctx): Promise<void> => {
    const specs = toSpecs(await readJson(ctx));
    const delayMs = host.options().startDelayMs ?? 0;
    let mims: SimMim[];
    if (host.options().partialCompositions) {
      for (const spec of specs) state.deploy(ctx.clientId, [spec], delayMs, host.rules());
      mims = specs.map((spec) => state.getMim(ctx.clientId, `${ctx.clientId}-${spec.name}`));
    } else {
      mims = state.deploy(ctx.clientId, specs, delayMs, host.rules());
    }
    sendCreated(ctx.res, { data: mims.map(wireMim) });
  };

  const startDataStore = async (ctx: Ctx): Promise<void> => {
    state.getMim(ctx.clientId, ctx.id); // 404 before looking at the body
    const { action, path } = toDataStoreRequest(await readJson(ctx));
    const steps = asyncSteps();
    if (steps > 0 && !host.rules().dataStoreFollowUp) {
      // Nothing can follow the operation: the work is done now, the answer says what the runtime says.
      state.startDataStore(ctx.clientId, ctx.id, action, path, 0);
      return sendJson(ctx.res, 200, { action, status: 'inProgress', message: `${action} in progress`, path, percentage: 0 });
    }
    sendJson(ctx.res, 200, state.startDataStore(ctx.clientId, ctx.id, action, path, steps));
  };

  return {
    listImages: async (ctx) => sendJson(ctx.res, 200, { data: state.listImages(ctx.clientId).map(wireImage) }),
    uploadImage,
    deleteImage: async (ctx) => sendJson(ctx.res, 200, wireImage(state.deleteImage(ctx.clientId, ctx.id, host.rules().imageDeleteByName))),
    listMims: async (ctx) => sendJson(ctx.res, 200, { data: state.listMims(ctx.clientId).map(wireMim) }),
    deployMim,
    removeMim: async (ctx) => sendJson(ctx.res, 200, wireMim(state.removeMim(ctx.clientId, ctx.id))),
    deployComposition,
    dataStore: startDataStore,
    dataStoreStatus: async (ctx) => sendJson(ctx.res, 200, state.pollDataStore(ctx.clientId, ctx.id)),
  };
}
