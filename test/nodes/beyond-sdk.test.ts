/**
 * What goes beyond mimik's SDK: ifExists, waiting until started, composition rollback, the
 * watch node, key files with rotation, and /containers runtimes, in real flows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { McmSimulator } from '../../src/simulator';
import { collect, configNode, helper, loadActionFlow, loadFlow, nextMessage, run, statuses } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { byProfile, sleep, sortedMimIds, waitFor } from '../support/simulator-helpers';

describe('beyond the SDK', function () {
  const sim = useSimulator();
  let client: McmClient;

  beforeEach(async () => {
    client = new McmClient({ url: sim().url, token: sim().key });
    await client.uploadImage(buildImageTar({ name: 'v1' }));
    await client.uploadImage(buildImageTar({ name: 'v2' }));
  });
  afterEach(async () => {
    client.close();
    await helper.unload();
  });

  describe('ifExists', () => {
    it('a failure to list the running mims is named as the deploy the msg asked for', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-deploy', ifExists: 'keep' });
      sim().setFault('listMims', { status: 500, body: { error: { code: 500, message: 'registry busy' } } });
      const { kind, msg } = await run({ payload: { name: 'svc', image: 'v1' } });
      assert.equal(kind, 'caught');
      assert.equal(msg.error.message, 'deployMim failed: HTTP 500 registry busy');
      assert.equal(msg.statusCode, 500);
      assert.equal(sim().requests('deployMim').length, 0, 'nothing deployed without knowing what runs');
    });

    it('keep: a repeated event deploys once and returns the running mim', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-deploy', ifExists: 'keep' });
      const event = () => ({ payload: { name: 'svc', image: 'v1', env: { A: '1' } } });
      const first = await run(event());
      const second = await run(event());
      const third = await run(event());
      assert.equal(first.kind, 'sent');
      assert.equal(second.kind, 'sent');
      assert.equal(third.msg.payload.id, 'api-svc');
      assert.equal(sim().requests('deployMim').length, 1, 'deployed once');
      assert.equal(sim().requests('removeMim').length, 0);
    });

    it('keep: a different env replaces the running mim', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-deploy', ifExists: 'keep' });
      await run({ payload: { name: 'svc', image: 'v1', env: { A: '1' } } });
      const { msg } = await run({ payload: { name: 'svc', image: 'v1', env: { A: '2' } } });
      assert.deepEqual(msg.payload.env, { A: '2' });
      assert.equal(sim().requests('deployMim').length, 2);
      assert.equal(sim().requests('removeMim').length, 1);
    });

    it('replace: swaps the image', async () => {
      await client.deployMim('svc', 'v1');
      await loadActionFlow(sim(), { type: 'mimoe-deploy', ifExists: 'replace' });
      const { kind, msg } = await run({ payload: { name: 'svc', image: 'v2' } });
      assert.equal(kind, 'sent');
      assert.equal(msg.payload.image, 'v2');
      assert.deepEqual(
        sim()
          .mims()
          .map((m) => m.image),
        ['v2'],
      );
    });

    it("fail (the default) passes the runtime's refusal on; msg.ifExists overrides the node", async () => {
      await client.deployMim('svc', 'v1');
      await loadActionFlow(sim(), { type: 'mimoe-deploy' });
      const failed = await run({ payload: { name: 'svc', image: 'v2' } });
      assert.equal(failed.kind, 'caught');
      assert.equal(failed.msg.statusCode, byProfile({ contract: 409, field: 400 }));
      assert.match(failed.msg.error.message, /already exists/);
      const replaced = await run({ payload: { name: 'svc', image: 'v2' }, ifExists: 'replace' });
      assert.equal(replaced.kind, 'sent');
      assert.equal(replaced.msg.payload.image, 'v2');
    });

    it('refuses an unknown msg.ifExists before any request', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-deploy' });
      sim().resetStats();
      const { kind, msg } = await run({ payload: { name: 'svc', image: 'v1' }, ifExists: 'overwrite' });
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /ifExists must be "fail", "replace" or "keep" \(got "overwrite"\)/);
      assert.equal(sim().log.length, 0);
    });

    it('keep in a composition skips the mims that match', async () => {
      await client.deployMim('a', 'v1');
      await loadActionFlow(sim(), { type: 'mimoe-composition', ifExists: 'keep' });
      const { kind, msg } = await run({
        payload: [
          { name: 'a', image: 'v1' },
          { name: 'b', image: 'v2' },
        ],
      });
      assert.equal(kind, 'sent');
      assert.deepEqual(
        msg.payload.map((m: { id: string }) => m.id),
        ['api-a', 'api-b'],
      );
      const body = sim().requests('deployComposition')[0].body as { mims: Array<{ name: string }> };
      assert.deepEqual(
        body.mims.map((m) => m.name),
        ['b'],
      );
    });
  });

  describe('wait until started', () => {
    it('waits for started and reports progress in the status', async () => {
      sim().options.startDelayMs = 300;
      await loadActionFlow(sim(), { type: 'mimoe-deploy', waitStarted: true, waitTimeout: 5 });
      const seen = statuses('n1');
      const { kind, msg } = await run({ payload: { name: 'slow', image: 'v1' } });
      assert.equal(kind, 'sent');
      assert.equal(msg.payload.state, 'started');
      assert.ok(
        seen.some((s) => /started 0\/1/.test(s.text ?? '')),
        JSON.stringify(seen),
      );
    });

    it('times out with a clear error while the simulator holds a mim in created', async () => {
      sim().options.startDelayMs = -1;
      await loadActionFlow(sim(), { type: 'mimoe-deploy', waitStarted: true, waitTimeout: 1 });
      const started = Date.now();
      const { kind, msg } = await run({ payload: { name: 'stuck', image: 'v1' } });
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /deployMim failed: not started within 1 s: api-stuck \(created\)/);
      assert.ok(Date.now() - started < 4000);
    });
  });

  describe('composition rollback', () => {
    it('removes what a part-way failure created and says so', async () => {
      sim().options.partialCompositions = true;
      await client.deployMim('existing', 'v1');
      await loadActionFlow(sim(), { type: 'mimoe-composition' });
      const { kind, msg } = await run({
        payload: [
          { name: 'one', image: 'v1' },
          { name: 'two', image: 'v2' },
          { name: 'three', image: 'missing' },
        ],
      });
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, byProfile({ contract: 404, field: 400 }), 'the unknown image');
      assert.match(msg.error.message, /rolled back \(removed again\): api-one, api-two/);
      assert.deepEqual(
        sim()
          .mims()
          .map((m) => m.id),
        ['api-existing'],
        'nothing of this call is left; the older mim stays',
      );
    });

    it('removes the created mims when they do not start in time', async () => {
      sim().options.startDelayMs = -1;
      await loadActionFlow(sim(), { type: 'mimoe-composition', waitStarted: true, waitTimeout: 1 });
      const { kind, msg } = await run({
        payload: [
          { name: 'one', image: 'v1' },
          { name: 'two', image: 'v2' },
        ],
      });
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /not started within 1 s/);
      assert.match(msg.error.message, /rolled back/);
      assert.deepEqual(sim().mims(), []);
    });

    it('the same composition twice at once with keep: both succeed, nothing is rolled back', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-composition', ifExists: 'keep' });
      const outputs = collect('out');
      const caught = collect('caught');
      const specs = () => ({
        payload: [
          { name: 'a', image: 'v1' },
          { name: 'b', image: 'v2' },
        ],
      });
      helper.getNode('n1').receive(specs());
      helper.getNode('n1').receive(specs());
      await waitFor(() => outputs.length + caught.length === 2, 'both msgs', 5000);
      assert.equal(caught.length, 0, JSON.stringify(caught.map((m) => m.error?.message)));
      assert.deepEqual(
        outputs[1].payload.map((m: { id: string }) => m.id),
        ['api-a', 'api-b'],
      );
      assert.deepEqual(sortedMimIds(sim()), ['api-a', 'api-b']);
    });

    it('never removes names that another call took', async () => {
      await client.deployMim('b', 'v2');
      sim().options.partialCompositions = true;
      await loadActionFlow(sim(), { type: 'mimoe-composition' });
      const { kind, msg } = await run({
        payload: [
          { name: 'a', image: 'v1' },
          { name: 'b', image: 'v2' },
        ],
      });
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, byProfile({ contract: 409, field: 400 }), 'the taken name');
      assert.ok(
        sim()
          .mims()
          .some((m) => m.id === 'api-b'),
        'the other mim stays',
      );
    });

    it('leaves the created mims when rollback is off', async () => {
      sim().options.partialCompositions = true;
      await loadActionFlow(sim(), { type: 'mimoe-composition', rollback: false });
      const { kind } = await run({
        payload: [
          { name: 'one', image: 'v1' },
          { name: 'two', image: 'missing' },
        ],
      });
      assert.equal(kind, 'caught');
      assert.deepEqual(
        sim()
          .mims()
          .map((m) => m.id),
        ['api-one'],
      );
    });
  });

  describe('mimoe-watch', () => {
    async function loadWatch(extra: Record<string, unknown> = {}): Promise<void> {
      await loadFlow(
        [
          configNode(sim(), { timeout: 1 }),
          { id: 'w', type: 'mimoe-watch', server: 'cfg', resource: 'mim', interval: 0.1, wires: [['out']], ...extra },
          { id: 'out', type: 'helper' },
          { id: 'catch', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
          { id: 'caught', type: 'helper' },
        ],
        { cfg: { token: sim().key } },
      );
    }

    /** The watch learns what is there from its first answer; changes after it are news. */
    const firstPoll = () =>
      waitFor(
        () =>
          sim()
            .requests('listMims')
            .some((e) => e.status === 200),
        'the first poll answered',
      );

    it('reports an add, a state change and a removal made behind its back', async () => {
      sim().options.startDelayMs = 400;
      await loadWatch();
      await firstPoll();
      const added = nextMessage('out', 3000);
      await client.deployMim('bg', 'v1');
      const a = await added;
      assert.equal(a.topic, 'mim/added');
      assert.equal(a.payload.after.state, 'created');
      assert.equal(a.payload.before, null);
      const changed = await nextMessage('out', 3000);
      assert.equal(changed.topic, 'mim/changed');
      assert.equal(changed.payload.before.state, 'created');
      assert.equal(changed.payload.after.state, 'started');
      const removed = nextMessage('out', 3000);
      await client.removeMim('api-bg');
      const r = await removed;
      assert.equal(r.topic, 'mim/removed');
      assert.equal(r.payload.id, 'api-bg');
      assert.equal(r.payload.after, null);
    });

    it('survives a simulator restart, says so in its status, and reports what changed meanwhile', async () => {
      await loadWatch();
      await firstPoll();
      const seen = statuses('w');
      const caught = collect('caught');
      await sim().stop();
      try {
        await waitFor(
          () => seen.some((s) => s.fill === 'red' && /unreachable, retrying in \d+ s/.test(s.text ?? '')),
          'the unreachable status',
          5000,
        );
      } finally {
        await sim().restart();
      }
      const next = nextMessage('out', 8000);
      await client.deployMim('after', 'v1');
      const msg = await next;
      assert.equal(msg.topic, 'mim/added');
      assert.equal(msg.payload.id, 'api-after');
      await waitFor(() => seen.some((s) => s.fill === 'green'), 'the green status after recovery', 5000);
      assert.equal(caught.length, 1, 'the outage reached Catch once');
      assert.match(caught[0].error.message, /^listMims failed: (cannot reach|the connection to) the mimOE runtime/);
    });

    it('stops polling on close', async () => {
      await loadWatch();
      await waitFor(() => sim().requests('listMims').length >= 2, 'two polls');
      await helper.unload();
      const count = sim().requests('listMims').length;
      // Four poll intervals with the flow stopped: no poll may come.
      await sleep(400);
      assert.equal(sim().requests('listMims').length, count);
    });
  });

  describe('key file', () => {
    it('reads the token from the key file and picks up a rotated key after a 403', async () => {
      const keyFile = join(mkdtempSync(join(tmpdir(), 'mimoe-key-')), 'mimoe-api-key.env');
      const keyed = await McmSimulator.start({ quiet: true, keyFile });
      try {
        await loadActionFlow(keyed, { type: 'mimoe-list' }, { tokenSource: 'file', keyFile });
        assert.equal((await run({})).kind, 'sent');
        keyed.rotateKey();
        const { kind } = await run({});
        assert.equal(kind, 'sent');
        const auths = keyed.requests('listMims').map((e) => e.status);
        assert.deepEqual(auths, [200, 403, 200]);
      } finally {
        await helper.unload();
        await keyed.stop();
      }
    });

    it('fails with the file name when the key file is missing, pointing at the field that names it', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' }, { tokenSource: 'file', keyFile: '/nonexistent/mimoe-api-key.env' });
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.match(
        msg.error.message,
        /cannot read the key file \/nonexistent\/mimoe-api-key.env \(ENOENT\); check the config node's Key file \(mimOE writes it when it starts\)\)$/,
      );
      assert.equal(sim().requests('listMims').length, 0);
    });
  });

  it('talks to an older runtime through /containers', async () => {
    await loadActionFlow(sim(), { type: 'mimoe-deploy' }, { resource: 'containers' });
    sim().resetStats();
    const { kind, msg } = await run({ payload: { name: 'legacy', image: 'v1' } });
    assert.equal(kind, 'sent');
    assert.equal(msg.payload.id, 'api-legacy');
    assert.deepEqual(
      sim().log.map((e) => `${e.method} ${e.url}`),
      byProfile({
        contract: ['POST /mcm/v1/containers'],
        // Answered without the mim: it is looked up in the list, under /containers too.
        field: ['POST /mcm/v1/containers', 'GET /mcm/v1/containers'],
      }),
    );
  });
});
