/**
 * When the client asks again: which failures of an idempotent read are retried, how Retry-After
 * bounds and sets the wait, how a wait ends early on abort or close, and when a refused key is
 * reloaded and the call repeated. Counted in the requests the simulator logged.
 */
import assert from 'node:assert/strict';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { McmSimulator } from '../../src/simulator';
import { buildImageTar } from '../../src/wire/image-tar';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';
import { simulatorProfile, waitFor } from '../support/simulator-helpers';
import { Readable } from 'node:stream';

describe('McmClient retries', function () {
  this.timeout(20_000);
  const sim = useSimulator();
  let client: McmClient | undefined;
  const make = (options: Partial<McmClientOptions> = {}) => (client = simulatorClient(sim(), options));

  afterEach(() => {
    client?.close();
    client = undefined;
  });

  describe('which failures are retried', () => {
    it('retries a read after a connection that broke, and succeeds', async () => {
      sim().setFault('listMims', { reset: true, times: 1 });
      assert.deepEqual(await make().listMims(), []);
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('retries a read while the runtime cannot be reached, up to the budget', async () => {
      const closed = await McmSimulator.start({ quiet: true });
      const url = closed.url;
      await closed.stop();
      const failures: Array<string | undefined> = [];
      client = new McmClient({ url, token: 'k', retries: 2, retryBaseMs: 5, onExchange: (e) => failures.push(e.error) });
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'unreachable');
      assert.deepEqual(failures, ['unreachable', 'unreachable', 'unreachable']);
    });

    for (const status of [429, 502, 504]) {
      it(`retries a read answered ${status}`, async () => {
        sim().setFault('listImages', { status, times: 1 });
        assert.deepEqual(await make().listImages(), []);
        assert.equal(sim().requests('listImages').length, 2);
      });
    }

    for (const status of [400, 404, 500, 501]) {
      it(`does not retry a read answered ${status}`, async () => {
        sim().setFault('listImages', { status, times: 1 });
        const error = await rejects(make().listImages());
        assert.equal(error.statusCode, status);
        assert.equal(sim().requests('listImages').length, 1);
      });
    }

    it('does not retry a read that timed out', async () => {
      sim().setFault('listMims', { hang: true, times: 1 });
      const error = await rejects(make({ timeoutMs: 200 }).listMims());
      assert.equal(error.code, 'timeout');
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('takes retries: 0 as no retry at all', async () => {
      sim().setFault('listMims', { status: 503, times: 1 });
      const error = await rejects(make({ retries: 0 }).listMims());
      assert.equal(error.statusCode, 503);
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('checks a connection once, without retries', async () => {
      sim().setFault('listMims', { status: 503, times: 1 });
      const error = await rejects(make().checkConnection());
      assert.equal(error.operation, 'checkConnection');
      assert.equal(error.statusCode, 503);
      assert.equal(sim().requests('listMims').length, 1);
    });
  });

  describe('Retry-After', () => {
    it('fails at once when Retry-After asks for longer than retryMaxMs', async () => {
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '3' }, times: 1 });
      const error = await rejects(make({ retryMaxMs: 2000 }).listMims());
      assert.equal(error.statusCode, 503);
      assert.equal(error.retryAfterMs, 3000);
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('fails at once when Retry-After asks for longer than the call’s timeout', async () => {
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '2' }, times: 1 });
      const error = await rejects(make({ timeoutMs: 1500, retryMaxMs: 10_000 }).listMims());
      assert.equal(error.retryAfterMs, 2000);
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('waits a Retry-After exactly as long as retryMaxMs, then retries', async () => {
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '1' }, times: 1 });
      assert.deepEqual(await make({ retryMaxMs: 1000 }).listMims(), []);
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('bounds Retry-After by retryMaxMs alone when calls have no timeout', async () => {
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '1' }, times: 1 });
      assert.deepEqual(await make({ timeoutMs: 0, retryMaxMs: 1500 }).listMims(), []);
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('reads Retry-After as seconds, as an HTTP date, or not at all', async () => {
      const cases: Array<[string, (ms: number | undefined) => boolean]> = [
        ['2', (ms) => ms === 2000],
        ['0.5', (ms) => ms === 500],
        ['-3', (ms) => ms === 0],
        [new Date(Date.now() + 60_000).toUTCString(), (ms) => ms !== undefined && ms > 50_000 && ms <= 60_000],
        ['Wed, 21 Oct 2015 07:28:00 GMT', (ms) => ms === 0],
        ['soon', (ms) => ms === undefined],
        ['   ', (ms) => ms === undefined],
      ];
      make({ retries: 0 });
      for (const [value, expected] of cases) {
        sim().setFault('listMims', { status: 503, headers: { 'Retry-After': value }, times: 1 });
        const error = await rejects(client!.listMims());
        assert.ok(expected(error.retryAfterMs), `Retry-After "${value}" read as ${error.retryAfterMs}`);
      }
    });

    it('retries at once after a Retry-After date in the past', async () => {
      sim().setFault('listMims', { status: 429, headers: { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' }, times: 1 });
      assert.deepEqual(await make({ retryBaseMs: 60_000, retryMaxMs: 60_000 }).listMims(), []);
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('without Retry-After, waits no longer than retryMaxMs however large retryBaseMs is', async () => {
      sim().setFault('listMims', { status: 503, times: 2 });
      // A backoff of retryBaseMs (a minute) would outlast this test.
      assert.deepEqual(await make({ retryBaseMs: 60_000, retryMaxMs: 50 }).listMims(), []);
      assert.equal(sim().requests('listMims').length, 3);
    });
  });

  describe('a wait between attempts', () => {
    it('ends at the caller’s AbortSignal', async () => {
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '5' } });
      const controller = new AbortController();
      const listing = make({ retryMaxMs: 10_000, timeoutMs: 10_000 }).listMims({ signal: controller.signal });
      await waitFor(
        () =>
          sim()
            .requests('listMims')
            .some((e) => e.status === 503),
        'the first answer',
      );
      controller.abort();
      const error = await rejects(listing);
      assert.equal(error.code, 'aborted');
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('ends when the client is closed', async () => {
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '5' } });
      const listing = make({ retryMaxMs: 10_000, timeoutMs: 10_000 }).listMims();
      await waitFor(
        () =>
          sim()
            .requests('listMims')
            .some((e) => e.status === 503),
        'the first answer',
      );
      client!.close();
      const error = await rejects(listing);
      assert.equal(error.code, 'aborted');
      assert.equal(sim().requests('listMims').length, 1);
    });
  });

  describe('a refused key', () => {
    /** A client whose reloadToken counts its calls; by default it starts with a wrong key. */
    const reloading = (result: () => boolean | Promise<boolean>, startWith: 'wrong-key' | 'right-key' = 'wrong-key') => {
      const calls = { count: 0 };
      make({
        ...(startWith === 'wrong-key' ? { token: () => 'wrong-key' } : {}),
        reloadToken: () => {
          calls.count++;
          return result();
        },
      });
      return calls;
    };

    it('is reloaded once: a second refusal is the answer', async () => {
      const calls = reloading(() => true);
      const error = await rejects(client!.listMims());
      assert.equal(error.statusCode, 403);
      assert.equal(calls.count, 1);
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('is not asked again when the reload found no new key', async () => {
      const calls = reloading(() => false);
      const error = await rejects(client!.deployMim('a', 'b'));
      assert.equal(error.statusCode, 403);
      assert.equal(calls.count, 1);
      assert.equal(sim().requests('deployMim').length, 1);
    });

    it('stays refused when the reload itself fails', async () => {
      const calls = reloading(() => Promise.reject(new Error('the key file is gone')));
      const error = await rejects(client!.listMims());
      assert.equal(error.statusCode, 403);
      assert.equal(calls.count, 1);
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('also after a 401, and for a call that is not a read', async () => {
      sim().setFault('deployMim', { status: 401, times: 1 });
      const calls = reloading(() => true, 'right-key');
      await client!.uploadImage(buildImageTar({ name: 'img' }));
      const mim = await client!.deployMim('again', 'img');
      assert.equal(mim.name, 'again');
      assert.equal(calls.count, 1);
      assert.equal(sim().requests('deployMim').length, 2);
    });

    it('is not reloaded for an answer that is not a refusal', async () => {
      sim().setFault('listMims', { status: 500, times: 1 });
      const calls = reloading(() => true, 'right-key');
      const error = await rejects(client!.listMims());
      assert.equal(error.statusCode, 500);
      assert.equal(calls.count, 0);
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('does not repeat an upload from a stream that cannot be sent twice', async () => {
      const calls = reloading(() => true);
      const tar = buildImageTar({ name: 'once' });
      const error = await rejects(client!.uploadImage(Readable.from([tar]), { size: tar.length }));
      assert.equal(error.statusCode, 403);
      assert.equal(calls.count, 0);
      assert.equal(sim().requests('uploadImage').length, 1);
    });
  });

  describe('data store follow-ups', () => {
    it('retries a poll that met a passing failure', async function () {
      // Field runtimes offer no way to follow the operation.
      if (simulatorProfile() === 'field') this.skip();
      sim().options.asyncDataStore = { steps: 1 };
      make({ dataStorePollMs: 5 });
      await client!.uploadImage(buildImageTar({ name: 'db' }));
      await client!.deployMim('db', 'db');
      sim().setFault('dataStoreStatus', { status: 503, times: 1 });
      const result = await client!.backupDataStore('api-db', '/b');
      assert.equal(result.status, 'completed');
      assert.deepEqual(
        sim()
          .requests('dataStoreStatus')
          .map((e) => e.status),
        [503, 200],
      );
    });
  });
});
