/**
 * Helpers for the probe's tests: run the `mimoe-probe` command as a child process, read the table
 * it prints, and list what a run left on a simulator.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { McmSimulator } from '../../src/simulator';
import { TableRow, Verdict } from '../../src/probe/points';

export const PROBE_CLI = resolve(__dirname, '../../src/probe/cli.js');

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts the probe command; the key goes through the environment, as a user would pass it. */
export function probeCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [PROBE_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  child.stderr?.on('data', (chunk) => (err += chunk));
  const exit = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** The conformance table as the command printed it. */
export function printedTable(stdout: string): TableRow[] {
  const rows: TableRow[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^(\S+)\s{2,}(as documented|differs|not observed)(?:\s{2,}(.*))?$/.exec(line);
    if (match) rows.push({ id: match[1], verdict: match[2] as Verdict, seen: match[3] ?? '' });
  }
  return rows;
}

export function verdicts(rows: TableRow[]): Record<string, Verdict> {
  return Object.fromEntries(rows.map((row) => [row.id, row.verdict]));
}

/** Mims and images on the simulator (any client id) whose name or id holds the prefix. */
export function leftOn(sim: McmSimulator, prefix: string): string[] {
  return [
    ...sim
      .mims()
      .filter((mim) => mim.id.includes(prefix) || mim.name.includes(prefix))
      .map((mim) => `mim ${mim.id}`),
    ...sim
      .images()
      .filter((image) => image.id.includes(prefix) || image.name.includes(prefix))
      .map((image) => `image ${image.id}`),
  ];
}

export async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((done) => setTimeout(done, 20));
  }
}
