/**
 * How the low-speed limit sees an upload move while one write is still under way. An upload's
 * chunks go to a plain socket whole, and the limit reads how many bytes the kernel has taken; over
 * TLS, whose socket tells only finished writes, they go in small pieces. A caller's stream that
 * gives its tar as one 12 MiB chunk once the connection is up makes a single write on a plain
 * socket, which a 2 MiB/s link holds for seconds, longer than the window: counted only when
 * writes finish, that link would look stalled.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import { rejects } from '../support/client';
import { ThrottlingRelay } from '../support/relay';
import { useSimulator } from '../support/simulator-fixture';
import { sleep, waitFor } from '../support/simulator-helpers';
import { makeCertificate, TestCertificate } from '../support/tls';

const MiB = 1024 * 1024;
const WINDOW_MS = 1500;
/** A failure may come this much later than its limit says (timer ticks, a loaded machine). */
const BOUND_MS = 1500;

/** The tar as a stream of one chunk that comes once the request's head has passed the relay. */
function oneChunkOnceConnected(tar: Buffer, relay: ThrottlingRelay): Readable {
  return Readable.from(
    (async function* () {
      await waitFor(() => relay.forwarded.up > 0, "the request's head through the relay");
      yield tar;
    })(),
  );
}

for (const scheme of ['http', 'https'] as const) {
  describe(`an upload's progress within one long write (${scheme})`, function () {
    this.timeout(30_000);
    let cert: TestCertificate | undefined;
    const sim = useSimulator(() => {
      if (scheme === 'http') return {};
      cert = makeCertificate();
      return { tls: { key: cert.key, cert: cert.cert } };
    });
    let relay: ThrottlingRelay | undefined;
    let client: McmClient | undefined;
    const make = (options: Partial<McmClientOptions> = {}) =>
      (client = new McmClient({
        url: `${scheme}://127.0.0.1:${relay?.port}`,
        token: sim().key,
        retries: 0,
        timeoutMs: 300,
        lowSpeedWindowMs: WINDOW_MS,
        lowSpeedBytes: 1024,
        ...(cert ? { tls: { ca: cert.cert } } : {}),
        ...options,
      }));

    afterEach(async () => {
      client?.close();
      client = undefined;
      await relay?.stop();
      relay = undefined;
    });

    it('succeeds while a single write takes several low-speed windows, the link moving all along', async () => {
      relay = await ThrottlingRelay.start(sim().port, { up: 2 * MiB });
      const tar = buildImageTar({ name: 'one-write', paddingBytes: 12 * MiB });
      const started = Date.now();
      const image = await make().uploadImage(oneChunkOnceConnected(tar, relay), { size: tar.length });
      const took = Date.now() - started;
      assert.equal(image.name, 'one-write');
      assert.equal(sim().requests('uploadImage')[0].parts?.[0].bytes, tar.length);
      assert.ok(took > 2 * WINDOW_MS, `the link took ${took} ms, more than two windows, as the relay set`);
    });

    it('fails within the window when that write stops moving', async () => {
      relay = await ThrottlingRelay.start(sim().port, { up: 2 * MiB });
      const tar = buildImageTar({ name: 'one-write-stuck', paddingBytes: 12 * MiB });
      const upload = make().uploadImage(oneChunkOnceConnected(tar, relay), { size: tar.length });
      const moving = relay;
      await sleep(1000);
      const forwarded = moving.forwarded.up;
      moving.rates.up = 0;
      const frozeAt = Date.now();
      const error = await rejects(upload);
      assert.ok(forwarded > 0 && forwarded < tar.length, `the link moved ${forwarded} bytes before it froze`);
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /the upload stalled: fewer than 1024 bytes sent in 1\.5 s/);
      assert.ok(Date.now() - frozeAt <= WINDOW_MS + WINDOW_MS / 8 + BOUND_MS, `failed ${Date.now() - frozeAt} ms after the link froze`);
      assert.equal(sim().images().length, 0);
    });
  });
}
