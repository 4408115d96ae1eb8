/**
 * The MCM models, with exactly the field names of the wire contract (../shared/mcm-api.md).
 * Defined once here and used by the client, the nodes, the simulator and the tests.
 *
 * The runtime may send fields not listed here: normalisers keep them (never strip unknown
 * fields) and fill missing listed fields with the contract's defaults.
 */

/** Extra fields a runtime may send beyond the contract; kept as they came. */
type Extra = { [field: string]: unknown };

export type Env = Record<string, string>;

export interface MimImage extends Extra {
  id: string;
  name: string;
  digest: string;
  repoTags: string[];
  /** Epoch seconds in older runtimes, an ISO 8601 string in the SDK docs. */
  created: string | number;
  /** Bytes. */
  size: number;
}

export interface Mim extends Extra {
  id: string;
  name: string;
  image: string;
  imageId: string;
  clientId: string;
  created: string;
  /** e.g. "created", "started". */
  state: string;
  /** e.g. "up". */
  status: string;
  env: Env;
}

export interface MimSpec {
  /** The instance name; no whitespace. */
  name: string;
  /** An image *name* (not its id). */
  image: string;
  env?: Env;
}

export type DataStoreAction = 'backup' | 'restore';
export const DATA_STORE_STATUSES = ['completed', 'failed', 'inProgress'] as const;
export type DataStoreStatus = (typeof DATA_STORE_STATUSES)[number];

export interface DataStoreResult extends Extra {
  action: DataStoreAction;
  status: DataStoreStatus;
  message: string;
  path: string;
  /** 0..100 */
  percentage: number;
}

/** Which kind of resource a list/remove node works on. */
export type ResourceKind = 'mim' | 'image';

function asObject(raw: unknown): Extra {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Extra) : {};
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function stringEnv(raw: unknown): Env {
  const env: Env = {};
  for (const [key, value] of Object.entries(asObject(raw))) env[key] = str(value);
  return env;
}

export function normalizeImage(raw: unknown): MimImage {
  const o = asObject(raw);
  return {
    ...o,
    id: str(o.id),
    name: str(o.name),
    digest: str(o.digest),
    repoTags: Array.isArray(o.repoTags) ? o.repoTags.map(str) : [],
    created: typeof o.created === 'number' ? o.created : str(o.created),
    size: typeof o.size === 'number' ? o.size : Number(o.size) || 0,
  };
}

export function normalizeMim(raw: unknown): Mim {
  const o = asObject(raw);
  return {
    ...o,
    id: str(o.id),
    name: str(o.name),
    image: str(o.image),
    imageId: str(o.imageId),
    clientId: str(o.clientId),
    created: str(o.created),
    state: str(o.state),
    status: str(o.status),
    env: stringEnv(o.env),
  };
}

export function normalizeDataStoreResult(raw: unknown, fallbackAction: DataStoreAction): DataStoreResult {
  const o = asObject(raw);
  const status = str(o.status);
  const percentage = Number(o.percentage);
  return {
    ...o,
    action: o.action === 'backup' || o.action === 'restore' ? o.action : fallbackAction,
    // A 2xx answer without a status is taken as done (the client refuses statuses it does not know).
    status: status === 'failed' || status === 'inProgress' ? status : 'completed',
    message: str(o.message),
    path: str(o.path),
    percentage: Number.isFinite(percentage) ? Math.min(100, Math.max(0, percentage)) : status === 'inProgress' ? 0 : 100,
  };
}

/**
 * Lists come wrapped as `{"data": [...]}` or bare; a wrapper may also use another key
 * (`mims`, `images`) in some runtimes. Anything else is not a list.
 */
export function unwrapList(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  const o = asObject(body);
  for (const key of ['data', 'mims', 'images', 'items']) {
    if (Array.isArray(o[key])) return o[key] as unknown[];
  }
  return undefined;
}
