#!/usr/bin/env node
/**
 * `mcm-simulator`: runs the MCM simulator (or a fleet of them) until SIGINT/SIGTERM.
 * Prints one line with the URL and where the API key is, then one line per fleet device;
 * bad arguments exit with code 2.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, readFlags, runCommand } from '../command-line';
import { MAX_FLEET_SIZE, McmFleet } from './fleet';
import { PROFILE_NAMES, ProfileName, isProfileName, profileFromEnvironment } from './profile';
import { ReplayServer } from './replay';
import { McmSimulator, SimulatorOptions } from './server';

export const USAGE = `Usage: mcm-simulator [options]

Runs a simulated mimOE Compute Manager (MCM) API under /mcm/v1.

Options:
  --profile NAME       contract: answer as the written contract says (the default, unless
                       MCM_SIMULATOR_PROFILE names another profile);
                       field: answer as real runtimes were recorded answering (401/403
                       "Unauthorized"/"Forbidden", an empty 503 where nothing is mounted,
                       creates answered 200 without a body, env as "KEY=VALUE" strings,
                       numeric created, 400 for a taken mim name or an unknown image
                       ("cannot find image with name <name>"), 411 for a chunked
                       upload, 400 "no image received" for Expect: 100-continue, image
                       deletes by id only, no data store follow-up, runtime error texts)
  --port N             port to listen on (default 8083; 0 picks a free one)
  --fleet N            run N devices (device-01..) on consecutive ports from --port (default:
                       a free run); each lists the others through Insight; one key for all
                       (per-device keys and modes, e.g. one device offline: the library's
                       McmFleet, see the README)
  --insight-token T    the Insight API's Bearer token (default 1234, mimOE's default)
  --host HOST          address to listen on (default 127.0.0.1)
  --key-file PATH      mimoe-api-key.env file: MCM_API_KEY is read from it, or written to it
  --key KEY            the API key to accept (written to --key-file if one is given)
  --start-delay MS     deployed mims stay "created" this long before "started" (negative: forever)
  --async-datastore    data store calls answer "inProgress" and finish after a few status polls
                       (field: no polls; the work is done at once, the answer says "inProgress")
  --async-steps N      status polls a data store call takes (implies --async-datastore; default 4)
  --upload-delay MS    wait this long after an upload's last byte before answering (any profile)
  --body-timeout MS    give up a request body that sends nothing this long (default 30000; 0: never)
  --tls-cert PATH      serve https with this certificate (PEM) ...
  --tls-key PATH       ... and this private key (PEM)
  --quiet              do not print a line per request
  --replay FILE        serve a mimoe-probe exchange log as the recorded runtime answered, each
                       recorded answer once (with --port, --host, --quiet only; the README's
                       "Turning a log into a regression test" says how to run the probe on it)
  --help               show this help

Environment:
  MCM_SIMULATOR_PROFILE  the profile when --profile is not given (contract or field); the
                       library's McmSimulator.start and McmFleet.start read it too

Insight: GET /mimik-mesh/insight/v1/nodes?type=linkLocal and /info (Insight's token).
A started mim's own API: /<clientId><MCM.BASE_API_PATH>/... (no token).
Test controls (same Bearer key, alike in both profiles): GET /_simulator/log,
GET /_simulator/stats, POST /_simulator/faults {route, fault}, DELETE /_simulator/faults,
POST /_simulator/reset, POST /_simulator/options {profile, expiredTokens, uploadAnswerDelayMs,
startDelayMs, asyncDataStore}. The log shows Authorization as "Bearer ***".
`;

/** A long-running simulator keeps the latest requests only. */
const CLI_LOG_LIMIT = 100_000;

export interface CliArgs {
  help: boolean;
  /** For a fleet, its first port; 0: any free one (for a fleet, any free run). */
  port: number;
  /** Devices in the fleet; undefined runs one simulator. */
  fleet?: number;
  options: SimulatorOptions;
  tlsCert?: string;
  tlsKey?: string;
  /** A probe log to serve instead of the simulator. */
  replay?: string;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${flag} needs a whole number from ${min} to ${max} (got "${value}")`);
  return n;
}

/** Reads the command line; throws UsageError on anything unknown or missing. */
export function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { help: false, port: 8083, options: { quiet: false, logLimit: CLI_LOG_LIMIT } };
  let port: number | undefined;
  readFlags(argv, (flag, value) => {
    switch (flag) {
      case '--help':
      case '-h':
        args.help = true;
        break;
      case '--profile': {
        const profile = value();
        if (!isProfileName(profile)) throw new UsageError(`--profile is one of ${PROFILE_NAMES.join(', ')} (got "${profile}")`);
        args.options.profile = profile;
        break;
      }
      case '--port':
        port = integer(flag, value(), 0, 65535);
        break;
      case '--fleet':
        args.fleet = integer(flag, value(), 1, MAX_FLEET_SIZE);
        break;
      case '--insight-token':
        args.options.insightToken = value();
        break;
      case '--host':
        args.options.host = value();
        break;
      case '--key-file':
        args.options.keyFile = resolve(value());
        break;
      case '--key':
        args.options.key = value();
        break;
      case '--start-delay':
        args.options.startDelayMs = integer(flag, value(), -86_400_000, 86_400_000);
        break;
      case '--async-datastore':
        args.options.asyncDataStore = args.options.asyncDataStore || true;
        break;
      case '--async-steps':
        args.options.asyncDataStore = { steps: integer(flag, value(), 1, 1000) };
        break;
      case '--upload-delay':
        args.options.uploadAnswerDelayMs = integer(flag, value(), 0, 3_600_000);
        break;
      case '--body-timeout':
        args.options.bodyTimeoutMs = integer(flag, value(), 0, 3_600_000);
        break;
      case '--tls-cert':
        args.tlsCert = value();
        break;
      case '--tls-key':
        args.tlsKey = value();
        break;
      case '--quiet':
        args.options.quiet = true;
        break;
      case '--replay':
        args.replay = resolve(value());
        break;
      default:
        return false;
    }
    return true;
  });
  if (!args.tlsCert !== !args.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
  args.port = port ?? (args.fleet ? 0 : args.port);
  if (args.fleet && args.port && args.port + args.fleet - 1 > 65535)
    throw new UsageError(`--port ${args.port} leaves no room for ${args.fleet} devices`);
  const replayOptions = new Set(['quiet', 'logLimit', 'host']);
  if (args.replay && (args.tlsCert || args.fleet || Object.keys(args.options).some((option) => !replayOptions.has(option))))
    throw new UsageError('--replay serves a recorded log: it takes only --port, --host and --quiet');
  return args;
}

/** MCM_SIMULATOR_PROFILE (else contract), a bad value being a usage error. */
function environmentProfile(): ProfileName {
  try {
    return profileFromEnvironment();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function keyNote(options: SimulatorOptions, key: string): string {
  if (options.keyFile) return `API key in ${options.keyFile}`;
  if (options.key) return 'API key from --key';
  return `generated API key: ${key} (a throwaway test key; use --key-file to keep it in a file)`;
}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
    if (!args.replay) args.options.profile ??= environmentProfile(); // a replay answers as recorded
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`mcm-simulator: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.replay) return replay(args.replay, args);
  if (args.tlsCert && args.tlsKey) args.options.tls = { cert: readFileSync(args.tlsCert), key: readFileSync(args.tlsKey) };
  let running: McmSimulator | McmFleet;
  try {
    running = args.fleet
      ? await McmFleet.start({ ...args.options, size: args.fleet, basePort: args.port || undefined })
      : await McmSimulator.start({ ...args.options, port: args.port });
  } catch (err) {
    process.stderr.write(`mcm-simulator: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  const profile = args.options.profile === 'field' ? ', field profile' : '';
  const keyText = `${keyNote(args.options, running.key)}${profile}`;
  if (running instanceof McmFleet) {
    const devices = running.devices.map((d) => `${d.name} ${d.url}\n`).join('');
    process.stdout.write(`MCM simulator fleet of ${args.fleet} devices, MCM under /mcm/v1 (${keyText}):\n${devices}`);
  } else {
    process.stdout.write(`MCM simulator listening on ${running.url}/mcm/v1 (${keyText})\n`);
  }
  await untilSignal(() => running.stop());
  return 0;
}

/** Serves a recorded log until SIGINT/SIGTERM; says how much of it was used. */
async function replay(file: string, args: CliArgs): Promise<number> {
  let server: ReplayServer;
  try {
    server = await ReplayServer.fromFile(file, { port: args.port, host: args.options.host, quiet: args.options.quiet });
  } catch (err) {
    process.stderr.write(`mcm-simulator: cannot replay ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`MCM replay of ${file} (${server.recorded} exchanges) listening on ${server.url}/mcm/v1 (the key is not checked)\n`);
  await untilSignal(() => server.stop());
  const unused = server.unused.length;
  process.stdout.write(
    `replay: ${server.recorded - unused} of ${server.recorded} exchanges used, ${server.unmatched.length} requests unmatched\n`,
  );
  return 0;
}

function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((done) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void stop().then(done);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

if (require.main === module) runCommand('mcm-simulator', main);
