/**
 * mimoe-fleet and mimoe-rollout in real flows against a simulated fleet of 20 runtimes over HTTP
 * on 127.0.0.1: discovery and the name filter, rollouts with per-device results, an offline
 * device, a failing canary, maxFailures with rollback, msg.devices, close mid-rollout, keys per
 * member, uploads, and secrets kept out of everything a flow or a log can see.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { McmClient } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import type { RolloutResult } from '../../src/mcm/models';
import type { MimoeFleetNode } from '../../src/nodes/shared/runtime';
import { McmFleet, McmFleetDevice } from '../../src/simulator';
import { collect, helper, loadFlow, run, statuses } from '../support/nodes';
import { waitFor } from '../support/simulator-helpers';

const SIZE = 20;
const INSIGHT_TOKEN = 'insight-token-of-the-test-fleet';
/** Two devices have keys of their own; the others accept the fleet's shared key. */
const OWN_KEYS: Record<string, string> = { 'device-03': 'own-key-of-device-03', 'device-04': 'own-key-of-device-04' };
const HELLO_ENV = { 'MCM.BASE_API_PATH': '/hello/v1' };
const dir = mkdtempSync(join(tmpdir(), 'mimoe-fleet-nodes-'));

type Result = RolloutResult<Record<string, any>>;

describe('mimoe-fleet and mimoe-rollout against a simulated fleet of 20', function () {
  this.timeout(60_000);
  let fleet: McmFleet;
  const names = Array.from({ length: SIZE }, (_, i) => `device-${String(i + 1).padStart(2, '0')}`);

  before(async () => {
    fleet = await McmFleet.start({ size: SIZE, quiet: true, insightToken: INSIGHT_TOKEN, keys: OWN_KEYS });
  });
  after(async () => {
    await fleet.stop();
  });
  beforeEach(async () => {
    await fleet.reset();
    await Promise.all(
      fleet.devices.map(async (device) => {
        const client = new McmClient({ url: device.url, token: device.key });
        await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
        await client.uploadImage(buildImageTar({ name: 'hello-v2' }));
        client.close();
        device.sim.resetStats();
      }),
    );
  });
  afterEach(async () => {
    await helper.unload();
  });

  const seed = () => fleet.devices[0];
  /** MCM, Insight and mim API requests a device saw (the simulator's own controls left out). */
  const touched = (device: McmFleetDevice) => device.sim.requests().filter((r) => r.route !== 'control');

  function fleetConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: 'fleet',
      type: 'mimoe-fleet',
      name: 'test fleet',
      members: [],
      discover: true,
      seedUrl: seed().url,
      includeSeed: true,
      filter: '',
      interval: 0,
      timeout: 5,
      concurrency: 4,
      resource: 'mims',
      ...extra,
    };
  }

  const ownKeys = Object.entries(OWN_KEYS)
    .map(([name, key]) => `${name}=${key}`)
    .join('\n');

  async function load(
    rollout: Record<string, unknown>,
    fleetExtra: Record<string, unknown> = {},
    credentials: Record<string, string> = {},
  ): Promise<void> {
    await loadFlow(
      [
        fleetConfig(fleetExtra),
        {
          id: 'n1',
          type: 'mimoe-rollout',
          fleet: 'fleet',
          operation: 'deploy',
          canary: 1,
          parallel: 4,
          maxFailures: 0,
          wires: [['out'], ['device']],
          ...rollout,
        },
        { id: 'out', type: 'helper' },
        { id: 'device', type: 'helper' },
        { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ],
      { fleet: { token: fleet.key, keys: ownKeys, insightToken: INSIGHT_TOKEN, ...credentials } },
    );
  }

  const deployNode = (extra: Record<string, unknown> = {}) => ({
    operation: 'deploy',
    mimName: 'hello',
    image: 'hello-v2',
    env: Object.entries(HELLO_ENV).map(([key, value]) => ({ key, value })),
    ...extra,
  });

  /** Each device's mims and images, in a form a redeploy keeps (no timestamps). */
  const stateOf = (device: McmFleetDevice) =>
    JSON.stringify({
      mims: device.sim
        .mims()
        .map((m) => `${m.id} ${m.image} ${JSON.stringify(m.env)}`)
        .sort(),
      images: device.sim
        .images()
        .map((i) => `${i.id} ${i.digest}`)
        .sort(),
    });

  async function deployEverywhere(image: string, env: Record<string, string>): Promise<void> {
    await Promise.all(
      fleet.devices.map(async (device) => {
        const client = new McmClient({ url: device.url, token: device.key });
        await client.deployMim('hello', image, env);
        client.close();
        device.sim.resetStats();
      }),
    );
  }

  it('discovers all 20 through Insight on the seed; the name filter narrows them', async () => {
    await load(deployNode());
    const members = await (helper.getNode('fleet') as unknown as MimoeFleetNode).fleet!.members();
    assert.deepEqual(
      members.map((m) => m.name),
      names,
    );
    assert.deepEqual(
      members.map((m) => m.url),
      fleet.urls,
    );
    assert.equal(members[0].source, 'seed');
    assert.ok(members.slice(1).every((m) => m.source === 'discovered'));
    await helper.unload();

    await load(deployNode(), { filter: 'device-0?, DEVICE-2*' });
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'sent');
    const result = msg.payload as Result;
    assert.deepEqual(
      result.devices.map((d) => d.device),
      [...names.slice(0, 9), 'device-20'],
    );
    for (const device of fleet.devices.slice(9, 19)) {
      assert.deepEqual(
        touched(device).filter((r) => r.route !== 'insightNodes'),
        [],
        `${device.name} is outside the filter`,
      );
    }
  });

  it('rolls out to all 20 with a result per device, a msg per device and a health check', async () => {
    await load(deployNode({ healthCheck: true, healthPath: '/', healthTimeout: 5, deviceOutput: true, parallel: 8 }));
    const seen = statuses('n1');
    const perDevice = collect('device');
    const { kind, msg } = await run({ topic: 'release-2' }, 30_000);
    assert.equal(kind, 'sent');
    const result = msg.payload as Result;
    assert.deepEqual(
      [result.operation, result.total, result.succeeded, result.failed, result.skipped, result.rolledBack],
      ['deploy', 20, 20, 0, 0, 0],
    );
    assert.equal(result.stopped, undefined);
    assert.equal(msg.topic, 'release-2');
    for (const [i, device] of result.devices.entries()) {
      assert.equal(device.device, names[i]);
      assert.equal(device.url, fleet.urls[i]);
      assert.equal(device.ok, true);
      assert.equal(device.result?.id, 'api-hello');
      assert.equal(device.result?.image, 'hello-v2');
      assert.equal(typeof device.ms, 'number');
      const checks = fleet.devices[i].sim.requests('mimApi' as never);
      assert.ok(checks.length >= 1 && checks.every((r) => r.url === '/api/hello/v1/'), `${names[i]} was health-checked`);
      assert.equal(checks[0].headers.authorization, undefined, 'no key is sent to a mim');
    }
    await waitFor(() => perDevice.length === 20, 'a msg per device');
    assert.deepEqual(perDevice.map((m) => m.device).sort(), names);
    assert.equal(perDevice[0].device, 'device-01', 'the canary first');
    assert.ok(perDevice.every((m) => m.payload.ok && m.topic === 'release-2'));
    await waitFor(() => seen.at(-1)?.text === '20/20 done', 'the final status');
    assert.equal(seen.at(-1)?.fill, 'green');
  });

  it('one device offline fails alone and is named; the rest succeed', async () => {
    await fleet.setMode('device-07', { offline: true });
    await load(deployNode({ maxFailures: 1 }));
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'sent');
    const result = msg.payload as Result;
    assert.deepEqual([result.succeeded, result.failed, result.skipped], [19, 1, 0]);
    const failed = result.devices.filter((d) => !d.ok);
    assert.deepEqual(
      failed.map((d) => d.device),
      ['device-07'],
    );
    assert.equal(failed[0].code, 'MCM_UNREACHABLE');
    assert.match(failed[0].error!, /cannot reach the mimOE runtime/);
    assert.equal(fleet.device('device-07').sim.mims().length, 0);
  });

  it('a failing canary stops the rollout before any other device is touched', async () => {
    await fleet.setMode('device-01', { refuseDeploys: { status: 500, message: 'image does not run here' } });
    await load(deployNode({ canary: 1, parallel: 8 }));
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'caught');
    assert.equal(msg.error.source.id, 'n1');
    assert.match(
      msg.error.message,
      /^rollout stopped: 1 device of 20 failed, more than the 0 allowed \(device-01\); first failure: deployMim failed: HTTP 500 image does not run here/,
    );
    const result = msg.payload as Result;
    assert.equal(result.stopped, 'failures');
    assert.deepEqual([result.succeeded, result.failed, result.skipped], [0, 1, 19]);
    assert.ok(result.devices.slice(1).every((d) => d.note === 'skipped'));
    for (const device of fleet.devices.slice(1)) assert.deepEqual(touched(device), [], `${device.name} was not touched`);
  });

  it('maxFailures stops it, and the rollback leaves every device as it was', async () => {
    await deployEverywhere('hello-v1', { ...HELLO_ENV, COLOUR: 'blue' });
    const before = fleet.devices.map(stateOf);
    // The new version is unhealthy on two devices.
    await fleet.setMode('device-05', { unhealthy: true });
    await fleet.setMode('device-09', { unhealthy: true });
    await load(
      deployNode({ ifExists: 'replace', canary: 1, parallel: 1, maxFailures: 1, rollback: true, healthCheck: true, healthTimeout: 1 }),
    );
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'caught');
    const result = msg.payload as Result;
    assert.equal(result.stopped, 'failures');
    assert.deepEqual(
      result.devices.filter((d) => !d.ok && d.note !== 'skipped').map((d) => d.device),
      ['device-05', 'device-09'],
    );
    assert.match(result.devices[4].error!, /checkHealth failed: HTTP 503 .*unhealthy/);
    assert.ok(result.skipped > 0, 'devices after the stop were not started');
    assert.ok(result.rolledBack >= 3);
    for (const device of result.devices) {
      assert.ok(['rolled-back', 'skipped'].includes(device.note ?? ''), `${device.device}: ${device.note} ${device.rollbackError ?? ''}`);
    }
    assert.match(
      msg.error.message,
      /^rollout stopped: 2 devices of 20 failed, more than the 1 allowed \(device-05, device-09\); first failure: checkHealth failed: HTTP 503 /,
    );
    assert.match(msg.error.message, /; rolled back on \d+ devices$/);
    assert.deepEqual(fleet.devices.map(stateOf), before, 'every device is as it was before');
  });

  it('msg.devices narrows the target when the node leaves Devices blank; the node field wins', async () => {
    await load(deployNode());
    const { msg } = await run({ devices: ['device-03', 'device-1*'] }, 30_000);
    const result = msg.payload as Result;
    assert.deepEqual(
      result.devices.map((d) => d.device),
      ['device-03', ...names.slice(9, 19)],
    );
    assert.equal(result.succeeded, 11);
    for (const name of ['device-02', 'device-04', 'device-20']) assert.equal(fleet.device(name).sim.mims().length, 0);
    await helper.unload();

    await load(deployNode({ devices: 'device-20', devicesType: 'str', ifExists: 'replace' }));
    const fixed = await run({ devices: ['device-03'] }, 30_000);
    assert.deepEqual(
      (fixed.msg.payload as Result).devices.map((d) => d.device),
      ['device-20'],
    );

    const unknown = await run({}, 30_000);
    assert.equal(unknown.kind, 'sent');
    await helper.unload();
    await load(deployNode());
    const wrong = await run({ devices: ['device-99'] }, 30_000);
    assert.equal(wrong.kind, 'caught');
    assert.match(wrong.msg.error.message, /^no fleet member matches "device-99" \(members: device-01, device-02/);
  });

  it('close mid-rollout ends it cleanly: done is called and every device has a result or a note', async () => {
    for (const device of fleet.devices) await device.setMode({ slowMs: 500 });
    await load(deployNode({ canary: 1, parallel: 4 }));
    const n1 = helper.getNode('n1') as unknown as { on(event: string, cb: (call: { args: unknown[] }) => void): void };
    const failures: Array<{ args: unknown[] }> = [];
    n1.on('call:error', (call) => failures.push(call));
    helper.getNode('n1').receive({});
    // Mid-rollout: the canary is done once the next wave's deploys reach their (slow) devices.
    const [, ...others] = fleet.devices;
    await waitFor(() => others.some((d) => d.sim.requests('deployMim').length > 0), 'the next wave in flight', 8000);
    const started = Date.now();
    // As a redeploy does: Node-RED closes the node and waits until its close handler is done.
    await (helper.getNode('n1') as unknown as { close(removed: boolean): Promise<void> }).close(false);
    assert.ok(Date.now() - started < 1000, `close took ${Date.now() - started} ms`);
    await new Promise((r) => setImmediate(r));
    assert.equal(failures.length, 1, 'done(err) was called once');
    const [err, msg] = failures[0].args as [{ message: string }, { payload: Result }];
    assert.match(err.message, /^rollout aborted: the node was stopped or redeployed \(\d+\/20 done\)/);
    const result = msg.payload;
    assert.equal(result.stopped, 'aborted');
    assert.equal(result.devices.length, 20);
    assert.ok(result.succeeded >= 1);
    assert.ok(result.devices.some((d) => d.note === 'aborted'));
    assert.ok(result.devices.some((d) => d.note === 'skipped'));
    for (const device of result.devices) assert.ok(device.ok || device.note === 'aborted' || device.note === 'skipped', device.device);
  });

  it('uses each member its own key: a wrong own key fails that device alone', async () => {
    await load(deployNode({ maxFailures: 1 }), {}, { keys: 'device-03=own-key-of-device-03 device-04=not-the-key-of-device-04' });
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'sent');
    const result = msg.payload as Result;
    assert.equal(result.devices[2].ok, true, 'device-03 with its own key');
    assert.equal(result.devices[3].ok, false);
    assert.equal(result.devices[3].statusCode, 403);
    assert.equal(result.succeeded, 19);
  });

  it('uploads one file to every device, streamed from its path, and a stream in msg.payload', async () => {
    const file = join(dir, 'hello-v3.tar');
    const tar = buildImageTar({ name: 'hello-v3' });
    writeFileSync(file, tar);
    await load({ operation: 'upload', filename: file, filenameType: 'str', parallel: 5 });
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'sent');
    const result = msg.payload as Result;
    assert.equal(result.succeeded, 20);
    assert.ok(result.devices.every((d) => d.result?.name === 'hello-v3' && d.result?.size === tar.length));
    assert.ok(fleet.devices.every((d) => d.sim.images().some((i) => i.name === 'hello-v3')));
    await helper.unload();

    await load({ operation: 'upload' });
    const payload = new PassThrough();
    payload.end(buildImageTar({ name: 'hello-v4' }));
    const streamed = await run({ payload }, 30_000);
    assert.equal(streamed.kind, 'sent');
    assert.equal((streamed.msg.payload as Result).succeeded, 20);
    assert.ok(fleet.devices.every((d) => d.sim.images().some((i) => i.name === 'hello-v4')));
  });

  it('refuses bad input before any request, and a wrong Insight token with its status', async () => {
    await load(deployNode({ mimName: '' }));
    for (const device of fleet.devices) device.sim.resetStats();
    const missing = await run({ payload: { image: 'hello-v2' } }, 30_000);
    assert.equal(missing.kind, 'caught');
    assert.match(missing.msg.error.message, /^deployMim: a mim name is required/);
    const notObject = await run({ payload: 'hello' }, 30_000);
    assert.equal(notObject.kind, 'caught');
    assert.match(notObject.msg.error.message, /^deployMim: msg\.payload must be an object \{name, image, env\}.*\(got a string\)/);
    for (const device of fleet.devices.slice(1)) assert.deepEqual(touched(device), []);
    assert.ok(
      touched(seed()).every((r) => String(r.route).startsWith('insight')),
      'only discovery asked the seed',
    );
    await helper.unload();

    await load(deployNode(), {}, { insightToken: 'wrong-insight-token' });
    const refused = await run({}, 30_000);
    assert.equal(refused.kind, 'caught');
    assert.match(refused.msg.error.message, /^discoverMembers failed: HTTP 403/);
    assert.equal(refused.msg.statusCode, 403);
  });

  it('names the first failure to happen, not the first listed; a wrong device glob says so', async () => {
    await fleet.setMode('device-01', { slowMs: 800, refuseDeploys: { status: 500, message: 'slow refusal' } });
    await fleet.setMode('device-02', { refuseDeploys: { status: 500, message: 'quick refusal' } });
    await load(deployNode({ canary: 0, parallel: 2, maxFailures: 0, devices: 'device-01, device-02', devicesType: 'str' }));
    const stopped = await run({}, 30_000);
    assert.equal(stopped.kind, 'caught');
    assert.match(
      stopped.msg.error.message,
      /^rollout stopped: 2 devices of 2 failed, more than the 0 allowed \(device-01, device-02\); first failure: deployMim failed: HTTP 500 quick refusal/,
    );
    await helper.unload();

    await load(deployNode());
    const bad = await run({ devices: ['dev*-0[12]'] }, 30_000);
    assert.equal(bad.kind, 'caught');
    assert.equal(
      bad.msg.error.message,
      'the target device "dev*-0[12]" is not a member name or glob: only * and ? are wildcards ("dev*-0[12]")',
    );
  });

  it('takes a seed URL that ends in /mcm/v1, as mimoe-config takes a runtime URL', async () => {
    await load(deployNode({ devices: 'device-02', devicesType: 'str' }), { seedUrl: `${seed().url}/mcm/v1/` });
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'sent');
    assert.deepEqual(
      (msg.payload as Result).devices.map((d) => [d.device, d.ok]),
      [['device-02', true]],
    );
  });

  it('names an environment variable that is not set in the seed URL', async () => {
    delete process.env.MIMOE_TEST_UNSET_SEED;
    await load(deployNode(), { seedUrl: '${MIMOE_TEST_UNSET_SEED}' });
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'caught');
    assert.match(msg.error.message, /MIMOE_TEST_UNSET_SEED is not set in Node-RED's environment/);
  });

  it('msg.refresh asks the seed again', async () => {
    await load(deployNode({ ifExists: 'replace', devices: 'device-01' }));
    await run({}, 30_000);
    await run({}, 30_000);
    assert.equal(seed().sim.requests('insightNodes' as never).length, 1, 'discovered once');
    await run({ refresh: true }, 30_000);
    assert.equal(seed().sim.requests('insightNodes' as never).length, 2);
  });

  it('keeps every key and the Insight token out of msgs, statuses, errors and logs', async () => {
    // A runtime that echoes the key it was sent.
    await fleet.setMode('device-06', { refuseDeploys: { status: 403, message: `echo Bearer ${fleet.key}` } });
    await load(deployNode({ deviceOutput: true, maxFailures: 0, canary: 0, parallel: 20 }));
    const seen = statuses('n1');
    const perDevice = collect('device');
    const logged: unknown[] = [];
    for (const id of ['n1', 'fleet']) {
      const node = helper.getNode(id) as unknown as { on(event: string, cb: (call: { args: unknown[] }) => void): void };
      for (const level of ['log', 'warn', 'error']) node.on(`call:${level}`, (call) => logged.push(call.args));
    }
    const { kind, msg } = await run({}, 30_000);
    assert.equal(kind, 'caught');
    const everything = JSON.stringify([msg, perDevice, seen, logged, msg.error.message]);
    for (const secret of [fleet.key, INSIGHT_TOKEN, ...Object.values(OWN_KEYS)]) {
      assert.ok(!everything.includes(secret), `a secret leaked: ${secret.slice(0, 6)}…`);
    }
    assert.match(everything, /\*\*\*/, 'the echoed key was redacted');
  });
});
