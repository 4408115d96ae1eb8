import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmFleet, McmFleetDevice } from '../../src/simulator';
import { api, rawRequest, tempDir, uploadTar } from '../support/simulator-helpers';

const NODES = '/mimik-mesh/insight/v1/nodes';
const MIM_ENV = { 'MCM.BASE_API_PATH': '/hello/v1' };

const nodes = (d: McmFleetDevice, type = 'linkLocal') => api(d.sim, `${NODES}?type=${type}`, { token: '1234' });
const upload = (d: McmFleetDevice) => uploadTar(d.sim, buildImageTar({ name: 'hello-v1' }));
const deploy = (d: McmFleetDevice, name = 'hello') =>
  api(d.sim, '/mcm/v1/mims', { method: 'POST', body: { name, image: 'hello-v1', env: MIM_ENV } });
const health = (d: McmFleetDevice) => api(d.sim, '/api/hello/v1/healthz', { token: null });

describe('simulator fleet', () => {
  describe('a fleet of 5', () => {
    let fleet: McmFleet;
    before(async () => {
      // The modes are checked through the contract's answers (created objects in the bodies).
      fleet = await McmFleet.start({ size: 5, key: 'fleet-key', quiet: true, profile: 'contract' });
    });
    after(() => fleet.stop());
    afterEach(() => fleet.reset());

    it('runs device-01..device-05 on consecutive 127.0.0.1 ports, one key for all', async () => {
      assert.deepEqual(
        fleet.devices.map((d) => d.name),
        ['device-01', 'device-02', 'device-03', 'device-04', 'device-05'],
      );
      const first = fleet.devices[0].port;
      assert.deepEqual(
        fleet.urls,
        [0, 1, 2, 3, 4].map((i) => `http://127.0.0.1:${first + i}`),
      );
      assert.equal(fleet.key, 'fleet-key');
      for (const d of fleet.devices) {
        assert.equal(d.key, 'fleet-key');
        const res = await api(d.sim, '/mcm/v1/mims');
        assert.deepEqual([res.status, res.json], [200, { data: [] }], d.name);
      }
      assert.equal(fleet.device('device-03').url, fleet.urls[2]);
      assert.throws(() => fleet.device('device-6'), /no device named "device-6" in the fleet \(device-01\.\.device-05\)/);
    });

    it('keeps each device its own state', async () => {
      await upload(fleet.devices[1]);
      assert.equal((await deploy(fleet.devices[1])).status, 201);
      assert.deepEqual(
        fleet.devices.map((d) => d.sim.mims().length),
        [0, 1, 0, 0, 0],
      );
    });

    it('each device lists the others through Insight with their 127.0.0.1 URLs', async () => {
      const me = fleet.device('device-03');
      const others = fleet.devices.filter((d) => d !== me);
      for (const type of ['linkLocal', 'account', 'proximity']) {
        const res = await nodes(me, type);
        assert.equal(res.status, 200);
        assert.deepEqual(
          res.json.data.map((n: any) => [n.name, n.accountId, n.addresses]),
          others.map((d) => [d.name, 'simulated-account', [{ type: 'local', url: { href: d.url } }]]),
          type,
        );
      }
      const info = await api(me.sim, '/mimik-mesh/insight/v1/info', { token: '1234' });
      assert.equal(info.json.name, 'device-03');
      const ids = new Set([info.json.id, ...(await nodes(me)).json.data.map((n: any) => n.id)]);
      assert.equal(ids.size, 5, 'every device has its own id');
    });

    it('offline: connections are refused; back online on the same port with the same state', async () => {
      const d = fleet.device('device-02');
      await upload(d);
      await deploy(d);
      const { port, url } = d;
      await fleet.setMode('device-02', { offline: true });
      assert.deepEqual(d.mode, { offline: true });
      await assert.rejects(rawRequest(d.sim, '/mcm/v1/mims'), { code: 'ECONNREFUSED' });
      assert.ok(
        (await nodes(fleet.device('device-01'))).json.data.some((n: any) => n.name === 'device-02'),
        'discovery still lists it, as a cached registry does',
      );
      assert.equal((await api(fleet.device('device-03').sim, '/mcm/v1/mims')).status, 200, 'the others stay up');
      await fleet.setMode('device-02', { offline: false });
      assert.equal(d.port, port);
      assert.equal(d.url, url);
      const list = await api(d.sim, '/mcm/v1/mims');
      assert.deepEqual(
        list.json.data.map((m: any) => m.id),
        ['api-hello'],
      );
    });

    it('slowMs delays every MCM answer of that device only', async () => {
      await fleet.setMode('device-04', { slowMs: 300 });
      const timed = async (d: McmFleetDevice): Promise<number> => {
        const t0 = Date.now();
        assert.equal((await api(d.sim, '/mcm/v1/images')).status, 200);
        return Date.now() - t0;
      };
      assert.ok((await timed(fleet.device('device-04'))) >= 290);
      assert.ok((await timed(fleet.device('device-05'))) < 290);
      await fleet.setMode('device-04', { slowMs: 0 });
      assert.ok((await timed(fleet.device('device-04'))) < 290);
    });

    it('refuseDeploys fails deploys and compositions, not uploads; the status and message can be given', async () => {
      const d = fleet.device('device-01');
      await fleet.setMode(d.name, { refuseDeploys: true });
      assert.equal((await upload(d)).status, 201);
      const refused = await deploy(d);
      assert.equal(refused.status, 500);
      assert.match(refused.json.error.message, /refuses deploys/);
      const composition = await api(d.sim, '/mcm/v1/compositions', {
        method: 'POST',
        body: { mims: [{ name: 'c', image: 'hello-v1' }] },
      });
      assert.equal(composition.status, 500);
      await fleet.setMode(d.name, { refuseDeploys: { status: 507, message: 'disk full' } });
      assert.deepEqual((await deploy(d)).json, { error: { code: 507, message: 'disk full' } });
      assert.deepEqual(d.sim.mims(), []);
      const other = fleet.device('device-02');
      await upload(other);
      assert.equal((await deploy(other)).status, 201, 'the other devices deploy');
      await fleet.setMode(d.name, { refuseDeploys: false });
      assert.equal((await deploy(d)).status, 201);
    });

    it('neverStart keeps new mims "created" (their API answers 503); ending it restores the start delay', async () => {
      const d = fleet.device('device-05');
      d.sim.options.startDelayMs = 40;
      await upload(d);
      await fleet.setMode(d.name, { neverStart: true });
      assert.equal((await deploy(d, 'stuck')).json.state, 'created');
      await new Promise((ok) => setTimeout(ok, 80));
      assert.equal(d.sim.mims()[0].state, 'created');
      assert.equal((await health(d)).status, 503);
      await fleet.setMode(d.name, { neverStart: false });
      assert.equal(d.sim.options.startDelayMs, 40);
      d.sim.options.startDelayMs = undefined;
      assert.equal((await deploy(d, 'fresh')).json.state, 'started');
    });

    it('unhealthy: started mims answer 503 on their own API; MCM still works', async () => {
      const d = fleet.device('device-03');
      await upload(d);
      await deploy(d);
      assert.equal((await health(d)).status, 200);
      await fleet.setMode(d.name, { unhealthy: true });
      assert.equal((await health(d)).status, 503);
      assert.equal((await api(d.sim, '/mcm/v1/mims')).json.data[0].state, 'started');
    });

    it('setMode merges; clearModes and reset bring every device back', async () => {
      await fleet.setMode('device-01', { offline: true, slowMs: 50 });
      await fleet.setMode('device-01', { unhealthy: true });
      assert.deepEqual(fleet.device('device-01').mode, { offline: true, slowMs: 50, unhealthy: true });
      await fleet.setMode('device-01', { slowMs: 0 });
      assert.deepEqual(fleet.device('device-01').mode, { offline: true, unhealthy: true });
      await fleet.setMode('device-02', { refuseDeploys: true, neverStart: true });
      await upload(fleet.device('device-02'));
      await fleet.reset();
      for (const d of fleet.devices) {
        assert.deepEqual(d.mode, {});
        assert.deepEqual(d.sim.images(), []);
      }
      assert.equal((await api(fleet.device('device-01').sim, '/mcm/v1/mims')).status, 200);
      await upload(fleet.device('device-02'));
      assert.equal((await deploy(fleet.device('device-02'))).json.state, 'started');
    });

    it('refuses unknown modes and bad values with a clear error', async () => {
      await assert.rejects(fleet.setMode('device-01', { ofline: true } as any), /unknown device mode "ofline"/);
      await assert.rejects(fleet.setMode('device-01', { slowMs: -5 }), /slowMs must be/);
      await assert.rejects(fleet.setMode('device-01', { refuseDeploys: { status: 200 } }), /refuseDeploys.status/);
      await assert.rejects(fleet.setMode('nobody', { offline: true }), /no device named "nobody"/);
      assert.deepEqual(fleet.device('device-01').mode, {});
    });
  });

  it('per-device keys, by name or in order; the others take the shared key', async () => {
    const byName = await McmFleet.start({ size: 3, key: 'shared', keys: { 'device-02': 'own-key' } });
    const inOrder = await McmFleet.start({ size: 2, key: 'shared', keys: ['first-key'] });
    try {
      const [one, two, three] = byName.devices;
      assert.deepEqual([one.key, two.key, three.key], ['shared', 'own-key', 'shared']);
      assert.equal((await api(two.sim, '/mcm/v1/mims', { token: 'shared' })).status, 403);
      assert.equal((await api(two.sim, '/mcm/v1/mims', { token: 'own-key' })).status, 200);
      assert.equal((await api(three.sim, '/mcm/v1/mims', { token: 'shared' })).status, 200);
      assert.deepEqual(
        inOrder.devices.map((d) => d.key),
        ['first-key', 'shared'],
      );
    } finally {
      await Promise.all([byName.stop(), inOrder.stop()]);
    }
  });

  it('writes a generated shared key to keyFile; takes insightToken, accountId and namePrefix', async () => {
    const keyFile = join(tempDir(), 'mimoe-api-key.env');
    const fleet = await McmFleet.start({ size: 2, keyFile, insightToken: 'mesh-token', accountId: 'acct-7', namePrefix: 'kiosk-' });
    try {
      assert.ok(readFileSync(keyFile, 'utf8').includes(`MCM_API_KEY=${fleet.key}\n`));
      assert.ok(fleet.key.length >= 20);
      assert.equal((await api(fleet.devices[1].sim, '/mcm/v1/mims', { token: fleet.key })).status, 200);
      const [first, second] = fleet.devices;
      assert.equal((await nodes(first)).status, 403, "the default token is not this fleet's");
      const listed = await api(first.sim, `${NODES}?type=account`, { token: 'mesh-token' });
      assert.deepEqual(
        listed.json.data.map((n: any) => [n.name, n.accountId, n.addresses[0].url.href]),
        [['kiosk-02', 'acct-7', second.url]],
      );
    } finally {
      await fleet.stop();
    }
  });

  it('basePort: devices take basePort.. in order; a taken port fails the start and leaves nothing listening', async () => {
    const probe = await McmFleet.start({ size: 4 });
    const base = probe.devices[0].port;
    await probe.stop();
    const fleet = await McmFleet.start({ size: 4, basePort: base });
    assert.deepEqual(
      fleet.devices.map((d) => d.port),
      [base, base + 1, base + 2, base + 3],
    );
    await fleet.stop();
    const blocker = http.createServer();
    await new Promise<void>((ok) => blocker.listen(base + 2, '127.0.0.1', ok));
    try {
      await assert.rejects(McmFleet.start({ size: 4, basePort: base }), new RegExp(`ports ${base}\\.\\.${base + 3}: .*EADDRINUSE`));
      await assert.rejects(fetch(`http://127.0.0.1:${base}/mcm/v1/mims`), 'the devices that did start were stopped');
    } finally {
      blocker.close();
    }
  });

  it('rejects a bad size or base port', async () => {
    await assert.rejects(McmFleet.start({ size: 0 }), /fleet size must be a whole number from 1 to 1000 \(got 0\)/);
    await assert.rejects(McmFleet.start({ size: 2.5 }), /fleet size/);
    await assert.rejects(McmFleet.start({ size: 10, basePort: 65530 }), /basePort must leave room for 10 ports/);
  });

  it('names 100 devices device-001..device-100, each listing the other 99', async () => {
    const fleet = await McmFleet.start({ size: 100 });
    try {
      assert.equal(fleet.devices[0].name, 'device-001');
      assert.equal(fleet.devices[99].name, 'device-100');
      assert.equal(fleet.devices[99].port, fleet.devices[0].port + 99);
      const listed = (await nodes(fleet.device('device-050'))).json.data;
      assert.equal(listed.length, 99);
      assert.ok(!listed.some((n: any) => n.name === 'device-050'));
      assert.equal(listed[98].addresses[0].url.href, fleet.urls[99]);
    } finally {
      await fleet.stop();
    }
  });
});
