/**
 * FleetClient: one MCM operation rolled out to many mimOE runtimes. Members are listed, or found
 * through mimOE's Insight API on a seed runtime (`GET /mimik-mesh/insight/v1/nodes?type=linkLocal`)
 * and picked by a name filter. A rollout runs in waves: a canary first, then the rest, `parallel`
 * devices at a time; after each device an optional health check of its mims; it stops when the
 * failures exceed maxFailures and can then roll back what it changed on the devices it touched.
 * Built on McmClient and the deploy policies, with no Node-RED imports.
 */
import { setMaxListeners } from 'node:events';
import { answerJson, CallOptions, McmClient, McmClientOptions, parseAnswer, serverMessage } from './client';
import { CLIENT_DEFAULTS, FLEET_DEFAULTS, ROLLOUT_DEFAULTS } from './defaults';
import { delay } from './delay';
import { ErrorParams, fillPlaceholders, McmError } from './errors';
import { ImageSource, openImageSource } from './image-source';
import {
  DeviceResult,
  FleetMember,
  Mim,
  MimImage,
  MimSpec,
  normalizeInsightNode,
  ResourceKind,
  RolloutOperation,
  RolloutPayloads,
  RolloutResult,
  unwrapList,
} from './models';
import { nameFilterFault } from './name-filter';
import { deployCompositionWithPolicy, deployMimWithPolicy, DeployPolicy, sameEnv } from './policies';
import { Redactor } from './redact';
import { Exchange, HttpTransport, ProxyOptions, TlsOptions } from './transport';
import { checkEnv, checkId, checkImageName, checkName, checkSpecs, isPlainObject, isReadable, setOwn } from './validate';

export const INSIGHT_BASE_PATH = '/mimik-mesh/insight/v1';
/** The env key that mounts a mim's API: health checks need it. */
export const BASE_API_PATH_KEY = 'MCM.BASE_API_PATH';

export type FleetErrorCode =
  | 'member-invalid'
  | 'member-duplicate'
  | 'seed-invalid'
  | 'filter-invalid'
  | 'keys-invalid'
  | 'no-members'
  | 'devices-invalid'
  | 'device-pattern-invalid'
  | 'devices-unknown'
  | 'option-invalid'
  | 'health-base-path'
  | 'not-restorable';

/** English texts; the nodes' catalogs hold the same under `mimoe-fleet.errors.*` (a test compares them). */
export const FLEET_ERROR_TEXT: Readonly<Record<FleetErrorCode, string>> = {
  'member-invalid': 'member __index__ needs a name and a URL starting with http:// or https:// (got "__name__", "__url__")',
  'member-duplicate': 'the member name "__name__" is listed twice',
  'seed-invalid': 'the seed URL must start with http:// or https:// (got "__url__")',
  'filter-invalid': 'the name filter "__filter__" is not valid: __reason__',
  'keys-invalid': 'the per-member keys cannot be read: entry __index__ is not name=key (write name=key entries, or a JSON object)',
  'no-members': 'the fleet has no members: list some, or check the seed and the name filter',
  'devices-invalid': 'the target devices must be member names or globs, as an array or a comma-separated string (got __type__)',
  'device-pattern-invalid': 'the target device "__entry__" is not a member name or glob: __reason__',
  'devices-unknown': 'no fleet member matches __devices__ (members: __members__)',
  'option-invalid': '__option__ must be a whole number, at least __min__ (got "__value__")',
  'health-base-path': 'the health check needs the mim\'s API path: set env "MCM.BASE_API_PATH" (e.g. /hello/v1)',
  'not-restorable': '__what__ cannot be restored by a rollback',
};

/** Fleet settings and rollout requests that cannot work, refused before any request. */
export class FleetError extends Error {
  override readonly name = 'FleetError';
  constructor(
    readonly code: FleetErrorCode,
    readonly params: ErrorParams = {},
  ) {
    super(fillPlaceholders(FLEET_ERROR_TEXT[code], params));
  }
}

// ------------------------------------------------------------------------------------------------
// Names: comma-separated globs

/** What is wrong with a name filter (see name-filter.ts), in words, or undefined when it is valid. */
export function nameFilterProblem(filter: string): string | undefined {
  const fault = nameFilterFault(filter);
  if (!fault) return undefined;
  return fault.rule === 'empty-entry' ? 'an empty entry between commas' : `only * and ? are wildcards ("${fault.entry}")`;
}

function globRegExp(glob: string): RegExp {
  const body = glob
    .trim()
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^$()|\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

/** The test of a name filter (see nameFilterProblem); throws FleetError filter-invalid. */
export function nameFilter(filter: string | undefined): (name: string) => boolean {
  if (!filter || filter.trim() === '') return () => true;
  const reason = nameFilterProblem(filter);
  if (reason) throw new FleetError('filter-invalid', { filter, reason });
  const globs = filter.split(',').map(globRegExp);
  return (name) => globs.some((glob) => glob.test(name));
}

/**
 * Per-member keys as stored in one credential field: a JSON object `{"name": "key"}`, or
 * `name=key` entries separated by new lines, commas, semicolons or spaces. The error names the
 * entry by its position, never its text (it holds a key).
 */
export function parseMemberKeys(text: string | undefined): Record<string, string> {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return {};
  if (trimmed.startsWith('{')) {
    let parsed: Record<string, unknown>;
    try {
      // Text that starts with { is a JSON object or no JSON at all.
      parsed = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new FleetError('keys-invalid', { index: 1 });
    }
    const keys: Record<string, string> = {};
    Object.entries(parsed).forEach(([name, key], i) => {
      if (typeof key !== 'string' || key === '' || name.trim() === '') throw new FleetError('keys-invalid', { index: i + 1 });
      setOwn(keys, name.trim(), key);
    });
    return keys;
  }
  const keys: Record<string, string> = {};
  trimmed
    .split(/[\s,;]+/)
    .filter(Boolean)
    .forEach((entry, i) => {
      const at = entry.indexOf('=');
      if (at <= 0 || at === entry.length - 1) throw new FleetError('keys-invalid', { index: i + 1 });
      setOwn(keys, entry.slice(0, at), entry.slice(at + 1));
    });
  return keys;
}

/** The member's own key, if `keys` names it (never a property every object inherits). */
export function memberKey(keys: Record<string, string> | undefined, name: string): string | undefined {
  return keys && Object.hasOwn(keys, name) ? keys[name] : undefined;
}

const isHttpUrl = (url: string): boolean => /^https?:\/\/[^\s/]+/i.test(url);
/** The same runtime however its URL is written. */
const sameUrl = (url: string): string => url.trim().replace(/\/+$/, '').toLowerCase();

// ------------------------------------------------------------------------------------------------
// Options

export interface ListedMember {
  name: string;
  url: string;
}

export interface DiscoveryOptions {
  /** Base URL of the runtime whose Insight API lists the others, e.g. http://127.0.0.1:8083. */
  seedUrl: string;
  /** Insight's bearer token; default 1234, mimOE's default. */
  token?: string;
  /** The seed itself is a member too, named as its Insight `GET /info` says (Insight lists the others only). */
  includeSeed?: boolean;
  /** Picks discovered members by name (see nameFilter); blank: all of them. Listed members and the seed are never filtered. */
  filter?: string;
  /** Asks Insight again this often (ms); 0 or unset: on the first need and on refresh(). */
  intervalMs?: number;
}

export interface FleetClientOptions {
  members?: ListedMember[];
  discovery?: DiscoveryOptions;
  /** The key of every member without its own: an MCM API key, or an account token with scope edge:mcm. */
  token?: string | (() => string);
  /** Keys of single members, by name. */
  keys?: Record<string, string>;
  /** What every member's client shares (its URL and token come per member). */
  client?: Omit<McmClientOptions, 'url' | 'token'>;
  /** Builds a member's client instead (token, keys and client are then unused). The fleet closes it. */
  connect?: (member: FleetMember) => McmClient;
  /** TLS settings of discovery and health checks on https runtimes; default: client.tls. */
  tls?: TlsOptions;
  /** The proxy of discovery and health checks; default: client.proxy, else the environment's. */
  proxy?: ProxyOptions | false;
  /** Milliseconds of silence before discovery or a health check request fails. Default 30 000. */
  timeoutMs?: number;
  /** A periodic discovery failed; the members known before stay. */
  onDiscoveryError?: (err: unknown) => void;
  /** Called after every exchange of discovery and health checks (the members' clients have their own). */
  onExchange?: (exchange: Exchange) => void;
}

export interface HealthCheck {
  /** Path under the mim's base URL, e.g. /healthcheck; blank: the base URL itself. */
  path?: string;
  /** Longest wait for a 2xx answer, per device. Default 30 000 ms. */
  timeoutMs?: number;
  /** Pause between tries. Default 500 ms. */
  intervalMs?: number;
}

export type RolloutPlan =
  | { operation: 'deploy'; spec: MimSpec; policy?: DeployPolicy }
  | { operation: 'composition'; specs: MimSpec[]; policy?: DeployPolicy }
  | { operation: 'remove'; id: string; resource?: ResourceKind }
  /** A stream is copied once to a private temporary file, which every device is then sent. */
  | { operation: 'upload'; source: ImageSource; filename?: string };

/** An upload as the devices see it: each device asks for its own stream of the image. */
interface CheckedUpload {
  operation: 'upload';
  filename?: string;
  open: () => { source: ImageSource; size?: number };
}

type CheckedPlan = Exclude<RolloutPlan, { operation: 'upload' }> | CheckedUpload;

export interface RolloutProgress {
  total: number;
  /** Devices finished, failed ones included. */
  done: number;
  failed: number;
}

export interface FailureText {
  error: string;
  code?: string;
  statusCode?: number;
}

export interface RolloutOptions {
  /** Member names or globs; undefined: every member. */
  devices?: string[];
  /** Devices in the first wave; the rest start only when it ended within maxFailures. Default 1; 0: no canary. */
  canary?: number;
  /** Devices worked on at once. Default 4. */
  parallel?: number;
  /** Failed devices tolerated; one more stops the rollout. Default 0. */
  maxFailures?: number;
  /** When the rollout stops on failures, undo what it changed on the devices it touched. */
  rollback?: boolean;
  /** After each deploy or composition, GET a path of each mim that has MCM.BASE_API_PATH; expects 2xx. */
  health?: HealthCheck;
  signal?: AbortSignal;
  /** Per request, overrides the clients' timeout. */
  timeoutMs?: number;
  /** Ask Insight again before choosing the devices. */
  refresh?: boolean;
  /** Each device's result as it finishes. */
  onDevice?: (device: DeviceResult, progress: RolloutProgress) => void;
  /** Turns a failure into the text kept in the result (the nodes translate here). */
  describe?: (err: unknown) => FailureText;
}

type PayloadOf<P extends RolloutPlan> = RolloutPayloads[P['operation']];

/** A device's state before the rollout changed it: what a rollback restores. */
interface Snapshot {
  mims?: Mim[];
  images?: MimImage[];
}

interface DeviceRun<R> {
  member: FleetMember;
  result: DeviceResult<R>;
  /** Set once the device is about to be changed (with rollback on). */
  before?: Snapshot;
}

/** Insight lists every node of a network: plenty for thousands. A health answer is only looked at for its status. */
const INSIGHT_MAX_BYTES = 16 * 1024 * 1024;
const HEALTH_MAX_BYTES = 1024 * 1024;

function wholeNumber(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new FleetError('option-invalid', { option, min, value: String(value) });
  return n;
}

function defaultDescribe(err: unknown): FailureText {
  if (err instanceof McmError) return { error: err.message, code: err.code, statusCode: err.statusCode };
  return { error: err instanceof Error ? err.message : String(err) };
}

// ------------------------------------------------------------------------------------------------

export class FleetClient {
  private readonly listed: FleetMember[];
  private readonly filter: (name: string) => boolean;
  private discovered: FleetMember[] = [];
  private seed?: FleetMember;
  private discoveredOnce = false;
  private discovering?: Promise<void>;
  private timer?: NodeJS.Timeout;
  /** Aborted by close(): ends discovery and every rollout in flight. */
  private readonly closing = new AbortController();

  constructor(private readonly options: FleetClientOptions) {
    // Every rollout in flight listens to it.
    setMaxListeners(0, this.closing.signal);
    const names = new Set<string>();
    this.listed = (options.members ?? []).map((m, i) => {
      const name = typeof m?.name === 'string' ? m.name.trim() : '';
      const url = typeof m?.url === 'string' ? m.url.trim() : '';
      if (!name || !isHttpUrl(url)) throw new FleetError('member-invalid', { index: i + 1, name, url });
      if (names.has(name)) throw new FleetError('member-duplicate', { name });
      names.add(name);
      return { name, url, source: 'listed' };
    });
    const discovery = options.discovery;
    this.filter = nameFilter(discovery?.filter);
    if (discovery) {
      if (!isHttpUrl(discovery.seedUrl?.trim() ?? '')) throw new FleetError('seed-invalid', { url: discovery.seedUrl ?? '' });
      if (discovery.intervalMs && discovery.intervalMs > 0) this.schedule(0, discovery.intervalMs);
    }
  }

  /** The members known now: listed, then the seed, then discovered ones (a name or URL counts once). */
  get known(): FleetMember[] {
    const members: FleetMember[] = [];
    const names = new Set<string>();
    const urls = new Set<string>();
    const candidates: FleetMember[] = [...this.listed, ...(this.seed ? [this.seed] : []), ...this.discovered];
    for (const member of candidates) {
      if (names.has(member.name) || urls.has(sameUrl(member.url))) continue;
      names.add(member.name);
      urls.add(sameUrl(member.url));
      members.push(member);
    }
    return members;
  }

  /** The members, after a first discovery (or a fresh one when asked). A discovery that fails is thrown. */
  async members(options: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<FleetMember[]> {
    if (this.options.discovery && (options.refresh || !this.discoveredOnce)) await this.refresh(options.signal);
    return this.known;
  }

  /** Asks the seed's Insight API for the other runtimes now; concurrent calls share one request. */
  refresh(signal?: AbortSignal): Promise<void> {
    if (!this.options.discovery) return Promise.resolve();
    this.discovering ??= this.discover(signal).finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  /** Ends discovery and every rollout in flight (their devices are noted as aborted). */
  close(): void {
    this.closing.abort();
    clearTimeout(this.timer);
  }

  /**
   * Runs one operation on the chosen members. Input that cannot work is refused before any
   * request (McmError invalid-input or FleetError); after that, failures are per device, in the
   * result. `stopped` says whether it ended early.
   */
  async rollout<P extends RolloutPlan>(plan: P, options: RolloutOptions = {}): Promise<RolloutResult<PayloadOf<P>>> {
    const canary = wholeNumber('canary', options.canary, ROLLOUT_DEFAULTS.canary, 0);
    const parallel = wholeNumber('parallel', options.parallel, ROLLOUT_DEFAULTS.parallel, 1);
    const maxFailures = wholeNumber('maxFailures', options.maxFailures, ROLLOUT_DEFAULTS.maxFailures, 0);
    const signal = AbortSignal.any([this.closing.signal, ...(options.signal ? [options.signal] : [])]);
    // Every request of every device in flight listens to it.
    setMaxListeners(0, signal);
    const { checked, release } = await checkPlan(plan, options.health, signal);
    try {
      return await this.run(plan.operation, checked, options, { canary, parallel, maxFailures }, signal);
    } finally {
      await release();
    }
  }

  private async run<R>(
    operation: RolloutOperation,
    checked: CheckedPlan,
    options: RolloutOptions,
    { canary, parallel, maxFailures }: { canary: number; parallel: number; maxFailures: number },
    signal: AbortSignal,
  ): Promise<RolloutResult<R>> {
    const targets = select(await this.members({ refresh: options.refresh, signal }), options.devices);
    const describe = options.describe ?? defaultDescribe;
    const runs: Array<DeviceRun<R>> = targets.map((member) => ({
      member,
      result: { device: member.name, url: member.url, ok: false, ms: 0, note: 'skipped' },
    }));
    const progress: RolloutProgress = { total: runs.length, done: 0, failed: 0 };
    const tooMany = () => progress.failed > maxFailures;
    const call: CallOptions = { signal, timeoutMs: options.timeoutMs };

    const wave = async (list: Array<DeviceRun<R>>) => {
      let next = 0;
      const worker = async () => {
        while (next < list.length && !tooMany() && !signal.aborted) {
          const run = list[next++];
          await this.runDevice(run, checked, options, call, describe);
          progress.done++;
          if (!run.result.ok) progress.failed++;
          options.onDevice?.(run.result, { ...progress });
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, list.length) }, worker));
    };

    await wave(runs.slice(0, canary));
    if (!tooMany()) await wave(runs.slice(canary));
    const stopped = signal.aborted ? 'aborted' : tooMany() ? 'failures' : undefined;
    if (stopped === 'failures' && options.rollback) {
      const touched = runs.filter((run) => run.before);
      let next = 0;
      const worker = async () => {
        while (next < touched.length) await this.rollBack(touched[next++], checked, call, describe);
      };
      await Promise.all(Array.from({ length: Math.min(parallel, touched.length) }, worker));
    }
    const devices = runs.map((run) => run.result);
    return {
      operation,
      total: devices.length,
      succeeded: devices.filter((d) => d.ok).length,
      failed: devices.filter((d) => !d.ok && d.note !== 'skipped').length,
      skipped: devices.filter((d) => d.note === 'skipped').length,
      rolledBack: devices.filter((d) => d.note === 'rolled-back').length,
      ...(stopped ? { stopped } : {}),
      devices,
    };
  }

  // ----------------------------------------------------------------------------------------------

  /**
   * Runs work with a client of its own for the member, closed after it: what a rollout holds open
   * is bounded by `parallel`, whatever the fleet's size.
   */
  private async withClient<T>(member: FleetMember, work: (client: McmClient) => Promise<T>): Promise<T> {
    const client = this.options.connect
      ? this.options.connect(member)
      : new McmClient({
          ...this.options.client,
          url: member.url,
          token: memberKey(this.options.keys, member.name) ?? this.options.token ?? '',
        });
    try {
      return await work(client);
    } finally {
      client.close();
    }
  }

  /** A transport for discovery or health checks: GETs one at a time, answers capped, the members' TLS and proxy settings. */
  private transportTo(url: string, maxResponseBytes: number, redactor: Redactor): HttpTransport {
    const timeoutMs = this.options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs;
    const proxy = this.options.proxy ?? this.options.client?.proxy;
    if (proxy) redactor.add(proxy.password);
    return new HttpTransport({
      url,
      maxConcurrent: 1,
      tls: this.options.tls ?? this.options.client?.tls,
      // Nothing is uploaded: no answer wait or low-speed limit applies.
      answerTimeoutMs: 0,
      lowSpeedBytes: 0,
      lowSpeedWindowMs: 0,
      maxResponseBytes,
      proxy,
      tunnelTimeoutMs: timeoutMs,
      redact: (text) => redactor.redact(text),
      onExchange: this.options.onExchange,
    });
  }

  /** Discovers after `ms`, then every `intervalMs` (the interval the fleet was made with) until close. */
  private schedule(ms: number, intervalMs: number): void {
    if (this.closing.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((err: unknown) => {
          if (!this.closing.signal.aborted) this.options.onDiscoveryError?.(err);
        })
        .finally(() => this.schedule(intervalMs, intervalMs));
    }, ms);
    this.timer.unref?.();
  }

  private async discover(signal?: AbortSignal): Promise<void> {
    const discovery = this.options.discovery!;
    // As for a runtime's URL, a trailing /mcm/v1 is the MCM API's path, not the seed's.
    const seedUrl = discovery.seedUrl
      .trim()
      .replace(/\/+$/, '')
      .replace(/\/mcm\/v1$/i, '');
    const token = discovery.token || FLEET_DEFAULTS.insightToken;
    const redactor = new Redactor();
    // mimOE's default token is public, so never redacted (it would mangle port numbers).
    if (token !== FLEET_DEFAULTS.insightToken) redactor.add(token);
    const transport = this.transportTo(seedUrl, INSIGHT_MAX_BYTES, redactor);
    const op = 'discoverMembers';
    const get = async (path: string): Promise<unknown> => {
      const response = await transport.request({
        operation: op,
        method: 'GET',
        path: `${INSIGHT_BASE_PATH}${path}`,
        headers: () => ({ Accept: 'application/json', Authorization: `Bearer ${token}` }),
        timeoutMs: this.options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
        signals: [this.closing.signal, ...(signal ? [signal] : [])],
      });
      return jsonAnswer(op, response.status, response.text, redactor);
    };
    try {
      const nodes = unwrapList(await get('/nodes?type=linkLocal'));
      if (!nodes) throw new McmError({ operation: op, code: 'bad-response', detail: 'expected {"data": [nodes]} from /nodes' });
      let seed: FleetMember | undefined;
      if (discovery.includeSeed) {
        const info = await get('/info');
        const self = normalizeInsightNode(isPlainObject(info) && isPlainObject(info.data) ? info.data : info);
        const name = self.name.trim() || self.id || new URL(seedUrl).host;
        seed = { name, url: seedUrl, source: 'seed', ...(self.id ? { id: self.id } : {}) };
      }
      this.seed = seed;
      this.discovered = membersOf(nodes.map(normalizeInsightNode)).filter((member) => this.filter(member.name));
      this.discoveredOnce = true;
    } finally {
      transport.close();
    }
  }

  private async runDevice<R>(
    run: DeviceRun<R>,
    plan: CheckedPlan,
    options: RolloutOptions,
    call: CallOptions,
    describe: (err: unknown) => FailureText,
  ): Promise<void> {
    const started = Date.now();
    const { result } = run;
    delete result.note;
    try {
      // Inside the try: a member whose settings cannot make a client (its key) fails alone.
      result.result = await this.withClient(run.member, async (client) => {
        if (options.rollback) run.before = await snapshot(client, plan, call);
        return (await perform(client, plan, call)) as R;
      });
      if (options.health && (plan.operation === 'deploy' || plan.operation === 'composition')) {
        const mims = Array.isArray(result.result) ? (result.result as Mim[]) : [result.result as Mim];
        await this.checkHealth(run.member, mims, options.health, call);
      }
      result.ok = true;
    } catch (err) {
      const failure = describe(err);
      result.error = failure.error;
      if (failure.code !== undefined) result.code = failure.code;
      if (failure.statusCode !== undefined) result.statusCode = failure.statusCode;
      if (call.signal?.aborted) result.note = 'aborted';
    }
    result.ms = Date.now() - started;
  }

  /** GETs each mim's health path until it answers 2xx, within the check's time. */
  private async checkHealth(member: FleetMember, mims: Mim[], health: HealthCheck, call: CallOptions): Promise<void> {
    const op = 'checkHealth';
    const origin = new URL(member.url).origin;
    const transport = this.transportTo(origin, HEALTH_MAX_BYTES, new Redactor());
    const timeoutMs = health.timeoutMs ?? ROLLOUT_DEFAULTS.healthTimeout * 1000;
    const intervalMs = health.intervalMs ?? ROLLOUT_DEFAULTS.healthIntervalMs;
    try {
      for (const mim of mims) {
        const basePath = mim.env[BASE_API_PATH_KEY];
        if (!basePath) continue;
        const path = healthPath(mim.clientId || this.options.client?.clientId || 'api', basePath, health.path);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          let failure: McmError;
          try {
            const answer = await transport.request({
              operation: op,
              method: 'GET',
              path,
              // No Authorization: a mim's own API must never see the runtime's key.
              headers: () => ({ Accept: '*/*' }),
              timeoutMs: Math.max(
                1,
                Math.min(call.timeoutMs ?? this.options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs, deadline - Date.now()),
              ),
              signals: call.signal ? [call.signal] : [],
            });
            if (answer.status >= 200 && answer.status < 300) break;
            const said = serverMessage(answer.text).text.slice(0, 200);
            failure = new McmError({
              operation: op,
              code: 'http',
              statusCode: answer.status,
              serverMessage: `${said ? `${said} ` : ''}(GET ${path}, ${member.name})`.trim(),
            });
          } catch (err) {
            if (!(err instanceof McmError) || err.code === 'aborted') throw err;
            failure = new McmError({ operation: op, code: err.code, detail: `${err.detail ?? ''}, GET ${path}`.replace(/^, /, '') });
          }
          if (Date.now() + intervalMs > deadline) throw failure;
          await delay(op, intervalMs, call.signal);
        }
      }
    } finally {
      transport.close();
    }
  }

  /** Restores what the rollout changed on one device; notes the outcome on its result. */
  private async rollBack<R>(
    run: DeviceRun<R>,
    plan: CheckedPlan,
    call: CallOptions,
    describe: (err: unknown) => FailureText,
  ): Promise<void> {
    try {
      const changed = await this.withClient(run.member, (client) => undo(client, plan, run.before!, run.result.result, call));
      if (changed) run.result.note = 'rolled-back';
    } catch (err) {
      run.result.note = 'rollback-failed';
      run.result.rollbackError = describe(err).error;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// One device

const nothingToRelease = async () => undefined;

/**
 * Checks the plan before any request to a device, the way the single-device nodes check their
 * input. A stream to upload is copied to a temporary file here, once; `release` removes it.
 */
async function checkPlan(
  plan: RolloutPlan,
  health: HealthCheck | undefined,
  signal: AbortSignal,
): Promise<{ checked: CheckedPlan; release: () => Promise<void> }> {
  const ready = (checked: CheckedPlan) => ({ checked, release: nothingToRelease });
  switch (plan.operation) {
    case 'deploy': {
      const op = 'deployMim';
      const spec: MimSpec = {
        name: checkName(op, plan.spec?.name),
        image: checkImageName(op, plan.spec?.image),
        env: checkEnv(op, plan.spec?.env),
      };
      if (health && !spec.env?.[BASE_API_PATH_KEY]) throw new FleetError('health-base-path');
      return ready({ ...plan, spec });
    }
    case 'composition': {
      const specs = checkSpecs('deployComposition', plan.specs);
      if (health && !specs.some((spec) => spec.env?.[BASE_API_PATH_KEY])) throw new FleetError('health-base-path');
      return ready({ ...plan, specs });
    }
    case 'remove': {
      const resource = plan.resource === 'image' ? 'image' : 'mim';
      return ready({ ...plan, resource, id: checkId(resource === 'image' ? 'deleteImage' : 'removeMim', plan.id) });
    }
    case 'upload': {
      const { source, filename } = plan;
      const opened = await openImageSource(source, { filename }, signal);
      if (isReadable(source)) {
        // Every device reads its own stream of the copy, its length known.
        return {
          checked: { operation: 'upload', filename, open: () => ({ source: opened.take(), size: opened.total }) },
          release: opened.release,
        };
      }
      // Opened here only to check it: a missing or empty file fails before any device is touched.
      await opened.release();
      return ready({ operation: 'upload', filename, open: () => ({ source }) });
    }
  }
}

async function perform(client: McmClient, plan: CheckedPlan, call: CallOptions): Promise<RolloutPayloads[RolloutOperation]> {
  switch (plan.operation) {
    case 'deploy':
      return deployMimWithPolicy(client, plan.spec, plan.policy, call);
    case 'composition':
      return deployCompositionWithPolicy(client, plan.specs, plan.policy, call);
    case 'remove':
      if (plan.resource === 'image') await client.deleteImage(plan.id, call);
      else await client.removeMim(plan.id, call);
      return { id: plan.id, resource: plan.resource ?? 'mim', removed: true };
    case 'upload': {
      const { source, size } = plan.open();
      return client.uploadImage(source, { ...call, filename: plan.filename, size });
    }
  }
}

/** What a rollback of this plan needs to know about the device before it changes. */
async function snapshot(client: McmClient, plan: CheckedPlan, call: CallOptions): Promise<Snapshot> {
  const images = plan.operation === 'upload' || (plan.operation === 'remove' && plan.resource === 'image');
  return images ? { images: await client.listImages(call) } : { mims: await client.listMims(call) };
}

/** Undoes the plan on one device; true when something had to be changed back. */
async function undo(client: McmClient, plan: CheckedPlan, before: Snapshot, result: unknown, call: CallOptions): Promise<boolean> {
  // The rollout's own deadline may have passed: the rollback keeps its timeout, and close still aborts it.
  switch (plan.operation) {
    case 'deploy':
    case 'composition': {
      const names = plan.operation === 'deploy' ? [plan.spec.name] : plan.specs.map((spec) => spec.name);
      const now = await client.listMims(call);
      let changed = false;
      for (const name of names) {
        const previous = before.mims!.find((m) => m.name === name);
        const current = now.find((m) => m.name === name);
        if (current && previous && current.image === previous.image && sameEnv(current.env, previous.env)) continue;
        if (!current && !previous) continue;
        if (current) await client.removeMim(current.id, call);
        if (previous) await client.deployMim(previous.name, previous.image, previous.env, call);
        changed = true;
      }
      return changed;
    }
    case 'remove': {
      if (plan.resource === 'image') {
        const gone = before.images!.find((image) => image.id === plan.id || image.name === plan.id);
        if (!gone || (await client.listImages(call)).some((image) => image.id === gone.id)) return false;
        throw new FleetError('not-restorable', { what: `the deleted image ${gone.name}` });
      }
      const removed = before.mims!.find((m) => m.id === plan.id);
      if (!removed || (await client.listMims(call)).some((m) => m.id === removed.id)) return false;
      await client.deployMim(removed.name, removed.image, removed.env, call);
      return true;
    }
    case 'upload': {
      const image = result as MimImage | undefined;
      if (!image) return false;
      if (before.images!.some((old) => old.name === image.name)) {
        throw new FleetError('not-restorable', { what: `the image ${image.name} this upload replaced` });
      }
      await client.deleteImage(image.id, call);
      return true;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Helpers

/** `/<clientId><base path><health path>`, one slash between the parts. */
export function healthPath(clientId: string, basePath: string, path = ''): string {
  const join = (part: string) => (part.trim() === '' ? '' : `/${part.trim().replace(/^\/+/, '')}`);
  return `/${encodeURIComponent(clientId)}${join(basePath).replace(/\/+$/, '')}${join(path)}`;
}

/** Members from Insight's nodes: each with its first http(s) address; a name that repeats gets its host. */
function membersOf(nodes: ReturnType<typeof normalizeInsightNode>[]): FleetMember[] {
  const members: FleetMember[] = [];
  const names = new Set<string>();
  for (const node of nodes) {
    const href = node.addresses.map((a) => a.url.href.trim()).find(isHttpUrl);
    if (!href) continue;
    let name = node.name.trim() || node.id;
    if (!name || names.has(name)) name = `${name || 'node'}@${new URL(href).host}`;
    names.add(name);
    members.push({ name, url: href.replace(/\/+$/, ''), source: 'discovered', ...(node.id ? { id: node.id } : {}) });
  }
  return members;
}

/** The members a rollout targets: all, or those named (or matched by a glob) in `devices`. */
function select(members: FleetMember[], devices: string[] | undefined): FleetMember[] {
  if (members.length === 0) throw new FleetError('no-members');
  if (devices === undefined) return members;
  const wanted = devices.map((d) => d.trim()).filter(Boolean);
  if (wanted.length === 0) throw new FleetError('devices-invalid', { type: 'an empty list' });
  const unknown: string[] = [];
  const picked = new Set<FleetMember>();
  for (const entry of wanted) {
    const problem = nameFilterProblem(entry);
    if (problem) throw new FleetError('device-pattern-invalid', { entry, reason: problem });
    const matches = members.filter((member) => nameFilter(entry)(member.name));
    if (matches.length === 0) unknown.push(`"${entry}"`);
    matches.forEach((member) => picked.add(member));
  }
  if (unknown.length) {
    const names = members.map((m) => m.name);
    throw new FleetError('devices-unknown', {
      devices: unknown.join(', '),
      members: names.length > 10 ? `${names.slice(0, 10).join(', ')}, …` : names.join(', '),
    });
  }
  return members.filter((member) => picked.has(member));
}

/** A JSON answer of a non-MCM endpoint, with MCM's error handling: the server's own words on failure. */
function jsonAnswer(operation: 'discoverMembers', status: number, text: string, redactor: Redactor): unknown {
  if (status >= 200 && status < 300) {
    const json = answerJson(operation, status, text);
    try {
      return parseAnswer(json);
    } catch {
      throw new McmError({ operation, code: 'bad-response', detail: `HTTP ${status} with malformed JSON` });
    }
  }
  if (status === 503 && text.trim() === '') throw new McmError({ operation, code: 'no-api', detail: `HTTP 503 at ${INSIGHT_BASE_PATH}` });
  const message = serverMessage(text);
  throw new McmError({
    operation,
    code: 'http',
    statusCode: status,
    serverMessage: redactor.excerpt(message.text, 500) || undefined,
    structured: message.structured,
  });
}
