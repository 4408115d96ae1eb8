/**
 * A simulated fleet: `size` MCM simulators in one process on consecutive ports, named
 * device-01.., each answering Insight with the others as linkLocal nodes, with per-device
 * modes (offline, slow, refusing deploys, never starting mims, unhealthy mims) for the
 * failures a rollout meets.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_ACCOUNT_ID } from './insight';
import { chooseKey } from './key-file';
import { McmSimulator, SimulatorOptions } from './server';

export const MAX_FLEET_SIZE = 1000;

export interface McmFleetOptions extends Omit<SimulatorOptions, 'port' | 'key' | 'insightNode' | 'insightPeers' | 'logLabel'> {
  /** Number of devices, 1..1000. */
  size: number;
  /** Device i listens on basePort + i; default: a free run of ports found at start. */
  basePort?: number;
  /** The key every device accepts (an account token works across devices); default: from keyFile, else random. */
  key?: string;
  /** Per-device keys, by device name or in device order; devices without one take `key`. */
  keys?: Record<string, string> | string[];
  /** A mimoe-api-key.env file for the shared key: read from it, or written to it. */
  keyFile?: string;
  /** The account every device belongs to (Insight's accountId). */
  accountId?: string;
  /** Device names are this plus a zero-padded number (default 'device-'). */
  namePrefix?: string;
}

/** What setMode changes; a field left out keeps its current value. */
export interface McmFleetMode {
  /** Stops listening (connection refused); false listens again on the same port with the same state. */
  offline?: boolean;
  /** Every MCM answer waits this long (0: not slow). */
  slowMs?: number;
  /** Deploys and compositions fail: true answers 500, or give the status and message. */
  refuseDeploys?: boolean | { status: number; message?: string };
  /** New mims stay 'created'. */
  neverStart?: boolean;
  /** Started mims' own APIs answer 503. */
  unhealthy?: boolean;
}

const MODE_NAMES = ['offline', 'slowMs', 'refuseDeploys', 'neverStart', 'unhealthy'];
const DEFAULT_REFUSAL = { status: 500, message: 'this device refuses deploys (simulated)' };

/** One device of the fleet: a name and an McmSimulator. */
export class McmFleetDevice {
  private current: McmFleetMode = {};
  /** The start delay neverStart replaced, to put back when it ends. */
  private startDelayBefore?: number;

  constructor(
    readonly name: string,
    readonly sim: McmSimulator,
  ) {}

  get url(): string {
    return this.sim.url;
  }

  get port(): number {
    return this.sim.port;
  }

  /** The key this device accepts now (it follows sim.rotateKey()). */
  get key(): string {
    return this.sim.key;
  }

  /** The modes in force (false and 0 values left out; {} for a normal device). */
  get mode(): McmFleetMode {
    return { ...this.current };
  }

  async setMode(change: McmFleetMode): Promise<void> {
    const next = { ...this.current, ...checkMode(change) };
    const options = this.sim.options;
    options.slowMs = next.slowMs || undefined;
    options.unhealthyMims = next.unhealthy || undefined;
    options.refuseDeploys = next.refuseDeploys
      ? next.refuseDeploys === true
        ? DEFAULT_REFUSAL
        : { status: next.refuseDeploys.status, message: next.refuseDeploys.message ?? DEFAULT_REFUSAL.message }
      : undefined;
    if (next.neverStart && !this.current.neverStart) {
      this.startDelayBefore = options.startDelayMs;
      options.startDelayMs = -1;
    } else if (!next.neverStart && this.current.neverStart) {
      options.startDelayMs = this.startDelayBefore;
    }
    this.current = Object.fromEntries(Object.entries(next).filter(([, value]) => value));
    if (next.offline) await this.sim.stop();
    else await this.sim.resume();
  }

  /** Back to normal: online, quick, accepting deploys, starting mims, healthy. */
  clearMode(): Promise<void> {
    return this.setMode({ offline: false, slowMs: 0, refuseDeploys: false, neverStart: false, unhealthy: false });
  }
}

function checkMode(change: McmFleetMode): McmFleetMode {
  if (change === null || typeof change !== 'object') throw new TypeError('a device mode must be an object');
  for (const key of Object.keys(change)) {
    if (!MODE_NAMES.includes(key)) throw new TypeError(`unknown device mode "${key}" (modes: ${MODE_NAMES.join(', ')})`);
  }
  const { slowMs, refuseDeploys } = change;
  if (slowMs !== undefined && !(Number.isFinite(slowMs) && slowMs >= 0)) {
    throw new TypeError(`slowMs must be a number of milliseconds, 0 or more (got ${slowMs})`);
  }
  if (typeof refuseDeploys === 'object' && refuseDeploys !== null) {
    const { status } = refuseDeploys;
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`refuseDeploys.status must be an HTTP error status 400..599 (got ${status})`);
    }
  }
  return change;
}

/** Ports outside the OS's ephemeral range, so client sockets never hold a device's port. */
function portRange(size: number): { from: number; to: number } {
  let ephemeralFrom = 32768;
  try {
    ephemeralFrom = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralFrom;
  } catch {
    // not Linux: 32768 is below the BSD, macOS and Windows ranges too
  }
  return ephemeralFrom - 20000 >= size * 2 ? { from: 20000, to: ephemeralFrom - size } : { from: 1024, to: 65536 - size };
}

const PORT_ATTEMPTS = 50;

const isAddressInUse = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE';

export class McmFleet {
  private stopped = false;
  private readonly byName: Map<string, McmFleetDevice>;

  private constructor(
    readonly devices: McmFleetDevice[],
    /** The key shared by the devices that have no key of their own. */
    readonly key: string,
  ) {
    this.byName = new Map(devices.map((d) => [d.name, d]));
  }

  static async start(options: McmFleetOptions): Promise<McmFleet> {
    const { size, basePort, keys, keyFile, accountId, namePrefix = 'device-', ...simOptions } = options;
    if (!Number.isInteger(size) || size < 1 || size > MAX_FLEET_SIZE) {
      throw new RangeError(`fleet size must be a whole number from 1 to ${MAX_FLEET_SIZE} (got ${size})`);
    }
    if (basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1 || basePort + size - 1 > 65535)) {
      throw new RangeError(`basePort must leave room for ${size} ports below 65536 (got ${basePort})`);
    }
    const key = chooseKey(options.key, keyFile);
    const width = Math.max(2, String(size).length);
    const names = Array.from({ length: size }, (_, i) => `${namePrefix}${String(i + 1).padStart(width, '0')}`);
    const keyOf = (i: number): string => (Array.isArray(keys) ? keys[i] : keys?.[names[i]]) || key;
    /** Filled once every device listens; each device's Insight lists the others from it. */
    const members: McmFleetDevice[] = [];
    const listen = async (base: number): Promise<McmFleetDevice[]> => {
      const started = await Promise.allSettled(
        names.map((name, i) =>
          McmSimulator.start({
            ...simOptions,
            port: base + i,
            key: keyOf(i),
            logLabel: name,
            insightNode: { name, accountId: accountId ?? DEFAULT_ACCOUNT_ID },
            insightPeers: () => members.filter((d) => d.name !== name).map((d) => d.sim.insightNode()),
          }),
        ),
      );
      const sims = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (!failed) return sims.map((sim, i) => new McmFleetDevice(names[i], sim));
      await Promise.all(sims.map((sim) => sim.stop()));
      throw failed.reason;
    };
    if (basePort !== undefined) {
      members.push(
        ...(await listen(basePort).catch((err: Error) => {
          throw new Error(`cannot start the fleet on ports ${basePort}..${basePort + size - 1}: ${err.message}`, { cause: err });
        })),
      );
    }
    const range = portRange(size);
    for (let attempt = 1; members.length === 0; attempt++) {
      const base = range.from + Math.floor(Math.random() * (range.to - range.from));
      try {
        members.push(...(await listen(base)));
      } catch (err) {
        if (!isAddressInUse(err)) throw err;
        if (attempt >= PORT_ATTEMPTS) throw new Error(`found no ${size} free consecutive ports in ${PORT_ATTEMPTS} tries`, { cause: err });
      }
    }
    return new McmFleet(members, key);
  }

  /** The devices' base URLs, in device order. */
  get urls(): string[] {
    return this.devices.map((d) => d.url);
  }

  device(name: string): McmFleetDevice {
    const device = this.byName.get(name);
    if (!device) {
      const range = `${this.devices[0].name}..${this.devices[this.devices.length - 1].name}`;
      throw new Error(`no device named "${name}" in the fleet (${range})`);
    }
    return device;
  }

  /** Changes the named device's modes; fields left out keep their values. */
  async setMode(name: string, mode: McmFleetMode): Promise<void> {
    if (this.stopped) throw new Error('the fleet is stopped');
    await this.device(name).setMode(mode);
  }

  /** Every device back to normal (offline ones listen again on their ports). */
  async clearModes(): Promise<void> {
    if (this.stopped) throw new Error('the fleet is stopped');
    await Promise.all(this.devices.map((d) => d.clearMode()));
  }

  /** Modes cleared, then every device's state, faults and log. */
  async reset(): Promise<void> {
    await this.clearModes();
    for (const d of this.devices) d.sim.reset();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.devices.map((d) => d.sim.stop()));
  }
}
