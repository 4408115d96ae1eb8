/**
 * Config versions: node configs as release 0.1.0 saved them (its shipped examples, kept as they
 * were in test/fixtures/flows-0.1.0; no version field) are brought to the current shape, and load and work in a real Node-RED flow by the
 * migrated values; a config saved by a newer release runs as it is, with a warning in the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { configVersion, migrateConfig, SavedConfig, versionSettingName } from '../../src/nodes/shared/migrations';
import { McmSimulator } from '../../src/simulator';
import { collect, helper, loadFlow, NODE_TYPES, nextMessage, run } from '../support/nodes';
import { useSimulatorWithImages } from '../support/simulator-fixture';
import { uploadTar, waitFor } from '../support/simulator-helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');

const root = join(__dirname, '..', '..', '..');
/** The examples as release 0.1.0 shipped them: today's examples change, these stay. */
const examplesDir = join(root, 'test', 'fixtures', 'flows-0.1.0');

/** Every node of this package in the 0.1.0 examples, as the 0.1.0 editor saved it. */
const savedNodes: SavedConfig[] = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.json'))
  .flatMap((file) => JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as SavedConfig[])
  .filter((n) => NODE_TYPES.includes(n.type));

/** The first saved node of a type in the examples, matching `where`. */
function saved(type: string, where: (n: SavedConfig) => boolean = () => true): SavedConfig {
  const node = savedNodes.find((n) => n.type === type && where(n));
  assert.ok(node, `an example has a ${type}`);
  // Off the example's tab: the tests' flows place it on theirs.
  const { z: _tab, ...config } = structuredClone(node);
  return config as SavedConfig;
}

const migrated = (config: SavedConfig) => migrateConfig(config).config;

describe('config versions: the migration of saved configs', () => {
  it('every node type has a version, and its dialog gives new nodes that version from the setting the runtime registers', () => {
    for (const type of NODE_TYPES) {
      assert.ok(configVersion(type) >= 1, `${type} has a version`);
      const html = readFileSync(join(root, 'nodes', `${type}.html`), 'utf8');
      assert.ok(html.includes(`version: { value: RED.settings.${versionSettingName(type)} },`), `${type}.html saves its version`);
    }
    assert.equal(versionSettingName('mimoe-deploy'), 'mimoeDeployVersion');
  });

  it('the examples predate the version field: the step to version 1 applies to each', () => {
    assert.ok(savedNodes.length >= 20, `${savedNodes.length} saved nodes`);
    for (const node of savedNodes) {
      assert.equal(node.version, undefined, `${node.type} ${String(node.id)} has no version`);
      const migration = migrateConfig(node);
      assert.deepEqual(
        [migration.from, migration.newer, migration.config.version],
        [0, false, configVersion(node.type)],
        `${node.type} ${String(node.id)}`,
      );
    }
  });

  it('turns the numbers the dialogs saved as text into numbers, zero staying zero', () => {
    const config = migrated(saved('mimoe-config'));
    assert.deepEqual(
      [config.timeout, config.concurrency, config.answerTimeout, config.lowSpeedBytes, config.lowSpeedWindow],
      [30, 4, 300, 1024, 60],
    );
    assert.equal(migrated(saved('mimoe-watch')).interval, 5);
    assert.equal(migrated(saved('mimoe-deploy')).waitTimeout, 60);
    const fleet = migrated(saved('mimoe-fleet'));
    assert.deepEqual([fleet.interval, fleet.timeout, fleet.concurrency], [0, 30, 4]);
    const canary = migrated(saved('mimoe-rollout', (n) => n.name === 'canary, then the rest'));
    assert.deepEqual([canary.canary, canary.parallel, canary.maxFailures, canary.healthTimeout, canary.waitTimeout], [1, 2, 1, 10, 60]);
    // fleet-upload.json: no canary wave. 0 is a value, not a blank.
    assert.equal(migrated(saved('mimoe-rollout', (n) => n.canary === '0')).canary, 0);
  });

  it('gives blank settings, and settings a flow saved before they existed, their defaults', () => {
    const old = saved('mimoe-config');
    for (const key of ['answerTimeout', 'lowSpeedBytes', 'lowSpeedWindow', 'proxy', 'resource', 'insecure']) delete old[key];
    old.timeout = '';
    old.concurrency = ' ';
    const config = migrated(old);
    assert.deepEqual(
      [
        config.timeout,
        config.concurrency,
        config.answerTimeout,
        config.lowSpeedBytes,
        config.lowSpeedWindow,
        config.resource,
        config.insecure,
      ],
      [30, 4, 300, 1024, 60, 'mims', false],
    );
    const deploy = saved('mimoe-deploy');
    Object.assign(deploy, { waitTimeout: '', ifExists: '' });
    delete deploy.waitStarted;
    assert.deepEqual([migrated(deploy).waitTimeout, migrated(deploy).ifExists, migrated(deploy).waitStarted], [60, 'fail', false]);
    const watch = saved('mimoe-watch');
    delete watch.resource;
    watch.interval = '';
    assert.deepEqual([migrated(watch).resource, migrated(watch).interval], ['mim', 10]);
  });

  it("gives a TypedInput saved without its type the dialog's type: JSON for a composition's specs", () => {
    const composition = saved('mimoe-composition');
    delete composition.specsType;
    assert.equal(migrated(composition).specsType, 'json');
    const deploy = saved('mimoe-deploy');
    delete deploy.mimNameType;
    assert.equal(migrated(deploy).mimNameType, 'str');
    assert.equal(migrated(saved('mimoe-upload', (n) => n.filenameType === 'env')).filenameType, 'env', 'a saved type stays');
  });

  it('keeps text that is not a number (a ${VAR} as the editor shows it), and changes nothing it is given', () => {
    const config = saved('mimoe-config');
    config.timeout = '${MIMOE_TIMEOUT}';
    const copy = structuredClone(config);
    assert.equal(migrated(config).timeout, '${MIMOE_TIMEOUT}');
    assert.equal(migrated(config).url, '${MIMOE_URL}');
    assert.deepEqual(config, copy, 'the saved config is left as it was');
  });

  it('leaves a config at the current version as it is, and a migrated one migrates to itself', () => {
    for (const node of savedNodes) {
      const once = migrated(node);
      const again = migrateConfig(once);
      assert.equal(again.config, once, `${node.type}: the same object`);
      assert.equal(again.from, configVersion(node.type));
    }
  });

  it('reports a config from a newer release instead of changing it', () => {
    const future = { ...saved('mimoe-deploy'), version: configVersion('mimoe-deploy') + 1, waitTimeout: '45' };
    const migration = migrateConfig(future);
    assert.equal(migration.newer, true);
    assert.equal(migration.from, configVersion('mimoe-deploy') + 1);
    assert.equal(migration.config, future);
    assert.equal(migration.config.waitTimeout, '45');
  });
});

describe('config versions: flows saved by release 0.1.0 in a real Node-RED', function () {
  const sim = useSimulatorWithImages(['hello-v1'], { startDelayMs: 0 });
  afterEach(() => helper.unload());

  /** The examples' config node, pointing at the simulator with a key of its own (the example reads a key file). */
  const configNode = (extra: Record<string, unknown> = {}) => ({
    ...saved('mimoe-config'),
    id: 'cfg',
    url: sim().url,
    tokenSource: 'credential',
    keyFile: '',
    ...extra,
  });

  /** A saved node as n1 in a flow with its config node, a helper on its output and a Catch. */
  async function loadSaved(node: SavedConfig, config: Record<string, unknown> = {}): Promise<void> {
    await loadFlow(
      [
        configNode(config),
        { ...node, id: 'n1', server: 'cfg', wires: [['out'], ['progress']] },
        { id: 'out', type: 'helper' },
        { id: 'progress', type: 'helper' },
        { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ],
      { cfg: { token: sim().key } },
    );
  }

  /** Warnings node `id` logged. */
  const warnings = (id: string): string[] =>
    helper
      .log()
      .args.map((args: unknown[]) => args[0] as { level: number; id?: string; msg?: unknown })
      .filter((entry) => entry.id === id && entry.level === 30)
      .map((entry) => String(entry.msg));

  it('a saved deploy node deploys and waits by its saved settings ("60" seconds, keep, wait until started)', async () => {
    const deploy = saved('mimoe-deploy', (n) => n.ifExists === 'keep');
    assert.deepEqual([deploy.waitTimeout, deploy.waitStarted, deploy.version], ['60', true, undefined]);
    await loadSaved(deploy);
    const first = await run({ payload: { name: 'hello', image: 'hello-v1' } });
    assert.equal(first.kind, 'sent', JSON.stringify(first.msg.error));
    assert.equal(first.msg.payload.state, 'started', 'it waited until started');
    const again = await run({ payload: { name: 'hello', image: 'hello-v1' } });
    assert.equal(again.kind, 'sent', 'ifExists keep: the running mim is kept');
    assert.equal(again.msg.payload.id, first.msg.payload.id);
    assert.equal(sim().requests('deployMim').length, 1);
  });

  it("a composition saved with its specs in the node and no type deploys them as JSON, the dialog's type", async () => {
    const composition = saved('mimoe-composition');
    delete composition.specsType;
    composition.specs = JSON.stringify([
      { name: 'front', image: 'hello-v1' },
      { name: 'back', image: 'hello-v1' },
    ]);
    await loadSaved(composition);
    const { kind, msg } = await run({});
    assert.equal(kind, 'sent', JSON.stringify(msg.error));
    assert.deepEqual(msg.payload.map((m: { name: string }) => m.name).sort(), ['back', 'front']);
  });

  it('a config node with blank timeout and parallel requests, as an old dialog left them, uses the defaults and works', async () => {
    await loadSaved(saved('mimoe-list'), { timeout: '', concurrency: '', answerTimeout: '' });
    const { kind, msg } = await run({});
    assert.equal(kind, 'sent', JSON.stringify(msg.error));
    assert.deepEqual(msg.payload, []);
    assert.deepEqual(warnings('cfg'), [], 'nothing to warn about');
  });

  it('a saved watch node polls at its saved interval (text "0.2" in the flow)', async () => {
    await loadFlow(
      [configNode(), { ...saved('mimoe-watch'), id: 'w', server: 'cfg', interval: '0.2', wires: [['out']] }, { id: 'out', type: 'helper' }],
      { cfg: { token: sim().key } },
    );
    const changes = collect('out');
    await waitFor(() => sim().requests('listImages').length >= 2, 'two polls', 8000);
    const started = Date.now();
    const polls = sim().requests('listImages').length;
    await waitFor(() => sim().requests('listImages').length >= polls + 4, 'four more polls', 8000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 600, `four polls 0.2 s apart took ${elapsed} ms`);
    // resource "both", as saved: a new image is reported.
    const added = nextMessage('out');
    await uploadTar(sim(), buildImageTar({ name: 'hello-v2' }));
    assert.equal((await added).topic, 'image/added');
    assert.equal(changes.length, 1);
  });

  it('a node from a newer release runs with the settings it knows and warns once that it is newer', async () => {
    const deploy = { ...saved('mimoe-deploy', (n) => n.ifExists === 'keep'), version: configVersion('mimoe-deploy') + 1 };
    await loadSaved(deploy, { version: configVersion('mimoe-config') + 5 });
    const { kind, msg } = await run({ payload: { name: 'hello', image: 'hello-v1' } });
    assert.equal(kind, 'sent', JSON.stringify(msg.error));
    assert.equal(msg.payload.state, 'started');
    const [warning, ...more] = warnings('n1');
    assert.deepEqual(more, []);
    assert.equal(
      warning,
      `this node was saved by a newer release of @mimoe-flows/node-red-mimoe (config version ${configVersion('mimoe-deploy') + 1}; this release reads versions up to ${configVersion('mimoe-deploy')}): it runs with the settings this release knows and ignores the rest. Update the package to use them all`,
    );
    assert.match(warnings('cfg')[0] ?? '', /saved by a newer release .*config version 6; this release reads versions up to 1\)/);
  });
});

describe('config versions: a flow saved by release 0.1.0 in a Node-RED of its own', function () {
  this.timeout(90_000);
  let sim: McmSimulator;
  let red: Awaited<ReturnType<typeof launcher.startNodeRed>> | undefined;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mimoe-migrations-'));
    const keyFile = join(dir, 'mimoe-api-key.env');
    sim = await McmSimulator.start({ quiet: true, keyFile });
    const userDir = join(dir, 'node-red');
    launcher.linkPackage(userDir);
    // 0.1.0's examples/list.json, with one list node from a newer release.
    const flow = (JSON.parse(readFileSync(join(examplesDir, 'list.json'), 'utf8')) as SavedConfig[]).map((n) =>
      n.type === 'mimoe-list' && n.resource === 'image' ? { ...n, version: 99 } : n,
    );
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));
    const settings = launcher.writeSettings(userDir, { port: 0 });
    red = await launcher.startNodeRed({ userDir, settings, env: { ...process.env, MIMOE_URL: sim.url, MIMOE_KEY_FILE: keyFile } });
  });
  after(async () => {
    await red?.stop();
    await sim.stop();
  });

  it("gives the editor each type's current version (RED.settings.<type>Version, read by the html's defaults)", async () => {
    const settings = (await (await fetch(`${red!.url}/settings`)).json()) as Record<string, unknown>;
    for (const type of NODE_TYPES) assert.equal(settings[versionSettingName(type)], configVersion(type), type);
  });

  it('runs the saved flow: each inject lists through the migrated config node, the newer node with a warning in the log', async () => {
    const flow = JSON.parse(readFileSync(join(examplesDir, 'list.json'), 'utf8')) as SavedConfig[];
    const injects = flow.filter((n) => n.type === 'inject').map((n) => n.id as string);
    assert.equal(injects.length, 2);
    for (const id of injects) assert.equal((await fetch(`${red!.url}/inject/${id}`, { method: 'POST' })).status, 200);
    await waitFor(() => sim.requests('listMims').length === 1 && sim.requests('listImages').length === 1, 'both lists', 8000);
    assert.ok(
      sim.requests('listMims').every((e) => e.status === 200),
      'the key file of the saved config node was read',
    );
    assert.match(
      red!.log(),
      /\[mimoe-list:[^\]]+\] this node was saved by a newer release .*config version 99; this release reads versions up to 1\)/,
    );
  });
});
