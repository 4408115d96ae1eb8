/**
 * FleetClient over real HTTP against several simulators on 127.0.0.1: members, waves, failures,
 * rollback, narrowing, abort, keys per member, and the checks made before any request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { McmClient } from '../../src/mcm/client';
import { FleetClient, FleetError, healthPath, nameFilter, nameFilterProblem, parseMemberKeys } from '../../src/mcm/fleet';
import { McmError } from '../../src/mcm/errors';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { useSimulatedFleet } from '../support/fleet-fixture';
import { waitFor } from '../support/simulator-helpers';

const SIZE = 5;
const dir = mkdtempSync(join(tmpdir(), 'mimoe-fleet-client-'));

/** What a device holds, in a form that survives a redeploy (ids, images and env; no timestamps). */
async function stateOf(sim: McmSimulator): Promise<string> {
  const mims = sim.mims().map((m) => `${m.id}:${m.image}:${JSON.stringify(m.env)}`);
  const images = sim.images().map((i) => `${i.id}:${i.digest}`);
  return JSON.stringify({ mims: mims.sort(), images: images.sort() });
}

describe('FleetClient against several simulators', function () {
  this.timeout(20_000);
  const names = Array.from({ length: SIZE }, (_, i) => `dev-${i + 1}`);
  const { sims, fleet } = useSimulatedFleet(names, { keyPrefix: 'key-of-device', images: ['hello-v1', 'hello-v2'] });

  const deployPlan = (image = 'hello-v2', ifExists: 'fail' | 'replace' | 'keep' = 'fail') =>
    ({ operation: 'deploy', spec: { name: 'hello', image, env: { 'MCM.BASE_API_PATH': '/hello/v1' } }, policy: { ifExists } }) as const;

  it('deploys to every member, in member order, with a result per device', async () => {
    const seen: string[] = [];
    const result = await fleet().rollout(deployPlan(), { parallel: 2, onDevice: (d, p) => seen.push(`${d.device} ${p.done}/${p.total}`) });
    assert.equal(result.operation, 'deploy');
    assert.deepEqual([result.total, result.succeeded, result.failed, result.skipped, result.rolledBack], [SIZE, SIZE, 0, 0, 0]);
    assert.equal(result.stopped, undefined);
    assert.deepEqual(
      result.devices.map((d) => d.device),
      names,
    );
    for (const [i, device] of result.devices.entries()) {
      assert.equal(device.ok, true);
      assert.equal(device.url, sims()[i].url);
      assert.equal(device.result?.id, 'api-hello');
      assert.equal(device.result?.image, 'hello-v2');
      assert.ok(device.ms >= 0);
      assert.equal(sims()[i].mims().length, 1);
    }
    assert.equal(seen.length, SIZE);
    assert.equal(seen[0], 'dev-1 1/5', 'the canary finishes first');
  });

  it('uses each member its own key: a wrong key fails that device alone, without the key in its error', async () => {
    const keys = Object.fromEntries(sims().map((sim, i) => [names[i], sim.key]));
    keys['dev-3'] = 'not-the-key-of-dev-3';
    const result = await fleet({ keys, token: 'shared-fallback-key' }).rollout(deployPlan(), { maxFailures: 1 });
    assert.equal(result.succeeded, SIZE - 1);
    const failed = result.devices.find((d) => !d.ok)!;
    assert.equal(failed.device, 'dev-3');
    assert.equal(failed.statusCode, 403);
    assert.doesNotMatch(JSON.stringify(result), /not-the-key|key-of-device|shared-fallback/);
    // A member without a key of its own gets the shared one.
    delete keys['dev-2'];
    sims()[1].rotateKey('shared-fallback-key');
    try {
      const again = await fleet({ keys, token: 'shared-fallback-key' }).rollout(deployPlan('hello-v2', 'replace'), { devices: ['dev-2'] });
      assert.equal(again.succeeded, 1);
    } finally {
      sims()[1].rotateKey('key-of-device-2');
    }
  });

  it('one device offline fails alone and is named; the others succeed', async () => {
    const offline = sims()[2];
    await offline.stop();
    try {
      const result = await fleet().rollout(deployPlan(), { maxFailures: 1 });
      assert.equal(result.succeeded, SIZE - 1);
      assert.equal(result.failed, 1);
      assert.equal(result.stopped, undefined);
      const failed = result.devices.filter((d) => !d.ok);
      assert.deepEqual(
        failed.map((d) => d.device),
        ['dev-3'],
      );
      assert.equal(failed[0].code, 'unreachable');
      assert.match(failed[0].error!, /deployMim failed: cannot reach the runtime/);
    } finally {
      await offline.restart();
    }
  });

  it('a failing canary stops the rollout before any other device is touched', async () => {
    sims()[0].setFault('deployMim', { status: 500, body: { error: { code: 500, message: 'bad image' } } });
    const result = await fleet().rollout(deployPlan(), { canary: 1, parallel: 4 });
    assert.equal(result.stopped, 'failures');
    assert.deepEqual([result.succeeded, result.failed, result.skipped], [0, 1, SIZE - 1]);
    assert.equal(result.devices[0].statusCode, 500);
    assert.match(result.devices[0].error!, /HTTP 500 bad image/);
    for (const device of result.devices.slice(1)) assert.equal(device.note, 'skipped');
    for (const sim of sims().slice(1)) assert.equal(sim.requests().length, 0, `${sim.url} was not touched`);
  });

  it('stops when failures exceed maxFailures and rolls back every device it touched', async () => {
    // Every device runs v1 with its own env; one device also runs a mim the rollout must not touch.
    for (const sim of sims()) {
      const client = new McmClient({ url: sim.url, token: sim.key });
      await client.deployMim('hello', 'hello-v1', { COLOUR: 'blue' });
      client.close();
    }
    const other = new McmClient({ url: sims()[1].url, token: sims()[1].key });
    await other.deployMim('bystander', 'hello-v1');
    other.close();
    const before = await Promise.all(sims().map(stateOf));
    sims().forEach((sim) => sim.resetStats());
    sims()[2].setFault('deployMim', { status: 500, body: { error: { code: 500, message: 'disk full' } }, times: 1 });
    sims()[3].setFault('deployMim', { status: 500, body: { error: { code: 500, message: 'disk full' } }, times: 1 });
    const result = await fleet().rollout(deployPlan('hello-v2', 'replace'), { canary: 1, parallel: 1, maxFailures: 1, rollback: true });
    assert.equal(result.stopped, 'failures');
    assert.deepEqual(
      result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
      [
        ['dev-1', true, 'rolled-back'],
        ['dev-2', true, 'rolled-back'],
        ['dev-3', false, 'rolled-back'],
        ['dev-4', false, 'rolled-back'],
        ['dev-5', false, 'skipped'],
      ],
    );
    assert.equal(result.rolledBack, 4);
    assert.deepEqual(await Promise.all(sims().map(stateOf)), before, 'every device is as it was');
    assert.equal(sims()[4].requests().length, 0);
  });

  it('rolls back a remove by deploying the removed mim again, and an upload by deleting the new image', async () => {
    for (const sim of sims()) {
      const client = new McmClient({ url: sim.url, token: sim.key });
      await client.deployMim('hello', 'hello-v1', { COLOUR: 'green' });
      client.close();
    }
    const before = await Promise.all(sims().map(stateOf));
    sims()[1].setFault('removeMim', { status: 500 });
    const removed = await fleet().rollout({ operation: 'remove', id: 'api-hello' }, { rollback: true, parallel: 1 });
    assert.equal(removed.stopped, 'failures');
    assert.equal(removed.devices[0].note, 'rolled-back');
    assert.deepEqual(await Promise.all(sims().map(stateOf)), before);

    sims()[1].clearFaults();
    sims()[2].setFault('uploadImage', { status: 500 });
    const upload = await fleet().rollout(
      { operation: 'upload', source: buildImageTar({ name: 'hello-v3' }) },
      { rollback: true, canary: 0, parallel: 2 },
    );
    assert.equal(upload.stopped, 'failures');
    assert.equal(upload.devices[0].result?.name, 'hello-v3');
    assert.equal(upload.devices[0].note, 'rolled-back');
    assert.deepEqual(await Promise.all(sims().map(stateOf)), before);
  });

  it('says when a rollback cannot restore what was changed', async () => {
    sims()[1].setFault('uploadImage', { status: 500 });
    const result = await fleet().rollout(
      { operation: 'upload', source: buildImageTar({ name: 'hello-v1', indexJs: '// v1 again\n' }) },
      { rollback: true, parallel: 1 },
    );
    assert.equal(result.devices[0].note, 'rollback-failed');
    assert.match(result.devices[0].rollbackError!, /the image hello-v1 this upload replaced cannot be restored/);
  });

  it('narrows the target to the devices named or matched by a glob', async () => {
    const result = await fleet().rollout(deployPlan(), { devices: ['dev-4', 'DEV-1', 'dev-5*'] });
    assert.deepEqual(
      result.devices.map((d) => d.device),
      ['dev-1', 'dev-4', 'dev-5'],
    );
    assert.equal(sims()[1].requests().length + sims()[2].requests().length, 0);
    await assert.rejects(fleet().rollout(deployPlan(), { devices: ['dev-9', 'dev-1'] }), (err: FleetError) => {
      assert.equal(err.code, 'devices-unknown');
      assert.match(err.message, /no fleet member matches "dev-9"/);
      return true;
    });
  });

  it('close mid-rollout ends it: every device noted aborted or skipped, nothing half-done without a note', async () => {
    for (const sim of sims()) sim.setFault('deployMim', { delayMs: 400 });
    const client = fleet();
    const running = client.rollout(deployPlan(), { canary: 1, parallel: 2 });
    // Mid-rollout: the canary is done once the next wave's deploys reach the simulators, which hold them.
    const [, ...others] = sims();
    await waitFor(() => others.some((sim) => sim.requests('deployMim').length > 0), 'the next wave in flight');
    client.close();
    const started = Date.now();
    const result = await running;
    assert.ok(Date.now() - started < 500, 'ends at once');
    assert.equal(result.stopped, 'aborted');
    assert.equal(result.devices[0].ok, true, 'the canary had finished');
    for (const device of result.devices.slice(1)) {
      assert.ok(device.note === 'aborted' || device.note === 'skipped', `${device.device}: ${device.note}`);
      assert.equal(device.ok, false);
    }
    assert.ok(result.devices.some((d) => d.note === 'aborted'));
    assert.equal(result.succeeded + result.failed + result.skipped, SIZE);
  });

  it('refuses input that cannot work before any request', async () => {
    const client = fleet();
    const cases: Array<[Parameters<FleetClient['rollout']>, RegExp]> = [
      [[{ operation: 'deploy', spec: { name: 'has space', image: 'x' } }], /must not contain whitespace/],
      [[{ operation: 'composition', specs: [] }], /at least one mim spec/],
      [[{ operation: 'remove', id: '' }], /an id is required/],
      [[{ operation: 'upload', source: join(dir, 'missing.tar') }], /cannot read the image file/],
      [[{ operation: 'upload', source: 42 as never }], /the image must be a Buffer, a byte stream or a file path \(got number\)/],
      [[deployPlan(), { parallel: 0 }], /parallel must be a whole number, at least 1/],
      [[{ operation: 'deploy', spec: { name: 'x', image: 'y' } }, { health: { path: '/h' } }], /MCM.BASE_API_PATH/],
      [[deployPlan(), { devices: [] }], /an empty list/],
    ];
    for (const [args, message] of cases) {
      await assert.rejects(client.rollout(...args), (err: Error) => {
        assert.ok(err instanceof McmError || err instanceof FleetError, String(err));
        assert.match(err.message, message);
        return true;
      });
    }
    for (const sim of sims()) assert.equal(sim.requests().length, 0);
  });

  it('uploads a file to every device, streamed from its path', async () => {
    const file = join(dir, 'hello-v4.tar');
    const tar = buildImageTar({ name: 'hello-v4' });
    writeFileSync(file, tar);
    const result = await fleet().rollout({ operation: 'upload', source: file }, { parallel: 3 });
    assert.equal(result.succeeded, SIZE);
    for (const [i, sim] of sims().entries()) {
      assert.equal(result.devices[i].result?.size, tar.length);
      assert.ok(sim.images().some((image) => image.name === 'hello-v4'));
    }
  });

  it('uploads a stream to every device from one temporary copy, removed afterwards', async () => {
    const tar = buildImageTar({ name: 'hello-v5' });
    const spools = () => readdirSync(tmpdir()).filter((name) => name.startsWith('mimoe-upload-')).length;
    const before = spools();
    let reads = 0;
    const stream = Readable.from(
      (function* () {
        for (let at = 0; at < tar.length; at += 1000) {
          reads++;
          yield tar.subarray(at, at + 1000);
        }
      })(),
    );
    const result = await fleet().rollout({ operation: 'upload', source: stream }, { parallel: 2 });
    assert.equal(result.succeeded, SIZE);
    assert.ok(result.devices.every((d) => d.result?.size === tar.length && d.result?.name === 'hello-v5'));
    assert.equal(reads, Math.ceil(tar.length / 1000), 'the stream was read once');
    assert.equal(spools(), before, 'the temporary copy is gone');
  });

  it('refuses members it cannot use', () => {
    assert.throws(() => new FleetClient({ members: [{ name: 'a', url: 'ftp://x' }] }), /member 1 needs a name and a URL/);
    assert.throws(
      () =>
        new FleetClient({
          members: [
            { name: 'a', url: 'http://127.0.0.1:1' },
            { name: 'a', url: 'http://127.0.0.1:2' },
          ],
        }),
      /listed twice/,
    );
    assert.throws(() => new FleetClient({ discovery: { seedUrl: 'nowhere' } }), /seed URL must start with http/);
    assert.throws(
      () => new FleetClient({ discovery: { seedUrl: 'http://127.0.0.1:1', filter: 'cam-[0-9]' } }),
      /only \* and \? are wildcards/,
    );
  });
});

describe('fleet helpers', () => {
  it('name filters: comma-separated globs, case-insensitive', () => {
    const match = nameFilter('cam-*, gw-0?');
    assert.deepEqual(['cam-1', 'CAM-lobby', 'gw-01', 'gw-011', 'camera', 'x.cam-1'].filter(match), ['cam-1', 'CAM-lobby', 'gw-01']);
    assert.equal(nameFilter('')('anything'), true);
    assert.equal(nameFilter('a.b')('axb'), false, 'a dot is a dot');
    assert.equal(nameFilterProblem('a,,b'), 'an empty entry between commas');
    assert.match(nameFilterProblem('{a,b}')!, /only \* and \?/);
  });

  it('per-member keys: JSON or name=key entries; errors name the entry, never the key', () => {
    assert.deepEqual(parseMemberKeys('{"cam-1": "k1", "cam-2": "k=2"}'), { 'cam-1': 'k1', 'cam-2': 'k=2' });
    assert.deepEqual(parseMemberKeys('cam-1=k1\ncam-2=k=2; gw=abc'), { 'cam-1': 'k1', 'cam-2': 'k=2', gw: 'abc' });
    assert.deepEqual(parseMemberKeys(''), {});
    assert.throws(
      () => parseMemberKeys('cam-1=k1, secret-without-name'),
      (err: Error) => {
        assert.match(err.message, /entry 2 is not name=key/);
        assert.doesNotMatch(err.message, /secret/);
        return true;
      },
    );
    assert.throws(() => parseMemberKeys('{"a": 1}'), /entry 1/);
  });

  it('health paths: /<clientId><base path><path>', () => {
    assert.equal(healthPath('api', '/hello/v1', '/healthcheck'), '/api/hello/v1/healthcheck');
    assert.equal(healthPath('api', 'hello/v1/', 'healthcheck'), '/api/hello/v1/healthcheck');
    assert.equal(healthPath('api', '/hello/v1'), '/api/hello/v1');
  });
});
