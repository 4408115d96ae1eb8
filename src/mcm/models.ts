/**
 * The MCM models, with exactly the field names of the wire contract (docs/mcm-api.md).
 * Defined once here and used by the client, the nodes and the tests (the simulator keeps its own
 * copy, src/simulator/shapes.ts, so that it stays an independent oracle).
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
  /** As the runtime sent it: epoch seconds (a number) or an ISO 8601 string. */
  created: string | number;
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
/** The statuses a runtime sends; any other is refused. */
export const DATA_STORE_STATUSES = ['completed', 'failed', 'inProgress'] as const;
/**
 * A runtime's status, or `accepted`: the runtime answered 2xx without a status, so the work was
 * taken on but nothing says it is done. Only the runtime's own `completed` means done.
 */
export type DataStoreStatus = (typeof DATA_STORE_STATUSES)[number] | 'accepted';

export interface DataStoreResult extends Extra {
  action: DataStoreAction;
  status: DataStoreStatus;
  message: string;
  path: string;
  /** 0..100 */
  percentage: number;
}

/** Which kind of resource a list/remove node works on. */
export const RESOURCE_KINDS = ['mim', 'image'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

function asObject(raw: unknown): Extra {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Extra) : {};
}

function str(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  // An object where text belongs is shown as the runtime sent it: String() throws on a `toString` key.
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * An object of strings; older runtimes send an array of "KEY=VALUE" strings (the value keeps
 * everything after the first '='; "KEY" alone is an empty value) or of {name, value} objects.
 * A variable named `__proto__` is left out, as parseAnswer leaves out such keys.
 */
function stringEnv(raw: unknown): Env {
  const env: Env = {};
  if (!Array.isArray(raw)) {
    for (const [key, value] of Object.entries(asObject(raw))) env[key] = str(value);
    return env;
  }
  const add = (key: unknown, value: string) => {
    if (typeof key === 'string' && key && key !== '__proto__') env[key] = value;
  };
  for (const entry of raw) {
    if (typeof entry === 'string') {
      const equals = entry.indexOf('=');
      add(equals < 0 ? entry : entry.slice(0, equals), equals < 0 ? '' : entry.slice(equals + 1));
    } else {
      const { name, value } = asObject(entry);
      add(name, str(value));
    }
  }
  return env;
}

/** A number stays a number, anything else becomes a string. */
function created(value: unknown): string | number {
  return typeof value === 'number' ? value : str(value);
}

export function normalizeImage(raw: unknown): MimImage {
  const o = asObject(raw);
  return {
    ...o,
    id: str(o.id),
    name: str(o.name),
    digest: str(o.digest),
    repoTags: Array.isArray(o.repoTags) ? o.repoTags.map(str) : [],
    created: created(o.created),
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
    created: created(o.created),
    state: str(o.state),
    status: str(o.status),
    env: stringEnv(o.env),
  };
}

/** Fills what the answer leaves out from the request: the action, and the path it named. */
export function normalizeDataStoreResult(raw: unknown, request: { action: DataStoreAction; path: string }): DataStoreResult {
  const o = asObject(raw);
  const said = str(o.status);
  const status: DataStoreStatus = said === 'completed' || said === 'failed' || said === 'inProgress' ? said : 'accepted';
  const percentage = Number(o.percentage);
  return {
    ...o,
    action: o.action === 'backup' || o.action === 'restore' ? o.action : request.action,
    status,
    message: str(o.message),
    path: typeof o.path === 'string' && o.path ? o.path : request.path,
    percentage: Number.isFinite(percentage) ? Math.min(100, Math.max(0, percentage)) : status === 'completed' ? 100 : 0,
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

// ------------------------------------------------------------------------------------------------
// Fleets: many runtimes, listed or discovered through mimOE's Insight API, and rollouts across them.

/** One runtime of a fleet. */
export interface FleetMember {
  /** The member's name: as listed, or the `name` Insight reports. Unique within the fleet. */
  name: string;
  /** The runtime's base URL, e.g. http://192.168.1.20:8083 (the MCM API is under /mcm/v1). */
  url: string;
  /** Listed in the fleet's settings, the seed of discovery itself, or discovered through Insight. */
  source: 'listed' | 'seed' | 'discovered';
  /** The Insight node id of a discovered member. */
  id?: string;
}

/** One entry of Insight's `GET /mimik-mesh/insight/v1/nodes` answer. */
export interface InsightNode extends Extra {
  id: string;
  accountId: string;
  name: string;
  os: string;
  addresses: Array<{ type: string; url: { href: string } }>;
  services: unknown[];
}

export function normalizeInsightNode(raw: unknown): InsightNode {
  const o = asObject(raw);
  const addresses = Array.isArray(o.addresses) ? o.addresses : [];
  return {
    ...o,
    id: str(o.id),
    accountId: str(o.accountId),
    name: str(o.name),
    os: str(o.os),
    addresses: addresses.map((address) => {
      const a = asObject(address);
      return { type: str(a.type), url: { href: str(asObject(a.url).href) } };
    }),
    services: Array.isArray(o.services) ? o.services : [],
  };
}

export const ROLLOUT_OPERATIONS = ['deploy', 'composition', 'remove', 'upload'] as const;
export type RolloutOperation = (typeof ROLLOUT_OPERATIONS)[number];

/** What a deploy does when a mim of the same name runs already (src/mcm/policies.ts). */
export const IF_EXISTS = ['fail', 'replace', 'keep'] as const;
export type IfExists = (typeof IF_EXISTS)[number];

/** What mimoe-remove sends: the same result per device in a rollout. */
export interface RemoveResult {
  id: string;
  resource: ResourceKind;
  removed: true;
}

/** Each operation's result on one device: the payload of the single-device node of that name. */
export interface RolloutPayloads {
  deploy: Mim;
  composition: Mim[];
  remove: RemoveResult;
  upload: MimImage;
}

/**
 * Why a device has a note: `skipped` (never started: the rollout stopped or was aborted first),
 * `aborted` (stopped mid-way by close), `rolled-back` (its changes were undone after the rollout
 * stopped), `rollback-failed` (undoing them failed or is impossible: see rollbackError).
 */
export type DeviceNote = 'skipped' | 'aborted' | 'rolled-back' | 'rollback-failed';

export interface DeviceResult<R = unknown> {
  device: string;
  url: string;
  /** The operation (and its health check) succeeded on this device. */
  ok: boolean;
  result?: R;
  error?: string;
  /** The error's code, e.g. MCM_HTTP, MCM_UNREACHABLE. */
  code?: string;
  statusCode?: number;
  /** Time spent on this device, rollback excluded. */
  ms: number;
  note?: DeviceNote;
  rollbackError?: string;
}

/** Why a rollout ended before every device was done. */
export type RolloutStop = 'failures' | 'aborted';

export interface RolloutResult<R = unknown> {
  operation: RolloutOperation;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  rolledBack: number;
  /** Set when the rollout stopped early: too many failures, or aborted (node closed). */
  stopped?: RolloutStop;
  /** In the order of the fleet's members. */
  devices: Array<DeviceResult<R>>;
}
