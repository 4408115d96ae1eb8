/**
 * The package's commands (mcm-simulator, mimoe-probe) run as child processes, as a user runs them.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { sleep } from './simulator-helpers';

export const SIMULATOR_CLI = resolve(__dirname, '../../src/simulator/cli.js');
export const PROBE_CLI = resolve(__dirname, '../../src/probe/cli.js');

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a compiled command with `env` as its whole environment, collecting what it prints. */
export function runCli(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): CliRun {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  child.stderr?.on('data', (chunk) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Waits for a simulator command's "listening on" line and returns its base URL (without /mcm/v1). */
export async function listeningUrl(run: CliRun, timeoutMs = 5000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = /listening on (\S+)\/mcm\/v1/.exec(run.stdout());
    if (match) return match[1];
    if (Date.now() > until || run.child.exitCode !== null) throw new Error(`no listening line: ${run.stdout()} ${run.stderr()}`);
    await sleep(20);
  }
}
