/**
 * The seven action nodes in real flows (node-red-node-test-helper) against the simulator over
 * HTTP: payload shapes, the blank-field rule, msg pass-through, Catch and Complete, status.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildImageTar } from '../../src/wire/image-tar';
import { collect, helper, loadActionFlow, run, statuses } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { byProfile, createdStatus, simulatorProfile, waitFor } from '../support/simulator-helpers';

const dir = mkdtempSync(join(tmpdir(), 'mimoe-nodes-'));

const MIM_FIELDS = ['id', 'name', 'image', 'imageId', 'clientId', 'created', 'state', 'status', 'env'];
const IMAGE_FIELDS = ['id', 'name', 'digest', 'repoTags', 'created', 'size'];
const DATA_STORE_FIELDS = ['action', 'status', 'message', 'path', 'percentage'];

function assertFields(value: Record<string, unknown>, fields: string[]): void {
  for (const field of fields) assert.ok(field in value, `payload has ${field}`);
}

describe('action nodes', function () {
  const sim = useSimulator();
  afterEach(async () => {
    await helper.unload();
  });

  async function seedImage(name = 'hello-v1'): Promise<void> {
    const res = await fetch(`${sim().url}/mcm/v1/images`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim().key}` },
      body: (() => {
        const form = new FormData();
        form.append('image', new Blob([new Uint8Array(buildImageTar({ name }))]), `${name}.tar`);
        return form;
      })(),
    });
    assert.equal(res.status, createdStatus());
  }

  async function seedMim(name = 'hello', image = 'hello-v1'): Promise<void> {
    const res = await fetch(`${sim().url}/mcm/v1/mims`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim().key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, image, env: {} }),
    });
    assert.equal(res.status, createdStatus());
  }

  describe('mimoe-deploy', () => {
    it('deploys from msg.payload and sends the Mim, keeping the msg', async () => {
      await seedImage();
      await loadActionFlow(sim(), { type: 'mimoe-deploy', mimName: '', image: '' });
      const completed = collect('completed');
      const { kind, msg } = await run({
        topic: 'edge-7',
        payload: { name: 'hello', image: 'hello-v1', env: { 'MCM.BASE_API_PATH': '/hello/v1', N: 2 } },
        custom: 42,
      });
      assert.equal(kind, 'sent');
      assertFields(msg.payload, MIM_FIELDS);
      assert.equal(msg.payload.id, 'api-hello');
      assert.deepEqual(msg.payload.env, { 'MCM.BASE_API_PATH': '/hello/v1', N: '2' });
      assert.equal(msg.topic, 'edge-7');
      assert.equal(msg.custom, 42);
      await waitFor(() => completed.length === 1, 'Complete');
      assert.equal(completed[0]._msgid, msg._msgid);
    });

    it('uses the values set in the node, never the msg, and the env list', async () => {
      await seedImage();
      await loadActionFlow(sim(), {
        type: 'mimoe-deploy',
        mimName: 'fixed',
        mimNameType: 'str',
        image: 'hello-v1',
        imageType: 'str',
        env: [{ key: 'MCM.API_ALIAS', value: 'true' }],
      });
      const { kind, msg } = await run({ payload: { name: 'other', image: 'missing', env: { X: '1' } } });
      assert.equal(kind, 'sent');
      assert.equal(msg.payload.name, 'fixed');
      assert.deepEqual(msg.payload.env, { 'MCM.API_ALIAS': 'true' });
    });

    it('with name and image set in the node, any msg.payload will do (an inject timestamp, a string)', async () => {
      await seedImage();
      await loadActionFlow(sim(), {
        type: 'mimoe-deploy',
        mimName: 'fixed',
        mimNameType: 'str',
        image: 'hello-v1',
        imageType: 'str',
        ifExists: 'replace',
      });
      for (const payload of [Date.now(), 'go']) {
        const { kind, msg } = await run({ payload });
        assert.equal(kind, 'sent', JSON.stringify(msg.error));
        assert.deepEqual(msg.payload.env, {});
      }
    });

    it('evaluates TypedInputs (msg and env types)', async () => {
      await seedImage();
      process.env.MIMOE_TEST_IMAGE = 'hello-v1';
      await loadActionFlow(sim(), {
        type: 'mimoe-deploy',
        mimName: 'target.name',
        mimNameType: 'msg',
        image: 'MIMOE_TEST_IMAGE',
        imageType: 'env',
      });
      const { kind, msg } = await run({ target: { name: 'from-msg' } });
      assert.equal(kind, 'sent');
      assert.equal(msg.payload.id, 'api-from-msg');
      assert.equal(msg.payload.image, 'hello-v1');
    });

    it('reaches Catch with the status code and the server text for an unknown image and a taken name', async () => {
      await seedImage();
      await seedMim();
      await loadActionFlow(sim(), { type: 'mimoe-deploy' });
      const missing = await run({ payload: { name: 'x', image: 'no-such' } });
      assert.equal(missing.kind, 'caught');
      assert.equal(missing.msg.statusCode, byProfile({ contract: 404, field: 400 }));
      assert.equal(
        missing.msg.error.message,
        byProfile({
          contract: 'deployMim failed: HTTP 404 image "no-such" not found; upload it first',
          field: 'deployMim failed: HTTP 400 cannot find image with name no-such',
        }),
      );
      const taken = await run({ payload: { name: 'hello', image: 'hello-v1' } });
      assert.equal(taken.kind, 'caught');
      assert.equal(taken.msg.statusCode, byProfile({ contract: 409, field: 400 }));
      assert.equal(
        taken.msg.error.message,
        byProfile({
          contract: 'deployMim failed: HTTP 409 mim "api-hello" already exists',
          field: 'deployMim failed: HTTP 400 mim with name hello already exists',
        }),
      );
    });

    it('shows a red ring with a short reason on failure and green on success', async () => {
      await seedImage();
      await loadActionFlow(sim(), { type: 'mimoe-deploy' });
      const seen = statuses('n1');
      // Status updates are spaced out (STATUS_INTERVAL_MS): let each outcome show.
      await run({ payload: { name: 'ok', image: 'hello-v1' } });
      await waitFor(() => seen.some((s) => s.fill === 'green' && /deployed ok/.test(s.text ?? '')), 'the green status');
      await run({ payload: { name: 'ok', image: 'hello-v1' } });
      const refused = `HTTP ${byProfile({ contract: 409, field: 400 })}`;
      await waitFor(
        () => seen.some((s) => s.fill === 'red' && s.shape === 'ring' && s.text === refused),
        `the red ring (${JSON.stringify(seen)})`,
      );
      assert.ok(
        seen.some((s) => s.fill === 'blue'),
        'blue while working',
      );
    });
  });

  describe('mimoe-remove', () => {
    it('removes a mim given as a string payload', async () => {
      await seedImage();
      await seedMim();
      await loadActionFlow(sim(), { type: 'mimoe-remove', resource: 'mim' });
      const { kind, msg } = await run({ payload: 'api-hello', topic: 't' });
      assert.equal(kind, 'sent');
      assert.deepEqual(msg.payload, { id: 'api-hello', resource: 'mim', removed: true });
      assert.equal(msg.topic, 't');
      assert.equal(sim().mims().length, 0);
    });

    it('deletes an image given as {id}; the node field wins over the msg', async () => {
      await seedImage('a');
      await seedImage('b');
      await loadActionFlow(sim(), { type: 'mimoe-remove', resource: 'image', target: 'api-a', targetType: 'str' });
      const { msg } = await run({ payload: { id: 'api-b' } });
      assert.deepEqual(msg.payload, { id: 'api-a', resource: 'image', removed: true });
      assert.deepEqual(
        sim()
          .images()
          .map((i) => i.name),
        ['b'],
      );
    });

    it('reports 409 for an image in use and 404 for an unknown mim', async () => {
      await seedImage();
      await seedMim();
      await loadActionFlow(sim(), { type: 'mimoe-remove', resource: 'image' });
      const inUse = await run({ payload: 'api-hello-v1' });
      assert.equal(inUse.kind, 'caught');
      assert.equal(inUse.msg.statusCode, 409);
      assert.match(inUse.msg.error.message, /^deleteImage failed: HTTP 409/);
      await helper.unload();
      await loadActionFlow(sim(), { type: 'mimoe-remove', resource: 'mim' });
      const unknown = await run({ payload: 'api-nobody' });
      assert.equal(unknown.kind, 'caught');
      assert.equal(unknown.msg.statusCode, 404);
      assert.match(unknown.msg.error.message, /^removeMim failed: HTTP 404/);
    });
  });

  describe('mimoe-list', () => {
    it('lists mims, then images, as arrays of the models', async () => {
      await seedImage();
      await seedMim();
      await loadActionFlow(sim(), { type: 'mimoe-list', resource: 'mim' });
      const mims = await run({ payload: 'anything', topic: 'x' });
      assert.equal(mims.msg.payload.length, 1);
      assertFields(mims.msg.payload[0], MIM_FIELDS);
      assert.equal(mims.msg.topic, 'x');
      await helper.unload();
      await loadActionFlow(sim(), { type: 'mimoe-list', resource: 'image' });
      const images = await run({});
      assert.equal(images.msg.payload.length, 1);
      assertFields(images.msg.payload[0], IMAGE_FIELDS);
    });

    it('spaces out status updates under load, and the last one always shows', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list', resource: 'mim' });
      const seen = statuses('n1');
      const outputs = collect('out');
      for (let i = 0; i < 100; i++) helper.getNode('n1').receive({ payload: i });
      await waitFor(() => outputs.length === 100, 'the 100 lists', 8000);
      await waitFor(() => seen.at(-1)?.text === '0 mims', 'the last status');
      assert.ok(seen.length < 20, `${seen.length} status updates for 100 msgs`);
      assert.deepEqual(seen.at(-1), { fill: 'green', shape: 'dot', text: '0 mims' });
    });

    it('reaches Catch on 403 when the key is wrong, without the key in any text', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' });
      sim().rotateKey();
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, 403);
      assert.match(msg.error.message, /^listMims failed: HTTP 403/);
    });

    it('reaches Catch on 500 with the server text', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' });
      sim().setFault('listMims', { status: 500, body: { error: { code: 500, message: 'disk full' } } });
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, 500);
      assert.equal(msg.error.message, 'listMims failed: HTTP 500 disk full');
    });
  });

  describe('mimoe-upload', () => {
    it('uploads a Buffer in msg.payload and sends the MimImage', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-upload' });
      const { kind, msg } = await run({ payload: buildImageTar({ name: 'from-buffer' }), topic: 'u' });
      assert.equal(kind, 'sent');
      assertFields(msg.payload, IMAGE_FIELDS);
      assert.equal(msg.payload.name, 'from-buffer');
      assert.equal(msg.topic, 'u');
    });

    it('uploads a Readable stream in msg.payload', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-upload' });
      const stream = new PassThrough();
      stream.end(buildImageTar({ name: 'from-stream' }));
      const { msg } = await run({ payload: stream });
      assert.equal(msg.payload.name, 'from-stream');
    });

    it('uploads the file named by msg.filename, or by the node (which wins)', async () => {
      const a = join(dir, 'a.tar');
      const b = join(dir, 'b.tar');
      writeFileSync(a, buildImageTar({ name: 'file-a' }));
      writeFileSync(b, buildImageTar({ name: 'file-b' }));
      await loadActionFlow(sim(), { type: 'mimoe-upload' });
      assert.equal((await run({ filename: a })).msg.payload.name, 'file-a');
      await helper.unload();
      await loadActionFlow(sim(), { type: 'mimoe-upload', filename: b, filenameType: 'str' });
      assert.equal((await run({ filename: a })).msg.payload.name, 'file-b');
    });

    it('sends progress msgs on a second output when asked', async () => {
      const big = join(dir, 'big.tar');
      const { writeImageTar } = await import('../../src/wire/image-tar');
      await writeImageTar(big, { name: 'big', paddingBytes: 12 * 1024 * 1024 });
      await loadActionFlow(sim(), { type: 'mimoe-upload', progressOutput: true, outputs: 2 });
      const progress = collect('progress');
      const { msg } = await run({ filename: big });
      assert.equal(msg.payload.name, 'big');
      assert.ok(progress.length >= 1);
      const last = progress[progress.length - 1].payload;
      assert.equal(last.percentage, 100);
      assert.equal(last.bytes, last.total);
    });

    it('reaches Catch with the simulator text for a bad tar', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-upload' });
      const { kind, msg } = await run({ payload: Buffer.from('this is not a tar at all'.repeat(40)) });
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, 400);
      assert.match(msg.error.message, /^uploadImage failed: HTTP 400/);
    });
  });

  describe('mimoe-composition', () => {
    it('deploys every spec and sends Mim[]', async () => {
      await seedImage('a');
      await seedImage('b');
      await loadActionFlow(sim(), { type: 'mimoe-composition' });
      const { kind, msg } = await run({
        payload: [
          { name: 'one', image: 'a' },
          { name: 'two', image: 'b', env: { K: 'v' } },
        ],
      });
      assert.equal(kind, 'sent');
      assert.deepEqual(
        msg.payload.map((m: { id: string }) => m.id),
        ['api-one', 'api-two'],
      );
      assertFields(msg.payload[1], MIM_FIELDS);
    });

    it('uses specs set in the node as JSON over the msg', async () => {
      await seedImage('a');
      await loadActionFlow(sim(), { type: 'mimoe-composition', specs: '[{"name":"json-one","image":"a"}]', specsType: 'json' });
      const { msg } = await run({ payload: [{ name: 'ignored', image: 'a' }] });
      assert.deepEqual(
        msg.payload.map((m: { name: string }) => m.name),
        ['json-one'],
      );
    });

    it('reaches Catch and deploys nothing when one image is unknown', async () => {
      await seedImage('a');
      await loadActionFlow(sim(), { type: 'mimoe-composition' });
      const { kind, msg } = await run({
        payload: [
          { name: 'one', image: 'a' },
          { name: 'two', image: 'missing' },
        ],
      });
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, byProfile({ contract: 404, field: 400 }));
      assert.match(msg.error.message, /missing/, 'the image is named');
      assert.equal(sim().mims().length, 0);
    });
  });

  for (const [type, action] of [
    ['mimoe-backup', 'backup'],
    ['mimoe-restore', 'restore'],
  ] as const) {
    describe(type, () => {
      async function backupExists(): Promise<void> {
        const res = await fetch(`${sim().url}/mcm/v1/mims/api-db/dataStore`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${sim().key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ action: 'backup', path: '/data/db.bak' }),
        });
        assert.equal(res.status, 200);
      }

      it(`sends the final DataStoreResult of a ${action}`, async () => {
        await seedImage('db');
        await seedMim('db', 'db');
        await backupExists();
        await loadActionFlow(sim(), { type });
        const { kind, msg } = await run({ payload: { mimId: 'api-db', path: '/data/db.bak' }, topic: 'ds' });
        assert.equal(kind, 'sent');
        assertFields(msg.payload, DATA_STORE_FIELDS);
        assert.equal(msg.payload.action, action);
        assert.equal(msg.payload.status, 'completed');
        assert.equal(msg.topic, 'ds');
      });

      it('waits through inProgress and shows the percentage', async function () {
        // Field runtimes offer nothing to wait through (field-answers tests the inProgress result passed on).
        if (simulatorProfile() === 'field') this.skip();
        await seedImage('db');
        await seedMim('db', 'db');
        await backupExists();
        sim().options.asyncDataStore = { steps: 2 };
        await loadActionFlow(sim(), { type, mimId: 'api-db', mimIdType: 'str', path: '/data/db.bak', pathType: 'str' });
        const seen = statuses('n1');
        const { msg } = await run({ payload: { mimId: 'ignored', path: 'ignored' } });
        assert.equal(msg.payload.status, 'completed');
        assert.ok(
          seen.some((s) => /\d+%/.test(s.text ?? '')),
          JSON.stringify(seen),
        );
        assert.equal(sim().requests('dataStore')[0].url, '/mcm/v1/mims/api-db/dataStore');
      });

      it('reaches Catch for an unknown mim with 404', async () => {
        await loadActionFlow(sim(), { type });
        const { kind, msg } = await run({ payload: { mimId: 'api-nobody', path: '/p' } });
        assert.equal(kind, 'caught');
        assert.equal(msg.statusCode, 404);
      });
    });
  }

  it('treats a failed restore as an error with the runtime message', async () => {
    await seedImage('db');
    await seedMim('db', 'db');
    await loadActionFlow(sim(), { type: 'mimoe-restore' });
    const { kind, msg } = await run({ payload: { mimId: 'api-db', path: '/never/backed/up' } });
    assert.equal(kind, 'caught');
    assert.match(msg.error.message, /^restoreDataStore failed: /);
    assert.equal(msg.statusCode, undefined);
  });

  it('fails with a clear message when the node has no server, the status saying it is the config', async () => {
    await loadActionFlow(sim(), { type: 'mimoe-list', server: '' });
    const seen = statuses('n1');
    const { kind, msg } = await run({});
    assert.equal(kind, 'caught');
    assert.match(msg.error.message, /no mimOE server is set/);
    assert.deepEqual(seen[seen.length - 1], { fill: 'red', shape: 'ring', text: 'config problem' });
  });

  it('ends an in-flight request cleanly when the flow stops', async () => {
    await seedImage();
    sim().setFault('deployMim', { hang: true });
    await loadActionFlow(sim(), { type: 'mimoe-deploy' });
    helper.getNode('n1').receive({ payload: { name: 'slow', image: 'hello-v1' } });
    await waitFor(() => sim().requests('deployMim').length === 1, 'the deploy at the simulator');
    assert.equal(sim().inFlight, 1);
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 2000, 'close did not wait for the hang');
    await waitFor(() => sim().inFlight === 0, 'the hung request ended');
  });
});
