/**
 * Worker side of the benchmark: an idle baseline, a wall clock, and the peak RSS of this
 * process while the measured work runs, sampled every 20 ms and checked against the kernel's
 * own high-water mark (reset after the baseline, so setup peaks do not count).
 *
 * Workers get their parameters as JSON in BENCH_WORKER_CONFIG and print one result line
 * `@@BENCH_RESULT@@ {json}` on stdout (anything else a worker prints is ignored).
 *
 * BENCH_PROFILE_DIR: a V8 CPU profile of the measured work alone (not the flow's loading) is
 * written there, one .cpuprofile per worker, named after its config (bench/profile-summary.ts reads them).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

export const RESULT_MARKER = '@@BENCH_RESULT@@';
const SAMPLE_MS = 20;

export interface MemoryFigures {
  /** RSS after setup, garbage collected, idle. */
  baselineRss: number;
  /** Highest RSS seen by the 20 ms sampler during the measured work. */
  peakRssSampled: number;
  /** process.resourceUsage().maxRSS at the end, in bytes (the kernel's peak, reset after the baseline when possible). */
  maxRss: number;
  /** True when /proc/self/clear_refs reset the kernel's peak after the baseline: maxRss is then the peak of the measured work alone. */
  peakReset: boolean;
  /** The peak used for the tables: max(sampled, maxRss when it was reset). */
  peakRss: number;
  /** peakRss - baselineRss. */
  rssGrowth: number;
}

export interface WorkerResult extends MemoryFigures {
  ok: boolean;
  wallMs: number;
  /** CPU time (user + system) of this process during the measured work. */
  cpuMs?: number;
  /** Its user and system parts. */
  userMs?: number;
  systemMs?: number;
  /** Work units completed (requests, msgs, bytes...), per benchmark. */
  count?: number;
  failed?: number;
  error?: string;
  extra?: Record<string, unknown>;
}

/** The result of a worker that could not measure: no figures, only why. */
export function failedResult(error: string): WorkerResult {
  return { ok: false, wallMs: 0, baselineRss: 0, peakRssSampled: 0, maxRss: 0, peakReset: false, peakRss: 0, rssGrowth: 0, error };
}

const rss = (): number => process.memoryUsage.rss();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A full collection before the baseline, run asynchronously: a synchronous gc() in a process
 * that has loaded Node-RED made the following upload cost twice the CPU (V8 then collected far
 * more often), an artifact no real Node-RED has.
 */
async function settleGarbage(): Promise<void> {
  const collect = (globalThis as { gc?: (options?: { type: 'major'; execution: 'async' }) => void }).gc;
  collect?.({ type: 'major', execution: 'async' });
  await sleep(500);
}

let profiler: Session | undefined;

function startProfile(): void {
  if (!process.env.BENCH_PROFILE_DIR) return;
  profiler = new Session();
  profiler.connect();
  profiler.post('Profiler.enable');
  profiler.post('Profiler.start');
}

/** Writes the profile of the measured work, if one was started. */
async function writeProfile(): Promise<void> {
  const session = profiler;
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!session || !dir) return;
  profiler = undefined;
  const profile = await new Promise<unknown>((resolve, reject) =>
    session.post('Profiler.stop', (err, result) => (err ? reject(err) : resolve(result.profile))),
  );
  session.disconnect();
  const config = JSON.parse(process.env.BENCH_WORKER_CONFIG ?? '{}') as Record<string, unknown>;
  const name = [config.operation, config.mode, config.helperSpies === false ? 'nospy' : undefined, config.warmups ? 'warm' : undefined]
    .filter((part) => part !== undefined)
    .join('-');
  writeFileSync(join(dir, `${name || 'worker'}-${process.pid}.cpuprofile`), JSON.stringify(profile));
}

export class Meter {
  private baseline = 0;
  private peak = 0;
  private timer?: NodeJS.Timeout;
  private started = 0n;
  private cpu?: NodeJS.CpuUsage;
  private peakReset = false;

  /** Lets setup garbage settle, records the idle RSS and resets the kernel's peak RSS. */
  async settle(): Promise<void> {
    await settleGarbage();
    this.baseline = rss();
    try {
      // "5" resets VmHWM and getrusage's maxrss for this process (Linux >= 4.0).
      writeFileSync('/proc/self/clear_refs', '5');
      this.peakReset = true;
    } catch {
      this.peakReset = false;
    }
  }

  start(): void {
    this.peak = Math.max(rss(), this.baseline);
    this.timer = setInterval(() => {
      const now = rss();
      if (now > this.peak) this.peak = now;
    }, SAMPLE_MS);
    startProfile();
    this.cpu = process.cpuUsage();
    this.started = process.hrtime.bigint();
  }

  /** Stops the clock and returns the figures. */
  stop(): { wallMs: number; cpuMs: number; userMs: number; systemMs: number } & MemoryFigures {
    const wallMs = Number(process.hrtime.bigint() - this.started) / 1e6;
    const cpu = process.cpuUsage(this.cpu);
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, rss());
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const peakRss = this.peakReset ? Math.max(this.peak, maxRss) : this.peak;
    return {
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      baselineRss: this.baseline,
      peakRssSampled: this.peak,
      maxRss,
      peakReset: this.peakReset,
      peakRss,
      rssGrowth: peakRss - this.baseline,
    };
  }
}

export function workerConfig<T>(): T {
  const raw = process.env.BENCH_WORKER_CONFIG;
  if (!raw) throw new Error('BENCH_WORKER_CONFIG is not set: workers are started by build/bench/run.js');
  return JSON.parse(raw) as T;
}

export function report(result: WorkerResult): void {
  process.stdout.write(`\n${RESULT_MARKER} ${JSON.stringify(result)}\n`);
}

/** Runs a worker's main, reports a failure as a result line, and exits (open handles must not keep it alive). */
export function runWorker(main: () => Promise<WorkerResult>): void {
  main().then(
    async (result) => {
      await writeProfile();
      report(result);
      process.exit(0);
    },
    (err: Error) => {
      report(failedResult(err?.stack ?? String(err)));
      process.exit(1);
    },
  );
}
