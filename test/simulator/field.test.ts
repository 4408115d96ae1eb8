/**
 * The field profile: every rule of profile.ts that differs from the contract, each checked on
 * the wire (a test fails when its rule is missing, because the contract answers otherwise).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmFleet, McmSimulator, startSimulator } from '../../src/simulator';
import { api, multipartBody, rawRequest, sleep, socketExchange, startTestSimulator, uploadTar } from '../support/simulator-helpers';

describe('simulator field profile', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator({ profile: 'field', tokens: { 'jwt-of-team-a': 'team-a' } });
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.reset();
    sim.options.asyncDataStore = undefined;
    sim.options.expiredTokens = undefined;
  });

  const deploy = (body: unknown) => api(sim, '/mcm/v1/mims', { method: 'POST', body });
  const withImage = async (name = 'hello-v1'): Promise<void> => {
    assert.equal((await uploadTar(sim, buildImageTar({ name }))).status, 200);
  };

  describe('auth', () => {
    it('a wrong key: 403 {"error":{"code":403,"message":"Forbidden"}}', async () => {
      for (const token of ['wrong-key', `${sim.key}x`]) {
        const res = await api(sim, '/mcm/v1/mims', { token });
        assert.equal(res.status, 403);
        assert.deepEqual(res.json, { error: { code: 403, message: 'Forbidden' } });
      }
    });

    it('a missing key (no header, another scheme, an empty Bearer): 401 Unauthorized', async () => {
      const cases: Array<Record<string, string> | undefined> = [
        undefined,
        { authorization: `Basic ${sim.key}` },
        { authorization: 'Bearer' },
      ];
      for (const headers of cases) {
        const res = await api(sim, '/mcm/v1/images', { token: null, headers });
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.deepEqual(res.json, { error: { code: 401, message: 'Unauthorized' } });
      }
      assert.ok(sim.requests().every((e) => e.clientId === ''));
    });

    it('an expired token (listed in expiredTokens): 401 Unauthorized, also for the key itself', async () => {
      assert.equal((await api(sim, '/mcm/v1/mims', { token: 'jwt-of-team-a' })).status, 200);
      sim.options.expiredTokens = ['jwt-of-team-a'];
      const expired = await api(sim, '/mcm/v1/mims', { token: 'jwt-of-team-a' });
      assert.equal(expired.status, 401);
      assert.deepEqual(expired.json, { error: { code: 401, message: 'Unauthorized' } });
      assert.equal((await api(sim, '/mcm/v1/mims')).status, 200, 'the key still works');
      sim.options.expiredTokens = [sim.key];
      assert.equal((await api(sim, '/mcm/v1/mims')).status, 401);
    });

    it('the contract profile refuses an expired token with 403', async () => {
      const contract = await startTestSimulator({ expiredTokens: ['t'], tokens: { t: 'c' } });
      try {
        const res = await api(contract, '/mcm/v1/mims', { token: 't' });
        assert.equal(res.status, 403);
        assert.match(res.json.error.message, /expired/);
      } finally {
        await contract.stop();
      }
    });
  });

  describe('paths where nothing is mounted', () => {
    const unmounted = [
      '/mcm/v1/mcm/v1/mims',
      '/foo',
      '/',
      '/mcm/v1',
      '/mcm/v1/nothing',
      '/mcm/v1/mims/a/b/c',
      '/mcm/v2/mims',
      '/api/mcm/v1/mims',
    ];

    it('answer 503 with an empty body, with or without a key', async () => {
      for (const path of unmounted) {
        for (const token of [undefined, null, 'wrong']) {
          const res = await api(sim, path, { token });
          assert.equal(res.status, 503, `${path} ${token}`);
          assert.equal(res.text, '', path);
          assert.equal(res.headers.get('content-length'), '0');
        }
      }
      assert.ok(sim.requests().every((e) => e.route === 'unknown' && e.status === 503));
    });

    it('but a mounted path with a wrong method is a 405 once the key is checked, and the controls still work', async () => {
      const wrong = await api(sim, '/mcm/v1/mims', { method: 'PUT', body: {} });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get('allow'), 'GET, POST');
      assert.equal((await api(sim, '/mcm/v1/mims', { method: 'PUT', token: null })).status, 401);
      const stats = await api(sim, '/_simulator/stats');
      assert.equal(stats.status, 200);
      assert.equal(stats.json.requests, 2);
      assert.equal((await api(sim, '/_simulator/nothing')).status, 404, 'control paths keep their own answers');
    });
  });

  describe('wire shapes', () => {
    it('mims carry env as "KEY=VALUE" strings (list and remove); the library API keeps the object', async () => {
      await withImage();
      const env = { 'MCM.BASE_API_PATH': '/hello/v1', DEBUG: 'a=b' };
      assert.equal((await deploy({ name: 'hello', image: 'hello-v1', env })).status, 200);
      const [listed] = (await api(sim, '/mcm/v1/mims')).json.data;
      assert.deepEqual(listed.env, ['MCM.BASE_API_PATH=/hello/v1', 'DEBUG=a=b']);
      assert.deepEqual(sim.mims()[0].env, env);
      const removed = await api(sim, '/mcm/v1/mims/api-hello', { method: 'DELETE' });
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.json.env, ['MCM.BASE_API_PATH=/hello/v1', 'DEBUG=a=b']);
    });

    it('created is numeric epoch seconds for mims and images', async () => {
      const before = Math.floor(Date.now() / 1000);
      await withImage();
      await deploy({ name: 'hello', image: 'hello-v1' });
      const after = Math.ceil(Date.now() / 1000);
      const [image] = (await api(sim, '/mcm/v1/images')).json.data;
      const [mim] = (await api(sim, '/mcm/v1/mims')).json.data;
      for (const created of [image.created, mim.created]) {
        assert.equal(typeof created, 'number');
        assert.ok(Number.isInteger(created) && created >= before && created <= after, String(created));
      }
      await api(sim, '/mcm/v1/mims/api-hello', { method: 'DELETE' });
      assert.equal(typeof (await api(sim, '/mcm/v1/images/api-hello-v1', { method: 'DELETE' })).json.created, 'number');
    });
  });

  describe('creates', () => {
    it('upload, deploy and composition answer 200 with an empty body, and still create', async () => {
      const upload = await uploadTar(sim, buildImageTar({ name: 'hello-v1' }));
      const mim = await deploy({ name: 'one', image: 'hello-v1' });
      const composition = await api(sim, '/mcm/v1/compositions', {
        method: 'POST',
        body: {
          mims: [
            { name: 'two', image: 'hello-v1' },
            { name: 'three', image: 'hello-v1' },
          ],
        },
      });
      for (const res of [upload, mim, composition]) {
        assert.equal(res.status, 200);
        assert.equal(res.text, '');
        assert.equal(res.headers.get('content-length'), '0');
        assert.equal(res.headers.get('content-type'), null);
      }
      assert.deepEqual(
        sim.images().map((i) => i.id),
        ['api-hello-v1'],
      );
      assert.deepEqual(
        sim.mims().map((m) => m.id),
        ['api-one', 'api-two', 'api-three'],
      );
    });

    it('a taken mim name: 400 (not 409) with the runtime-like text, in a deploy and in a composition', async () => {
      await withImage();
      await deploy({ name: 'hello', image: 'hello-v1' });
      const taken = await deploy({ name: 'hello', image: 'hello-v1' });
      assert.equal(taken.status, 400);
      assert.deepEqual(taken.json, { error: { code: 400, message: 'mim with name hello already exists' } });
      for (const mims of [
        [
          { name: 'other', image: 'hello-v1' },
          { name: 'hello', image: 'hello-v1' },
        ],
        [
          { name: 'twice', image: 'hello-v1' },
          { name: 'twice', image: 'hello-v1' },
        ],
      ]) {
        const res = await api(sim, '/mcm/v1/compositions', { method: 'POST', body: { mims } });
        assert.equal(res.status, 400, res.text);
        assert.match(res.json.error.message, /^mim with name (hello|twice) already exists$/);
      }
      assert.deepEqual(
        sim.mims().map((m) => m.name),
        ['hello'],
      );
    });

    it('an unknown image: 400 "cannot find image with name <name>", in a deploy and in a composition', async () => {
      const res = await deploy({ name: 'x', image: 'nope-v1' });
      assert.equal(res.status, 400);
      assert.deepEqual(res.json, { error: { code: 400, message: 'cannot find image with name nope-v1' } });
      const composition = await api(sim, '/mcm/v1/compositions', { method: 'POST', body: [{ name: 'y', image: 'gone-v2' }] });
      assert.equal(composition.status, 400);
      assert.match(composition.text, /cannot find image with name gone-v2/);
      assert.deepEqual(sim.mims(), []);
    });
  });

  describe('images', () => {
    it('deletes by id only: a bare name is 404', async () => {
      await withImage('img-a');
      const byName = await api(sim, '/mcm/v1/images/img-a', { method: 'DELETE' });
      assert.equal(byName.status, 404);
      assert.equal(sim.images().length, 1);
      const byId = await api(sim, '/mcm/v1/images/api-img-a', { method: 'DELETE' });
      assert.equal(byId.status, 200);
      assert.equal(byId.json.id, 'api-img-a');
      assert.deepEqual(sim.images(), []);
    });

    it('a chunked upload (no Content-Length): 411 and nothing stored; with a Content-Length it is taken', async () => {
      const form = multipartBody([{ name: 'image', data: buildImageTar({ name: 'chunky', paddingBytes: 200_000 }) }]);
      const chunks = [form.body.subarray(0, 70_000), form.body.subarray(70_000)];
      const res = await rawRequest(sim, '/mcm/v1/images', { method: 'POST', headers: { 'content-type': form.contentType }, body: chunks });
      assert.equal(res.status, 411);
      assert.deepEqual(JSON.parse(res.text), { error: { code: 411, message: 'Length Required' } });
      const [entry] = sim.requests('uploadImage');
      assert.equal(entry.headers['transfer-encoding'], 'chunked');
      assert.deepEqual(sim.images(), []);
      // the same upload with a Content-Length is taken
      assert.equal(
        (await rawRequest(sim, '/mcm/v1/images', { method: 'POST', headers: { 'content-type': form.contentType }, body: form.body }))
          .status,
        200,
      );
      assert.equal(sim.images().length, 1);
    });

    it('Expect: 100-continue on an upload: 400 "no image received" at once, never 100 Continue', async () => {
      const form = multipartBody([{ name: 'image', data: buildImageTar({ name: 'expect' }) }]);
      const head =
        `POST /mcm/v1/images HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${sim.key}\r\n` +
        `Content-Type: ${form.contentType}\r\nContent-Length: ${form.body.length}\r\nExpect: 100-continue\r\n\r\n`;
      const exchange = socketExchange(sim, head);
      await exchange.closed;
      const answer = exchange.text();
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.doesNotMatch(answer, /100 Continue/i);
      assert.ok(answer.endsWith('{"error":{"code":400,"message":"no image received"}}'), answer);
      assert.deepEqual(sim.images(), []);
    });

    it('Expect: 100-continue on another route is not refused: the body is read when it comes', async () => {
      await withImage();
      const body = JSON.stringify({ name: 'hello', image: 'hello-v1' });
      const exchange = socketExchange(
        sim,
        `POST /mcm/v1/mims HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${sim.key}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
      await sleep(100);
      assert.equal(exchange.text(), '', 'nothing before the body (no 100 Continue)');
      exchange.socket.write(body);
      await exchange.closed;
      assert.match(exchange.text(), /^HTTP\/1\.1 200 /);
      assert.equal(sim.mims().length, 1);
    });
  });

  describe('data store', () => {
    beforeEach(async () => {
      await withImage();
      await deploy({ name: 'db', image: 'hello-v1' });
    });
    const post = (body: unknown) => api(sim, '/mcm/v1/mims/api-db/dataStore', { method: 'POST', body });

    it('has no follow-up: a GET on .../dataStore is 405 (Allow: POST), also after an operation', async () => {
      assert.equal((await post({ action: 'backup', path: '/data/b' })).json.status, 'completed');
      const follow = await api(sim, '/mcm/v1/mims/api-db/dataStore');
      assert.equal(follow.status, 405);
      assert.equal(follow.headers.get('allow'), 'POST');
      assert.equal(sim.requests('dataStoreStatus').length, 0);
    });

    it('async mode: the POST answers inProgress at 0 %, and the work is done (a restore from it completes)', async () => {
      sim.options.asyncDataStore = true;
      const backup = await post({ action: 'backup', path: '/data/b' });
      assert.equal(backup.status, 200);
      assert.deepEqual(backup.json, {
        action: 'backup',
        status: 'inProgress',
        message: 'backup in progress',
        path: '/data/b',
        percentage: 0,
      });
      sim.options.asyncDataStore = undefined;
      const restore = await post({ action: 'restore', path: '/data/b' });
      assert.equal(restore.json.status, 'completed');
      assert.match(restore.json.message, /backup #1/);
    });
  });

  describe('profile selection', () => {
    it('switches at run time through the options control; an unknown profile is refused', async () => {
      const s = await startTestSimulator();
      try {
        assert.equal((await api(s, '/foo')).status, 404);
        const set = await api(s, '/_simulator/options', { method: 'POST', body: { profile: 'field' } });
        assert.equal(set.json.profile, 'field');
        assert.equal((await api(s, '/foo')).status, 503);
        const bad = await api(s, '/_simulator/options', { method: 'POST', body: { profile: 'studio' } });
        assert.equal(bad.status, 400);
        assert.equal(s.options.profile, 'field');
        await api(s, '/_simulator/options', { method: 'POST', body: { profile: 'contract' } });
        assert.equal((await api(s, '/foo')).status, 404);
      } finally {
        await s.stop();
      }
    });

    describe('MCM_SIMULATOR_PROFILE', () => {
      const before = process.env.MCM_SIMULATOR_PROFILE;
      afterEach(() => {
        if (before === undefined) delete process.env.MCM_SIMULATOR_PROFILE;
        else process.env.MCM_SIMULATOR_PROFILE = before;
      });

      it('names the profile of a simulator or fleet started without one; an explicit profile wins', async () => {
        process.env.MCM_SIMULATOR_PROFILE = 'field';
        const sims = [await startSimulator({ quiet: true }), await startSimulator({ quiet: true, profile: 'contract' })];
        const fleet = await McmFleet.start({ size: 2, quiet: true });
        try {
          assert.deepEqual(
            [...sims, ...fleet.devices.map((d) => d.sim)].map((s) => s.options.profile),
            ['field', 'contract', 'field', 'field'],
          );
          assert.equal((await api(sims[0], '/foo')).status, 503, 'the field rules answer');
          assert.equal((await api(sims[1], '/foo')).status, 404);
          delete process.env.MCM_SIMULATOR_PROFILE;
          const plain = await startSimulator({ quiet: true });
          await plain.stop();
          assert.equal(plain.options.profile, 'contract', 'the contract without the variable');
        } finally {
          await Promise.all([...sims.map((s) => s.stop()), fleet.stop()]);
        }
      });

      it('an unknown name is refused with the names it can be', async () => {
        process.env.MCM_SIMULATOR_PROFILE = 'studio';
        await assert.rejects(startSimulator({ quiet: true }), /MCM_SIMULATOR_PROFILE is one of contract, field \(got "studio"\)/);
        const pinned = await startSimulator({ quiet: true, profile: 'field' });
        await pinned.stop();
        assert.equal(pinned.options.profile, 'field', 'a profile given is not looked up in the environment');
      });
    });

    it('start() refuses an unknown profile', async () => {
      await assert.rejects(startSimulator({ profile: 'studio' as 'field', quiet: true }), /unknown simulator profile "studio"/);
    });
  });
});

describe('simulator upload answer delay (any profile)', () => {
  for (const profile of ['contract', 'field'] as const) {
    it(`${profile}: answers uploadAnswerDelayMs after the last byte, storing the image only then`, async () => {
      const sim = await startTestSimulator({ profile, uploadAnswerDelayMs: 400 });
      try {
        const form = multipartBody([{ name: 'image', data: buildImageTar({ name: 'slow-v1' }) }]);
        let lastByteAt = 0;
        const answered = new Promise<{ status: number; at: number }>((resolve, reject) => {
          const req = http.request(`${sim.url}/mcm/v1/images`, {
            method: 'POST',
            agent: false,
            headers: { authorization: `Bearer ${sim.key}`, 'content-type': form.contentType, 'content-length': String(form.body.length) },
          });
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, at: Date.now() }));
          });
          req.on('error', reject);
          req.end(form.body, () => (lastByteAt = Date.now()));
        });
        await sleep(150);
        assert.deepEqual(sim.images(), [], 'not stored while the runtime is still busy');
        const { status, at } = await answered;
        assert.equal(status, profile === 'field' ? 200 : 201);
        assert.ok(at - lastByteAt >= 380, `answered ${at - lastByteAt} ms after the last byte`);
        assert.equal(sim.images().length, 1);
        // without the delay the same upload is answered at once
        sim.options.uploadAnswerDelayMs = 0;
        const t0 = Date.now();
        await uploadTar(sim, buildImageTar({ name: 'fast-v1' }));
        assert.ok(Date.now() - t0 < 300);
      } finally {
        await sim.stop();
      }
    });
  }
});
