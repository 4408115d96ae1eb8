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
} as const;

/** The connection settings of the mimoe-config and mimoe-fleet dialogs (seconds, as shown there). */
export const CONNECTION_DEFAULTS = {
  timeout: CLIENT_DEFAULTS.timeoutMs / 1000,
  concurrency: CLIENT_DEFAULTS.maxConcurrent,
  resource: CLIENT_DEFAULTS.mimsResource,
  tokenSource: 'credential',
  answerTimeout: CLIENT_DEFAULTS.answerTimeoutMs / 1000,
  lowSpeedBytes: CLIENT_DEFAULTS.lowSpeedBytes,
  lowSpeedWindow: CLIENT_DEFAULTS.lowSpeedWindowMs / 1000,
} as const;

/** What the action nodes do when nothing else is set. */
export const ACTION_DEFAULTS = {
  ifExists: 'fail',
  waitStarted: false,
  /** Seconds to wait for a deployed mim to start. */
  waitTimeout: 60,
  compositionRollback: true,
} as const;

/** The mimoe-rollout node's waves. */
export const ROLLOUT_DEFAULTS = {
  operation: 'deploy',
  canary: 1,
  parallel: 4,
  maxFailures: 0,
  rollback: false,
  /** Seconds a health check may take. */
  healthTimeout: 30,
} as const;

/** The mimoe-fleet config node. */
export const FLEET_DEFAULTS = {
  includeSeed: true,
  /** Seconds between discoveries; 0 discovers only at start and on msg.refresh. */
  interval: 0,
  /** mimOE's own default Insight token. */
  insightToken: '1234',
} as const;

/** The mimoe-watch node: seconds between polls. */
export const WATCH_DEFAULTS = { interval: 10 } as const;
