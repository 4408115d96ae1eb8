import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../src/command-line';
import { parseArgs } from '../../src/simulator/cli';
import { CliRun, SIMULATOR_CLI, listeningUrl, runCli } from '../support/cli';
import { tempDir, waitFor } from '../support/simulator-helpers';

const FIELD_FIXTURE = resolve(__dirname, '../../../test/fixtures/field/simulator-field-profile.jsonl');

/** Runs the CLI with MCM_SIMULATOR_PROFILE as given (by default unset: the contract profile these tests expect). */
function run(args: string[], profileVariable?: string): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env, MCM_SIMULATOR_PROFILE: profileVariable };
  if (profileVariable === undefined) delete env.MCM_SIMULATOR_PROFILE;
  return runCli(SIMULATOR_CLI, args, env);
}

describe('simulator CLI', () => {
  it('starts on --port 0 with a key file, answers, and exits 0 on SIGTERM', async () => {
    const keyFile = join(tempDir(), 'mimoe-api-key.env');
    const r = run(['--port', '0', '--key-file', keyFile, '--quiet']);
    try {
      const url = await listeningUrl(r);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(r.stdout(), new RegExp(`\\(API key in ${keyFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
      const key = /MCM_API_KEY=(\S+)/.exec(readFileSync(keyFile, 'utf8'))?.[1];
      assert.ok(key);
      const ok = await fetch(`${url}/mcm/v1/mims`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { data: [] });
      assert.equal((await fetch(`${url}/mcm/v1/mims`)).status, 403);
      r.child.kill('SIGTERM');
      assert.deepEqual(await r.exit, { code: 0, signal: null });
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('prints a generated key when there is no key file, logs requests, and exits on SIGINT', async () => {
    const r = run(['--port=0', '--start-delay', '-1', '--async-datastore']);
    try {
      const url = await listeningUrl(r);
      const key = /generated API key: (\S+)/.exec(r.stdout())?.[1];
      assert.ok(key, r.stdout());
      assert.equal((await fetch(`${url}/mcm/v1/images`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
      await waitFor(() => /GET \/mcm\/v1\/images -> 200/.test(r.stdout()), 'the access line');
      assert.match(r.stdout(), /GET \/mcm\/v1\/images -> 200/);
      r.child.kill('SIGINT');
      assert.equal((await r.exit).code, 0);
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('--fleet N: one line per device, one key for all, each device listing the others; access lines name the device', async () => {
    const r = run(['--fleet', '3', '--key', 'fleet-key', '--insight-token', 'mesh']);
    try {
      await waitFor(() => /device-03 \S+\n/.test(r.stdout()) || r.child.exitCode !== null, 'the device lines', 5000);
      assert.match(r.stdout(), /^MCM simulator fleet of 3 devices, MCM under \/mcm\/v1 \(API key from --key\):\n/);
      const devices = [...r.stdout().matchAll(/^(device-\d+) (http:\/\/127\.0\.0\.1:(\d+))$/gm)].map((m) => ({
        name: m[1],
        url: m[2],
        port: +m[3],
      }));
      assert.deepEqual(
        devices.map((d) => [d.name, d.port - devices[0].port]),
        [
          ['device-01', 0],
          ['device-02', 1],
          ['device-03', 2],
        ],
      );
      for (const d of devices) {
        assert.equal((await fetch(`${d.url}/mcm/v1/mims`, { headers: { authorization: 'Bearer fleet-key' } })).status, 200, d.name);
      }
      const listed = await fetch(`${devices[1].url}/mimik-mesh/insight/v1/nodes?type=linkLocal`, {
        headers: { authorization: 'Bearer mesh' },
      });
      assert.deepEqual(
        ((await listed.json()) as any).data.map((n: any) => [n.name, n.addresses[0].url.href]),
        [
          ['device-01', devices[0].url],
          ['device-03', devices[2].url],
        ],
      );
      await waitFor(() => /device-02 GET \/mimik-mesh\/insight\/v1\/nodes\?type=linkLocal -> 200/.test(r.stdout()), 'the access line');
      assert.match(r.stdout(), /device-02 GET \/mimik-mesh\/insight\/v1\/nodes\?type=linkLocal -> 200/);
      r.child.kill('SIGTERM');
      assert.deepEqual(await r.exit, { code: 0, signal: null });
      await assert.rejects(fetch(`${devices[0].url}/mcm/v1/mims`), 'the fleet is down after exit');
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('runs the field profile with --profile field', async () => {
    const r = run(['--port', '0', '--profile', 'field', '--quiet']);
    try {
      const url = await listeningUrl(r);
      assert.match(r.stdout(), /field profile\)/);
      const key = /generated API key: (\S+)/.exec(r.stdout())?.[1];
      const unmounted = await fetch(`${url}/mcm/v1/mcm/v1/mims`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(unmounted.status, 503);
      assert.equal(await unmounted.text(), '');
      const missing = await fetch(`${url}/mcm/v1/mims`);
      assert.equal(missing.status, 401);
      assert.deepEqual(await missing.json(), { error: { code: 401, message: 'Unauthorized' } });
      r.child.kill('SIGTERM');
      assert.equal((await r.exit).code, 0);
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('takes its profile from MCM_SIMULATOR_PROFILE when --profile is not given', async () => {
    const field = run(['--port', '0', '--quiet'], 'field');
    const pinned = run(['--port', '0', '--quiet', '--profile', 'contract'], 'field');
    try {
      const fieldUrl = await listeningUrl(field);
      assert.match(field.stdout(), /field profile\)/);
      assert.equal((await fetch(`${fieldUrl}/mcm/v1/mims`)).status, 401, 'the field answer to a missing key');
      const pinnedUrl = await listeningUrl(pinned);
      assert.doesNotMatch(pinned.stdout(), /field profile/);
      assert.equal((await fetch(`${pinnedUrl}/mcm/v1/mims`)).status, 403, '--profile wins over the variable');
    } finally {
      field.child.kill('SIGKILL');
      pinned.child.kill('SIGKILL');
    }
    const bad = run(['--port', '0'], 'studio');
    assert.equal((await bad.exit).code, 2);
    assert.match(bad.stderr(), /MCM_SIMULATOR_PROFILE is one of contract, field \(got "studio"\)/);
    // A replay answers as its log recorded: it has no profile to take.
    const replay = run(['--replay', FIELD_FIXTURE, '--port', '0', '--quiet'], 'studio');
    try {
      assert.match(await listeningUrl(replay), /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      replay.child.kill('SIGKILL');
    }
  });

  it('rejects bad arguments with usage on stderr and exit code 2', async () => {
    for (const args of [
      ['--port', 'abc'],
      ['--bogus'],
      ['--key'],
      ['--tls-cert', 'x'],
      ['--profile', 'studio'],
      ['--upload-delay', '-5'],
      ['--fleet', '0'],
      ['--fleet', '3', '--port', '65534'],
    ]) {
      const r = run(args);
      const { code } = await r.exit;
      assert.equal(code, 2, args.join(' '));
      assert.match(r.stderr(), /Usage: mcm-simulator/);
      assert.equal(r.stdout(), '');
    }
  });

  it('prints usage on --help and exits 0', async () => {
    const r = run(['--help']);
    assert.equal((await r.exit).code, 0);
    assert.match(r.stdout(), /--async-datastore/);
    assert.match(r.stdout(), /--fleet N/);
    assert.match(r.stdout(), /--insight-token/);
    assert.match(r.stdout(), /--profile NAME/);
    assert.match(r.stdout(), /MCM_SIMULATOR_PROFILE/);
    assert.match(r.stdout(), /--upload-delay MS/);
  });

  it('parses arguments into simulator options', () => {
    const args = parseArgs(['--host', '0.0.0.0', '--key', 'k', '--start-delay', '250', '--async-steps', '3']);
    assert.equal(args.port, 8083);
    assert.deepEqual(args.options, {
      quiet: false,
      logLimit: 100_000,
      host: '0.0.0.0',
      key: 'k',
      startDelayMs: 250,
      asyncDataStore: { steps: 3 },
    });
    assert.equal(parseArgs(['--async-datastore']).options.asyncDataStore, true);
    const field = parseArgs(['--profile', 'field', '--upload-delay', '45000', '--body-timeout=1000']).options;
    assert.deepEqual([field.profile, field.uploadAnswerDelayMs, field.bodyTimeoutMs], ['field', 45_000, 1000]);
    assert.equal(parseArgs(['--profile=contract']).options.profile, 'contract');
    assert.throws(() => parseArgs(['--profile', 'studio']), /--profile is one of contract, field/);
    assert.equal(parseArgs(['--port=9000']).port, 9000);
    assert.throws(() => parseArgs(['--port', '70000']), /--port/);
    const fleet = parseArgs(['--fleet', '20', '--insight-token', 'mesh']);
    assert.equal(fleet.fleet, 20);
    assert.equal(fleet.port, 0, 'a fleet takes a free run of ports unless --port is given');
    assert.equal(fleet.options.insightToken, 'mesh');
    assert.equal(parseArgs(['--fleet=5', '--port', '9000']).port, 9000);
    assert.equal(parseArgs([]).fleet, undefined);
    assert.throws(() => parseArgs(['--fleet', '1001']), /--fleet needs a whole number from 1 to 1000/);
    const usage = (message: string) => (err: unknown) => err instanceof UsageError && err.message === message;
    assert.throws(() => parseArgs(['--port']), usage('--port needs a value'));
    assert.throws(() => parseArgs(['--port', '--quiet']), usage('--port needs a value'));
    assert.throws(() => parseArgs(['--quiet', '--ports=1']), usage('unknown argument "--ports=1"'));
  });
});
