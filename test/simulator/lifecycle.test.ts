import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { api, rawRequest, sleep, startTestSimulator, uploadTar, waitFor } from '../support/simulator-helpers';
import { makeCertificate, TestCertificate } from '../support/tls';

describe('simulator log, counters, control endpoints and lifecycle', () => {
  describe('with a shared simulator', () => {
    let sim: McmSimulator;
    before(async () => {
      sim = await startTestSimulator();
    });
    after(() => sim.stop());
    beforeEach(() => sim.reset());

    it('logs every request in arrival order with what tests need', async () => {
      const before = Date.now();
      await api(sim, '/mcm/v1/mims?x=1', {
        method: 'POST',
        clientId: 'c1',
        body: { name: 'n', image: 'i' },
        headers: { 'X-Extra': 'yes' },
      });
      await api(sim, '/mcm/v1/unknown', { token: null });
      const [deploy, unknown] = sim.log;
      assert.equal(sim.log.length, 2);
      assert.equal(deploy.method, 'POST');
      assert.equal(deploy.url, '/mcm/v1/mims?x=1');
      assert.equal(deploy.route, 'deployMim');
      assert.equal(deploy.clientId, 'c1');
      assert.equal(deploy.status, 404);
      assert.deepEqual(deploy.body, { name: 'n', image: 'i' });
      assert.equal(deploy.headers['x-extra'], 'yes');
      assert.equal(deploy.headers['content-type'], 'application/json');
      assert.equal(deploy.headers.authorization, 'Bearer ***', 'the key is redacted');
      assert.ok(deploy.startedAt >= before && (deploy.endedAt ?? 0) >= deploy.startedAt);
      assert.equal(unknown.route, 'unknown');
      assert.equal(unknown.status, 403);
      assert.deepEqual(sim.requests('deployMim'), [deploy]);
      assert.deepEqual(sim.requests('listMims'), []);
    });

    it('counts requests in flight and the highest count', async () => {
      sim.setFault('listMims', { delayMs: 150 });
      assert.equal(sim.inFlight, 0);
      const pending = Array.from({ length: 5 }, () => rawRequest(sim, '/mcm/v1/mims'));
      await waitFor(() => sim.inFlight === 5);
      const results = await Promise.all(pending);
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, 200, 200, 200],
      );
      await waitFor(() => sim.inFlight === 0);
      assert.equal(sim.maxInFlight, 5);
      sim.resetStats();
      assert.equal(sim.maxInFlight, 0);
      assert.equal(sim.log.length, 0);
      sim.clearFaults();
      await api(sim, '/mcm/v1/mims');
      assert.equal(sim.maxInFlight, 1);
    });

    it('keeps at most logLimit entries, dropping the oldest', async () => {
      sim.options.logLimit = 10;
      try {
        for (let i = 0; i < 25; i++) await api(sim, `/mcm/v1/mims?i=${i}`);
        assert.ok(sim.log.length >= 10 && sim.log.length <= 11, `log has ${sim.log.length}`);
        assert.equal(sim.log[sim.log.length - 1].url, '/mcm/v1/mims?i=24');
      } finally {
        sim.options.logLimit = undefined;
      }
    });

    it('reset clears state, faults and log', async () => {
      await uploadTar(sim, buildImageTar({ name: 'img' }));
      sim.setFault('listImages', { status: 500 });
      sim.reset();
      assert.deepEqual(sim.images(), []);
      assert.equal(sim.log.length, 0);
      assert.equal((await api(sim, '/mcm/v1/images')).status, 200);
    });

    describe('control endpoints under /_simulator/', () => {
      const control = (path: string, init: Parameters<typeof api>[2] = {}) => api(sim, `/_simulator/${path}`, init);

      it('need the key (403 without it)', async () => {
        assert.equal((await control('stats', { token: null })).status, 403);
        assert.equal((await control('log', { token: 'wrong' })).status, 403);
      });

      it('set, list and clear faults', async () => {
        const set = await control('faults', { method: 'POST', body: { route: 'listMims', fault: { status: 503, times: 1 } } });
        assert.equal(set.status, 200);
        assert.deepEqual(set.json.data, [{ route: 'listMims', fault: { status: 503, times: 1 }, left: 1 }]);
        assert.equal((await api(sim, '/mcm/v1/mims')).status, 503);
        assert.equal((await api(sim, '/mcm/v1/mims')).status, 200);
        await control('faults', { method: 'POST', body: { route: 'listImages', fault: { status: 500 } } });
        assert.equal((await control('faults')).json.data.length, 1);
        assert.equal((await control('faults', { method: 'DELETE' })).status, 200);
        assert.equal((await api(sim, '/mcm/v1/images')).status, 200);
      });

      it('refuse a bad fault or route name with 400', async () => {
        const route = await control('faults', { method: 'POST', body: { route: 'nope', fault: {} } });
        assert.equal(route.status, 400);
        assert.match(route.json.error.message, /route/);
        const fault = await control('faults', { method: 'POST', body: { route: 'listMims', fault: { status: 'x' } } });
        assert.equal(fault.status, 400);
        assert.match(fault.json.error.message, /fault\.status/);
      });

      it('report stats and the log; control calls are logged as "control" and not counted in flight', async () => {
        sim.setFault('listMims', { delayMs: 100 });
        const slow = api(sim, '/mcm/v1/mims');
        await waitFor(() => sim.inFlight === 1);
        const stats = await control('stats');
        assert.equal(stats.status, 200);
        assert.equal(stats.json.inFlight, 1);
        assert.equal(stats.json.maxInFlight, 1);
        assert.equal(stats.json.requests, 1);
        await slow;
        const log = await control('log');
        assert.deepEqual(
          log.json.data.map((e: { route: string }) => e.route),
          ['listMims', 'control', 'control'],
        );
        const filtered = await control('log?route=listMims');
        assert.equal(filtered.json.data.length, 1);
        assert.equal(filtered.json.data[0].status, 200);
      });

      it('reset, show state, set options and rotate the key', async () => {
        await uploadTar(sim, buildImageTar({ name: 'img' }), { clientId: 'z' });
        assert.deepEqual(
          (await control('state')).json.images.map((i: { id: string }) => i.id),
          ['z-img'],
        );
        assert.equal((await control('reset', { method: 'POST' })).status, 200);
        assert.deepEqual(sim.images(), []);
        const options = await control('options', { method: 'POST', body: { startDelayMs: 50, asyncDataStore: { steps: 2 } } });
        assert.deepEqual(options.json, {
          startDelayMs: 50,
          asyncDataStore: { steps: 2 },
          profile: 'contract',
          expiredTokens: [],
          uploadAnswerDelayMs: 0,
        });
        assert.equal(sim.options.startDelayMs, 50);
        sim.options.startDelayMs = 0;
        sim.options.asyncDataStore = undefined;
        const old = sim.key;
        const rotated = await control('rotate-key', { method: 'POST', body: { key: 'rotated-over-http' } });
        assert.deepEqual(rotated.json, { key: 'rotated-over-http' });
        assert.equal((await api(sim, '/mcm/v1/mims', { token: old })).status, 403);
        sim.rotateKey(old);
      });
    });
  });

  describe('stop and restart', () => {
    it('restart keeps state, key and port; the port is closed while down', async () => {
      const sim = await startTestSimulator();
      try {
        await uploadTar(sim, buildImageTar({ name: 'keep-me' }));
        await api(sim, '/mcm/v1/mims', { method: 'POST', body: { name: 'm', image: 'keep-me' } });
        const { port, url, key } = sim;
        const restarting = sim.restart(150);
        await sleep(50);
        await assert.rejects(rawRequest(sim, '/mcm/v1/mims'), { code: 'ECONNREFUSED' });
        await restarting;
        assert.equal(sim.port, port);
        assert.equal(sim.url, url);
        assert.equal(sim.key, key);
        const list = await api(sim, '/mcm/v1/mims');
        assert.equal(list.status, 200);
        assert.deepEqual(
          list.json.data.map((m: { id: string }) => m.id),
          ['api-m'],
        );
        assert.equal(sim.images().length, 1);
      } finally {
        await sim.stop();
      }
    });

    it('stays down when stopped during a restart', async () => {
      const sim = await startTestSimulator();
      const restarting = sim.restart(100);
      await sleep(20);
      await sim.stop();
      await restarting;
      await assert.rejects(rawRequest(sim, '/mcm/v1/mims'), { code: 'ECONNREFUSED' });
    });

    it('stop is fast with a hung request, a delayed one and an idle keep-alive socket', async () => {
      const sim = await startTestSimulator();
      const agent = new http.Agent({ keepAlive: true });
      try {
        await new Promise<void>((resolve, reject) => {
          http
            .get(`${sim.url}/mcm/v1/mims`, { agent, headers: { authorization: `Bearer ${sim.key}` } }, (res) =>
              res.resume().on('end', resolve),
            )
            .on('error', reject);
        });
        sim.setFault('listMims', { hang: true });
        sim.setFault('listImages', { delayMs: 60_000 });
        const hung = rawRequest(sim, '/mcm/v1/mims').then(
          () => 'answered',
          () => 'broken',
        );
        const delayed = rawRequest(sim, '/mcm/v1/images').then(
          () => 'answered',
          () => 'broken',
        );
        await waitFor(() => sim.inFlight === 2);
        const t0 = Date.now();
        await sim.stop();
        const took = Date.now() - t0;
        assert.ok(took < 500, `stop took ${took} ms`);
        assert.deepEqual(await Promise.all([hung, delayed]), ['broken', 'broken']);
        await waitFor(() => sim.inFlight === 0);
        await sim.stop(); // a second stop is harmless
      } finally {
        agent.destroy();
        await sim.stop();
      }
    });
  });

  describe('https', () => {
    let certificate: TestCertificate;
    before(() => {
      certificate = makeCertificate();
    });

    it('serves https when given a key and certificate', async () => {
      const { key, cert } = certificate;
      const sim = await startTestSimulator({ tls: { key, cert } });
      try {
        assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const body = await new Promise<string>((resolve, reject) => {
          https
            .get(`${sim.url}/mcm/v1/mims`, { ca: cert, headers: { authorization: `Bearer ${sim.key}` } }, (res) => {
              let text = '';
              res.on('data', (c) => (text += c));
              res.on('end', () => resolve(`${res.statusCode} ${text}`));
            })
            .on('error', reject);
        });
        assert.equal(body, '200 {"data":[]}');
      } finally {
        await sim.stop();
      }
    });
  });
});
