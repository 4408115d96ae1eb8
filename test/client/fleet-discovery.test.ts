/**
 * FleetClient discovery against a simulated fleet over real HTTP on 127.0.0.1: Insight on the
 * seed, the seed's own name, the name filter (for discovered members), listed members first, periodic rediscovery that
 * keeps the last members when it fails, and the field profile's answers during a rollback.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { FleetClient } from '../../src/mcm/fleet';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmFleet } from '../../src/simulator';
import { waitFor } from '../support/simulator-helpers';

const INSIGHT_TOKEN = 'insight-token-of-the-discovery-tests';

describe('FleetClient discovery through Insight', function () {
  this.timeout(20_000);
  let fleet: McmFleet;
  const clients: FleetClient[] = [];

  before(async () => {
    fleet = await McmFleet.start({ size: 6, quiet: true, insightToken: INSIGHT_TOKEN });
  });
  after(async () => {
    await fleet.stop();
  });
  beforeEach(async () => {
    await fleet.reset();
  });
  afterEach(() => {
    clients.splice(0).forEach((client) => client.close());
  });

  function client(options: ConstructorParameters<typeof FleetClient>[0]): FleetClient {
    const made = new FleetClient({ token: fleet.key, ...options });
    clients.push(made);
    return made;
  }

  const seedUrl = () => fleet.urls[0];

  it('finds the others through the seed, and the seed by its own Insight name', async () => {
    const withSeed = await client({ discovery: { seedUrl: seedUrl(), token: INSIGHT_TOKEN, includeSeed: true } }).members();
    assert.deepEqual(
      withSeed.map((m) => [m.name, m.url, m.source]),
      fleet.devices.map((d, i) => [d.name, d.url, i === 0 ? 'seed' : 'discovered']),
    );
    assert.ok(withSeed.every((m) => typeof m.id === 'string' && m.id.length > 0));
    const without = await client({ discovery: { seedUrl: seedUrl(), token: INSIGHT_TOKEN } }).members();
    assert.deepEqual(
      without.map((m) => m.name),
      fleet.devices.slice(1).map((d) => d.name),
    );
  });

  it('filters discovered members by name; listed ones are always in and count once', async () => {
    const members = await client({
      members: [
        { name: 'gateway', url: fleet.urls[3] },
        { name: 'elsewhere', url: 'http://127.0.0.1:1' },
      ],
      discovery: { seedUrl: seedUrl(), token: INSIGHT_TOKEN, includeSeed: true, filter: 'device-02, DEVICE-03, *-04, *-06' },
    }).members();
    assert.deepEqual(
      members.map((m) => m.name),
      ['gateway', 'elsewhere', 'device-01', 'device-02', 'device-03', 'device-06'],
      'the seed is in, device-05 filtered out, device-04 listed as gateway (the same URL)',
    );
  });

  it('refuses a wrong Insight token with its status, without the token in the error', async () => {
    await assert.rejects(client({ discovery: { seedUrl: seedUrl(), token: 'a-wrong-insight-token' } }).members(), (err: McmError) => {
      assert.equal(err.operation, 'discoverMembers');
      assert.equal(err.statusCode, 403);
      assert.doesNotMatch(err.message, /a-wrong-insight-token/);
      return true;
    });
    await fleet.setMode('device-01', { offline: true });
    await assert.rejects(
      client({ discovery: { seedUrl: seedUrl(), token: INSIGHT_TOKEN } }).members(),
      /discoverMembers failed: cannot reach/,
    );
  });

  it('asks again at its interval; a failing discovery keeps the members known before', async () => {
    const failures: unknown[] = [];
    const periodic = client({
      discovery: { seedUrl: seedUrl(), token: INSIGHT_TOKEN, intervalMs: 100 },
      onDiscoveryError: (err) => failures.push(err),
    });
    const nodes = () => fleet.devices[0].sim.requests().filter((r) => r.route === ('insightNodes' as never)).length;
    await waitFor(() => nodes() >= 3, 'three discoveries', 3000);
    assert.equal(periodic.known.length, 5);
    await fleet.setMode('device-01', { offline: true });
    await waitFor(() => failures.length >= 2, 'two failed discoveries', 3000);
    assert.match(String(failures[0]), /discoverMembers failed: cannot reach/);
    assert.equal(periodic.known.length, 5, 'the members known before stay');
    assert.deepEqual(await periodic.members(), periodic.known, 'a discovery once done is not repeated for members()');
  });

  it('rolls out and back against devices that answer as the field does', async () => {
    const field = await McmFleet.start({ size: 3, quiet: true, profile: 'field' });
    try {
      for (const device of field.devices) {
        const mcm = new McmClient({ url: device.url, token: device.key });
        await mcm.uploadImage(buildImageTar({ name: 'hello-v1' }));
        await mcm.uploadImage(buildImageTar({ name: 'hello-v2' }));
        await mcm.deployMim('hello', 'hello-v1', { COLOUR: 'blue' });
        mcm.close();
      }
      const before = field.devices.map((d) => d.sim.mims().map((m) => `${m.id} ${m.image} ${JSON.stringify(m.env)}`));
      await field.setMode('device-03', { refuseDeploys: true });
      const result = await client({
        token: field.key,
        members: field.devices.map((d) => ({ name: d.name, url: d.url })),
      }).rollout(
        { operation: 'deploy', spec: { name: 'hello', image: 'hello-v2' }, policy: { ifExists: 'replace' } },
        { parallel: 1, rollback: true },
      );
      assert.equal(result.stopped, 'failures');
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok]),
        [
          ['device-01', true],
          ['device-02', true],
          ['device-03', false],
        ],
      );
      await field.setMode('device-03', { refuseDeploys: false });
      // device-03 lost its old mim before its deploy was refused, and refused the redeploy too.
      assert.equal(result.devices[2].note, 'rollback-failed');
      assert.deepEqual(
        field.devices.slice(0, 2).map((d) => d.sim.mims().map((m) => `${m.id} ${m.image} ${JSON.stringify(m.env)}`)),
        before.slice(0, 2),
      );
    } finally {
      await field.stop();
    }
  });
});
