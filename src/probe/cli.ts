#!/usr/bin/env node
/**
 * `mimoe-probe`: checks a real mimOE runtime against docs/mcm-api.md and writes an exchange log
 * that can be shared and replayed. Ctrl-C stops the sequence and cleans up; a second Ctrl-C exits
 * at once and says what may be left.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, readFlags, runCommand } from '../command-line';
import { KEY_FILE_VARIABLE, parseEnvFile } from '../wire/key-file';
import { LogRefused } from './exchange-log';
import { renderTable } from './points';
import { EXIT_CODES, Probe, ProbeOptions, checkPrefix, defaultPrefix } from './probe';

export const USAGE = `Usage: mimoe-probe --url <base URL> (--key-file <path> | --key-env <VAR>) [options]

Checks a mimOE runtime against the MCM wire contract (docs/mcm-api.md in this package, which
says for each point of the table what the nodes do about it). It lists images and mims, uploads
a tiny generated test image, deploys a test mim, waits for it to start, backs up and restores
its data store, removes the mim and deletes the image, and makes a few harmless observations (a
wrong key, no key, a path where nothing is mounted, a duplicate deploy of its own mim, uploads
of its own tiny images framed in other ways). Then it prints a conformance table and writes an
exchange log with the key redacted.

Everything it creates is named <prefix>-... and removed again, also when a step fails or you
press Ctrl-C (a second Ctrl-C exits at once and says what may be left). It starts only when
none of its names exists on the runtime. The data store backup is a file on the device,
<device-dir>/<prefix>.backup: no MCM call removes it.

Options:
  --url URL         the runtime's base URL, e.g. http://192.168.1.20:8083 (without /mcm/v1)
  --key-file PATH   the runtime's mimoe-api-key.env (MCM_API_KEY=...), or a file holding
                    only the key or an access token
  --key-env VAR     read the key or token from the environment variable VAR
  --client-id ID    send x-client-id ID (default: none; the runtime then uses "api")
  --log FILE        where to write the exchange log (default ./<prefix>.jsonl)
  --prefix P        prefix of every name the probe creates (default mimoe-probe-<random>)
  --timeout S       seconds without progress before a call fails (default 30)
  --start-wait S    seconds to wait for the test mim to start (default 60)
  --device-dir DIR  directory on the device for the data store backup (default /tmp)
  --cleanup         only remove what a run with this --prefix left behind, then exit
  --help            show this help

The key is never taken on the command line: there it would end up in your shell history and
in process lists that other users of the machine can read.

Exit codes: 0 the sequence ran and everything was removed (differences are findings, not
failures); 1 it could not run, or the log could not be written; 2 bad arguments; 3 something
may be left on the runtime; 130 interrupted.
`;

export interface ProbeArgs {
  help: boolean;
  cleanup: boolean;
  url?: string;
  keyFile?: string;
  keyEnv?: string;
  clientId?: string;
  log?: string;
  prefix?: string;
  timeoutMs?: number;
  startWaitMs?: number;
  deviceDir?: string;
}

function seconds(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > max)
    throw new UsageError(`${flag} needs a number of seconds above 0, at most ${max} (got "${value}")`);
  return Math.round(n * 1000);
}

/** Reads the command line; throws UsageError on anything unknown or missing. */
export function parseArgs(argv: string[]): ProbeArgs {
  const args: ProbeArgs = { help: false, cleanup: false };
  readFlags(argv, (flag, value) => {
    switch (flag) {
      case '--help':
      case '-h':
        args.help = true;
        break;
      case '--cleanup':
        args.cleanup = true;
        break;
      case '--url':
        args.url = value();
        break;
      case '--key-file':
        args.keyFile = value();
        break;
      case '--key-env':
        args.keyEnv = value();
        break;
      case '--client-id':
        args.clientId = value();
        break;
      case '--log':
        args.log = value();
        break;
      case '--prefix':
        args.prefix = value();
        break;
      case '--timeout':
        args.timeoutMs = seconds(flag, value(), 3600);
        break;
      case '--start-wait':
        args.startWaitMs = seconds(flag, value(), 3600);
        break;
      case '--device-dir':
        args.deviceDir = value();
        break;
      case '--key':
      case '--token':
        throw new UsageError(
          `${flag} is not taken: a key on the command line ends up in shell history and process lists; use --key-file or --key-env`,
        );
      default:
        return false;
    }
    return true;
  });
  if (args.help) return args;
  if (!args.url) throw new UsageError('--url is required');
  if (!args.keyFile === !args.keyEnv) throw new UsageError('give the key with exactly one of --key-file and --key-env');
  const problem = args.prefix === undefined ? undefined : checkPrefix(args.prefix);
  if (problem) throw new UsageError(`--prefix: ${problem}`);
  return args;
}

/** The key from the file (MCM_API_KEY, or the file's only line) or the environment variable. */
function readKey(args: ProbeArgs, env: NodeJS.ProcessEnv = process.env): string {
  if (args.keyEnv) {
    const key = env[args.keyEnv]?.trim();
    if (!key) throw new UsageError(`the environment variable ${args.keyEnv} is not set or empty`);
    return key;
  }
  const file = args.keyFile!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the key file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const fromEnvFile = parseEnvFile(text)[KEY_FILE_VARIABLE];
  if (fromEnvFile) return fromEnvFile;
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  if (lines.length === 1 && !lines[0].includes('=')) return lines[0].trim();
  throw new UsageError(`the key file ${file} holds no ${KEY_FILE_VARIABLE}=... line and is not a single key`);
}

export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let args: ProbeArgs;
  let options: ProbeOptions;
  try {
    args = parseArgs(argv);
    if (args.help) {
      out.write(USAGE);
      return 0;
    }
    const prefix = args.prefix ?? defaultPrefix();
    options = {
      url: args.url!,
      key: readKey(args),
      clientId: args.clientId,
      prefix,
      timeoutMs: args.timeoutMs,
      startWaitMs: args.startWaitMs,
      deviceDir: args.deviceDir,
      onProgress: (line) => out.write(`${line}\n`),
    };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`mimoe-probe: ${e.message}\n\n${USAGE}`);
    return EXIT_CODES.usage;
  }

  const stop = new AbortController();
  let probe: Probe;
  try {
    probe = new Probe({ ...options, signal: stop.signal });
  } catch (e) {
    err.write(`mimoe-probe: ${(e as Error).message}\n`);
    return EXIT_CODES.usage;
  }
  const again = `mimoe-probe --url ${probe.log.header.url} ${args.keyFile ? `--key-file ${args.keyFile}` : `--key-env ${args.keyEnv}`} --prefix ${probe.prefix} --cleanup`;
  const onSigint = (): void => {
    if (!stop.signal.aborted) {
      err.write('\nmimoe-probe: stopping; removing what the probe created (Ctrl-C again to exit at once)\n');
      stop.abort();
      return;
    }
    const left = probe.mayBeLeft();
    err.write(
      left.length
        ? `\nmimoe-probe: exited at once; these may be left on the runtime: ${left.join(', ')}\nremove them with: ${again}\n`
        : '\nmimoe-probe: exited at once; the probe had nothing on the runtime\n',
    );
    process.exit(EXIT_CODES.interrupted);
  };
  process.on('SIGINT', onSigint);
  try {
    if (args.cleanup) {
      const left = await probe.cleanupOnly();
      if (left.length) err.write(`mimoe-probe: still on the runtime: ${left.join(', ')}\n`);
      else out.write(`nothing named ${probe.prefix}-... is left on the runtime\n`);
      if (args.log) probe.log.write(resolve(args.log));
      return left.length ? EXIT_CODES.leftovers : 0;
    }
    out.write(`mimoe-probe: checking ${probe.log.header.url} with prefix ${probe.prefix}\n`);
    const result = await probe.run();
    out.write(`\n${renderTable(result.rows)}\n\n`);
    if (result.problem) err.write(`mimoe-probe: could not run: ${result.problem}\n`);
    if (result.outcome === 'interrupted') err.write('mimoe-probe: interrupted\n');
    if (result.leftovers.length) err.write(`mimoe-probe: could not remove: ${result.leftovers.join(', ')}\nretry with: ${again}\n`);
    else if (result.cleanedUp) out.write(`nothing named ${probe.prefix}-... is left on the runtime\n`);
    for (const file of result.deviceFiles) out.write(`the data store backup ${file} stays on the device (no MCM call removes it)\n`);
    const logFile = resolve(args.log ?? `${probe.prefix}.jsonl`);
    try {
      probe.log.write(logFile);
      out.write(`exchange log: ${logFile} (the key is redacted; check it before you share it)\n`);
    } catch (e) {
      if (!(e instanceof LogRefused)) throw e;
      err.write(`mimoe-probe: ${e.message}\n`);
      return result.exitCode || EXIT_CODES.couldNotRun;
    }
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

if (require.main === module) runCommand('mimoe-probe', main);
