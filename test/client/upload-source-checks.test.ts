/**
 * Image sources at their edges, over real HTTP: what is refused before any request (and in which
 * words), which kinds of stream chunks make an image, streams given with their size (sent as they
 * come, once only; closed when not sent), copies that cannot be made, files replaced or cut short
 * behind their path while queued or sent, the part's file name and type, progress per chunk, and
 * no descriptor of a file left open after its upload.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  renameSync,
  truncateSync,
  accessSync,
  constants as fsConstants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { McmClient, McmClientOptions, UploadProgress } from '../../src/mcm/client';
import { buildImageTar, writeImageTar } from '../../src/wire/image-tar';
import { rejects } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';
import { tmpdirPerTest, waitFor } from '../support/simulator-helpers';

const KiB = 1024;
const MiB = 1024 * KiB;
const work = mkdtempSync(join(tmpdir(), 'mimoe-source-checks-'));

/** Whether this process holds a descriptor open on the file (Linux: /proc/self/fd). */
const openOn = (file: string) =>
  readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // the descriptor closed while the list was read
    }
  });

describe('upload source checks', function () {
  this.timeout(20_000);
  const sim = useSimulator();
  let client: McmClient;
  const make = (options: Partial<McmClientOptions> = {}) =>
    (client = new McmClient({ url: sim().url, token: sim().key, timeoutMs: 5000, retries: 0, ...options }));
  const uploads = () => sim().requests('uploadImage');

  beforeEach(() => make());
  afterEach(() => client.close());
  after(() => rmSync(work, { recursive: true, force: true }));

  /** A client with one slot, held by a list the simulator answers late: an upload then waits for the slot. */
  const holdTheOnlySlot = async () => {
    make({ maxConcurrent: 1 });
    sim().setFault('listMims', { delayMs: 300, times: 1 });
    const busy = client.listMims();
    await waitFor(() => sim().requests('listMims').length === 1, 'the list holding the one slot');
    return busy;
  };

  describe('refused before any request, in words a person can act on', () => {
    afterEach(() => assert.equal(sim().requests().length, 0, 'nothing reached the runtime'));

    for (const [label, source] of [
      ['undefined', undefined],
      ['null', null],
      ['an empty path', ''],
    ] as const) {
      it(`refuses ${label} as a missing image`, async () => {
        const error = await rejects(client.uploadImage(source as never));
        assert.equal(error.code, 'invalid-input');
        assert.equal(error.rule, 'source-missing');
        assert.equal(error.message, 'uploadImage: an image tar is required: a Buffer or stream in msg.payload, or a file path');
      });
    }

    for (const [label, source, type] of [
      ['an array', [buildImageTar({ name: 'in-an-array' })], 'array'],
      ['a plain object', { path: '/tmp/image.tar' }, 'object'],
      ['a boolean', true, 'boolean'],
    ] as const) {
      it(`names what it got for ${label}`, async () => {
        const error = await rejects(client.uploadImage(source as never));
        assert.equal(error.rule, 'source-type');
        assert.equal(error.message, `uploadImage: the image must be a Buffer, a byte stream or a file path (got ${type})`);
      });
    }

    it('names a missing file and why it cannot be read', async () => {
      const missing = join(work, 'missing.tar');
      const error = await rejects(client.uploadImage(missing));
      assert.equal(error.rule, 'source-unreadable');
      assert.equal(error.message, `uploadImage: cannot read the image file "${missing}" (ENOENT)`);
    });

    it('names a directory given as the image', async () => {
      const error = await rejects(client.uploadImage(work));
      assert.equal(error.rule, 'source-directory');
      assert.equal(error.message, `uploadImage: the image path "${work}" is a directory, not a tar file`);
    });

    it('names a Unix socket given as the image', async () => {
      const path = join(work, 'image.sock');
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(path, resolve));
      try {
        const error = await rejects(client.uploadImage(path));
        assert.equal(error.rule, 'source-not-file');
        assert.equal(
          error.message,
          `uploadImage: the image path "${path}" is a socket, not a file; read it into msg.payload as a stream instead`,
        );
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('names a block device given as the image (where this user may read one)', async function () {
      const device = readdirSync('/dev')
        .map((name) => join('/dev', name))
        .find((path) => {
          try {
            accessSync(path, fsConstants.R_OK);
            return statSync(path).isBlockDevice();
          } catch {
            return false;
          }
        });
      if (!device) this.skip();
      const error = await rejects(client.uploadImage(device));
      assert.equal(error.rule, 'source-not-file');
      assert.equal(
        error.message,
        `uploadImage: the image path "${device}" is a block device, not a file; read it into msg.payload as a stream instead`,
      );
    });

    for (const size of [0, -512, 1.5, Number.NaN, 2 ** 53]) {
      it(`refuses a stream given the size ${size}, and closes it`, async () => {
        const stream = new PassThrough().end(buildImageTar({ name: 'badly-sized' }));
        const error = await rejects(client.uploadImage(stream, { size }));
        assert.equal(error.rule, 'source-empty');
        assert.equal(error.message, 'uploadImage: the image is empty (0 bytes)');
        assert.ok(stream.destroyed, 'the caller’s stream was closed');
      });
    }
  });

  describe('chunks of a stream of unknown length', () => {
    tmpdirPerTest(); // the copies go to a directory of the test's own

    it('takes a stream of strings as their UTF-8 bytes', async () => {
      const tar = buildImageTar({ name: 'from-text' });
      assert.ok(
        tar.every((byte) => byte < 0x80),
        'an ASCII tar, the same bytes as text',
      );
      const text = tar.toString('latin1');
      const image = await client.uploadImage(Readable.from([text.slice(0, 700), text.slice(700)], { objectMode: true }));
      assert.equal(image.name, 'from-text');
      assert.equal(uploads()[0].parts?.[0].bytes, tar.length);
    });

    it('takes a stream of Uint8Array views as the bytes they show', async () => {
      const tar = buildImageTar({ name: 'from-views' });
      // Each view sits inside a larger buffer, between bytes that are not the image's.
      const view = (from: number, to: number) => {
        const backing = new Uint8Array(to - from + 64).fill(0xee);
        backing.set(tar.subarray(from, to), 32);
        return new Uint8Array(backing.buffer, 32, to - from);
      };
      const image = await client.uploadImage(Readable.from([view(0, 1000), view(1000, tar.length)]));
      assert.equal(image.name, 'from-views');
      assert.equal(image.size, tar.length);
      assert.equal(uploads()[0].parts?.[0].bytes, tar.length);
    });

    it('refuses a stream of objects, sending nothing', async () => {
      const error = await rejects(client.uploadImage(Readable.from([{ layer: 1 }, { layer: 2 }])));
      assert.equal(error.rule, 'source-type');
      assert.equal(error.message, 'uploadImage: the image must be a Buffer, a byte stream or a file path (got stream of objects)');
      assert.equal(sim().requests().length, 0);
    });
  });

  describe('a stream given with its size', () => {
    it('is sent as it comes, named image.tar unless told otherwise', async () => {
      const tar = buildImageTar({ name: 'sized-stream' });
      const image = await client.uploadImage(new PassThrough().end(tar), { size: tar.length });
      assert.equal(image.name, 'sized-stream');
      await client.uploadImage(new PassThrough().end(tar), { size: tar.length, filename: 'named.tar' });
      assert.deepEqual(
        uploads().map((r) => r.parts?.[0]),
        [
          { name: 'image', filename: 'image.tar', contentType: 'application/x-tar', bytes: tar.length },
          { name: 'image', filename: 'named.tar', contentType: 'application/x-tar', bytes: tar.length },
        ],
      );
    });

    it('is not sent again after a reloaded key (it can be read once): the refusal is the answer', async () => {
      let token = 'stale-key';
      let reloads = 0;
      make({ token: () => token, reloadToken: () => ((token = sim().key), ++reloads, true) });
      const tar = buildImageTar({ name: 'once-only' });
      const error = await rejects(client.uploadImage(new PassThrough().end(tar), { size: tar.length }));
      assert.equal(error.code, 'http');
      assert.equal(error.statusCode, 403);
      assert.equal(reloads, 0, 'no reload for a call that cannot be sent again');
      assert.equal(uploads().length, 1);
    });

    it('fails with the size expected when the stream is shorter, never leaving the runtime waiting', async () => {
      const tar = buildImageTar({ name: 'short' });
      const error = await rejects(client.uploadImage(new PassThrough().end(tar), { size: tar.length + 512 }));
      assert.equal(error.rule, 'source-size-mismatch');
      assert.equal(error.message, `uploadImage: the image stream does not have the size given for it (${tar.length + 512} bytes)`);
      assert.equal(sim().images().length, 0);
    });

    it('fails with the size expected when the stream is longer', async () => {
      const tar = buildImageTar({ name: 'long' });
      const error = await rejects(client.uploadImage(new PassThrough().end(tar), { size: tar.length - 512 }));
      assert.equal(error.rule, 'source-size-mismatch');
      assert.equal(error.message, `uploadImage: the image stream does not have the size given for it (${tar.length - 512} bytes)`);
      assert.equal(sim().images().length, 0);
    });

    it('fails at once with the stream’s own reason when it fails mid-upload', async () => {
      const tar = buildImageTar({ name: 'cut-off', paddingBytes: 64 * KiB });
      const stream = new PassThrough();
      stream.write(tar.subarray(0, 4096));
      const upload = client.uploadImage(stream, { size: tar.length });
      await waitFor(() => uploads().length === 1, 'the upload at the simulator');
      stream.destroy(new Error('cable pulled'));
      const error = await rejects(upload);
      assert.equal(error.rule, 'source-stream-failed');
      assert.equal(error.message, 'uploadImage: reading the image stream failed (cable pulled)');
      assert.equal(sim().images().length, 0);
    });

    for (const [label, end, reason] of [
      ['fails', (stream: PassThrough) => stream.destroy(new Error('disk gone')), 'disk gone'],
      ['is closed', (stream: PassThrough) => stream.destroy(), 'the stream was closed'],
    ] as const) {
      it(`says why when it ${label} while its upload waits for a slot, sending nothing`, async () => {
        const busy = await holdTheOnlySlot();
        const tar = buildImageTar({ name: 'queued-sized' });
        const stream = new PassThrough();
        stream.write(tar.subarray(0, 1024));
        const upload = client.uploadImage(stream, { size: tar.length });
        end(stream);
        const error = await rejects(upload);
        assert.equal(error.rule, 'source-stream-failed');
        assert.equal(error.message, `uploadImage: reading the image stream failed (${reason})`);
        await busy;
        assert.equal(uploads().length, 0);
      });
    }

    it('is closed when its upload is aborted while it waits for a slot', async () => {
      const busy = await holdTheOnlySlot();
      const stream = new PassThrough();
      const tar = buildImageTar({ name: 'aborted-sized' });
      stream.write(tar);
      const controller = new AbortController();
      const upload = client.uploadImage(stream, { size: tar.length, signal: controller.signal });
      controller.abort();
      assert.equal((await rejects(upload)).code, 'aborted');
      assert.ok(stream.destroyed, 'the caller’s stream was closed');
      await busy;
      assert.equal(uploads().length, 0);
    });
  });

  describe('what the runtime sees of a source', () => {
    tmpdirPerTest();

    it('names the part image.tar for a Buffer or a copied stream, and the file’s own name for a path', async () => {
      const tar = buildImageTar({ name: 'named' });
      const file = join(work, 'on-disk.tar');
      writeFileSync(file, tar);
      await client.uploadImage(tar);
      await client.uploadImage(new PassThrough().end(tar));
      await client.uploadImage(file);
      await client.uploadImage(tar, { filename: 'chosen.tar' });
      assert.deepEqual(
        uploads().map((r) => [r.parts?.[0].filename, r.parts?.[0].contentType]),
        [
          ['image.tar', 'application/x-tar'],
          ['image.tar', 'application/x-tar'],
          ['on-disk.tar', 'application/x-tar'],
          ['chosen.tar', 'application/x-tar'],
        ],
      );
    });

    for (const [label, source] of [
      ['a Buffer', () => buildImageTar({ name: 'again' })],
      [
        'a file',
        () => {
          const file = join(work, 'again.tar');
          writeFileSync(file, buildImageTar({ name: 'again' }));
          return file;
        },
      ],
    ] as const) {
      it(`sends ${label} again after a reloaded key`, async () => {
        let token = 'stale-key';
        make({ token: () => token, reloadToken: () => ((token = sim().key), true) });
        const image = await client.uploadImage(source());
        assert.equal(image.name, 'again');
        assert.deepEqual(
          uploads().map((r) => r.status === 403),
          [true, false],
        );
      });
    }

    it('reports progress once per 512 KiB chunk of a Buffer, up to its length', async () => {
      // A tar of exactly two chunks: its trailing zero blocks are the tar's end.
      const tar = buildImageTar({ name: 'two-chunks' });
      const image = Buffer.concat([tar, Buffer.alloc(MiB - tar.length)]);
      const seen: UploadProgress[] = [];
      await client.uploadImage(image, { onProgress: (p) => seen.push(p) });
      assert.deepEqual(seen, [
        { bytes: 512 * KiB, total: MiB, percentage: 50 },
        { bytes: MiB, total: MiB, percentage: 100 },
      ]);
    });
  });

  describe('a stream that cannot be copied', () => {
    const spoolRoot = tmpdirPerTest();
    /** The copy's file is there: the stream is being read into it. */
    const copying = () => readdirSync(spoolRoot()).some((dir) => readdirSync(join(spoolRoot(), dir)).length > 0);

    it('says so when no temporary directory can be made, and closes the stream', async () => {
      process.env.TMPDIR = join(spoolRoot(), 'not-there');
      const stream = new PassThrough().end(buildImageTar({ name: 'nowhere' }));
      const error = await rejects(client.uploadImage(stream));
      assert.equal(error.rule, 'source-spool-failed');
      assert.equal(error.message, 'uploadImage: cannot keep the image stream in a temporary file to learn its length (ENOENT)');
      assert.ok(stream.destroyed);
      assert.equal(sim().requests().length, 0);
    });

    it('gives the stream’s own reason when it fails while copied, and leaves no copy', async () => {
      const stream = new PassThrough();
      stream.write(buildImageTar({ name: 'failing' }));
      const upload = client.uploadImage(stream);
      await waitFor(copying, 'the copying begun');
      stream.destroy(new Error('device unplugged'));
      const error = await rejects(upload);
      assert.equal(error.rule, 'source-stream-failed');
      assert.equal(error.message, 'uploadImage: reading the image stream failed (device unplugged)');
      assert.deepEqual(readdirSync(spoolRoot()), []);
      assert.equal(sim().requests().length, 0);
    });

    it('fails, leaving no copy, when the stream is closed before its end', async () => {
      const stream = new PassThrough();
      stream.write(buildImageTar({ name: 'closed-early' }));
      const upload = client.uploadImage(stream);
      await waitFor(copying, 'the copying begun');
      stream.destroy();
      const error = await rejects(upload);
      assert.equal(error.rule, 'source-spool-failed');
      assert.match(error.message, /\(ERR_STREAM_PREMATURE_CLOSE\)$/);
      assert.deepEqual(readdirSync(spoolRoot()), []);
      assert.equal(sim().requests().length, 0);
    });

    it('still succeeds when something else removes the copy while it is sent (a temp cleaner)', async () => {
      sim().setFault('uploadImage', { delayMs: 200, times: 1 });
      const upload = client.uploadImage(new PassThrough().end(buildImageTar({ name: 'cleaned-away' })));
      await waitFor(() => uploads().length === 1, 'the upload at the simulator');
      for (const dir of readdirSync(spoolRoot())) rmSync(join(spoolRoot(), dir), { recursive: true });
      assert.equal((await upload).name, 'cleaned-away');
    });
  });

  describe('a file changed behind its path', () => {
    /** A client whose first key is refused: `between` runs before the upload is sent again with a good key. */
    const refusedOnce = (between: () => void) => {
      let token = 'stale-key';
      make({ token: () => token, reloadToken: () => (between(), (token = sim().key), true) });
    };

    it('fails with the file’s reason when it is removed before the upload is sent again', async () => {
      const file = join(work, 'removed-between-attempts.tar');
      writeFileSync(file, buildImageTar({ name: 'removed' }));
      refusedOnce(() => rmSync(file));
      const error = await rejects(client.uploadImage(file));
      assert.equal(error.rule, 'source-stream-failed');
      assert.equal(error.message, `uploadImage: reading the image stream failed (ENOENT: no such file or directory, open '${file}')`);
      assert.equal(uploads().length, 1, 'the second attempt never left');
    });

    it('fails with the file’s reason when a directory takes its place before the upload is sent again', async function () {
      // The file is as long as a directory says it is, so only reading it can tell.
      const probe = join(work, 'probe-dir');
      mkdirSync(probe, { recursive: true });
      const dirSize = statSync(probe).size;
      if (dirSize === 0) this.skip();
      const file = join(work, 'replaced-by-dir.tar');
      writeFileSync(file, randomBytes(dirSize));
      refusedOnce(() => (rmSync(file), mkdirSync(file)));
      const error = await rejects(client.uploadImage(file));
      assert.equal(error.rule, 'source-stream-failed');
      assert.equal(error.message, 'uploadImage: reading the image stream failed (EISDIR: illegal operation on a directory, read)');
      await waitFor(() => !openOn(file), 'the directory closed');
    });
    for (const [label, change, stopsAt] of [
      ['cut short', (moved: string) => truncateSync(moved, MiB), 'its end'],
      ['made longer', (moved: string) => appendFileSync(moved, Buffer.alloc(4096)), 'its extra bytes'],
    ] as const) {
      it(`fails at ${stopsAt} when moved away and ${label} while sent, its new size unknown`, async () => {
        const file = join(work, `moved-${label.replace(/ /g, '-')}.tar`);
        const size = await writeImageTar(file, { name: 'moved', paddingBytes: 32 * MiB });
        // The simulator reads the body only after a while: the upload is mid-file when the file moves.
        sim().setFault('uploadImage', { delayMs: 300, times: 1 });
        const upload = client.uploadImage(file);
        await waitFor(() => uploads().length === 1, 'the upload at the simulator');
        const moved = `${file}.moved`;
        renameSync(file, moved);
        change(moved);
        const error = await rejects(upload);
        assert.equal(error.rule, 'source-changed');
        assert.equal(
          error.message,
          `uploadImage: the image file "${file}" changed size while it was being sent (from ${size} to an unknown number of bytes); send it again once it is complete`,
        );
        assert.equal(sim().images().length, 0);
      });
    }
    it('fails with the stream’s reason when it fails before its copy begins', async () => {
      const stream = new PassThrough();
      stream.write('abc');
      const upload = client.uploadImage(stream);
      stream.destroy(new Error('early failure'));
      const error = await rejects(upload);
      assert.equal(error.message, 'uploadImage: reading the image stream failed (early failure)');
    });
  });

  describe('descriptors of a file', () => {
    let file = '';
    before(async () => {
      file = join(work, 'descriptors.tar');
      await writeImageTar(file, { name: 'descriptors', paddingBytes: 2 * MiB });
    });

    it('are all closed after the upload', async () => {
      await client.uploadImage(file);
      await waitFor(() => !openOn(file), 'the file closed');
    });

    it('are all closed when the upload cannot be sent for want of a key', async () => {
      make({ token: () => '' });
      assert.equal((await rejects(client.uploadImage(file))).rule, 'token-missing');
      await waitFor(() => !openOn(file), 'the file closed');
      assert.equal(uploads().length, 0);
    });

    it('are all closed after the runtime refused the upload', async () => {
      sim().setFault('uploadImage', { status: 400, body: { message: 'no room' } });
      assert.equal((await rejects(client.uploadImage(file))).statusCode, 400);
      await waitFor(() => !openOn(file), 'the file closed');
    });

    it('are all closed after the upload was aborted mid-file', async () => {
      sim().setFault('uploadImage', { hang: true });
      const controller = new AbortController();
      const upload = client.uploadImage(file, { signal: controller.signal });
      await waitFor(() => uploads().length === 1, 'the upload at the simulator');
      controller.abort();
      assert.equal((await rejects(upload)).code, 'aborted');
      await waitFor(() => !openOn(file), 'the file closed');
    });
  });
});
