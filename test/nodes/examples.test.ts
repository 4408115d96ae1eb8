/**
 * Every flow in examples/ runs as shipped against the simulator set up the way `npm start` sets
 * it up (${MIMOE_URL}, ${MIMOE_KEY_FILE}, ${MIMOE_DEMO_TAR}), the fleet examples against a
 * simulated fleet (${MIMOE_FLEET_SEED}, and the fleet's key file in ${MIMOE_KEY_FILE}): debug
 * nodes become helper nodes, each inject is pressed in turn, and what reaches the debug and Catch
 * nodes is checked. Each example alone starts from an empty runtime (it uploads the demo image
 * itself when it needs it), and all of them run in one runtime with their injects pressed in a
 * shuffled order, as a person trying them out would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { CONNECTION_DEFAULTS } from '../../src/mcm/defaults';
import { McmFleet } from '../../src/simulator';
import { useSimulator } from '../support/simulator-fixture';
import { CORE, helper, loadFlow } from '../support/nodes';
import { sleep } from '../support/simulator-helpers';

const examplesDir = join(__dirname, '..', '..', '..', 'examples');
const FLEET_SIZE = 5;
/** The core nodes the examples use besides debug, comment and catch. */
const CORE_NODES = [CORE.inject, CORE.change, CORE.file, 'function/10-switch.js', 'function/89-delay.js'];
type FlowNode = Record<string, any>;

/** What pressing an inject must lead to: results on debug nodes, or failures at Catch. */
interface Expected {
  results: number;
  errors: number;
}

/** What each inject (by name) must lead to (the watch node's own reports not counted). */
const EXPECTED: Record<string, Record<string, Expected>> = {
  'deploy.json': { 'deploy hello': { results: 1, errors: 0 } },
  'remove.json': { 'remove a mim': { results: 1, errors: 0 }, 'delete an image': { results: 1, errors: 0 } },
  'list.json': { 'list mims': { results: 1, errors: 0 }, 'list images': { results: 1, errors: 0 } },
  'upload.json': { 'upload demo tar': { results: 2, errors: 0 }, 'read file': { results: 1, errors: 0 } },
  'composition.json': { 'two mims': { results: 1, errors: 0 }, 'one unknown image: fails': { results: 0, errors: 1 } },
  'backup.json': { 'back up hello': { results: 1, errors: 0 } },
  'restore.json': { 'back up, then restore': { results: 1, errors: 0 } },
  'round-trip.json': { start: { results: 6, errors: 0 } },
  'watch.json': { 'deploy, wait, remove': { results: 1, errors: 0 } },
};

/** The fleet examples, against a simulated fleet: one rollout result per inject (the canary's also one per device). */
const FLEET_EXPECTED: Record<string, Record<string, Expected>> = {
  'fleet-rollout.json': { 'discover and roll out': { results: 2, errors: 0 } },
  'fleet-canary.json': { 'greeting v2, canary first': { results: 1 + FLEET_SIZE, errors: 0 } },
  'fleet-upload.json': { 'every member': { results: 1, errors: 0 }, 'device-01 and device-02': { results: 1, errors: 0 } },
};

const readFlow = (file: string): FlowNode[] => JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as FlowNode[];

/** The mim the deploy example deploys (the spec its change node puts in msg.payload); the data store examples deploy the same. */
const HELLO = JSON.parse(readFlow('deploy.json').find((n) => n.type === 'change')!.rules[0].to as string) as {
  name: string;
  image: string;
  env: Record<string, string>;
};

/** A msg that reached a debug node, and that node's name. */
interface Received {
  debug: string;
  msg: FlowNode;
}

interface Example {
  file: string;
  flow: FlowNode[];
  /** Msgs that reached the debug nodes, but for those behind Catch and mimoe-watch nodes. */
  results: Received[];
  /** Msgs that reached the debug nodes behind Catch nodes. */
  errors: FlowNode[];
  /** Msgs that reached the debug nodes behind mimoe-watch nodes. */
  changes: FlowNode[];
}

/** Debug nodes become helper nodes; comments go (their type is not loaded). */
const runnable = (flow: FlowNode[], config: FlowNode): FlowNode[] =>
  flow
    .filter((n) => n.type !== 'comment')
    .map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z, name: n.name } : n))
    .map((n) => (n.type === 'mimoe-config' ? { ...n, ...config } : n));

/**
 * Loads examples as shipped into one runtime, their debug nodes turned into helper nodes that
 * collect what reaches them; `config` changes settings of their mimoe-config nodes.
 */
async function loadExamples(files: string[], config: FlowNode = {}): Promise<Map<string, Example>> {
  const examples = new Map(
    files.map((file) => [file, { file, flow: runnable(readFlow(file), config), results: [], errors: [], changes: [] } as Example]),
  );
  await loadFlow(
    [...examples.values()].flatMap((e) => e.flow),
    {},
    CORE_NODES,
  );
  for (const example of examples.values()) {
    const { flow } = example;
    const fedBy = (type: string) => new Set(flow.filter((n) => n.type === type).flatMap((n) => n.wires.flat()));
    const behindCatch = fedBy('catch');
    const behindWatch = fedBy('mimoe-watch');
    for (const n of flow.filter((node) => node.type === 'helper')) {
      helper.getNode(n.id).on('input', (msg: FlowNode) => {
        if (behindCatch.has(n.id)) example.errors.push(msg);
        else if (behindWatch.has(n.id)) example.changes.push(msg);
        else example.results.push({ debug: n.name, msg });
      });
    }
  }
  return examples;
}

type NodeModule = (red: object) => unknown;
const helperModules = (helper as unknown as { _nodeModules: Record<string, NodeModule> })._nodeModules;

/**
 * node-red-node-test-helper loads its catch module once per Catch node of a flow, and Node-RED
 * refuses a second registration of a type: several examples in one runtime have several Catch
 * nodes. While installed, the module registers once per load (each load has its own `red`).
 */
function catchOncePerLoad(): () => void {
  const load = helperModules.catch;
  const loaded = new WeakSet<object>();
  helperModules.catch = (red) => {
    if (loaded.has(red)) return undefined;
    loaded.add(red);
    return load(red);
  };
  return () => {
    helperModules.catch = load;
  };
}

async function loadExample(file: string, config: FlowNode = {}): Promise<Example> {
  return (await loadExamples([file], config)).get(file)!;
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
  const where = `${example.file}, "${name}"`;
  assert.equal(errors.length, expected.errors, `${where}: errors ${JSON.stringify(errors.map((e) => e.error?.message))}`);
  assert.equal(results.length, expected.results, `${where}: results`);
}

/** A shuffled copy (Fisher-Yates). */
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** Every inject of the given examples, shuffled, as [file, inject name, expected]. */
const shuffledPresses = (expected: Record<string, Record<string, Expected>>): Array<[string, string, Expected]> =>
  shuffled(
    Object.entries(expected).flatMap(([file, injects]) =>
      Object.entries(injects).map(([name, e]) => [file, name, e] as [string, string, Expected]),
    ),
  );

describe('examples', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'mimoe-examples-'));
  // Reset before each test, nothing uploaded: each example brings what it needs.
  const sim = useSimulator({ keyFile: join(dir, 'mimoe-api-key.env') });
  let client: McmClient;
  let restoreCatch: () => void;

  before(() => {
    restoreCatch = catchOncePerLoad();
    client = new McmClient({ url: sim().url, token: sim().key });
    const tar = join(dir, 'hello-v1.tar');
    writeFileSync(tar, buildImageTar({ name: 'hello-v1' }));
    Object.assign(process.env, { MIMOE_URL: sim().url, MIMOE_KEY_FILE: join(dir, 'mimoe-api-key.env'), MIMOE_DEMO_TAR: tar });
  });
  after(() => {
    restoreCatch();
    client.close();
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('has an example for every node and a Comment node in each', () => {
    const files = readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
    assert.deepEqual(files.sort(), [...Object.keys(EXPECTED), ...Object.keys(FLEET_EXPECTED)].sort());
    const types = new Set<string>();
    for (const file of files) {
      const flow = readFlow(file);
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
      const config = readFlow(file).find((n) => n.type === (file in FLEET_EXPECTED ? 'mimoe-fleet' : 'mimoe-config'));
      assert.ok(config, `${file} has its config node`);
      for (const [key, value] of Object.entries(CONNECTION_DEFAULTS)) {
        if (typeof value === 'number') assert.equal(Number(config[key]), value, `${file}: ${key}`);
      }
      assert.equal(config.proxy, '', `${file}: proxy (none: the environment's)`);
    }
  });

  it("no two examples share a node id, and each example's config node belongs to its own flow, the demo's to every flow (the editor imports one after another without a conflict)", () => {
    const owner = new Map<string, string>();
    for (const file of [...Object.keys(EXPECTED), ...Object.keys(FLEET_EXPECTED)]) {
      const flow = readFlow(file);
      for (const n of flow) {
        assert.equal(owner.get(n.id), undefined, `${file} and ${owner.get(n.id)} both hold the id ${n.id}`);
        owner.set(n.id, file);
      }
      const tab = flow.find((n) => n.type === 'tab')!;
      const configs = flow.filter((n) => n.type === 'mimoe-config' || n.type === 'mimoe-fleet');
      assert.equal(configs.length, 1, `${file}: one config node`);
      // The demo's server (the flow npm start installs) is there for the flows a user adds.
      if (file === 'round-trip.json') assert.equal(configs[0].z, undefined, 'the demo server belongs to every flow');
      else assert.equal(configs[0].z, tab.id, `${file}: its config node belongs to its flow`);
    }
  });

  it('every error path shows msg.error.message, and nothing reuses the name of a core node', () => {
    for (const file of [...Object.keys(EXPECTED), ...Object.keys(FLEET_EXPECTED)]) {
      const flow = readFlow(file);
      const behindCatch = flow.filter((n) => n.type === 'catch').flatMap((n) => n.wires.flat());
      assert.ok(behindCatch.length > 0, `${file} has a Catch wired to a debug node`);
      for (const id of behindCatch) {
        const debug = flow.find((n) => n.id === id)!;
        assert.deepEqual([debug.type, debug.complete, debug.targetType], ['debug', 'error.message', 'msg'], `${file}: ${debug.name}`);
      }
      for (const n of flow.filter((node) => node.type === 'debug')) {
        assert.ok(!['change', 'watch', 'switch', 'debug', 'inject', 'delay'].includes(n.name), `${file}: a debug node named "${n.name}"`);
      }
    }
  });

  for (const [file, injects] of Object.entries(EXPECTED)) {
    it(`${file} runs as shipped, on a runtime that has nothing yet`, async () => {
      const example = await loadExample(file);
      for (const [name, expected] of Object.entries(injects)) await press(example, name, expected);
    });
  }

  it('every example, its injects pressed in a shuffled order in one runtime, succeeds; remove.json leaves the demo image in place', async function () {
    this.timeout(90_000);
    await client.uploadImage(process.env.MIMOE_DEMO_TAR as string);
    const examples = await loadExamples(Object.keys(EXPECTED));
    const order = shuffledPresses(EXPECTED);
    const said = `in the order ${JSON.stringify(order.map(([file, name]) => `${file}: ${name}`))}`;
    for (const [file, name, expected] of order) {
      await press(examples.get(file)!, name, expected).catch((err: Error) => {
        throw new Error(`${err.message}\n${said}`);
      });
      assert.ok(
        sim()
          .images('api')
          .some((i) => i.name === 'hello-v1'),
        `the demo image is still there after ${file}: ${name}, ${said}`,
      );
    }
    const deleted = sim()
      .requests('deleteImage')
      .map((r) => decodeURIComponent(r.url.split('/').pop()!));
    assert.ok(deleted.length > 0 && deleted.every((id) => id === 'example-remove-hello-v1'), `images deleted: ${JSON.stringify(deleted)}`);
    assert.deepEqual(sim().mims('example-remove'), [], 'the remove example removed the mim it deployed');
    const { changes } = examples.get('watch.json')!;
    const watched = () => changes.filter((m) => m.payload.id === 'api-watched').map((m) => m.topic as string);
    // The removal reaches the watch at its next poll.
    await settle(() => watched().length, 2);
    assert.deepEqual(watched(), ['mim/added', 'mim/removed'], `the watch example saw its own mim come and go, ${said}`);
  });

  it('backup.json and restore.json back up and restore the hello of the deploy example without replacing it', async () => {
    const results = async (file: string, name: string, expected: Expected) => {
      const example = await loadExample(file);
      await press(example, name, expected);
      await helper.unload();
      return example.results.map((r) => r.msg);
    };
    await results('deploy.json', 'deploy hello', { results: 1, errors: 0 });
    const deployed = sim().mims();
    assert.deepEqual(
      deployed.map((m) => [m.name, m.image, m.env]),
      [[HELLO.name, HELLO.image, HELLO.env]],
    );
    const backup = await results('backup.json', 'back up hello', { results: 1, errors: 0 });
    const restore = await results('restore.json', 'back up, then restore', { results: 1, errors: 0 });
    assert.equal(sim().requests('deployMim').length, 1, 'deployed once, by the deploy example');
    assert.equal(sim().requests('removeMim').length, 0, 'nothing replaced');
    assert.deepEqual(sim().mims(), deployed);
    assert.deepEqual(
      [...backup, ...restore].map((m) => [m.payload.action, m.payload.status]),
      [
        ['backup', 'completed'],
        ['restore', 'completed'],
      ],
    );
  });

  it('composition.json fails on purpose once, says why, and leaves none of its mims behind', async () => {
    const example = await loadExample('composition.json');
    await press(example, 'one unknown image: fails', { results: 0, errors: 1 });
    assert.match(example.errors[0].error.message, /no-such-image/);
    assert.deepEqual(sim().mims(), [], 'no svc-c');
  });

  it('round-trip.json sends each step to the debug node named after it, leaves a backup behind and the mim removed', async () => {
    const example = await loadExample('round-trip.json');
    await press(example, 'start', { results: 6, errors: 0 });
    assert.deepEqual(
      example.results.map((r) => r.debug),
      ['upload', 'deploy', 'list', 'back up', 'restore', 'remove'],
    );
    const payloads = example.results.map((r) => r.msg.payload);
    assert.equal(payloads[0].name, 'hello-v1');
    assert.equal(payloads[1].id, 'api-hello');
    assert.ok(payloads[2].some((m: FlowNode) => m.id === 'api-hello'));
    assert.equal(payloads[3].action, 'backup');
    assert.equal(payloads[4].action, 'restore');
    assert.deepEqual(payloads[5], { id: 'api-hello', resource: 'mim', removed: true });
    assert.deepEqual(sim().mims(), []);
  });

  it('round-trip.json works with a Client id set in its config node (the mim is <client id>-hello)', async () => {
    const example = await loadExample('round-trip.json', { clientId: 'demo' });
    await press(example, 'start', { results: 6, errors: 0 });
    const payloads = example.results.map((r) => r.msg.payload);
    assert.equal(payloads[1].id, 'demo-hello');
    assert.deepEqual([payloads[3].action, payloads[4].action], ['backup', 'restore']);
    assert.deepEqual(payloads[5], { id: 'demo-hello', resource: 'mim', removed: true });
    assert.deepEqual(sim().mims(), []);
  });

  it('watch.json makes a change that outlasts its poll interval, and reports it added, then removed', async function () {
    this.timeout(40_000);
    const flow = readFlow('watch.json');
    const interval = Number(flow.find((n) => n.type === 'mimoe-watch')!.interval);
    const wait = Number(flow.find((n) => n.type === 'delay')!.timeout);
    assert.ok(wait > interval, `the mim lives ${wait} s, longer than the poll interval of ${interval} s`);
    const example = await loadExample('watch.json');
    await press(example, 'deploy, wait, remove', { results: 1, errors: 0 }, 20_000);
    await settle(() => example.changes.filter((m) => m.topic === 'mim/removed').length, 1, interval * 1000 + 2000);
    assert.deepEqual(
      example.changes.filter((m) => m.payload.resource === 'mim').map((m) => [m.topic, m.payload.id]),
      [
        ['mim/added', 'api-watched'],
        ['mim/removed', 'api-watched'],
      ],
    );
  });

  it('watch.json reports a mim deployed behind its back', async () => {
    const { changes } = await loadExample('watch.json');
    await client.uploadImage(process.env.MIMOE_DEMO_TAR as string);
    await sleep(300);
    await client.deployMim('watched-elsewhere', 'hello-v1');
    await settle(() => changes.filter((m) => m.topic === 'mim/added').length, 1);
    assert.deepEqual(
      changes.filter((m) => m.topic === 'mim/added').map((m) => m.payload.id),
      ['api-watched-elsewhere'],
    );
  });
});

describe('fleet examples', function () {
  this.timeout(60_000);
  let fleet: McmFleet;
  const dir = mkdtempSync(join(tmpdir(), 'mimoe-fleet-examples-'));

  let restoreCatch: () => void;

  before(async () => {
    restoreCatch = catchOncePerLoad();
    const keyFile = join(dir, 'fleet-api-key.env');
    fleet = await McmFleet.start({ size: FLEET_SIZE, quiet: true, keyFile });
    const tar = join(dir, 'hello-v1.tar');
    writeFileSync(tar, buildImageTar({ name: 'hello-v1' }));
    Object.assign(process.env, { MIMOE_FLEET_SEED: fleet.urls[0], MIMOE_KEY_FILE: keyFile, MIMOE_DEMO_TAR: tar });
  });
  after(async () => {
    restoreCatch();
    await fleet.stop();
  });
  beforeEach(async () => {
    await fleet.reset();
  });
  afterEach(async () => {
    await helper.unload();
  });

  /** Presses an inject of a fleet example: no device of any rollout result failed. */
  async function pressFleet(example: Example, name: string, expected: Expected): Promise<void> {
    await press(example, name, expected, 20_000);
    const rollouts = example.results.map((r) => r.msg).filter((m) => m.payload?.devices);
    assert.ok(rollouts.length > 0);
    for (const msg of rollouts) assert.equal(msg.payload.failed, 0, `${name}: ${JSON.stringify(msg.payload.devices)}`);
  }

  for (const [file, injects] of Object.entries(FLEET_EXPECTED)) {
    it(`${file} runs as shipped, on a fleet that has nothing yet`, async () => {
      const example = await loadExample(file);
      for (const [name, expected] of Object.entries(injects)) await pressFleet(example, name, expected);
      if (file === 'fleet-rollout.json') assert.ok(fleet.devices.every((d) => d.sim.mims().some((m) => m.name === 'hello')));
      if (file === 'fleet-upload.json') assert.ok(fleet.devices.every((d) => d.sim.images().some((i) => i.name === 'hello-v1')));
      if (file === 'fleet-canary.json') {
        assert.ok(fleet.devices.every((d) => d.sim.mims().some((m) => m.env.GREETING === 'hello again')));
      }
    });
  }

  it('every fleet example, its injects pressed in a shuffled order in one runtime, succeeds', async () => {
    const examples = await loadExamples(Object.keys(FLEET_EXPECTED));
    const order = shuffledPresses(FLEET_EXPECTED);
    for (const [file, name, expected] of order) {
      await pressFleet(examples.get(file)!, name, expected).catch((err: Error) => {
        throw new Error(`${err.message}\nin the order ${JSON.stringify(order.map(([f, n]) => `${f}: ${n}`))}`);
      });
    }
    assert.ok(fleet.devices.every((d) => d.sim.mims().some((m) => m.name === 'hello')));
  });
});
