/**
 * What a simulator is started with (McmSimulator.start): its profile, where it listens, its keys,
 * and the behaviours tests switch on. Some can be changed while it runs (the control API's options).
 */
import type { SimInsightIdentity, SimInsightNode } from './insight';
import type { ProfileName } from './profile';

export interface SimulatorOptions {
  /**
   * `contract` answers as the written contract says; `field` as real runtimes were recorded
   * answering (profile.ts lists every difference). Control routes work alike in both. Default:
   * the environment variable MCM_SIMULATOR_PROFILE, else `contract`.
   */
  profile?: ProfileName;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** The MCM API key; default: MCM_API_KEY from keyFile if it has one, else random. */
  key?: string;
  /** A mimoe-api-key.env style file: the key is read from it, or written to it. */
  keyFile?: string;
  /** Extra accepted bearer tokens -> the client id each implies (stands in for JWT access tokens). */
  tokens?: Record<string, string>;
  /** Tokens refused as expired (the key itself may be listed): 401 in the field profile, 403 in the contract's. */
  expiredTokens?: string[];
  /** A deployed mim stays 'created' this long, then 'started' (0: at once; negative: never). */
  startDelayMs?: number;
  /**
   * Compositions deploy in order and stop at the first failure, leaving the mims before it
   * (the contract does not say whether real runtimes are all-or-nothing). Default false.
   */
  partialCompositions?: boolean;
  /** Data store calls answer 'inProgress' first and finish after `steps` status polls (default 4). */
  asyncDataStore?: boolean | { steps: number };
  /** Serve https. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The Insight API's own Bearer token (default '1234', mimOE's default). */
  insightToken?: string;
  /** How Insight describes this device (default: a random id, name 'mcm-simulator', this host's os). */
  insightNode?: SimInsightIdentity;
  /** The other nodes Insight lists (a fleet sets this); a lone simulator lists none. */
  insightPeers?: () => SimInsightNode[];
  /** Device mode: every MCM request waits this long before it is handled (a slow device). */
  slowMs?: number;
  /** Device mode: deploys and compositions fail with this answer. */
  refuseDeploys?: { status: number; message: string };
  /** Device mode: started mims' own APIs answer 503. */
  unhealthyMims?: boolean;
  /** Starts each access line (a fleet's device names). */
  logLabel?: string;
  /** The library prints nothing unless quiet is explicitly false (then one access line per request). */
  quiet?: boolean;
  /** Keep at most this many log entries, dropping the oldest (default: all; the CLI keeps 100000). */
  logLimit?: number;
  /** Wait this long after an upload's last byte before answering it (real builds unpack big images first). */
  uploadAnswerDelayMs?: number;
  /** A request body that sends nothing for this long is given up: 408, or its socket destroyed (default 30 000; 0: never). */
  bodyTimeoutMs?: number;
  /** Keep the Authorization header in the request log as sent (default: `Bearer ***`). */
  logSecrets?: boolean;
}

/** Polls an asynchronous data store operation takes when `asyncDataStore` is `true`. */
export const DEFAULT_ASYNC_STEPS = 4;
/** How long a request body may send nothing before it is given up. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
