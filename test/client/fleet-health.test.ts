/**
 * A rollout's health check against two simulators on 127.0.0.1 (the contract's profile), whose
 * started mims serve their own API at /<clientId><MCM.BASE_API_PATH>: which paths are asked and
 * how, retries until a mim answers 2xx, what a failed check says, and an abort during a check.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { McmClient } from '../../src/mcm/client';
import { FleetError, HealthCheck } from '../../src/mcm/fleet';
import { MimSpec } from '../../src/mcm/models';
import { Exchange } from '../../src/mcm/transport';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { useSimulatedFleet } from '../support/fleet-fixture';
import { waitFor } from '../support/simulator-helpers';

const NAMES = ['dev-1', 'dev-2'];
const API = { 'MCM.BASE_API_PATH': '/hello/v1' };
/** Quick checks: the simulated mims answer at once. */
const QUICK: HealthCheck = { path: '/healthcheck', timeoutMs: 3000, intervalMs: 20 };
/**
 * Checks that fail: short, with pauses long enough that the last try is not cut short by the
 * check's end (its failure is then the mim's answer, not a time-out).
 */
const FAILING: HealthCheck = { path: '/healthcheck', timeoutMs: 300, intervalMs: 100 };

describe('FleetClient health checks', function () {
  this.timeout(20_000);
  const { sims, fleet } = useSimulatedFleet(NAMES, { keyPrefix: 'key-of-dev', images: ['hello-v1'], profile: 'contract' });

  const deploy = (env: Record<string, string> = API) => ({ operation: 'deploy', spec: { name: 'hello', image: 'hello-v1', env } }) as const;
  const healthRequests = (sim: McmSimulator) => sim.requests('mimApi');

  it("asks each device's mim at its own path, without the runtime's key", async () => {
    const exchanges: Exchange[] = [];
    const result = await fleet({ onExchange: (exchange) => exchanges.push(exchange) }).rollout(deploy(), { health: QUICK });
    assert.equal(result.succeeded, 2);
    assert.deepEqual(
      exchanges.map((e) => [e.operation, e.method, e.path, e.status]),
      [
        ['checkHealth', 'GET', '/api/hello/v1/healthcheck', 200],
        ['checkHealth', 'GET', '/api/hello/v1/healthcheck', 200],
      ],
      "the fleet's own exchanges are the health checks (each member's client reports its own)",
    );
    for (const sim of sims()) {
      const asked = healthRequests(sim);
      assert.deepEqual(
        asked.map((r) => [r.method, r.url, r.status]),
        [['GET', '/api/hello/v1/healthcheck', 200]],
      );
      assert.equal(asked[0].headers.authorization, undefined);
      assert.equal(asked[0].headers.accept, '*/*');
    }
  });

  it('asks the base path itself when the check names no path', async () => {
    await fleet().rollout(deploy(), { health: { timeoutMs: 3000, intervalMs: 20 } });
    assert.deepEqual(
      healthRequests(sims()[0]).map((r) => r.url),
      ['/api/hello/v1'],
    );
  });

  it('fails a device whose mim stays unhealthy, with the answer, the path and the device', async () => {
    sims()[1].options.unhealthyMims = true;
    const result = await fleet().rollout(deploy(), { health: FAILING, canary: 0, maxFailures: 1 });
    assert.deepEqual(
      result.devices.map((d) => [d.device, d.ok]),
      [
        ['dev-1', true],
        ['dev-2', false],
      ],
    );
    const failed = result.devices[1];
    assert.equal(failed.code, 'http');
    assert.equal(failed.statusCode, 503);
    assert.equal(
      failed.error,
      'checkHealth failed: HTTP 503 mim "api-hello" is unhealthy (simulated) (GET /api/hello/v1/healthcheck, dev-2)',
    );
    assert.equal(failed.result?.name, 'hello', 'the deploy itself worked');
    assert.ok(healthRequests(sims()[1]).length > 1, 'asked again until its time was up');
  });

  it('fails on an answer that is not 2xx, showing at most 200 characters of it', async () => {
    sims()[0].setFault('mimApi', { status: 300, body: 'x'.repeat(300) });
    sims()[1].setFault('mimApi', { status: 500, body: '' });
    const result = await fleet().rollout(deploy(), { health: FAILING, canary: 0, maxFailures: 2 });
    assert.equal(result.succeeded, 0);
    assert.equal(result.devices[0].statusCode, 300);
    assert.equal(result.devices[0].error, `checkHealth failed: HTTP 300 ${'x'.repeat(200)} (GET /api/hello/v1/healthcheck, dev-1)`);
    assert.equal(result.devices[1].error, 'checkHealth failed: HTTP 500 (GET /api/hello/v1/healthcheck, dev-2)');
  });

  it('waits for a mim that starts late, pausing between tries', async () => {
    sims()[0].options.startDelayMs = 300;
    const result = await fleet().rollout(deploy(), { health: { timeoutMs: 5000, intervalMs: 50 }, devices: ['dev-1'] });
    assert.equal(result.succeeded, 1);
    const statuses = healthRequests(sims()[0]).map((r) => r.status);
    assert.ok(statuses.length > 1 && statuses.length < 20, String(statuses));
    assert.deepEqual([statuses[0], statuses.at(-1)], [503, 200]);
  });

  it('by default pauses half a second between tries and waits long enough for a mim to start', async () => {
    sims()[0].options.startDelayMs = 300;
    const result = await fleet().rollout(deploy(), { health: {}, devices: ['dev-1'] });
    assert.equal(result.succeeded, 1);
    assert.deepEqual(
      healthRequests(sims()[0]).map((r) => r.status),
      [503, 200],
    );
  });

  it('tries again after a broken connection, and says which path broke when it keeps breaking', async () => {
    sims()[0].setFault('mimApi', { reset: true, times: 1 });
    sims()[1].setFault('mimApi', { reset: true });
    const result = await fleet().rollout(deploy(), { health: FAILING, canary: 0, maxFailures: 1 });
    assert.deepEqual(
      result.devices.map((d) => [d.device, d.ok]),
      [
        ['dev-1', true],
        ['dev-2', false],
      ],
    );
    assert.equal(result.devices[1].code, 'connection');
    assert.match(
      result.devices[1].error!,
      /^checkHealth failed: the connection to the runtime broke \(\S.*, GET \/api\/hello\/v1\/healthcheck\)$/,
    );
  });

  it("ends a request to a mim that never answers at the check's end, with no time left to ask again", async () => {
    sims()[0].setFault('mimApi', { hang: true });
    const result = await fleet().rollout(deploy(), { health: { ...QUICK, timeoutMs: 300 }, devices: ['dev-1'] });
    assert.equal(result.devices[0].code, 'timeout');
    assert.match(result.devices[0].error!, /^checkHealth failed: timed out \(.+, GET \/api\/hello\/v1\/healthcheck\)$/);
    assert.equal(healthRequests(sims()[0]).length, 1);
  });

  it("ends each request to a mim at the rollout's or the fleet's timeout, and asks again within the check's time", async () => {
    for (const sim of sims()) sim.setFault('mimApi', { hang: true });
    const health = { ...QUICK, timeoutMs: 1500 };
    const byRollout = await fleet().rollout(deploy(), { health, timeoutMs: 150, devices: ['dev-1'] });
    assert.equal(byRollout.devices[0].code, 'timeout');
    assert.ok(healthRequests(sims()[0]).length > 1, 'asked again');
    const byFleet = await fleet({ timeoutMs: 150 }).rollout(deploy(), { health, devices: ['dev-2'] });
    assert.equal(byFleet.devices[0].code, 'timeout');
    assert.ok(healthRequests(sims()[1]).length > 1, 'asked again');
  });

  it('ends a check in flight when the fleet is closed, noting the device aborted', async () => {
    sims()[0].setFault('mimApi', { hang: true });
    const client = fleet();
    const running = client.rollout(deploy(), { health: { ...QUICK, timeoutMs: 15_000 }, devices: ['dev-1'] });
    await waitFor(() => healthRequests(sims()[0]).length > 0, 'the health check in flight');
    client.close();
    const result = await running;
    assert.equal(result.stopped, 'aborted');
    assert.deepEqual(
      [result.devices[0].code, result.devices[0].note, result.devices[0].error],
      ['aborted', 'aborted', 'checkHealth aborted'],
    );
  });

  it('checks each mim of a composition that has an API path, and skips the others', async () => {
    const specs: MimSpec[] = [
      { name: 'front', image: 'hello-v1', env: { 'MCM.BASE_API_PATH': '/front/v1' } },
      { name: 'worker', image: 'hello-v1' },
      { name: 'back', image: 'hello-v1', env: { 'MCM.BASE_API_PATH': 'back/v1/' } },
    ];
    const result = await fleet().rollout({ operation: 'composition', specs }, { health: QUICK, devices: ['dev-1'] });
    assert.equal(result.succeeded, 1);
    assert.deepEqual(
      healthRequests(sims()[0])
        .map((r) => r.url)
        .sort(),
      ['/api/back/v1/healthcheck', '/api/front/v1/healthcheck'],
    );
  });

  it('refuses a checked composition none of whose mims has an API path, before any request', async () => {
    const specs: MimSpec[] = [
      { name: 'front', image: 'hello-v1', env: { OTHER: '1' } },
      { name: 'worker', image: 'hello-v1' },
    ];
    await assert.rejects(fleet().rollout({ operation: 'composition', specs }, { health: QUICK }), (err: FleetError) => {
      assert.equal(err.code, 'health-base-path');
      assert.match(err.message, /needs the mim's API path: set env "MCM.BASE_API_PATH"/);
      return true;
    });
    const unchecked = await fleet().rollout({ operation: 'composition', specs }, {});
    assert.equal(unchecked.succeeded, 2, 'without a check, no API path is needed');
    assert.equal(healthRequests(sims()[0]).length, 0);
  });

  it("asks at the mim's own client id, that of its token", async () => {
    sims()[0].options.tokens = { 'token-of-team-a': 'team-a' };
    const teamA = new McmClient({ url: sims()[0].url, token: 'token-of-team-a' });
    await teamA.uploadImage(buildImageTar({ name: 'hello-v1' }));
    teamA.close();
    sims()[0].resetStats();
    const result = await fleet({ keys: { 'dev-1': 'token-of-team-a' } }).rollout(deploy(), { health: QUICK, devices: ['dev-1'] });
    assert.equal(result.succeeded, 1);
    assert.deepEqual(
      healthRequests(sims()[0]).map((r) => [r.url, r.status]),
      [['/team-a/hello/v1/healthcheck', 200]],
    );
  });

  it("takes the fleet's client id, else api, when the deploy's answer gives none", async () => {
    // The mims run already; the deploy answers without their client id.
    const answered = { id: 'team-b-hello', name: 'hello', image: 'hello-v1', state: 'started', env: API };
    for (const [i, sim] of sims().entries()) {
      const client = new McmClient({ url: sim.url, token: sim.key, clientId: i === 0 ? 'team-b' : undefined });
      if (i === 0) await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
      await client.deployMim('hello', 'hello-v1', API);
      client.close();
      sim.setFault('deployMim', { status: 201, body: answered });
      sim.resetStats();
    }
    const withId = await fleet({ client: { clientId: 'team-b', timeoutMs: 3000 } }).rollout(deploy(), {
      health: QUICK,
      devices: ['dev-1'],
    });
    assert.equal(withId.succeeded, 1);
    assert.deepEqual(
      healthRequests(sims()[0]).map((r) => r.url),
      ['/team-b/hello/v1/healthcheck'],
    );
    const withoutClientOptions = await fleet({ client: undefined }).rollout(deploy(), { health: QUICK, devices: ['dev-2'] });
    assert.equal(withoutClientOptions.succeeded, 1, withoutClientOptions.devices[0].error);
    assert.deepEqual(
      healthRequests(sims()[1]).map((r) => r.url),
      ['/api/hello/v1/healthcheck'],
    );
  });

  it('leaves no connection open once the rollout is done', async () => {
    // The member is reached through a relay that counts its open connections.
    const open = new Set<net.Socket>();
    const relay = net.createServer((socket) => {
      const upstream = net.connect(sims()[0].port, '127.0.0.1');
      open.add(socket);
      for (const end of [socket, upstream]) {
        end.on('error', () => undefined);
        end.on('close', () => {
          open.delete(socket);
          socket.destroy();
          upstream.destroy();
        });
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
      const result = await fleet({ members: [{ name: 'dev-1', url }] }).rollout(deploy(), { health: QUICK });
      assert.equal(result.succeeded, 1);
      assert.equal(healthRequests(sims()[0]).length, 1);
      await waitFor(() => open.size === 0, 'every connection to the member closed');
    } finally {
      open.forEach((socket) => socket.destroy());
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('is not made for removals and uploads', async () => {
    const result = await fleet().rollout({ operation: 'upload', source: buildImageTar({ name: 'hello-v2' }) }, { health: QUICK });
    assert.equal(result.succeeded, 2);
    for (const sim of sims()) assert.equal(healthRequests(sim).length, 0);
  });
});
