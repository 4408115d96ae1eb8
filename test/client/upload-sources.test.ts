/**
 * Upload sources over real HTTP: every upload carries Content-Length; streams of unknown length
 * and pseudo files are copied to a private temporary file that is gone afterwards whatever
 * happened; files that change size mid-upload fail at once; devices and FIFOs are refused; an
 * answer without the image is looked up by the name read from the tar; exchanges count bytes;
 * files read into reused buffers arrive byte for byte.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Exchange, McmClient, McmClientOptions } from '../../src/mcm/client';
import { buildImageTar, writeImageTar } from '../../src/wire/image-tar';
import { rejects } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';
import { closeServer, listenOnLoopback } from '../support/loopback-server';
import { ThrottlingRelay } from '../support/relay';
import { byProfile, tmpdirPerTest, waitFor } from '../support/simulator-helpers';

const MiB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'mimoe-sources-'));

describe('upload sources', function () {
  this.timeout(20_000);
  const sim = useSimulator();
  let client: McmClient;
  const make = (options: Partial<McmClientOptions> = {}) =>
    (client = new McmClient({ url: sim().url, token: sim().key, timeoutMs: 5000, retries: 0, ...options }));

  beforeEach(() => make());
  afterEach(() => client.close());

  describe('a stream of unknown length, kept in a temporary file', () => {
    const spoolRoot = tmpdirPerTest();
    const copies = () => readdirSync(spoolRoot());
    const streamOf = (tar: Buffer, end = true) => {
      const stream = new PassThrough();
      if (end) stream.end(tar);
      else stream.write(tar);
      return stream;
    };

    it('is sent with Content-Length from a private file (0600 in a 0700 directory), removed after success', async () => {
      const tar = buildImageTar({ name: 'spooled', paddingBytes: MiB });
      sim().setFault('uploadImage', { delayMs: 300, times: 1 });
      const upload = client.uploadImage(streamOf(tar));
      await waitFor(() => sim().requests('uploadImage').length === 1, 'the upload at the simulator');
      const [dir] = copies();
      assert.ok(dir?.startsWith('mimoe-upload-'), `a copy is kept while sending: ${copies().join()}`);
      assert.equal(statSync(join(spoolRoot(), dir)).mode & 0o777, 0o700);
      assert.equal(statSync(join(spoolRoot(), dir, 'image.tar')).mode & 0o777, 0o600);
      assert.equal(statSync(join(spoolRoot(), dir, 'image.tar')).size, tar.length);
      const image = await upload;
      assert.equal(image.name, 'spooled');
      assert.deepEqual(copies(), [], 'the copy is gone');
      const [sent] = sim().requests('uploadImage');
      assert.ok(Number(sent.headers['content-length']) > tar.length);
      assert.equal(sent.headers['transfer-encoding'], undefined);
    });

    it('is removed after the runtime refuses the upload', async () => {
      sim().setFault('uploadImage', { delayMs: 200, status: 400, body: { message: 'no room' } });
      const upload = client.uploadImage(streamOf(buildImageTar({ name: 'refused' })));
      await waitFor(() => sim().requests('uploadImage').length === 1, 'the upload at the simulator');
      assert.equal(copies().length, 1, 'a copy is kept while sending');
      const error = await rejects(upload);
      assert.equal(error.statusCode, 400);
      assert.deepEqual(copies(), []);
    });

    it('is removed when the call is aborted while the stream is still being copied, and the stream is closed', async () => {
      const stream = streamOf(buildImageTar({ name: 'never-ends' }), false);
      const controller = new AbortController();
      const upload = client.uploadImage(stream, { signal: controller.signal });
      await waitFor(() => copies().length === 1, 'the copying begun');
      controller.abort();
      assert.equal((await rejects(upload)).code, 'aborted');
      assert.ok(stream.destroyed);
      assert.deepEqual(copies(), []);
      assert.equal(sim().requests().length, 0, 'nothing was sent');
    });

    it('is removed when the client closes mid-upload', async () => {
      sim().setFault('uploadImage', { hang: true });
      const upload = client.uploadImage(streamOf(buildImageTar({ name: 'closing' })));
      await waitFor(() => sim().requests('uploadImage').length === 1, 'the upload at the simulator');
      assert.equal(sim().inFlight, 1);
      assert.equal(copies().length, 1, 'a copy is kept while sending');
      client.close();
      assert.equal((await rejects(upload)).code, 'aborted');
      assert.deepEqual(copies(), []);
    });

    it('makes a stream repeatable: the upload is sent again after a reloaded key', async () => {
      let token = 'stale-key';
      make({ token: () => token, reloadToken: () => ((token = sim().key), true) });
      const image = await client.uploadImage(streamOf(buildImageTar({ name: 'again' })));
      assert.equal(image.name, 'again');
      assert.deepEqual(
        sim()
          .requests('uploadImage')
          .map((r) => r.status),
        [403, byProfile({ contract: 201, field: 200 })],
      );
      assert.deepEqual(copies(), []);
    });

    it('copies a /proc file (reported size 0) to learn its real length instead of calling it empty', async () => {
      const error = await rejects(client.uploadImage('/proc/self/status'));
      // Its bytes went out with their real length; the runtime found no tar in them.
      assert.equal(error.statusCode, 400);
      const [sent] = sim().requests('uploadImage');
      assert.ok((sent.parts?.[0].bytes ?? 0) > 100, `sent ${sent.parts?.[0].bytes} bytes`);
      assert.equal(sent.headers['transfer-encoding'], undefined);
      assert.deepEqual(copies(), []);
    });

    it('copies a /sys file (reported size 4096) to learn its real length, so nothing waits for bytes that never come', async function () {
      const file = '/sys/devices/system/cpu/online';
      if (!existsSync(file)) this.skip();
      const content = readFileSync(file);
      assert.notEqual(statSync(file).size, content.length, 'the file system reports another size');
      const started = Date.now();
      const error = await rejects(client.uploadImage(file));
      assert.equal(error.statusCode, 400);
      assert.equal(sim().requests('uploadImage')[0].parts?.[0].bytes, content.length);
      assert.ok(Date.now() - started < 2000);
    });
  });

  describe('a file that changes size while it is sent', () => {
    const bigTar = async (name: string) => {
      const file = join(work, `${name}.tar`);
      const size = await writeImageTar(file, { name, paddingBytes: 32 * MiB });
      return { file, size };
    };

    for (const [label, change, finalSize] of [
      ['truncated', (file: string) => truncateSync(file, MiB), () => MiB],
      ['appended to', (file: string) => appendFileSync(file, Buffer.alloc(4096)), (size: number) => size + 4096],
    ] as const) {
      it(`fails at once when ${label}, with a clear invalid-input error`, async () => {
        const { file, size } = await bigTar(`changing-${label.replace(/ /g, '-')}`);
        // The simulator sits on the request, so the upload is mid-file when the file changes.
        sim().setFault('uploadImage', { delayMs: 4000 });
        const upload = client.uploadImage(file);
        await waitFor(() => sim().requests('uploadImage').length === 1, 'the upload at the simulator');
        change(file);
        const changedAt = Date.now();
        const error = await rejects(upload);
        assert.equal(error.code, 'invalid-input');
        assert.equal(error.rule, 'source-changed');
        assert.equal(
          error.message,
          `uploadImage: the image file "${file}" changed size while it was being sent (from ${size} to ${finalSize(size)} bytes); send it again once it is complete`,
        );
        assert.ok(Date.now() - changedAt < 1000, `failed ${Date.now() - changedAt} ms after the change`);
        assert.equal(sim().images().length, 0);
      });
    }

    it('fails at once when a stream gives more bytes than the size it was given', async () => {
      const tar = buildImageTar({ name: 'sized' });
      const error = await rejects(client.uploadImage(new PassThrough().end(tar), { size: tar.length - 512 }));
      assert.equal(error.rule, 'source-size-mismatch');
      assert.match(error.message, /does not have the size given for it/);
    });
  });

  describe('files that are not image files', () => {
    it('refuses a FIFO at once, sending nothing (reading it would wait for a writer)', async () => {
      const fifo = join(work, 'image.fifo');
      execFileSync('mkfifo', [fifo]);
      const error = await rejects(client.uploadImage(fifo));
      assert.equal(error.rule, 'source-not-file');
      assert.equal(
        error.message,
        `uploadImage: the image path "${fifo}" is a named pipe (FIFO), not a file; read it into msg.payload as a stream instead`,
      );
      assert.equal(sim().requests().length, 0);
    });

    it('refuses a character device (it may never end), sending nothing', async () => {
      const error = await rejects(client.uploadImage('/dev/zero'));
      assert.equal(error.rule, 'source-not-file');
      assert.match(error.message, /is a character device, not a file/);
      assert.equal(sim().requests().length, 0);
    });
  });

  describe('an upload answered without the image', () => {
    /** Passes everything to the simulator, but answers uploads with `answer` instead of the image. */
    let front: http.Server;
    let frontUrl = '';
    let answer = { status: 201, body: '' };
    const uuid = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
    before(async () => {
      front = http.createServer((req, res) => {
        const upstream = http.request(
          { host: '127.0.0.1', port: sim().port, method: req.method, path: req.url, headers: req.headers },
          (reply) => {
            if (req.method === 'POST' && req.url === '/mcm/v1/images' && reply.statusCode === 201) {
              reply.resume();
              return void res.writeHead(answer.status, { 'Content-Type': 'text/plain' }).end(answer.body);
            }
            res.writeHead(reply.statusCode ?? 502, reply.headers);
            reply.pipe(res);
          },
        );
        req.pipe(upstream);
      });
      frontUrl = await listenOnLoopback(front);
    });
    after(() => closeServer(front));
    // A JWT-like token whose client id (a project UUID) holds hyphens, as image ids then do.
    beforeEach(() => (sim().options.tokens = { 'project-token': uuid }));

    for (const [label, reply] of [
      ['an empty 201', { status: 201, body: '' }],
      ['a 200 with plain text', { status: 200, body: 'Image uploaded' }],
    ] as const) {
      it(`finds the image by the name in the tar after ${label}, never splitting names on "-"`, async () => {
        answer = reply;
        client = new McmClient({ url: frontUrl, token: 'project-token', retries: 0 });
        // Same length, so their sizes cannot tell them apart.
        await client.uploadImage(buildImageTar({ name: 'edge-cam-a1' }));
        const image = await client.uploadImage(buildImageTar({ name: 'edge-cam-b2' }));
        assert.equal(image.name, 'edge-cam-b2');
        assert.equal(image.id, `${uuid}-edge-cam-b2`);
      });
    }

    it('says so when the image named in the tar is not listed', async () => {
      answer = { status: 201, body: '' };
      client = new McmClient({ url: frontUrl, token: 'project-token', retries: 0 });
      sim().setFault('listImages', { status: 200, body: { data: [] } });
      const error = await rejects(client.uploadImage(buildImageTar({ name: 'vanished' })));
      assert.equal(error.code, 'bad-response');
      assert.match(error.message, /answered without the image, and "vanished" is not listed/);
    });
  });

  describe('files read into reused buffers', () => {
    it('sends every file byte for byte while many uploads wait on a slow link (read buffers are reused once written)', async function () {
      this.timeout(30_000);
      // Random content, so a chunk read into a buffer still waiting to be sent would change the digest.
      const files = ['reused-a', 'reused-b', 'reused-c', 'reused-d'].map((name) => {
        const padding = 12 * MiB;
        const tar = buildImageTar({ name, paddingBytes: padding });
        randomFillSync(tar, tar.indexOf('assets.bin') + 512, padding);
        const path = join(work, `${name}.tar`);
        writeFileSync(path, tar);
        return { name, path, digest: `sha256:${createHash('sha256').update(tar).digest('hex')}` };
      });
      const relay = await ThrottlingRelay.start(sim().port, { up: 16 * MiB });
      const slow = new McmClient({ url: relay.url, token: sim().key, maxConcurrent: files.length, timeoutMs: 20_000, retries: 0 });
      try {
        await Promise.all(files.map((file) => slow.uploadImage(file.path)));
      } finally {
        slow.close();
        await relay.stop();
      }
      const stored = new Map(
        sim()
          .images()
          .map((image) => [image.name, image.digest]),
      );
      for (const file of files) assert.equal(stored.get(file.name), file.digest, `${file.name} arrived changed`);
    });
  });

  describe('the exchange log', () => {
    it('counts the bytes of an upload’s multipart body and of the answer, and summarises the parts', async () => {
      const seen: Exchange[] = [];
      make({ onExchange: (e) => seen.push(e) });
      const tar = buildImageTar({ name: 'counted', paddingBytes: 300 * 1024 });
      await client.uploadImage(tar, { filename: 'counted.tar' });
      await client.deployMim('counted', 'counted');
      const exchange = (method: string, path: string) => seen.find((e) => e.method === method && e.path === `/mcm/v1${path}`)!;
      const [upload, deploy] = [exchange('POST', '/images'), exchange('POST', '/mims')];
      assert.equal(upload.bytesSent, Number(sim().requests('uploadImage')[0].headers['content-length']));
      assert.deepEqual(upload.requestBody, {
        multipart: [{ name: 'image', filename: 'counted.tar', contentType: 'application/x-tar', bytes: tar.length }],
      });
      assert.equal(upload.bytesReceived, Buffer.byteLength(upload.responseText));
      // The answer that brought the image back: the upload's own, or (answered empty) the list's after it.
      const imageAnswer = byProfile({ contract: upload, field: exchange('GET', '/images') });
      assert.match(imageAnswer.responseText, /"counted"/);
      assert.equal(imageAnswer.bytesReceived, Buffer.byteLength(imageAnswer.responseText));
      assert.equal(deploy.bytesSent, Buffer.byteLength(JSON.stringify(deploy.requestBody)));
      assert.equal(deploy.bytesSent, Number(sim().requests('deployMim')[0].headers['content-length']));
      for (const exchange of seen) {
        assert.ok(!JSON.stringify(exchange).includes(sim().key), 'the key is never in an exchange');
        assert.ok(!Object.keys(exchange.requestHeaders).some((name) => /authorization/i.test(name)));
      }
    });
  });
});
