/**
 * Runner side: every child process the benchmark starts (simulator, workers, curl) is tracked
 * here and killed on exit, on Ctrl-C and on a timeout; temp dirs registered here are deleted.
 */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { WorkerResult } from '../workers/meter';
import { failedResult, RESULT_MARKER } from '../workers/meter';

/** The package root (this file is build/bench/lib/processes.js): node-red-node-test-helper finds node-red from the cwd. */
export const ROOT = resolve(__dirname, '..', '..', '..');

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

function killAll(signal: NodeJS.Signals): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

/** Synchronous, so it also runs from process.on('exit'). */
export function cleanupNow(): void {
  killAll('SIGKILL');
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children and removing temp files\n`);
      cleanupNow();
      process.exit(130);
    });
  }
}

export function registerTempDir(dir: string): void {
  hook();
  tempDirs.add(dir);
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export function track(command: string, args: string[], options: SpawnOptions): ChildProcess {
  hook();
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** Waits for a server child to print its URL (the first group of `pattern`) on stdout, then lets its output flow. */
export function urlPrinted(child: ChildProcess, what: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} printed no URL within ${timeoutMs / 1000} s: ${out} ${err}`)), timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (err += text));
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.resume();
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${err.trim()}`));
    });
  });
}

/** Asks a child to stop, then kills it if it has not exited within `graceMs`. */
export async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  timedOut: boolean;
}

/** Runs a child to the end (killing it after `timeoutMs`), collecting its output. */
export function runToEnd(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs: number; onSpawn?: (child: ChildProcess) => void },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = track(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, wallMs: Number(process.hrtime.bigint() - started) / 1e6, timedOut });
    });
    options.onSpawn?.(child);
  });
}

/** Node flags for workers: --expose-gc for a clean baseline, plus BENCH_NODE_FLAGS (e.g. "--cpu-prof"). */
export function nodeFlags(): string[] {
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  return ['--expose-gc', ...extra];
}

/** Starts a compiled worker with its config and returns its result line (or a failed result). */
export async function runWorker(script: string, config: object, timeoutMs: number): Promise<WorkerResult> {
  const finished = await runToEnd(process.execPath, [...nodeFlags(), script], {
    cwd: ROOT,
    env: { ...process.env, BENCH_WORKER_CONFIG: JSON.stringify(config) },
    timeoutMs,
  });
  const line = finished.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARKER));
  if (line) return JSON.parse(line.slice(RESULT_MARKER.length)) as WorkerResult;
  const why = finished.timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${finished.code ?? finished.signal} and no result`;
  return failedResult(`${why}: ${finished.stderr.trim().split('\n').slice(-5).join(' | ')}`);
}

/** VmHWM (the kernel's peak RSS) of a running process, in bytes; undefined once it is gone. */
export function vmHwmOf(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const hasGnuTime = (): boolean => existsSync('/usr/bin/time');

/** CPU time (user + system) a running process has used so far, from /proc (Linux; USER_HZ 100). */
export function cpuMsOf(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
