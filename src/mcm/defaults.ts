/**
 * Every default value of the package, in one place: the client, the nodes and the editor read
 * these (the editor through its bundle), so a dialog never shows one value while the runtime uses
 * another. Times are in the unit the reader works in: the client in milliseconds, the node
 * settings in seconds, as the dialogs show them.
 */

/** McmClient's options. */
export const CLIENT_DEFAULTS = {
  timeoutMs: 30_000,
  retries: 2,
  retryBaseMs: 250,
  retryMaxMs: 10_000,
  maxConcurrent: 4,
  answerTimeoutMs: 300_000,
  lowSpeedBytes: 1024,
  lowSpeedWindowMs: 60_000,
  maxResponseBytes: 64 * 1024 * 1024,
  dataStorePollMs: 500,
  dataStoreMaxWaitMs: 10 * 60_000,
  mimsResource: 'mims',
  /** How often a deploy that waits for `started` lists the mims again. */
  startedPollMs: 500,
} as const;

/** The connection settings of the mimoe-config and mimoe-fleet dialogs (seconds, as shown there). */
export const CONNECTION_DEFAULTS = {
  timeout: CLIENT_DEFAULTS.timeoutMs / 1000,
  concurrency: CLIENT_DEFAULTS.maxConcurrent,
  resource: CLIENT_DEFAULTS.mimsResource,
  tokenSource: 'credential',
  insecure: false,
  answerTimeout: CLIENT_DEFAULTS.answerTimeoutMs / 1000,
  lowSpeedBytes: CLIENT_DEFAULTS.lowSpeedBytes,
  lowSpeedWindow: CLIENT_DEFAULTS.lowSpeedWindowMs / 1000,
} as const;

/** What the action nodes do when nothing else is set. */
export const ACTION_DEFAULTS = {
  /** mimoe-list and mimoe-remove (and a rollout's remove): mims, not images. */
  resource: 'mim',
  /** How a TypedInput field is read when its type is not saved: as a string... */
  inputType: 'str',
  /** ...except a composition's specs, a JSON array. */
  specsType: 'json',
  ifExists: 'fail',
  waitStarted: false,
  /** Seconds to wait for a deployed mim to start. */
  waitTimeout: 60,
  compositionRollback: true,
  /** mimoe-upload: no second output with progress msgs. */
  progressOutput: false,
} as const;

/** The mimoe-rollout node's waves. */
export const ROLLOUT_DEFAULTS = {
  operation: 'deploy',
  canary: 1,
  parallel: 4,
  maxFailures: 0,
  rollback: false,
  healthCheck: false,
  /** Seconds a health check may take. */
  healthTimeout: 30,
  /** How often a mim's health is asked again until it answers or healthTimeout passes. */
  healthIntervalMs: 500,
  /** No second output with each device's result. */
  deviceOutput: false,
} as const;

/** The mimoe-fleet config node. */
export const FLEET_DEFAULTS = {
  discover: false,
  includeSeed: true,
  /** Seconds between discoveries; 0 discovers only at start and on msg.refresh. */
  interval: 0,
  /** mimOE's own default Insight token. */
  insightToken: '1234',
  /** Members on this host do not read the runtime's key file unless asked to. */
  localKeyFile: false,
} as const;

/** The mimoe-watch node: mims (not images), polled every `interval` seconds. */
export const WATCH_DEFAULTS = { resource: 'mim', interval: 10 } as const;
