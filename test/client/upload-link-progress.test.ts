/**
 * How the low-speed limit sees an upload move while a write is still under way. On a plain socket
 * it reads how many bytes the kernel has taken, and the body goes in whole 512 KiB writes; over TLS,
 * whose socket tells only finished writes, the body goes in 64 KiB pieces, counted as each is
 * written. (On loopback the kernel takes 512 KiB at once, so the whole writes of a slow upload are
 * seen here only through the relay tests of time-limits.test.ts; the counting itself is checked on
 * sockets whose peer does not read, where one large write stays unfinished.)
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { McmClient } from '../../src/mcm/client';
import { uploadProgress } from '../../src/mcm/transport';
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

/** A body's side of uploadProgress: what it counts as written, and whether it was told to go whole. */
function fakeBody(): { sent: () => number; sendWhole: () => void; whole: boolean } {
  const body = { sent: () => 7, sendWhole: () => void (body.whole = true), whole: false };
  return body;
}

/** A connected socket pair on 127.0.0.1 whose accepting side never reads (once a TLS handshake is done). */
async function unreadPair(secure?: TestCertificate): Promise<{ client: net.Socket; close: () => Promise<void> }> {
  const pause = (socket: net.Socket) => socket.pause();
  const server = secure ? tls.createServer({ key: secure.key, cert: secure.cert }, pause) : net.createServer(pause);
  // The accepted connections as they come, before a TLS handshake ends, so that all of them close.
  const accepted: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = await new Promise<net.Socket>((resolve, reject) => {
    const socket = secure
      ? tls.connect({ port, host: '127.0.0.1', ca: secure.cert }, () => resolve(socket))
      : net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
  return {
    client,
    close: async () => {
      client.destroy();
      accepted.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("an upload's progress on its socket", () => {
  it('on a plain socket: the bytes the kernel took of a write still under way, and the body told to go whole', async () => {
    const { client, close } = await unreadPair();
    try {
      const body = fakeBody();
      const progress = uploadProgress(client, body);
      const before = progress();
      let finished = false;
      client.write(Buffer.alloc(64 * MiB), () => (finished = true));
      await waitFor(() => progress() > before, 'the kernel taking part of the write');
      assert.equal(finished, false, 'the write is still under way');
      assert.ok(progress() - before < 64 * MiB, 'less than the whole write counted');
      assert.equal(body.whole, true);
    } finally {
      await close();
    }
  });

  it('on a TLS socket: only what the body counts as written, and the body kept in pieces', async () => {
    const { client, close } = await unreadPair(makeCertificate());
    try {
      const body = fakeBody();
      const progress = uploadProgress(client, body);
      client.write(Buffer.alloc(16 * MiB));
      assert.equal(progress(), 7);
      assert.equal(body.whole, false);
    } finally {
      await close();
    }
  });
});

describe('a slow upload over https (64 KiB pieces)', function () {
  this.timeout(30_000);
  let cert: TestCertificate;
  const sim = useSimulator(() => {
    cert = makeCertificate();
    return { tls: { key: cert.key, cert: cert.cert } };
  });
  let relay: ThrottlingRelay | undefined;
  let client: McmClient | undefined;
  const make = () =>
    (client = new McmClient({
      url: `https://127.0.0.1:${relay?.port}`,
      token: sim().key,
      retries: 0,
      timeoutMs: 300,
      lowSpeedWindowMs: WINDOW_MS,
      lowSpeedBytes: 1024,
      tls: { ca: cert.cert },
    }));

  afterEach(async () => {
    client?.close();
    client = undefined;
    await relay?.stop();
    relay = undefined;
  });

  /** The tar as one 12 MiB chunk, given once the request's head has passed the relay. */
  const oneChunkOnceConnected = (tar: Buffer, through: ThrottlingRelay): Readable =>
    Readable.from(
      (async function* () {
        await waitFor(() => through.forwarded.up > 0, "the request's head through the relay");
        yield tar;
      })(),
    );

  it('succeeds while the link moves for several low-speed windows', async () => {
    relay = await ThrottlingRelay.start(sim().port, { up: 2 * MiB });
    const tar = buildImageTar({ name: 'slow-tls', paddingBytes: 12 * MiB });
    const started = Date.now();
    const image = await make().uploadImage(oneChunkOnceConnected(tar, relay), { size: tar.length });
    const took = Date.now() - started;
    assert.equal(image.name, 'slow-tls');
    assert.equal(sim().requests('uploadImage')[0].parts?.[0].bytes, tar.length);
    assert.ok(took > 2 * WINDOW_MS, `the link took ${took} ms, more than two windows, as the relay set`);
  });

  it('fails within the window once the link stops moving', async () => {
    relay = await ThrottlingRelay.start(sim().port, { up: 2 * MiB });
    const tar = buildImageTar({ name: 'stuck-tls', paddingBytes: 12 * MiB });
    const moving = relay;
    const upload = make().uploadImage(oneChunkOnceConnected(tar, moving), { size: tar.length });
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
