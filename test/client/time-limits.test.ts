/**
 * Time limits over real links on 127.0.0.1: a throttling relay between the client and the
 * simulator plays slow and stalling links. A timeout means silence, an upload fails only when
 * it stops moving (the low-speed limit), and the wait after an upload's last byte is its own.
 *
 * Loopback sockets take about 4 MiB of an upload at once and then free space in steps of about
 * 1.4 MiB (measured: at 2 MiB/s a write completes every 0.7-0.8 s), so uploads here are larger
 * than that and the windows longer than one step; the old per-write silence timer fails them.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import { ThrottlingRelay } from '../support/relay';
import { rejects } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';
import { closeServer, listenOnLoopback } from '../support/loopback-server';
import { sleep } from '../support/simulator-helpers';

const MiB = 1024 * 1024;
/** A failure may come this much later than its limit says (timer ticks, a loaded machine). */
const BOUND_MS = 1500;

describe('time limits over slow links', function () {
  this.timeout(30_000);
  const sim = useSimulator();
  let relay: ThrottlingRelay;
  let client: McmClient | undefined;
  const make = (options: Partial<McmClientOptions>) =>
    (client = new McmClient({ url: relay.url, token: sim().key, retries: 0, ...options }));

  afterEach(async () => {
    client?.close();
    client = undefined;
    await relay?.stop();
  });

  it('a slow upload that keeps moving succeeds although each write waits far longer than the timeout', async () => {
    relay = await ThrottlingRelay.start(sim().port, { up: 2 * MiB });
    const tar = buildImageTar({ name: 'slow-link', paddingBytes: 8 * MiB });
    // A call first: the upload goes on its kept-alive connection, already connected.
    await make({ timeoutMs: 300, lowSpeedWindowMs: 2500 }).listImages();
    let longestGap = 0;
    let last = Date.now();
    const started = last;
    const image = await client!.uploadImage(tar, {
      onProgress: () => {
        const now = Date.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
      },
    });
    assert.equal(image.name, 'slow-link');
    assert.equal(image.size, tar.length);
    assert.ok(longestGap > 300, `the link held a write for ${longestGap} ms, longer than the timeout`);
    assert.ok(Date.now() - started > 2000, 'the upload took seconds, as the relay set');
    assert.equal(sim().connections, 1, 'one connection for both calls');
  });

  it('an upload that stops moving fails within the low-speed window, saying it stalled', async () => {
    relay = await ThrottlingRelay.start(sim().port, { up: 2 * MiB });
    const windowMs = 1600;
    const started = Date.now();
    const upload = make({ timeoutMs: 300, lowSpeedWindowMs: windowMs, lowSpeedBytes: 1024 }).uploadImage(
      buildImageTar({ name: 'stuck', paddingBytes: 12 * MiB }),
    );
    // A second of a moving upload, several timeouts long, before the link freezes.
    await sleep(1000);
    relay.rates.up = 0;
    const frozeAt = Date.now();
    const error = await rejects(upload);
    const took = Date.now() - started;
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /^uploadImage failed: timed out \(the upload stalled: fewer than 1024 bytes sent in 1\.6 s\)$/);
    assert.ok(took >= windowMs, `failed after ${took} ms, before a whole window`);
    assert.ok(Date.now() - frozeAt <= windowMs + windowMs / 8 + BOUND_MS, `failed ${Date.now() - frozeAt} ms after the link froze`);
    assert.equal(sim().images().length, 0);
  });

  it('an answer that trickles in for longer than the timeout succeeds', async () => {
    const mims = Array.from({ length: 1500 }, (_, i) => ({
      id: `api-m${i}`,
      name: `m${i}`,
      image: 'img',
      state: 'started',
      padding: 'x'.repeat(100),
    }));
    sim().setFault('listMims', { status: 200, body: { data: mims } });
    relay = await ThrottlingRelay.start(sim().port, { down: 80 * 1024 });
    const started = Date.now();
    const listed = await make({ timeoutMs: 500 }).listMims();
    assert.equal(listed.length, 1500);
    assert.ok(Date.now() - started > 1500, `the answer took ${Date.now() - started} ms, several timeouts long`);
  });

  it('an answer that stops arriving fails one timeout after its last byte, saying so', async () => {
    const mims = Array.from({ length: 1500 }, (_, i) => ({ id: `api-m${i}`, name: `m${i}`, padding: 'x'.repeat(100) }));
    sim().setFault('listMims', { status: 200, body: { data: mims } });
    relay = await ThrottlingRelay.start(sim().port, { down: 80 * 1024 });
    const started = Date.now();
    const listing = make({ timeoutMs: 500 }).listMims();
    // An answer that keeps coming for longer than the timeout is not cut off; then it stops.
    await sleep(1200);
    relay.rates.down = 0;
    const frozeAt = Date.now();
    const error = await rejects(listing);
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /^listMims failed: timed out \(nothing from the runtime for 500 ms\)$/);
    assert.ok(frozeAt - started >= 1200 && Date.now() - frozeAt >= 400, 'the moving answer was not cut off');
    assert.ok(Date.now() - frozeAt < 500 + BOUND_MS, `failed ${Date.now() - frozeAt} ms after the answer stopped`);
  });

  describe('the wait for an upload’s answer', () => {
    let server: http.Server;
    let answerDelayMs = 0;
    let url = '';
    before(async () => {
      // Reads the whole upload, then answers only after answerDelayMs, as runtimes that unpack first do.
      server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          setTimeout(() => {
            res.writeHead(201, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ id: 'api-late', name: 'late', size: 1 }));
          }, answerDelayMs);
        });
      });
      url = await listenOnLoopback(server);
    });
    after(() => closeServer(server));

    it('is answerTimeoutMs, not the silence timeout', async () => {
      answerDelayMs = 1200;
      const image = await (client = new McmClient({ url, token: 'k', timeoutMs: 300, answerTimeoutMs: 3000 })).uploadImage(
        buildImageTar({ name: 'late' }),
      );
      assert.equal(image.id, 'api-late');
    });

    it('fails when the answer does not begin within answerTimeoutMs, saying so', async () => {
      answerDelayMs = 5000;
      const started = Date.now();
      client = new McmClient({ url, token: 'k', timeoutMs: 300, answerTimeoutMs: 800 });
      const error = await rejects(client.uploadImage(buildImageTar({ name: 'late' })));
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /\(no answer 800 ms after the upload's last byte\)$/);
      assert.ok(Date.now() - started >= 800 && Date.now() - started < 800 + BOUND_MS, `took ${Date.now() - started} ms`);
    });
  });
});
