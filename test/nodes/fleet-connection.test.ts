/**
 * mimoe-fleet's connection settings in real flows, as mimoe-config has them: a fleet of https
 * runtimes reached with a tls-config CA or with accept self-signed (and refused without either),
 * discovery and a rollout through a core http proxy node to devices named by made-up host names,
 * and the slow-link limits on every member's upload. All over HTTP(S) on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import type { RolloutResult } from '../../src/mcm/models';
import { McmFleet, McmFleetDevice, McmSimulator } from '../../src/simulator';
import { CORE, helper, loadFlow, run } from '../support/nodes';
import { RecordingProxy } from '../support/proxy';
import { ThrottlingRelay } from '../support/relay';
import { makeCertificate, TestCertificate } from '../support/tls';

const HTTP_PROXY = 'network/06-httpproxy.js';
const HELLO_ENV = [{ key: 'MCM.BASE_API_PATH', value: '/hello/v1' }];

type Result = RolloutResult<Record<string, any>>;

/** A deploy of hello with a health check, on every member the fleet node `fleet` has. */
const deployNode = (extra: Record<string, unknown> = {}) => ({
  id: 'n1',
  type: 'mimoe-rollout',
  fleet: 'fleet',
  operation: 'deploy',
  mimName: 'hello',
  image: 'hello-v1',
  env: HELLO_ENV,
  canary: 1,
  parallel: 4,
  maxFailures: 0,
  healthCheck: true,
  healthPath: '/',
  healthTimeout: 5,
  wires: [['out']],
  ...extra,
});

const catchNodes = [
  { id: 'out', type: 'helper' },
  { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper' },
];

/** What a device saw of MCM, Insight and its mims' APIs (the simulator's own controls left out). */
const touched = (device: McmFleetDevice) => device.sim.requests().filter((r) => r.route !== 'control');

/** Every text the flow logged, as one string. */
const logged = () => JSON.stringify(helper.log().args);

async function uploadHello(fleet: McmFleet, ca?: Buffer): Promise<void> {
  await Promise.all(
    fleet.devices.map(async (device) => {
      const client = new McmClient({ url: device.url, token: device.key, tls: ca ? { ca } : undefined });
      await client.uploadImage(buildImageTar({ name: 'hello-v1', paddingBytes: 0 }));
      client.close();
      device.sim.resetStats();
    }),
  );
}

describe('mimoe-fleet connection settings', function () {
  this.timeout(60_000);

  afterEach(async () => {
    await helper.unload();
  });

  describe('a fleet of https runtimes', () => {
    let cert: TestCertificate;
    let fleet: McmFleet;

    before(async () => {
      cert = makeCertificate();
      fleet = await McmFleet.start({ size: 3, quiet: true, tls: { key: cert.key, cert: cert.cert } });
    });
    after(async () => {
      await fleet.stop();
    });
    beforeEach(async () => {
      await fleet.reset();
      await uploadHello(fleet, cert.cert);
    });

    const caNode = () => ({ id: 'ca', type: 'tls-config', cert: '', key: '', ca: cert.certFile, verifyservercert: true });
    const fleetNode = (extra: Record<string, unknown>) => ({
      id: 'fleet',
      type: 'mimoe-fleet',
      discover: true,
      seedUrl: fleet.urls[0],
      includeSeed: true,
      timeout: 5,
      ...extra,
    });
    const load = (fleetExtra: Record<string, unknown>, rolloutExtra: Record<string, unknown> = {}) =>
      loadFlow([caNode(), fleetNode(fleetExtra), deployNode(rolloutExtra), ...catchNodes], { fleet: { token: fleet.key } }, [CORE.tls]);

    /** Discovery, the deploy and the health check reached every device. */
    function assertRolledOutEverywhere(result: Result): void {
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.url, d.ok]),
        fleet.devices.map((d) => [d.name, d.url, true]),
      );
      assert.equal(fleet.devices[0].sim.requests('insightNodes').length, 1, 'discovered through the seed');
      for (const device of fleet.devices) {
        assert.deepEqual(
          device.sim.mims().map((m) => m.id),
          ['api-hello'],
          device.name,
        );
        assert.ok(device.sim.requests('mimApi').length >= 1, `${device.name} was health-checked`);
      }
    }

    it('reaches them with the CA of a tls-config node: discovery, deploys and health checks', async () => {
      assert.ok(fleet.urls.every((url) => url.startsWith('https://127.0.0.1:')));
      await load({ tls: 'ca' });
      const { kind, msg } = await run({}, 30_000);
      assert.equal(kind, 'sent', msg.error?.message);
      assertRolledOutEverywhere(msg.payload as Result);
      assert.doesNotMatch(logged(), /verification is OFF/);
    });

    it('reaches them with accept self-signed, and warns of it once in the log', async () => {
      await load({ insecure: true });
      const { kind, msg } = await run({}, 30_000);
      assert.equal(kind, 'sent', msg.error?.message);
      assertRolledOutEverywhere(msg.payload as Result);
      const warnings = helper
        .log()
        .args.filter((args: unknown[]) =>
          /TLS certificate verification is OFF for the https members and the seed of this fleet/.test(JSON.stringify(args)),
        );
      assert.equal(warnings.length, 1, 'one warning for the fleet, none per member');
    });

    it('refuses them without either: discovery fails on the seed, a rollout names each device', async () => {
      await load({});
      const discovery = await run({}, 30_000);
      assert.equal(discovery.kind, 'caught');
      assert.match(
        discovery.msg.error.message,
        new RegExp(
          `^discoverMembers failed: TLS problem with the mimOE runtime \\(DEPTH_ZERO_SELF_SIGNED_CERT ${fleet.urls[0].slice(8)}\\)`,
        ),
      );
      await helper.unload();

      const listed = fleet.devices.map((d) => ({ name: d.name, url: d.url }));
      await load({ discover: false, members: listed }, { maxFailures: 3, canary: 0 });
      const { kind, msg } = await run({}, 30_000);
      assert.equal(kind, 'sent');
      const result = msg.payload as Result;
      assert.deepEqual([result.succeeded, result.failed], [0, 3]);
      for (const [i, device] of result.devices.entries()) {
        assert.equal(device.device, fleet.devices[i].name);
        assert.equal(device.code, 'MCM_TLS');
        assert.equal(
          device.error,
          `deployMim failed: TLS problem with the mimOE runtime (DEPTH_ZERO_SELF_SIGNED_CERT ${fleet.devices[i].url.slice(8)}); check the certificate or the TLS settings`,
        );
      }
      for (const device of fleet.devices) assert.deepEqual(touched(device), [], `no request reached ${device.name}`);
    });
  });

  describe('through a core http proxy node', () => {
    const AUTHORIZATION = `Basic ${Buffer.from('fleet-user:fleet-pass').toString('base64')}`;
    let fleet: McmFleet;
    /** A runtime whose Insight lists the fleet's devices by made-up host names, which only the proxy knows. */
    let seed: McmSimulator;
    let proxy: RecordingProxy;
    const host = (device: McmFleetDevice) => `${device.name}.fleet.test:${device.port}`;

    before(async () => {
      fleet = await McmFleet.start({ size: 3, quiet: true });
      seed = await McmSimulator.start({
        quiet: true,
        insightPeers: () =>
          fleet.devices.map((device) => ({
            ...device.sim.insightNode(),
            addresses: [{ type: 'local', url: { href: `http://${host(device)}` } }],
          })),
      });
      const routes = Object.fromEntries(fleet.devices.map((device) => [host(device), device.port]));
      proxy = await RecordingProxy.start({ ...routes, [`seed.fleet.test:${seed.port}`]: seed.port }, AUTHORIZATION);
      await uploadHello(fleet);
    });
    after(async () => {
      await proxy.stop();
      await seed.stop();
      await fleet.stop();
    });

    const flow = (fleetExtra: Record<string, unknown> = {}) => [
      { id: 'p1', type: 'http proxy', url: proxy.url, noproxy: [] },
      {
        id: 'fleet',
        type: 'mimoe-fleet',
        discover: true,
        seedUrl: `http://seed.fleet.test:${seed.port}`,
        includeSeed: false,
        proxy: 'p1',
        timeout: 5,
        ...fleetExtra,
      },
      deployNode(),
      ...catchNodes,
    ];
    const credentials = () => ({ fleet: { token: fleet.key }, p1: { username: 'fleet-user', password: 'fleet-pass' } });

    it('carries discovery, every deploy and every health check to devices named by host name', async () => {
      await loadFlow(flow(), credentials(), [HTTP_PROXY]);
      const { kind, msg } = await run({}, 30_000);
      assert.equal(kind, 'sent', msg.error?.message);
      const result = msg.payload as Result;
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.url, d.ok]),
        fleet.devices.map((d) => [d.name, `http://${host(d)}`, true]),
      );
      assert.equal(proxy.seen[0].target, `http://seed.fleet.test:${seed.port}/mimik-mesh/insight/v1/nodes?type=linkLocal`);
      assert.ok(
        proxy.seen.every((r) => r.headers['proxy-authorization'] === AUTHORIZATION),
        'the proxy node’s credentials on every request',
      );
      for (const device of fleet.devices) {
        const proxied = proxy.seen.filter((r) => r.target.startsWith(`http://${host(device)}/`));
        assert.ok(
          proxied.some((r) => r.method === 'POST' && r.target.endsWith('/mcm/v1/mims')),
          `${device.name}: the deploy went through the proxy`,
        );
        assert.ok(
          proxied.some((r) => r.target === `http://${host(device)}/api/hello/v1/`),
          `${device.name}: the health check went through the proxy`,
        );
        assert.equal(proxied.length, touched(device).length, `${device.name}: every request it got came through the proxy`);
        assert.deepEqual(
          device.sim.mims().map((m) => m.id),
          ['api-hello'],
        );
      }
    });

    it('a fleet whose proxy node is gone cannot be used, and sends nothing', async () => {
      proxy.seen.length = 0;
      await loadFlow(flow({ proxy: 'gone' }), credentials(), [HTTP_PROXY]);
      const { kind, msg } = await run({}, 30_000);
      assert.equal(kind, 'caught');
      assert.equal(msg.error.message, 'the mimOE fleet cannot be used: the proxy chosen under Proxy is missing or has no URL');
      assert.deepEqual(proxy.seen, []);
    });
  });

  describe('slow links', () => {
    let fleet: McmFleet;
    let relay: ThrottlingRelay;

    before(async () => {
      fleet = await McmFleet.start({ size: 3, quiet: true });
    });
    after(async () => {
      await fleet.stop();
    });
    afterEach(async () => {
      fleet.device('device-02').sim.options.uploadAnswerDelayMs = undefined;
      await relay?.stop();
    });

    it('every member’s upload keeps the fleet’s low-speed limit and answer wait: a stalled link and a late answer fail their devices alone', async () => {
      // device-01 over a link that stops after half a second; device-02 answers uploads late.
      relay = await ThrottlingRelay.start(fleet.devices[0].port, { up: 2 * 1024 * 1024 });
      fleet.device('device-02').sim.options.uploadAnswerDelayMs = 5000;
      const members = [
        { name: 'device-01', url: relay.url },
        { name: 'device-02', url: fleet.devices[1].url },
        { name: 'device-03', url: fleet.devices[2].url },
      ];
      await loadFlow(
        [
          {
            id: 'fleet',
            type: 'mimoe-fleet',
            members,
            discover: false,
            timeout: 0.3,
            answerTimeout: 1,
            lowSpeedBytes: 1024,
            lowSpeedWindow: 1.6,
          },
          {
            id: 'n1',
            type: 'mimoe-rollout',
            fleet: 'fleet',
            operation: 'upload',
            canary: 0,
            parallel: 3,
            maxFailures: 2,
            wires: [['out']],
          },
          ...catchNodes,
        ],
        { fleet: { token: fleet.key } },
      );
      setTimeout(() => (relay.rates.up = 0), 500);
      const started = Date.now();
      const { kind, msg } = await run({ payload: buildImageTar({ name: 'weak-link', paddingBytes: 12 * 1024 * 1024 }) }, 30_000);
      assert.equal(kind, 'sent', msg.error?.message);
      const result = msg.payload as Result;
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.error]),
        [
          ['device-01', false, 'uploadImage failed: timed out (the upload stalled: fewer than 1024 bytes sent in 1.6 s)'],
          ['device-02', false, "uploadImage failed: timed out (no answer 1 s after the upload's last byte)"],
          ['device-03', true, undefined],
        ],
      );
      assert.ok(Date.now() - started < 500 + 1600 + 200 + 3000, `ended after ${Date.now() - started} ms`);
    });
  });
});
