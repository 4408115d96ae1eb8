/**
 * Helpers for the probe's tests: run the `mimoe-probe` command as a child process, read the table
 * it prints, and list what a run left on a simulator.
 */
import { McmSimulator } from '../../src/simulator';
import { TableRow, Verdict } from '../../src/probe/points';
import { CliRun, PROBE_CLI, runCli } from '../support/cli';

export interface ProbeRun extends Omit<CliRun, 'exit'> {
  /** The exit code. */
  exit: Promise<number | null>;
}

/** Starts the probe command; the key goes through the environment, as a user would pass it. */
export function probeCli(args: string[], env: Record<string, string> = {}): ProbeRun {
  const run = runCli(PROBE_CLI, args, { ...process.env, ...env });
  return { ...run, exit: run.exit.then(({ code }) => code) };
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
