/**
 * Field answers and odd configuration in real flows: data store work that cannot be followed
 * (sent on with a yellow ring), a wrong base URL, a key file after a 401, odd keys refused before
 * any request, and keys echoed by a runtime kept out of msg.error and the status.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { McmSimulator } from '../../src/simulator';
import { collect, helper, loadActionFlow, loadListFlow, run, StatusCall, statuses } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { waitFor } from '../support/simulator-helpers';

const last = (seen: StatusCall[]) => seen[seen.length - 1];

describe('field answers in flows', function () {
  const sim = useSimulator();
  let client: McmClient;

  beforeEach(async () => {
    client = new McmClient({ url: sim().url, token: sim().key });
    await client.uploadImage(buildImageTar({ name: 'db' }));
    await client.deployMim('db', 'db');
    sim().resetStats();
  });
  afterEach(async () => {
    client.close();
    await helper.unload();
  });

  describe('data store results that are not confirmed', () => {
    it('backup: inProgress with no way to follow it is sent on, with a yellow ring', async () => {
      sim().options.asyncDataStore = { steps: 3 };
      sim().setFault('dataStoreStatus', { status: 405 });
      await loadActionFlow(sim(), { type: 'mimoe-backup' });
      const seen = statuses('n1');
      const { kind, msg } = await run({ payload: { mimId: 'api-db', path: '/data/db.bak' } });
      assert.equal(kind, 'sent');
      assert.equal(msg.payload.status, 'inProgress');
      assert.equal(msg.payload.action, 'backup');
      await waitFor(() => last(seen)?.fill === 'yellow', 'the yellow status', 3000);
      assert.deepEqual(last(seen), { fill: 'yellow', shape: 'ring', text: 'backup 0%, cannot follow' });
    });

    it('restore: an answer without a status is sent on as accepted, with a yellow ring', async () => {
      sim().setFault('dataStore', { status: 204, body: '' });
      await loadActionFlow(sim(), { type: 'mimoe-restore' });
      const seen = statuses('n1');
      const { kind, msg } = await run({ payload: { mimId: 'api-db', path: '/data/db.bak' } });
      assert.equal(kind, 'sent');
      assert.deepEqual(
        { status: msg.payload.status, action: msg.payload.action, path: msg.payload.path },
        { status: 'accepted', action: 'restore', path: '/data/db.bak' },
      );
      await waitFor(() => last(seen)?.fill === 'yellow', 'the yellow status', 3000);
      assert.deepEqual(last(seen), { fill: 'yellow', shape: 'ring', text: 'restore accepted, not confirmed' });
    });

    it('a completed backup stays green', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-backup' });
      const seen = statuses('n1');
      const { msg } = await run({ payload: { mimId: 'api-db', path: '/data/db.bak' } });
      assert.equal(msg.payload.status, 'completed');
      await waitFor(() => last(seen)?.fill === 'green', 'the green status', 3000);
      assert.equal(last(seen).shape, 'dot');
    });
  });

  it('a wrong base URL (an empty 503) reaches Catch saying which URL to check', async () => {
    sim().setFault('listMims', { status: 503, body: '' });
    await loadActionFlow(sim(), { type: 'mimoe-list' });
    const seen = statuses('n1');
    const { kind, msg } = await run({});
    assert.equal(kind, 'caught');
    assert.equal(
      msg.error.message,
      `listMims failed: nothing answers at that path (GET ${sim().url}/mcm/v1/mims: HTTP 503 with an empty body); ` +
        "check the config node's URL (the base URL, without /mcm/v1)",
    );
    assert.equal(msg.error.code, 'MCM_NO_API');
    assert.equal(msg.statusCode, 503);
    assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'wrong URL?' });
    assert.equal(sim().requests('listMims').length, 1, 'not retried');
  });

  it('an unknown image on deploy reaches Catch with the runtime’s own words', async () => {
    sim().setFault('deployMim', { status: 400, body: 'cannot find image with name nope' });
    await loadActionFlow(sim(), { type: 'mimoe-deploy' });
    const { kind, msg } = await run({ payload: { name: 'x', image: 'nope' } });
    assert.equal(kind, 'caught');
    assert.equal(msg.error.message, 'deployMim failed: HTTP 400 cannot find image with name nope');
  });

  it('a deploy answered without a body sends the mim it looks up', async () => {
    await client.deployMim('quiet', 'db');
    sim().setFault('deployMim', { status: 201, body: '' });
    await loadActionFlow(sim(), { type: 'mimoe-deploy' });
    const { kind, msg } = await run({ payload: { name: 'quiet', image: 'db' } });
    assert.equal(kind, 'sent');
    assert.equal(msg.payload.id, 'api-quiet');
  });

  describe('keys', () => {
    it('a key file is read again after a 401, and the call repeated once', async () => {
      const keyFile = join(mkdtempSync(join(tmpdir(), 'mimoe-key-')), 'mimoe-api-key.env');
      // The runtime takes a second key too: the one it writes to the file after answering 401 (expired).
      const keyed = await McmSimulator.start({ quiet: true, keyFile, tokens: { 'renewed-key': 'api' } });
      try {
        await loadActionFlow(keyed, { type: 'mimoe-list' }, { tokenSource: 'file', keyFile });
        assert.equal((await run({})).kind, 'sent');
        writeFileSync(keyFile, 'MCM_API_KEY=renewed-key\n');
        keyed.setFault('listMims', { status: 401, body: { error: { code: 401, message: 'Unauthorized' } }, times: 1 });
        assert.equal((await run({})).kind, 'sent');
        assert.deepEqual(
          keyed.requests('listMims').map((e) => e.status),
          [200, 401, 200],
        );
      } finally {
        await helper.unload();
        await keyed.stop();
      }
    });

    it('a blank key, or an ${ENV_VAR} key that is empty, is refused before any request, the status saying where to look', async () => {
      process.env.MIMOE_TEST_EMPTY_KEY = '';
      try {
        for (const token of ['', '  ', '${MIMOE_TEST_EMPTY_KEY}']) {
          await loadListFlow(sim(), {}, token);
          const seen = statuses('n1');
          const { kind, msg } = await run({});
          assert.equal(kind, 'caught');
          assert.equal(msg.error.code, 'MCM_INVALID_INPUT');
          assert.match(msg.error.message, /^listMims: no API key or token is set \(a blank key, or an \$\{ENV_VAR\} that is empty\)/);
          assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'config problem' });
          await helper.unload();
        }
      } finally {
        delete process.env.MIMOE_TEST_EMPTY_KEY;
      }
      assert.equal(sim().log.length, 0, 'no request was sent');
    });

    it('an ${ENV_VAR} key that is not set: the config error names it, the status says it is the config', async () => {
      delete process.env.MIMOE_TEST_UNSET_KEY;
      await loadListFlow(sim(), {}, '${MIMOE_TEST_UNSET_KEY}');
      const seen = statuses('n1');
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.error.code, 'MCM_CONFIG');
      assert.match(msg.error.message, /the environment variable MIMOE_TEST_UNSET_KEY is not set/);
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'config problem' });
      assert.equal(sim().log.length, 0, 'no request was sent');
    });

    it('a missing key file: Catch names the file, the status says it is the config', async () => {
      await loadListFlow(sim(), { tokenSource: 'file', keyFile: '/nonexistent/mimoe-api-key.env' });
      const seen = statuses('n1');
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /cannot read the key file \/nonexistent\/mimoe-api-key.env \(ENOENT\)/);
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'config problem' });
      assert.equal(sim().log.length, 0, 'no request was sent');
    });

    it('a config URL that cannot be used: Catch says why, the status says it is the config', async () => {
      await loadListFlow(sim(), { url: 'http://user:secret@127.0.0.1:1' }, sim().key);
      const seen = statuses('n1');
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.error.code, 'MCM_CONFIG');
      assert.match(msg.error.message, /^the mimOE server config cannot be used: the runtime URL must not hold a user name or password/);
      assert.ok(!msg.error.message.includes('secret'));
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'config problem' });
    });

    it('an odd key in the credentials is a config error shown before any request', async () => {
      const key = `${sim().key}\u0007bell`;
      await loadListFlow(sim(), {}, key);
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /cannot be used: the API key or token holds a line break, another control character/);
      assert.ok(!msg.error.message.includes(sim().key), 'the key is not in the text');
      assert.equal(sim().log.length, 0, 'no request was sent');
    });

    it('an odd key in a key file fails the call before any request', async () => {
      const keyFile = join(mkdtempSync(join(tmpdir(), 'mimoe-key-')), 'mimoe-api-key.env');
      writeFileSync(keyFile, `MCM_API_KEY=${sim().key}€\n`);
      await loadActionFlow(sim(), { type: 'mimoe-list' }, { tokenSource: 'file', keyFile });
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.error.code, 'MCM_INVALID_INPUT');
      assert.match(msg.error.message, /^listMims: the API key or token holds .* a character outside Latin-1/);
      assert.ok(!msg.error.message.includes(sim().key));
      assert.equal(sim().log.length, 0, 'no request was sent');
    });

    it('a key echoed by the runtime, in any encoding, reaches neither msg.error nor the status', async () => {
      const key = sim().key;
      const echoes = [
        key,
        JSON.stringify(`/${key}`).slice(1, -1).replace(/\//g, '\\/'),
        [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
        encodeURIComponent(`Bearer ${key}`),
        Buffer.from(`Bearer ${key}`).toString('base64'),
        Buffer.from(key).toString('base64url'),
      ];
      sim().setFault('listMims', { status: 400, body: `echo: ${echoes.join(' | ')}` });
      await loadActionFlow(sim(), { type: 'mimoe-list' });
      const seen = statuses('n1');
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      const shown = JSON.stringify([msg, seen]);
      for (const echo of echoes) assert.ok(!shown.includes(echo), `${echo} in ${msg.error.message}`);
      assert.ok(!shown.includes(key.slice(0, 8)));
      assert.match(msg.error.message, /^listMims failed: HTTP 400 echo: \*\*\* \| \\\/\*\*\* \| \*\*\* \| Bearer%20\*\*\* \| /);
    });
  });

  describe('against the field profile', () => {
    let keyFile: string;
    const field = useSimulator(() => {
      keyFile = join(mkdtempSync(join(tmpdir(), 'mimoe-key-')), 'mimoe-api-key.env');
      return { profile: 'field', keyFile, tokens: { 'renewed-key': 'api' } };
    });

    beforeEach(async () => {
      writeFileSync(keyFile, `MCM_API_KEY=${field().key}\n`);
      const seed = new McmClient({ url: field().url, token: field().key });
      await seed.uploadImage(buildImageTar({ name: 'db' }));
      await seed.deployMim('db', 'db');
      seed.close();
      field().resetStats();
    });

    it('a backup the runtime cannot follow is sent on with a yellow ring', async () => {
      field().options.asyncDataStore = true;
      await loadActionFlow(field(), { type: 'mimoe-backup' });
      const seen = statuses('n1');
      const { kind, msg } = await run({ payload: { mimId: 'api-db', path: '/data/db.bak' } });
      assert.equal(kind, 'sent');
      assert.equal(msg.payload.status, 'inProgress');
      await waitFor(() => last(seen)?.fill === 'yellow', 'the yellow status', 3000);
      assert.equal(last(seen).text, 'backup 0%, cannot follow');
    });

    it('a config URL with /mcm/v1 twice reaches Catch as a wrong URL', async () => {
      await loadActionFlow(field(), { type: 'mimoe-list' }, { url: `${field().url}/mcm/v1/mcm/v1` });
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.error.code, 'MCM_NO_API');
      assert.match(msg.error.message, /check the config node's URL \(the base URL, without \/mcm\/v1\)$/);
      assert.equal(field().log.length, 1);
    });

    it('the same deploy twice at once with keep: both msgs are sent on', async () => {
      await loadActionFlow(field(), { type: 'mimoe-deploy', ifExists: 'keep' });
      const outputs = collect('out');
      const caught = collect('caught');
      for (let i = 0; i < 2; i++) helper.getNode('n1').receive({ payload: { name: 'svc', image: 'db', env: { A: '1' } } });
      await waitFor(() => outputs.length + caught.length === 2, 'both msgs', 3000);
      assert.deepEqual(
        caught.map((m) => m.error.message),
        [],
      );
      assert.deepEqual(
        outputs.map((m) => m.payload.id),
        ['api-svc', 'api-svc'],
      );
    });

    it('a wrong key (403 Forbidden) reaches Catch saying the key was refused and what to check; so does the status', async () => {
      await loadListFlow(field(), {}, 'a-wrong-key');
      const seen = statuses('n1');
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(
        msg.error.message,
        'listMims failed: HTTP 403 Forbidden; the runtime refused the API key (401: missing or expired, 403: wrong): ' +
          "check the config node's key or key file",
      );
      assert.equal(msg.error.code, 'MCM_HTTP');
      assert.equal(msg.statusCode, 403);
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'key refused (HTTP 403)' });
    });

    it('an expired key (401) that the key file does not renew reaches Catch saying the key was refused', async () => {
      await loadActionFlow(field(), { type: 'mimoe-deploy' }, { tokenSource: 'file', keyFile });
      field().options.expiredTokens = [field().key];
      const seen = statuses('n1');
      const { kind, msg } = await run({ payload: { name: 'svc', image: 'db' } });
      assert.equal(kind, 'caught');
      assert.match(
        msg.error.message,
        /^deployMim failed: HTTP 401 Unauthorized; the runtime refused the API key \(401: missing or expired/,
      );
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'key refused (HTTP 401)' });
    });

    it('an expired key (401) is read again from the key file and the call repeated', async () => {
      await loadActionFlow(field(), { type: 'mimoe-list' }, { tokenSource: 'file', keyFile });
      assert.equal((await run({})).kind, 'sent');
      field().options.expiredTokens = [field().key];
      writeFileSync(keyFile, 'MCM_API_KEY=renewed-key\n');
      assert.equal((await run({})).kind, 'sent');
      assert.deepEqual(
        field()
          .requests('listMims')
          .map((e) => e.status),
        [200, 401, 200],
      );
    });
  });
});
