/**
 * The simulator is the tests' oracle, so its rules come from the contract (docs/mcm-api.md), not
 * from the client: these requests go over HTTP straight to the simulator, where the client would
 * have changed or refused them before sending, and the answers are the contract's. The last tests
 * check the module graph: the simulator loads no module of the client, and the package's main
 * entry does not load the simulator.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { McmSimulator } from '../../src/simulator';
import { buildImageTar } from '../../src/wire/image-tar';
import { api, startTestSimulator, uploadTar } from '../support/simulator-helpers';

const buildSrc = join(__dirname, '..', '..', 'src');

/** The compiled modules under build/src that requiring `entry` loads, relative to build/src. */
function modulesLoadedBy(entry: string): string[] {
  const script = `require(${JSON.stringify(join(buildSrc, entry))}); console.log(JSON.stringify(Object.keys(require.cache)))`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
  return loaded.filter((file) => file.startsWith(buildSrc)).map((file) => file.slice(buildSrc.length + 1));
}

describe('the simulator as an independent oracle', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.reset();
    assert.equal((await uploadTar(sim, buildImageTar({ name: 'hello-v1' }))).status, 201);
  });

  const deploy = (body: unknown) => api(sim, '/mcm/v1/mims', { method: 'POST', body });

  describe('MimSpec: env of string values only, converted by nobody', () => {
    for (const [what, value, type] of [
      ['a number', 120, 'number'],
      ['a boolean', true, 'boolean'],
      ['null', null, 'null'],
      ['an object', { nested: 'x' }, 'object'],
    ] as const) {
      it(`refuses ${what} as an env value (400), where the client would send a string or refuse it itself`, async () => {
        const res = await deploy({ name: 'x', image: 'hello-v1', env: { 'MCM.MAX_EXECUTION_TIME_SEC': value } });
        assert.equal(res.status, 400);
        assert.equal(res.json.error.message, `env value "MCM.MAX_EXECUTION_TIME_SEC" must be a string (got ${type})`);
        assert.deepEqual(sim.mims(), []);
      });
    }

    it('accepts an env larger than the client sends (the contract states no limit)', async () => {
      const big = 'v'.repeat(100 * 1024); // the client refuses env bodies over 64 KiB before sending
      const res = await deploy({ name: 'big', image: 'hello-v1', env: { BIG: big } });
      assert.equal(res.status, 201, res.text);
      assert.equal(sim.mims()[0].env.BIG.length, big.length);
    });
  });

  describe('MimSpec: a name without whitespace, an image name as sent', () => {
    for (const [what, name] of [
      ['a tab', 'my\tmim'],
      ['a no-break space', 'my\u00a0mim'],
      ['a trailing newline', 'mim\n'],
    ] as const) {
      it(`refuses a mim name with ${what} (400)`, async () => {
        const res = await deploy({ name, image: 'hello-v1' });
        assert.equal(res.status, 400);
        assert.equal(res.json.error.message, `the mim name ${JSON.stringify(name)} must not contain whitespace`);
        assert.deepEqual(sim.mims(), []);
      });
    }

    for (const [what, name] of [
      ['a number', 42],
      ['an empty string', ''],
      ['an array', ['hello']],
    ] as const) {
      it(`refuses ${what} as the mim name (400)`, async () => {
        const res = await deploy({ name, image: 'hello-v1' });
        assert.equal(res.status, 400);
        assert.match(res.json.error.message, /^a mim name is required/);
      });
    }

    it('looks an image name up exactly as sent: padded with spaces it is another, unknown name (404)', async () => {
      const res = await deploy({ name: 'x', image: ' hello-v1 ' });
      assert.equal(res.status, 404);
      assert.equal(res.json.error.message, 'image " hello-v1 " not found; upload it first');
      assert.deepEqual(sim.mims(), []);
    });

    it('takes names the contract allows that look odd: a slash, a dot, non-Latin letters', async () => {
      const res = await api(sim, '/mcm/v1/compositions', {
        method: 'POST',
        body: { mims: ['a/b', 'v1.2', 'μ-mim'].map((name) => ({ name, image: 'hello-v1' })) },
      });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(
        res.json.data.map((m: { id: string }) => m.id),
        ['api-a/b', 'api-v1.2', 'api-μ-mim'],
      );
    });
  });

  describe('data store requests', () => {
    beforeEach(async () => assert.equal((await deploy({ name: 'hello', image: 'hello-v1' })).status, 201));
    const post = (body: unknown) => api(sim, '/mcm/v1/mims/api-hello/dataStore', { method: 'POST', body });

    for (const [what, path] of [
      ['a number', 7],
      ['only spaces', '   '],
    ] as const) {
      it(`refuses ${what} as the path (400)`, async () => {
        const res = await post({ action: 'backup', path });
        assert.equal(res.status, 400);
        assert.match(res.json.error.message, /^a data store path is required/);
      });
    }

    it('refuses an action in another case: "Backup" is not "backup" (400)', async () => {
      const res = await post({ action: 'Backup', path: '/p' });
      assert.equal(res.status, 400);
      assert.equal(res.json.error.message, 'action must be "backup" or "restore" (got "Backup")');
    });
  });

  it('loads no module of the client: only its own and the shared wire codecs', () => {
    const loaded = modulesLoadedBy('simulator/index.js');
    assert.ok(loaded.includes('simulator/server.js'), `the simulator itself is loaded (${loaded.join(', ')})`);
    assert.deepEqual(
      loaded.filter((file) => !file.startsWith('simulator/') && !file.startsWith('wire/')),
      [],
    );
  });

  it('is not loaded by the package main entry', () => {
    const loaded = modulesLoadedBy('index.js');
    assert.ok(loaded.includes('mcm/client.js'), `the client is loaded (${loaded.join(', ')})`);
    assert.deepEqual(
      loaded.filter((file) => file.startsWith('simulator/')),
      [],
    );
  });
});
