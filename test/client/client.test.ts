/**
 * The MCM client over real HTTP against the simulator: every operation, every tolerance rule
 * of the contract, and the guarantees around headers, ids, errors and the token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buildImageTar, writeImageTar } from '../../src/wire/image-tar';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { DataStoreResult, Mim, MimImage } from '../../src/mcm/models';
import { McmSimulator } from '../../src/simulator';
import { byProfile, simulatorProfile, waitFor } from '../support/simulator-helpers';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';

const dir = mkdtempSync(join(tmpdir(), 'mcm-client-'));

describe('McmClient against the simulator', function () {
  const sim = useSimulator({ logSecrets: true });
  let client: McmClient;
  const make = (options: Partial<McmClientOptions> = {}) => simulatorClient(sim(), options);

  beforeEach(() => {
    client = make();
  });
  afterEach(() => client.close());

  describe('operations', () => {
    it('uploads an image from a Buffer and lists it', async () => {
      const tar = buildImageTar({ name: 'hello-v1' });
      const image = await client.uploadImage(tar);
      assert.equal(image.name, 'hello-v1');
      assert.equal(image.id, 'api-hello-v1');
      assert.equal(image.size, tar.length);
      assert.deepEqual(image.repoTags, ['hello-v1:1.0.0']);
      const images = await client.listImages();
      assert.deepEqual(
        images.map((i: MimImage) => i.name),
        ['hello-v1'],
      );
    });

    it('uploads an image from a file path, with progress up to 100%', async () => {
      const file = join(dir, 'big.tar');
      const size = await writeImageTar(file, { name: 'big', paddingBytes: 9 * 1024 * 1024 });
      const seen: number[] = [];
      const image = await client.uploadImage(file, { onProgress: (p) => seen.push(p.percentage ?? -1) });
      assert.equal(image.name, 'big');
      assert.equal(image.size, size);
      assert.ok(seen.length >= 2, 'several progress reports');
      assert.equal(seen[seen.length - 1], 100);
      const upload = sim().requests('uploadImage')[0];
      assert.ok(Number(upload.headers['content-length']) > size, 'a file upload carries its Content-Length');
      assert.equal(upload.headers['transfer-encoding'], undefined);
    });

    it('uploads an image from a Readable stream of unknown length, with its Content-Length', async () => {
      const tar = buildImageTar({ name: 'streamed' });
      const stream = new PassThrough();
      setTimeout(() => stream.end(tar), 20);
      const image = await client.uploadImage(stream, { filename: 'streamed.tar' });
      assert.equal(image.name, 'streamed');
      assert.equal(image.size, tar.length);
      const upload = sim().requests('uploadImage')[0];
      assert.ok(Number(upload.headers['content-length']) > tar.length, 'a streamed upload carries its Content-Length');
      assert.equal(upload.headers['transfer-encoding'], undefined);
    });

    it('deploys, lists and removes a mim with string env values', async () => {
      await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
      const mim = await client.deployMim('hello', 'hello-v1', {
        'MCM.BASE_API_PATH': '/hello/v1',
        RETRIES: 3 as unknown as string,
        DEBUG: true as unknown as string,
      });
      assert.equal(mim.id, 'api-hello');
      assert.equal(mim.image, 'hello-v1');
      assert.deepEqual(mim.env, { 'MCM.BASE_API_PATH': '/hello/v1', RETRIES: '3', DEBUG: 'true' });
      const sent = sim().requests('deployMim')[0];
      assert.deepEqual(sent.body, {
        name: 'hello',
        image: 'hello-v1',
        env: { 'MCM.BASE_API_PATH': '/hello/v1', RETRIES: '3', DEBUG: 'true' },
      });
      assert.match(String(sent.headers['content-type']), /^application\/json/);
      assert.deepEqual(
        (await client.listMims()).map((m: Mim) => m.id),
        ['api-hello'],
      );
      await client.removeMim('api-hello');
      assert.deepEqual(await client.listMims(), []);
    });

    it('deletes an image', async () => {
      await client.uploadImage(buildImageTar({ name: 'gone' }));
      await client.deleteImage('api-gone');
      assert.deepEqual(await client.listImages(), []);
    });

    it('deploys a composition and sends {mims: [...]}', async () => {
      await client.uploadImage(buildImageTar({ name: 'a' }));
      await client.uploadImage(buildImageTar({ name: 'b' }));
      const mims = await client.deployComposition([
        { name: 'one', image: 'a' },
        { name: 'two', image: 'b', env: { X: '1' } },
      ]);
      assert.deepEqual(
        mims.map((m) => m.id),
        ['api-one', 'api-two'],
      );
      assert.deepEqual((sim().requests('deployComposition')[0].body as { mims: unknown[] }).mims.length, 2);
    });

    it('backs up and restores a data store', async () => {
      await client.uploadImage(buildImageTar({ name: 'db' }));
      await client.deployMim('db', 'db');
      const backup = await client.backupDataStore('api-db', '/backups/db.bak');
      assert.equal(backup.action, 'backup');
      assert.equal(backup.status, 'completed');
      const restore = await client.restoreDataStore('api-db', '/backups/db.bak');
      assert.equal(restore.action, 'restore');
      assert.equal(restore.status, 'completed');
    });

    it('polls an inProgress data store operation until it is final, reporting progress', async function () {
      // Field runtimes offer no way to follow the operation (field-answers tests what the client does then).
      if (simulatorProfile() === 'field') this.skip();
      sim().options.asyncDataStore = { steps: 3 };
      client = make({ dataStorePollMs: 10 });
      await client.uploadImage(buildImageTar({ name: 'db' }));
      await client.deployMim('db', 'db');
      const progress: number[] = [];
      const result = await client.backupDataStore('api-db', '/b', { onProgress: (r: DataStoreResult) => progress.push(r.percentage) });
      assert.equal(result.status, 'completed');
      assert.ok(progress.length >= 2, `progress reported ${progress.length} times`);
      assert.ok(sim().requests('dataStoreStatus').length >= 2);
    });

    it('fails when a data store operation stays inProgress past the bound', async function () {
      // Only a followed operation can stay in progress: field runtimes offer nothing to follow.
      if (simulatorProfile() === 'field') this.skip();
      sim().options.asyncDataStore = { steps: 1000 };
      client = make({ dataStorePollMs: 10, dataStoreMaxWaitMs: 100 });
      await client.uploadImage(buildImageTar({ name: 'db' }));
      await client.deployMim('db', 'db');
      const error = await rejects(client.backupDataStore('api-db', '/b'));
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /still in progress/);
    });

    it('treats a failed data store result as an error with the runtime message', async () => {
      await client.uploadImage(buildImageTar({ name: 'db' }));
      await client.deployMim('db', 'db');
      const error = await rejects(client.restoreDataStore('api-db', '/no/backup/here'));
      assert.equal(error.code, 'operation-failed');
      assert.ok(error.serverMessage && error.serverMessage.length > 0);
      assert.equal((error.result as DataStoreResult).status, 'failed');
    });

    it('speaks /containers to older runtimes', async () => {
      client = make({ mimsResource: 'containers' });
      await client.uploadImage(buildImageTar({ name: 'old' }));
      await client.deployMim('old', 'old');
      assert.equal((await client.listMims()).length, 1);
      assert.ok(sim().log.some((entry) => entry.url.startsWith('/mcm/v1/containers')));
      assert.ok(!sim().log.some((entry) => entry.url.startsWith('/mcm/v1/mims')));
    });
  });

  describe('the wire', () => {
    it('sends the bearer token and the client id', async () => {
      client = make({ clientId: 'edge-7' });
      await client.listMims();
      const [entry] = sim().requests('listMims');
      assert.equal(entry.headers.authorization, `Bearer ${sim().key}`);
      assert.equal(entry.headers['x-client-id'], 'edge-7');
      assert.equal(entry.clientId, 'edge-7');
    });

    it('puts ids in paths URL-encoded, so an id never reaches another route', async () => {
      await rejects(client.removeMim('../images/x'));
      await rejects(client.deleteImage('a/b?c#d'));
      const urls = sim().log.map((entry) => entry.url);
      assert.ok(urls.includes('/mcm/v1/mims/..%2Fimages%2Fx'), urls.join(' '));
      assert.ok(urls.includes('/mcm/v1/images/a%2Fb%3Fc%23d'), urls.join(' '));
      assert.equal(sim().requests('deleteImage').length, 1);
    });

    it('never sends Expect: 100-continue, even for uploads', async () => {
      await client.uploadImage(buildImageTar({ name: 'x' }));
      await client.listImages();
      assert.equal(sim().requests('uploadImage').length, 1, 'the upload is among the requests checked');
      for (const entry of sim().log) assert.equal(entry.headers.expect, undefined);
    });

    it('sends only the headers it means to: no User-Agent or Accept-Encoding of the HTTP library', async () => {
      await client.uploadImage(buildImageTar({ name: 'x' }));
      await client.deployMim('plain', 'x');
      await client.listMims();
      // The field profile answers creates without a body: each is followed by a look-up.
      assert.equal(sim().log.length, byProfile({ contract: 3, field: 5 }));
      for (const entry of sim().log) {
        assert.equal(entry.headers['user-agent'], undefined, entry.url);
        assert.equal(entry.headers['accept-encoding'], undefined, entry.url);
      }
    });

    it('reuses connections (keep-alive)', async () => {
      for (let i = 0; i < 5; i++) await client.listMims();
      assert.equal(sim().requests('listMims').length, 5);
      assert.equal(sim().connections, 1);
    });

    it('refuses invalid input before any request', async () => {
      const cases: Array<[string, () => Promise<unknown>, string]> = [
        ['blank name', () => client.deployMim(' ', 'img'), 'name-missing'],
        ['name with space', () => client.deployMim('a b', 'img'), 'name-whitespace'],
        ['missing image', () => client.deployMim('a', ''), 'image-missing'],
        ['env array', () => client.deployMim('a', 'img', [] as never), 'env-not-object'],
        ['env object value', () => client.deployMim('a', 'img', { A: {} } as never), 'env-value'],
        ['empty composition', () => client.deployComposition([]), 'specs-empty'],
        ['composition not array', () => client.deployComposition({} as never), 'specs-not-array'],
        [
          'duplicate names',
          () =>
            client.deployComposition([
              { name: 'a', image: 'i' },
              { name: 'a', image: 'i' },
            ]),
          'spec-duplicate-name',
        ],
        ['missing id', () => client.removeMim(''), 'id-missing'],
        ['dot-dot id', () => client.removeMim('..'), 'id-invalid'],
        ['backup without path', () => client.backupDataStore('api-x', ''), 'path-missing'],
        ['missing file', () => client.uploadImage(join(dir, 'nope.tar')), 'source-unreadable'],
        ['directory', () => client.uploadImage(dir), 'source-directory'],
        ['empty buffer', () => client.uploadImage(Buffer.alloc(0)), 'source-empty'],
        ['empty stream', () => client.uploadImage(Readable.from([])), 'source-empty'],
        ['number source', () => client.uploadImage(42 as never), 'source-type'],
      ];
      for (const [label, call, rule] of cases) {
        const error = await rejects(call());
        assert.equal(error.code, 'invalid-input', label);
        assert.equal(error.rule, rule, label);
      }
      assert.equal(sim().log.length, 0, 'no request reached the simulator');
    });

    it('refuses an empty file before any request', async () => {
      const empty = join(dir, 'empty.tar');
      writeFileSync(empty, '');
      mkdirSync(join(dir, 'sub'), { recursive: true });
      assert.equal((await rejects(client.uploadImage(empty))).rule, 'source-empty');
      assert.equal(sim().log.length, 0);
    });
  });

  describe('tolerance rules', () => {
    it('accepts 200, 201 and 204, with and without a body', async () => {
      sim().setFault('removeMim', { status: 204, body: '' });
      await client.removeMim('api-anything');
      sim().setFault('deleteImage', { status: 200, body: '' });
      await client.deleteImage('api-anything');
      // 201 without a body: the client asks the list for the mim (its id depends on the client id).
      await client.uploadImage(buildImageTar({ name: 'img' }));
      await client.deployMim('quiet', 'img');
      sim().setFault('deployMim', { status: 201, body: '' });
      const mim = await client.deployMim('quiet', 'img');
      assert.equal(mim.name, 'quiet');
      assert.equal(mim.id, 'api-quiet');
      assert.equal(mim.state, 'started');
      sim().setFault('listMims', { status: 204, body: '' });
      assert.deepEqual(await client.listMims(), []);
    });

    it('accepts wrapped and bare lists, keeping unknown fields and filling defaults', async () => {
      sim().setFault('listMims', { status: 200, body: [{ id: 'api-a', name: 'a', gpu: 'yes' }] });
      const [bare] = await client.listMims();
      assert.equal(bare.gpu, 'yes');
      assert.deepEqual(bare.env, {});
      assert.equal(bare.state, '');
      sim().setFault('listImages', {
        status: 200,
        body: { data: [{ id: 'api-i', name: 'i', created: 1700000000, vendor: 'm' }], next: null },
      });
      const [wrapped] = await client.listImages();
      assert.equal(wrapped.vendor, 'm');
      assert.equal(wrapped.created, 1700000000);
      assert.deepEqual(wrapped.repoTags, []);
      assert.equal(wrapped.size, 0);
    });

    it('accepts a composition answer that is a bare array', async () => {
      sim().setFault('deployComposition', { status: 200, body: [{ id: 'api-x', name: 'x' }] });
      const mims = await client.deployComposition([{ name: 'x', image: 'i' }]);
      assert.equal(mims[0].id, 'api-x');
    });

    const shapes: Array<[string, unknown]> = [
      ['{error: {message}}', { error: { code: 409, message: 'name taken' } }],
      ['{message}', { message: 'name taken' }],
      ['{error: "..."}', { error: 'name taken' }],
      ['{errorMessage}', { errorMessage: 'name taken' }],
      ['plain text', 'name taken'],
    ];
    for (const [label, body] of shapes) {
      it(`takes the error text from ${label}`, async () => {
        sim().setFault('deployMim', { status: 409, body: body as string });
        const error = await rejects(client.deployMim('a', 'b'));
        assert.equal(error.code, 'http');
        assert.equal(error.statusCode, 409);
        assert.equal(error.serverMessage, 'name taken');
        assert.equal(error.operation, 'deployMim');
        assert.match(error.message, /deployMim failed: HTTP 409 name taken/);
      });
    }

    it("reports the simulator's own texts for an unknown image", async () => {
      const missing = await rejects(client.deployMim('a', 'no-such-image'));
      assert.equal(missing.statusCode, byProfile({ contract: 404, field: 400 }));
      assert.equal(
        missing.serverMessage,
        byProfile({ contract: 'image "no-such-image" not found; upload it first', field: 'cannot find image with name no-such-image' }),
      );
    });

    it('names malformed JSON as a bad response', async () => {
      sim().setFault('listMims', { malformed: true });
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'bad-response');
      assert.match(error.message, /malformed JSON/);
    });
  });

  describe('errors, retries, timeouts and aborts', () => {
    it('answers 403 for a wrong token, and the error text never holds the token', async () => {
      const secret = 'super-secret-token-123';
      client = make({ token: secret });
      const error = await rejects(client.listMims());
      assert.equal(error.statusCode, 403);
      assert.ok(!error.message.includes(secret));
      assert.ok(!JSON.stringify(error).includes(secret));
    });

    it('redacts a token that the server echoes', async () => {
      sim().setFault('listMims', { status: 400, body: { message: `bad request from Bearer ${sim().key}` } });
      const error = await rejects(client.listMims());
      assert.ok(!error.message.includes(sim().key));
      assert.match(error.message, /\*\*\*/);
    });

    it('retries idempotent reads after 503 with Retry-After', async () => {
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '0' }, times: 1 });
      assert.deepEqual(await client.listMims(), []);
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('never retries a deploy', async () => {
      sim().setFault('deployMim', { status: 503, times: 1 });
      const error = await rejects(client.deployMim('a', 'b'));
      assert.equal(error.statusCode, 503);
      assert.equal(sim().requests('deployMim').length, 1);
    });

    it('gives up after the retry budget', async () => {
      sim().setFault('listImages', { status: 502 });
      const error = await rejects(client.listImages());
      assert.equal(error.statusCode, 502);
      assert.equal(sim().requests('listImages').length, 3);
    });

    it('times out on a hang, within the timeout and a small bound', async () => {
      client = make({ timeoutMs: 300 });
      sim().setFault('listMims', { hang: true });
      const started = Date.now();
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'timeout');
      assert.ok(Date.now() - started < 300 + 1500);
    });

    it('takes a per-call timeout', async () => {
      sim().setFault('listMims', { delayMs: 500 });
      const error = await rejects(client.listMims({ timeoutMs: 100 }));
      assert.equal(error.code, 'timeout');
    });

    it('stops at an AbortSignal', async () => {
      sim().setFault('deployMim', { hang: true });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await rejects(client.deployMim('a', 'b', {}, { signal: controller.signal }));
      assert.equal(error.code, 'aborted');
    });

    it('names a refused connection', async () => {
      const closed = await McmSimulator.start({ quiet: true });
      const url = closed.url;
      await closed.stop();
      client = new McmClient({ url, token: 'x', retryBaseMs: 5 });
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'unreachable');
      assert.match(error.message, /ECONNREFUSED/);
    });

    it('names a connection reset mid-response', async () => {
      sim().setFault('deployMim', { resetMidResponse: true });
      const error = await rejects(client.deployMim('a', 'b'));
      assert.ok(['connection', 'bad-response'].includes(error.code), error.code);
    });

    it('reloads the token once after a 403 and repeats the call', async () => {
      let token = 'old-key';
      let reloads = 0;
      client = make({
        token: () => token,
        reloadToken: () => {
          reloads++;
          token = sim().key;
          return true;
        },
      });
      assert.deepEqual(await client.listMims(), []);
      assert.equal(reloads, 1);
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('keeps at most maxConcurrent requests in flight, serving waiters in order', async () => {
      client = make({ maxConcurrent: 2 });
      sim().setFault('removeMim', { status: 200, body: '', delayMs: 60 });
      await Promise.all(Array.from({ length: 8 }, (_, i) => client.removeMim(`api-${i}`)));
      assert.ok(sim().maxInFlight <= 2, `max in flight ${sim().maxInFlight}`);
      // In the order they arrived, two at a time (the two of a pair may swap): first come, first
      // served; a last-in first-out queue would serve 7 and 6 right after 0 and 1.
      const arrived = sim()
        .requests('removeMim')
        .map((e) => Number(e.url.split('-').pop()));
      const pairs = [0, 2, 4, 6].map((start) => arrived.slice(start, start + 2).sort());
      assert.deepEqual(pairs, [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
      ]);
    });

    it('ends every call when closed', async () => {
      sim().setFault('listMims', { hang: true });
      const pending = client.listMims();
      setTimeout(() => client.close(), 30);
      assert.equal((await rejects(pending)).code, 'aborted');
    });
  });

  describe('hard cases', () => {
    it('survives a caller stream that fails while its upload waits for a slot, and closes it', async () => {
      client = make({ maxConcurrent: 1 });
      sim().setFault('listMims', { delayMs: 300, times: 1 });
      const busy = client.listMims();
      const stream = new PassThrough();
      stream.write(buildImageTar({ name: 'late' }).subarray(0, 1024));
      const upload = client.uploadImage(stream);
      await waitFor(() => sim().requests('listMims').length === 1, 'the list holding the one slot');
      stream.destroy(new Error('disk gone'));
      const error = await rejects(upload);
      assert.equal(error.code, 'invalid-input');
      assert.match(error.message, /disk gone/);
      await busy;
    });

    it('destroys a caller stream whose upload is aborted while queued', async () => {
      client = make({ maxConcurrent: 1 });
      sim().setFault('listMims', { delayMs: 300, times: 1 });
      const busy = client.listMims();
      const stream = new PassThrough();
      stream.write(buildImageTar({ name: 'queued' }));
      const controller = new AbortController();
      const upload = client.uploadImage(stream, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      assert.equal((await rejects(upload)).code, 'aborted');
      assert.ok(stream.destroyed, 'the stream was closed');
      await busy;
    });

    it('accepts a delete answered with any 2xx body', async () => {
      sim().setFault('removeMim', { status: 200, body: 'OK, gone' });
      await client.removeMim('api-anything');
      assert.deepEqual(
        sim()
          .requests('removeMim')
          .map((e) => e.status),
        [200],
      );
    });

    it('refuses a data store status it does not know', async () => {
      sim().setFault('dataStore', { status: 200, body: { action: 'backup', status: 'error', message: 'disk full' } });
      const error = await rejects(client.backupDataStore('api-x', '/p'));
      assert.equal(error.code, 'bad-response');
      assert.match(error.message, /unknown data store status "error"/);
    });

    it('keeps its defaults when options are given as undefined', async () => {
      client = new McmClient({ url: sim().url, token: sim().key, timeoutMs: undefined, retries: undefined, retryBaseMs: 5 });
      sim().setFault('listMims', { status: 503 });
      const error = await rejects(client.listMims());
      assert.equal(sim().requests('listMims').length, 3, 'two retries by default, not endless');
      assert.equal(error.statusCode, 503);
    });

    it('redacts the token before cutting a long server text', async () => {
      sim().setFault('listMims', { status: 400, body: { message: `${'x'.repeat(495)}${sim().key} and more` } });
      const error = await rejects(client.listMims());
      assert.ok(!error.message.includes(sim().key.slice(0, 6)), 'no part of the token survives');
      assert.ok((error.serverMessage ?? '').length <= 501);
    });
  });

  it('rejects a URL that is not http(s)', () => {
    assert.throws(() => new McmClient({ url: 'ftp://x', token: 't' }), /http:\/\/ or https:\/\//);
    assert.equal(new McmClient({ url: 'http://127.0.0.1:1/mcm/v1/', token: 't' }).url, 'http://127.0.0.1:1');
  });
});
