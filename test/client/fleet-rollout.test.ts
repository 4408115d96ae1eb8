/**
 * FleetClient rollouts against three simulators on 127.0.0.1 (the contract's profile): the rollout
 * options, what a device's result holds, clients made per device, compositions, image removals,
 * named uploads, and what a rollback restores, leaves alone, or cannot restore.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { McmClient } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { FleetClientOptions, FleetError, RolloutOptions } from '../../src/mcm/fleet';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { useSimulatedFleet } from '../support/fleet-fixture';
import { waitFor } from '../support/simulator-helpers';

const NAMES = ['dev-1', 'dev-2', 'dev-3'];

/** What a device runs: each mim's name, image and env, sorted. */
const mimsOf = (sim: McmSimulator): string[] =>
  sim
    .mims()
    .map((m) => `${m.name} ${m.image} ${JSON.stringify(m.env)}`)
    .sort();
const imagesOf = (sim: McmSimulator): string[] =>
  sim
    .images()
    .map((i) => i.name)
    .sort();

describe('FleetClient rollouts: options, results and rollbacks', function () {
  this.timeout(20_000);
  const { sims, fleet } = useSimulatedFleet(NAMES, { keyPrefix: 'key-of-dev', images: ['hello-v1', 'hello-v2'], profile: 'contract' });

  async function deployEverywhere(name: string, image: string, env: Record<string, string> = {}): Promise<void> {
    for (const sim of sims()) {
      const client = new McmClient({ url: sim.url, token: sim.key });
      await client.deployMim(name, image, env);
      client.close();
    }
    sims().forEach((sim) => sim.resetStats());
  }

  const deploy = (ifExists: 'fail' | 'replace' | 'keep' = 'fail', env: Record<string, string> = {}) =>
    ({ operation: 'deploy', spec: { name: 'hello', image: 'hello-v2', env }, policy: { ifExists } }) as const;

  describe('options', () => {
    it('refuses a canary, parallel or maxFailures that is not a whole number, naming the option and the value', async () => {
      const cases: Array<[RolloutOptions, string]> = [
        [{ canary: -1 }, 'canary must be a whole number, at least 0 (got "-1")'],
        [{ parallel: 1.5 }, 'parallel must be a whole number, at least 1 (got "1.5")'],
        [{ maxFailures: 'some' as never }, 'maxFailures must be a whole number, at least 0 (got "some")'],
      ];
      for (const [options, message] of cases) {
        await assert.rejects(fleet().rollout(deploy(), options), (err: FleetError) => {
          assert.equal(err.code, 'option-invalid');
          assert.equal(err.message, message);
          return true;
        });
      }
      for (const sim of sims()) assert.equal(sim.requests().length, 0);
    });

    it('takes blank options (null, empty text) as their defaults, and whole numbers given as text', async () => {
      for (const blank of [null, '']) {
        const result = await fleet().rollout(deploy('replace'), {
          canary: blank as never,
          parallel: blank as never,
          maxFailures: '0' as never,
        });
        assert.equal(result.succeeded, 3);
        assert.equal(result.stopped, undefined);
      }
    });

    it('does nothing once its signal is aborted: every device skipped, no request sent', async () => {
      const result = await fleet().rollout(deploy(), { signal: AbortSignal.abort() });
      assert.equal(result.stopped, 'aborted');
      assert.deepEqual([result.succeeded, result.failed, result.skipped], [0, 0, 3]);
      for (const sim of sims()) assert.equal(sim.requests().length, 0);
    });

    it("ends a device's request at the rollout's timeout, shorter than the clients' own", async () => {
      sims()[1].setFault('deployMim', { delayMs: 2500 });
      const result = await fleet().rollout(deploy(), { timeoutMs: 300, maxFailures: 3, canary: 0 });
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.code ?? '']),
        [
          ['dev-1', true, ''],
          ['dev-2', false, 'timeout'],
          ['dev-3', true, ''],
        ],
      );
      assert.match(result.devices[1].error!, /deployMim failed: timed out/);
    });
  });

  describe('device results', () => {
    it('hold the time spent on the device, and a failure without a note when it was not aborted', async () => {
      sims()[2].setFault('deployMim', { status: 500, body: { error: { code: 500, message: 'disk full' } } });
      const started = Date.now();
      const result = await fleet().rollout(deploy(), { maxFailures: 1 });
      const elapsed = Date.now() - started;
      for (const device of result.devices) assert.ok(device.ms >= 0 && device.ms <= elapsed, `${device.device}: ${device.ms} ms`);
      const failed = result.devices[2];
      assert.deepEqual(
        { ok: failed.ok, code: failed.code, statusCode: failed.statusCode, note: failed.note },
        { ok: false, code: 'http', statusCode: 500, note: undefined },
      );
    });

    it('keep only what the describe function gives: no code or status when it gives none', async () => {
      sims()[0].setFault('deployMim', { status: 500 });
      const result = await fleet().rollout(deploy(), { describe: (err) => ({ error: `translated: ${(err as McmError).code}` }) });
      assert.equal(result.stopped, 'failures');
      assert.deepEqual(result.devices[0], {
        device: 'dev-1',
        url: sims()[0].url,
        ok: false,
        error: 'translated: http',
        ms: result.devices[0].ms,
      });
    });

    it('fail alone, without a request, for a member that has no key and no shared token', async () => {
      const keys = { 'dev-1': sims()[0].key, 'dev-3': sims()[2].key };
      const result = await fleet({ keys }).rollout(deploy(), { maxFailures: 1 });
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.code ?? '']),
        [
          ['dev-1', true, ''],
          ['dev-2', false, 'invalid-input'],
          ['dev-3', true, ''],
        ],
      );
      assert.match(result.devices[1].error!, /^deployMim: no API key or token is set/);
      assert.equal(sims()[1].requests().length, 0);
    });
  });

  describe('clients made per device', () => {
    it('closes every client it asked connect for, rollback included; a member connect fails for fails alone', async () => {
      const made: string[] = [];
      const closed: string[] = [];
      const connect: FleetClientOptions['connect'] = (member) => {
        made.push(member.name);
        if (member.name === 'dev-2') throw Object.assign(new Error('no key for dev-2 in the vault'), { code: 'ENOKEY' });
        const i = NAMES.indexOf(member.name);
        const client = new McmClient({ url: sims()[i].url, token: sims()[i].key });
        const close = client.close.bind(client);
        client.close = () => {
          closed.push(member.name);
          close();
        };
        return client;
      };
      const result = await fleet({ connect, keys: {} }).rollout(deploy(), { canary: 0, parallel: 1, rollback: true });
      assert.equal(result.stopped, 'failures');
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-1', true, 'rolled-back'],
          ['dev-2', false, ''],
          ['dev-3', false, 'skipped'],
        ],
      );
      assert.equal(result.devices[1].error, 'no key for dev-2 in the vault');
      assert.ok(!('code' in result.devices[1]), 'only MCM errors give a code');
      assert.deepEqual(made, ['dev-1', 'dev-2', 'dev-1'], 'the rollback makes a client of its own');
      assert.deepEqual(closed, ['dev-1', 'dev-1']);
      assert.deepEqual(mimsOf(sims()[0]), []);
    });
  });

  describe('rollback', () => {
    it('is not done when the rollout succeeds', async () => {
      const result = await fleet().rollout(deploy(), { rollback: true });
      assert.equal(result.stopped, undefined);
      assert.equal(result.rolledBack, 0);
      assert.ok(result.devices.every((d) => d.ok && d.note === undefined));
      for (const sim of sims()) assert.deepEqual(mimsOf(sim), ['hello hello-v2 {}']);
    });

    it('is not done when the rollout was aborted', async () => {
      const controller = new AbortController();
      sims()[1].setFault('deployMim', { delayMs: 2000 });
      const finished: string[] = [];
      const running = fleet().rollout(deploy(), {
        rollback: true,
        canary: 0,
        parallel: 3,
        signal: controller.signal,
        onDevice: (device) => finished.push(device.device),
      });
      await waitFor(() => finished.includes('dev-1') && sims()[1].requests('deployMim').length > 0, 'dev-1 done, dev-2 in flight');
      controller.abort();
      const result = await running;
      assert.equal(result.stopped, 'aborted');
      assert.equal(result.devices[1].note, 'aborted');
      assert.equal(result.devices[0].note, undefined);
      assert.deepEqual(mimsOf(sims()[0]), ['hello hello-v2 {}'], 'what succeeded stays');
    });

    it('leaves a device alone when its failed deploy changed nothing there', async () => {
      sims()[1].setFault('deployMim', { status: 500 });
      const result = await fleet().rollout(deploy(), { canary: 0, parallel: 1, rollback: true });
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-1', true, 'rolled-back'],
          ['dev-2', false, ''],
          ['dev-3', false, 'skipped'],
        ],
      );
      assert.equal(result.rolledBack, 1);
      assert.deepEqual(sims()[1].requests('removeMim'), [], 'nothing to undo on dev-2');
      assert.deepEqual(mimsOf(sims()[0]), []);
    });

    it('restores a mim whose env alone changed', async () => {
      await deployEverywhere('hello', 'hello-v2', { COLOUR: 'blue' });
      sims()[2].setFault('deployMim', { status: 500, times: 1 });
      const result = await fleet().rollout(deploy('replace', { COLOUR: 'red' }), {
        devices: ['dev-2', 'dev-3'],
        parallel: 1,
        rollback: true,
      });
      assert.equal(result.stopped, 'failures');
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-2', true, 'rolled-back'],
          ['dev-3', false, 'rolled-back'],
        ],
      );
      for (const sim of sims()) assert.deepEqual(mimsOf(sim), ['hello hello-v2 {"COLOUR":"blue"}']);
    });

    it('restores a mim whose image alone changed', async () => {
      await deployEverywhere('hello', 'hello-v1');
      sims()[2].setFault('deployMim', { status: 500, times: 1 });
      const result = await fleet().rollout(deploy('replace'), { devices: ['dev-2', 'dev-3'], parallel: 1, rollback: true });
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-2', true, 'rolled-back'],
          ['dev-3', false, 'rolled-back'],
        ],
      );
      for (const sim of sims()) assert.deepEqual(mimsOf(sim), ['hello hello-v1 {}']);
    });

    it('leaves alone a device where keep kept the same mim it had', async () => {
      const first = new McmClient({ url: sims()[0].url, token: sims()[0].key });
      await first.deployMim('hello', 'hello-v2', { COLOUR: 'blue' });
      first.close();
      sims()[1].setFault('deployMim', { status: 500 });
      sims().forEach((sim) => sim.resetStats());
      const result = await fleet().rollout(deploy('keep', { COLOUR: 'blue' }), {
        devices: ['dev-1', 'dev-2'],
        canary: 0,
        parallel: 1,
        rollback: true,
      });
      assert.equal(result.stopped, 'failures');
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-1', true, ''],
          ['dev-2', false, ''],
        ],
      );
      assert.equal(result.rolledBack, 0);
      assert.equal(sims()[0].requests('removeMim').length + sims()[0].requests('deployMim').length, 0);
      assert.deepEqual(mimsOf(sims()[0]), ['hello hello-v2 {"COLOUR":"blue"}']);
    });

    it('restores every mim of a composition', async () => {
      await deployEverywhere('front', 'hello-v1', { SIDE: 'front' });
      sims()[1].setFault('deployComposition', { status: 500 });
      const specs = [
        { name: 'front', image: 'hello-v2', env: { SIDE: 'new' } },
        { name: 'back', image: 'hello-v2' },
      ];
      const result = await fleet().rollout(
        { operation: 'composition', specs, policy: { ifExists: 'replace' } },
        { canary: 0, parallel: 1, rollback: true },
      );
      assert.equal(result.operation, 'composition');
      assert.equal(result.stopped, 'failures');
      assert.deepEqual(result.devices[0].result?.map((m) => m.name).sort(), ['back', 'front']);
      assert.equal(result.devices[0].note, 'rolled-back');
      for (const sim of sims()) assert.deepEqual(mimsOf(sim), ['front hello-v1 {"SIDE":"front"}']);
    });

    it('deploys a removed mim again, where it was removed', async () => {
      await deployEverywhere('hello', 'hello-v1', { COLOUR: 'green' });
      const id = sims()[0].mims()[0].id;
      sims()[1].setFault('removeMim', { status: 500 });
      const result = await fleet().rollout({ operation: 'remove', id }, { canary: 0, parallel: 1, rollback: true });
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-1', true, 'rolled-back'],
          ['dev-2', false, ''],
          ['dev-3', false, 'skipped'],
        ],
      );
      assert.deepEqual(result.devices[0].result, { id, resource: 'mim', removed: true });
      assert.equal(sims()[1].requests('deployMim').length, 0, 'the mim dev-2 kept is not deployed again');
      for (const sim of sims()) assert.deepEqual(mimsOf(sim), ['hello hello-v1 {"COLOUR":"green"}']);
    });

    it('deploys again the removed mim, not another one of the device', async () => {
      await deployEverywhere('bystander', 'hello-v1');
      await deployEverywhere('hello', 'hello-v2', { COLOUR: 'green' });
      const id = sims()[0]
        .mims()
        .find((m) => m.name === 'hello')!.id;
      sims()[1].setFault('removeMim', { status: 500 });
      const result = await fleet().rollout({ operation: 'remove', id }, { canary: 0, parallel: 1, rollback: true });
      assert.equal(result.devices[0].note, 'rolled-back');
      assert.deepEqual(mimsOf(sims()[0]), ['bystander hello-v1 {}', 'hello hello-v2 {"COLOUR":"green"}']);
    });

    it('has nothing to restore where the mim to remove was not there', async () => {
      const result = await fleet().rollout({ operation: 'remove', id: 'api-absent' }, { parallel: 1, rollback: true });
      assert.equal(result.stopped, 'failures');
      assert.equal(result.devices[0].statusCode, 404);
      assert.equal(result.devices[0].note, undefined);
      assert.equal(sims()[0].requests('deployMim').length, 0);
    });

    it('cannot bring back a deleted image, and says which; nothing to say where the delete failed', async () => {
      sims()[1].setFault('deleteImage', { status: 500 });
      const result = await fleet().rollout(
        { operation: 'remove', id: 'hello-v1', resource: 'image' },
        { canary: 0, parallel: 1, rollback: true },
      );
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-1', true, 'rollback-failed'],
          ['dev-2', false, ''],
          ['dev-3', false, 'skipped'],
        ],
      );
      assert.equal(result.devices[0].rollbackError, 'the deleted image hello-v1 cannot be restored by a rollback');
      assert.deepEqual(result.devices[0].result, { id: 'hello-v1', resource: 'image', removed: true });
      assert.deepEqual(imagesOf(sims()[0]), ['hello-v2']);
      assert.deepEqual(imagesOf(sims()[1]), ['hello-v1', 'hello-v2']);
    });

    it('cannot bring back an image deleted by its id either', async () => {
      const id = sims()[0]
        .images()
        .find((i) => i.name === 'hello-v2')!.id;
      sims()[1].setFault('deleteImage', { status: 500 });
      const result = await fleet().rollout({ operation: 'remove', id, resource: 'image' }, { canary: 0, parallel: 1, rollback: true });
      assert.equal(result.devices[0].note, 'rollback-failed');
      assert.equal(result.devices[0].rollbackError, 'the deleted image hello-v2 cannot be restored by a rollback');
      assert.equal(result.devices[1].note, undefined);
    });

    it('deletes an uploaded image again only where the upload worked', async () => {
      sims()[1].setFault('uploadImage', { status: 500 });
      const result = await fleet().rollout(
        { operation: 'upload', source: buildImageTar({ name: 'hello-v3' }) },
        { canary: 0, parallel: 1, rollback: true },
      );
      assert.deepEqual(
        result.devices.map((d) => [d.device, d.ok, d.note ?? '']),
        [
          ['dev-1', true, 'rolled-back'],
          ['dev-2', false, ''],
          ['dev-3', false, 'skipped'],
        ],
      );
      assert.equal(sims()[1].requests('deleteImage').length, 0);
      for (const sim of sims()) assert.deepEqual(imagesOf(sim), ['hello-v1', 'hello-v2']);
    });
  });

  describe('other operations', () => {
    it('targets the devices named, their names trimmed and blank entries ignored', async () => {
      const result = await fleet().rollout(deploy(), { devices: [' dev-3 ', '', 'dev-1'] });
      assert.deepEqual(
        result.devices.map((d) => d.device),
        ['dev-1', 'dev-3'],
      );
      assert.equal(sims()[1].requests().length, 0);
    });

    it('removes an image by id from every device', async () => {
      const ids = sims().map((sim) => sim.images().find((i) => i.name === 'hello-v1')!.id);
      assert.ok(ids.every((id) => id === ids[0]));
      const result = await fleet().rollout({ operation: 'remove', id: ids[0], resource: 'image' });
      assert.equal(result.succeeded, 3);
      assert.deepEqual(result.devices[0].result, { id: ids[0], resource: 'image', removed: true });
      for (const sim of sims()) {
        assert.deepEqual(imagesOf(sim), ['hello-v2']);
        assert.equal(sim.requests('removeMim').length, 0);
      }
    });

    it('names the operation of an invalid id: deleteImage for an image, removeMim for a mim', async () => {
      await assert.rejects(fleet().rollout({ operation: 'remove', id: ' ', resource: 'image' }), /^McmError: deleteImage: /);
      await assert.rejects(fleet().rollout({ operation: 'remove', id: ' ' }), /^McmError: removeMim: /);
      await assert.rejects(fleet().rollout({ operation: 'remove', id: ' ', resource: 'other' as never }), /^McmError: removeMim: /);
    });

    it('names the operation of an invalid spec, and refuses a missing one', async () => {
      await assert.rejects(fleet().rollout({ operation: 'deploy', spec: undefined as never }), (err: McmError) => {
        assert.equal(err.code, 'invalid-input');
        assert.match(err.message, /^deployMim: /);
        return true;
      });
      await assert.rejects(
        fleet().rollout({ operation: 'composition', specs: [{ name: 'a b', image: 'x' }] }),
        /^McmError: deployComposition: /,
      );
    });

    it('sends an image given as bytes again after a refused key was reloaded', async () => {
      sims()[0].rotateKey('the-rotated-key');
      let key = 'key-of-dev-1';
      let reloads = 0;
      const result = await fleet({
        keys: {},
        token: () => key,
        client: {
          timeoutMs: 3000,
          reloadToken: async () => {
            reloads++;
            key = 'the-rotated-key';
            return true;
          },
        },
      }).rollout({ operation: 'upload', source: buildImageTar({ name: 'hello-v7' }) }, { devices: ['dev-1'] });
      assert.equal(result.succeeded, 1, result.devices[0].error);
      assert.equal(reloads, 1);
      assert.deepEqual(
        sims()[0]
          .requests('uploadImage')
          .map((r) => r.status),
        [403, 201],
      );
    });

    it('uploads a stream under the file name given', async () => {
      const tar = buildImageTar({ name: 'hello-v6' });
      const result = await fleet().rollout(
        { operation: 'upload', source: Readable.from([tar]), filename: 'hello-v6.tar' },
        { parallel: 3 },
      );
      assert.equal(result.succeeded, 3);
      for (const sim of sims()) {
        const [upload] = sim.requests('uploadImage');
        assert.equal(upload.parts?.[0].filename, 'hello-v6.tar');
        assert.ok(Number(upload.headers['content-length']) > tar.length, 'sent with its length');
      }
    });
  });
});
