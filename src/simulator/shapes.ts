/**
 * The MCM models as the simulator stores and answers them, written from the contract's "Models"
 * section (docs/mcm-api.md) and not imported from the client: the simulator is the tests' oracle,
 * so a field the client gets wrong must not be wrong on both sides. `created` is kept as an ISO
 * 8601 string; the profile decides what goes on the wire (profile.ts).
 */

/** Env of a mim: string values only. */
export type SimEnv = Record<string, string>;

/** MimImage `{id, name, digest, repoTags, created, size}`; `size` in bytes. */
export type SimImage = {
  id: string;
  name: string;
  digest: string;
  repoTags: string[];
  created: string;
  size: number;
};

/** Mim `{id, name, image, imageId, clientId, created, state, status, env}`. */
export type SimMim = {
  id: string;
  name: string;
  image: string;
  imageId: string;
  clientId: string;
  created: string;
  /** "created" until it starts, then "started". */
  state: string;
  /** "pending" until it starts, then "up". */
  status: string;
  env: SimEnv;
};

/** MimSpec `{name, image, env?}` as a request holds it once checked (request-rules.ts). */
export type SimMimSpec = {
  /** The instance name, no whitespace. */
  name: string;
  /** An image *name*, not its id. */
  image: string;
  env: SimEnv;
};

export const DATA_STORE_ACTIONS = ['backup', 'restore'] as const;
export type SimDataStoreAction = (typeof DATA_STORE_ACTIONS)[number];

/** DataStoreResult `{action, status, message, path, percentage}`. */
export type SimDataStoreResult = {
  action: SimDataStoreAction;
  status: 'completed' | 'failed' | 'inProgress';
  message: string;
  path: string;
  /** 0..100 */
  percentage: number;
};
