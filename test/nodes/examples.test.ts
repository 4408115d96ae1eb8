/**
 * Every flow in examples/ runs as shipped against the simulator set up the way `npm start` sets
 * it up (${MIMOE_URL}, ${MIMOE_KEY_FILE}, ${MIMOE_DEMO_TAR}), the fleet examples against a
 * simulated fleet (${MIMOE_FLEET_SEED}, and the fleet's key file in ${MIMOE_KEY_FILE}): debug
 * nodes become helper nodes, each inject is pressed in turn, and what reaches the debug and Catch
 * nodes is checked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { CONNECTION_DEFAULTS } from '../../src/mcm/defaults';
import { McmFleet, McmSimulator } from '../../src/simulator';
import { CORE, helper, loadFlow } from '../support/nodes';
import { sleep } from '../support/simulator-helpers';

const examplesDir = join(__dirname, '..', '..', '..', 'examples');
const FLEET_SIZE = 5;
type FlowNode = Record<string, any>;

/** What pressing an inject must lead to: results on debug nodes, or failures at Catch. */
interface Expected {
  results: number;
  errors: number;
}

/** The mim the deploy example deploys (its inject's payload); the data store examples deploy the same. */
const HELLO = JSON.parse(
  (JSON.parse(readFileSync(join(examplesDir, 'deploy.json'), 'utf8')) as FlowNode[]).find((n) => n.type === 'inject')!.payload,
) as { name: string; image: string; env: Record<string, string> };

/** What the examples' comments ask to do first: remove needs a mim, restore needs a backup. */
const SETUP: Record<string, (client: McmClient) => Promise<unknown>> = {
  'remove.json': (client) => client.deployMim('hello', 'hello-v1'),
  'restore.json': async (client) => {
    await client.deployMim(HELLO.name, HELLO.image, HELLO.env);
    await client.backupDataStore('api-hello', '/tmp/hello-datastore.bak');
  },
};

/** What each inject (by name) must lead to. */
const EXPECTED: Record<string, Record<string, Expected>> = {
  'deploy.json': { 'hello, from msg.payload': { results: 1, errors: 0 } },
  'remove.json': { 'api-hello': { results: 1, errors: 0 }, 'image api-hello-v1': { results: 1, errors: 0 } },
  'list.json': { 'list mims': { results: 1, errors: 0 }, 'list images': { results: 1, errors: 0 } },
  'upload.json': { 'upload demo tar': { results: 2, errors: 0 }, 'read file': { results: 1, errors: 0 } },
  'composition.json': { 'two mims': { results: 1, errors: 0 }, 'one unknown image': { results: 0, errors: 1 } },
  'backup.json': { 'back up hello': { results: 2, errors: 0 } },
  'restore.json': { 'restore hello': { results: 2, errors: 0 } },
  'round-trip.json': { start: { results: 6, errors: 0 } },
  'watch.json': {},
};

/** The fleet examples, against a simulated fleet: one rollout result per inject (two for upload, then deploy). */
const FLEET_EXPECTED: Record<string, Record<string, Expected>> = {
  'fleet-rollout.json': { 'discover and roll out': { results: 2, errors: 0 } },
  'fleet-canary.json': { 'greeting v2, canary first': { results: 1 + FLEET_SIZE, errors: 0 } },
  'fleet-upload.json': { 'every member': { results: 1, errors: 0 }, 'device-01 and device-02': { results: 1, errors: 0 } },
};

interface Example {
  file: string;
  flow: FlowNode[];
  /** Msgs that reached the debug nodes. */
  results: FlowNode[];
  /** Msgs that reached the debug nodes behind Catch nodes. */
  errors: FlowNode[];
}

/**
 * Loads an example as shipped, its debug nodes turned into helper nodes that collect what reaches
 * them; `config` changes settings of its mimoe-config node.
 */
async function loadExample(file: string, config: FlowNode = {}): Promise<Example> {
  const flow = (JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as FlowNode[])
    .filter((n) => n.type !== 'tab' && n.type !== 'comment')
    .map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z, name: n.name } : n))
    .map((n) => (n.type === 'mimoe-config' ? { ...n, ...config } : n));
  await loadFlow(flow, {}, [CORE.inject, CORE.change, CORE.file]);
  const results: FlowNode[] = [];
  const errors: FlowNode[] = [];
  const errorDebugs = new Set(flow.filter((n) => n.type === 'catch').flatMap((n) => n.wires.flat()));
  for (const n of flow.filter((node) => node.type === 'helper')) {
    helper.getNode(n.id).on('input', (msg: FlowNode) => (errorDebugs.has(n.id) ? errors : results).push(msg));
  }
  return { file, flow, results, errors };
}

async function settle(count: () => number, expected: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (count() < expected && Date.now() < deadline) await sleep(25);
  // A little longer, to catch anything unexpected that follows.
  await sleep(150);
}

/** Presses the inject named `name` and checks what reached the debug nodes after it. */
async function press(example: Example, name: string, expected: Expected, timeoutMs?: number): Promise<void> {
  const { flow, results, errors } = example;
  const inject = flow.find((n) => n.type === 'inject' && n.name === name);
  assert.ok(inject, `${example.file} has the inject "${name}"`);
  results.length = 0;
  errors.length = 0;
  helper.getNode(inject!.id).receive({});
  await settle(() => results.length + errors.length, expected.results + expected.errors, timeoutMs);
  assert.equal(errors.length, expected.errors, `${name}: errors ${JSON.stringify(errors.map((e) => e.error?.message))}`);
  assert.equal(results.length, expected.results, `${name}: results`);
}

describe('examples', function () {
  this.timeout(30_000);
  let sim: McmSimulator;
  let client: McmClient;
  const dir = mkdtempSync(join(tmpdir(), 'mimoe-examples-'));

  before(async () => {
    sim = await McmSimulator.start({ quiet: true, keyFile: join(dir, 'mimoe-api-key.env') });
    client = new McmClient({ url: sim.url, token: sim.key });
    const tar = join(dir, 'hello-v1.tar');
    writeFileSync(tar, buildImageTar({ name: 'hello-v1' }));
    Object.assign(process.env, { MIMOE_URL: sim.url, MIMOE_KEY_FILE: join(dir, 'mimoe-api-key.env'), MIMOE_DEMO_TAR: tar });
  });
  after(async () => {
    client.close();
    await sim.stop();
  });
  beforeEach(async () => {
    sim.reset();
    await client.uploadImage(process.env.MIMOE_DEMO_TAR as string);
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('has an example for every node and a Comment node in each', () => {
    const files = readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
    assert.deepEqual(files.sort(), [...Object.keys(EXPECTED), ...Object.keys(FLEET_EXPECTED)].sort());
    const types = new Set<string>();
    for (const file of files) {
      const flow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as FlowNode[];
      assert.ok(
        flow.some((n) => n.type === 'comment' && n.info),
        `${file} explains itself`,
      );
      flow.forEach((n) => types.add(n.type));
    }
    for (const type of [
      'mimoe-config',
      'mimoe-deploy',
      'mimoe-remove',
      'mimoe-list',
      'mimoe-upload',
      'mimoe-composition',
      'mimoe-backup',
      'mimoe-restore',
      'mimoe-watch',
      'mimoe-fleet',
      'mimoe-rollout',
    ]) {
      assert.ok(types.has(type), `an example uses ${type}`);
    }
  });

  it("every example's config node carries every setting, at its default (the editor applies no defaults on import)", () => {
    for (const file of [...Object.keys(EXPECTED), ...Object.keys(FLEET_EXPECTED)]) {
      const flow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as FlowNode[];
      const config = flow.find((n) => n.type === (file in FLEET_EXPECTED ? 'mimoe-fleet' : 'mimoe-config'));
      assert.ok(config, `${file} has its config node`);
      for (const [key, value] of Object.entries(CONNECTION_DEFAULTS)) {
        if (typeof value === 'number') assert.equal(Number(config[key]), value, `${file}: ${key}`);
      }
      assert.equal(config.proxy, '', `${file}: proxy (none: the environment's)`);
    }
  });

  for (const [file, injects] of Object.entries(EXPECTED)) {
    if (file === 'watch.json') continue;
    it(`${file} runs as shipped`, async () => {
      await SETUP[file]?.(client);
      const example = await loadExample(file);
      for (const [name, expected] of Object.entries(injects)) await press(example, name, expected);
    });
  }

  it('backup.json and restore.json back up and restore the hello of the deploy example without replacing it', async () => {
    const results = async (file: string, name: string, expected: Expected) => {
      const example = await loadExample(file);
      await press(example, name, expected);
      await helper.unload();
      return example.results;
    };
    await results('deploy.json', 'hello, from msg.payload', { results: 1, errors: 0 });
    const deployed = sim.mims();
    const backup = await results('backup.json', 'back up hello', { results: 2, errors: 0 });
    const restore = await results('restore.json', 'restore hello', { results: 2, errors: 0 });
    assert.equal(sim.requests('deployMim').length, 1, 'deployed once, by the deploy example');
    assert.equal(sim.requests('removeMim').length, 0, 'nothing replaced');
    assert.deepEqual(sim.mims(), deployed);
    assert.deepEqual(
      [backup, restore].map((msgs) => msgs.find((m) => m.payload?.action)?.payload.status),
      ['completed', 'completed'],
    );
  });

  it('round-trip.json leaves a backup behind and the mim removed', async () => {
    const { flow, results } = await loadExample('round-trip.json');
    helper.getNode(flow.find((n) => n.type === 'inject')!.id).receive({});
    await settle(() => results.length, 6);
    const payloads = results.map((m) => m.payload);
    assert.equal(payloads[0].name, 'hello-v1');
    assert.equal(payloads[1].id, 'api-hello');
    assert.equal(payloads[3].action, 'backup');
    assert.equal(payloads[4].action, 'restore');
    assert.deepEqual(payloads[5], { id: 'api-hello', resource: 'mim', removed: true });
    assert.deepEqual(sim.mims(), []);
  });

  it('round-trip.json works with a Client id set in its config node (the mim is <client id>-hello)', async () => {
    const example = await loadExample('round-trip.json', { clientId: 'demo' });
    await press(example, 'start', { results: 6, errors: 0 });
    const payloads = example.results.map((m) => m.payload);
    assert.equal(payloads[1].id, 'demo-hello');
    assert.deepEqual([payloads[3].action, payloads[4].action], ['backup', 'restore']);
    assert.deepEqual(payloads[5], { id: 'demo-hello', resource: 'mim', removed: true });
    assert.deepEqual(sim.mims(), []);
  });

  it('watch.json reports a mim deployed behind its back', async () => {
    const { results } = await loadExample('watch.json');
    await sleep(300);
    await client.deployMim('watched', 'hello-v1');
    await settle(() => results.length, 1);
    assert.ok(results.length >= 1, 'a change was reported');
    assert.equal(results[0].topic, 'mim/added');
  });
});

describe('fleet examples', function () {
  this.timeout(60_000);
  let fleet: McmFleet;
  const dir = mkdtempSync(join(tmpdir(), 'mimoe-fleet-examples-'));

  before(async () => {
    const keyFile = join(dir, 'fleet-api-key.env');
    fleet = await McmFleet.start({ size: FLEET_SIZE, quiet: true, keyFile });
    const tar = join(dir, 'hello-v1.tar');
    writeFileSync(tar, buildImageTar({ name: 'hello-v1' }));
    Object.assign(process.env, { MIMOE_FLEET_SEED: fleet.urls[0], MIMOE_KEY_FILE: keyFile, MIMOE_DEMO_TAR: tar });
  });
  after(async () => {
    await fleet.stop();
  });
  beforeEach(async () => {
    await fleet.reset();
  });
  afterEach(async () => {
    await helper.unload();
  });

  /** What the canary example's comment asks to do first: hello-v1 on every device. */
  async function uploadEverywhere(): Promise<void> {
    for (const device of fleet.devices) {
      const client = new McmClient({ url: device.url, token: device.key });
      await client.uploadImage(process.env.MIMOE_DEMO_TAR as string);
      client.close();
    }
  }

  for (const [file, injects] of Object.entries(FLEET_EXPECTED)) {
    it(`${file} runs as shipped`, async () => {
      if (file === 'fleet-canary.json') await uploadEverywhere();
      const example = await loadExample(file);
      const { results } = example;
      for (const [name, expected] of Object.entries(injects)) {
        await press(example, name, expected, 20_000);
        const rollouts = results.filter((m) => m.payload?.devices);
        assert.ok(rollouts.length > 0);
        for (const msg of rollouts) assert.equal(msg.payload.failed, 0, `${name}: ${JSON.stringify(msg.payload.devices)}`);
      }
      if (file === 'fleet-rollout.json') assert.ok(fleet.devices.every((d) => d.sim.mims().some((m) => m.name === 'hello')));
      if (file === 'fleet-upload.json') assert.ok(fleet.devices.every((d) => d.sim.images().some((i) => i.name === 'hello-v1')));
      if (file === 'fleet-canary.json') {
        assert.ok(fleet.devices.every((d) => d.sim.mims().some((m) => m.env.GREETING === 'hello again')));
      }
    });
  }
});
