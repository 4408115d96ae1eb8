/**
 * Image tar sources for uploads: a file path, a Buffer or a caller's stream, checked before any
 * request leaves, and turned into a multipart body of known length that counts the bytes it sends.
 *
 * Every upload carries Content-Length (runtimes refuse chunked bodies): a stream of unknown length
 * and a file whose reported size is not its content (/proc, /sys) are first copied into a private
 * temporary file, removed again whatever happens. A file that changes size while it is sent fails
 * at once, instead of leaving the runtime waiting for bytes that never come.
 */
import FormData from 'form-data';
import {
  close as closeFd,
  constants as fsConstants,
  createReadStream,
  createWriteStream,
  open as openFd,
  promises as fsp,
  read as readFd,
  stat as statCallback,
  Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { McmError } from './errors';
import { ImageTarScanner } from '../wire/image-tar';
import { isReadable } from './validate';

/**
 * Read size for uploads. Measured in a Node-RED process (bench/), a 1 GiB upload to a receiver
 * that only counts: 512 KiB took 0.5-0.7 s of CPU, 256 KiB 0.7 s (costs per chunk); 1 MiB 0.56 s
 * against 0.68 s in one set, but a 16-device rollout then held 20-30 MiB more. Read buffers are
 * reused (FileChunks), so larger chunks no longer push V8 into full collections as fresh 4 MiB
 * buffers did. A chunk goes to the request whole, or in pieces where the socket asks for them.
 */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;

/**
 * Pieces of a chunk the request is handed at a time where the socket tells only finished writes
 * (TLS; UploadBody.sendWhole): the low-speed limit then counts what the request has taken, and
 * the request takes the next piece once its socket has passed on the last. In 64 KiB pieces a
 * link must move 64 KiB per window to count as moving (about 1 KiB/s with the default 60 s),
 * where a whole 512 KiB chunk would ask 9 KiB/s of it.
 */
const SEND_PIECE_BYTES = 64 * 1024;

/**
 * File uploads read into buffers that are read into again once the request has written their
 * chunk to its socket (UploadBody.written), shared by the uploads of the process. A fresh buffer
 * per chunk, held back by a busy receiver, outlived V8's young generation: in a Node-RED heap 16
 * uploads at once then cost 2.4x the CPU of the same uploads one after another (bench/, fleet).
 * There are as many as were ever in flight at once (about three per upload: 48 for 16 at once);
 * a cap of 16 left 113 buffers to the garbage collector in a 100-device rollout.
 * Held weakly: once no upload runs, the next full collection takes the idle buffers.
 */
let freeReadBuffers = new WeakRef<Buffer[]>([]);

function sharedFreeReadBuffers(): Buffer[] {
  const known = freeReadBuffers.deref();
  if (known) return known;
  const fresh: Buffer[] = [];
  freeReadBuffers = new WeakRef(fresh);
  return fresh;
}

/** How often a file being sent is checked for a change of size. */
const SIZE_CHECK_MS = 250;

/**
 * Linux file systems whose files report a size that is not their content (0 for /proc, 4096
 * for /sys): such files are copied first to learn their real length.
 */
const PSEUDO_FILE_SYSTEMS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x64626720, // debugfs
  0x74726163, // tracefs
  0x73636673, // securityfs
  0x62656570, // configfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0xde5e81e4, // efivarfs
]);

/** An image tar: a file path, a Readable stream or the bytes. */
export type ImageSource = string | Readable | Buffer;

export interface UploadProgress {
  bytes: number;
  total?: number;
  /** 0..100. */
  percentage?: number;
}

export interface SourceOptions {
  /** The file name sent with the part; default the path's base name or `image.tar`. */
  filename?: string;
  /** Length of a stream source, when known: it is then sent as it comes instead of copied first. */
  size?: number;
}

export interface OpenedSource {
  /** A fresh stream of the tar; a caller's own stream (sent as it comes) can be taken once only. */
  take: () => Readable;
  /** The file the tar is in (the one named, or a private copy): an upload's body reads it itself. */
  file?: string;
  total: number;
  filename: string;
  /** The file a person named, watched for size changes while it is sent. */
  watchedPath?: string;
  replayable: boolean;
  /** After the upload, sent or not: removes a temporary copy, closes a caller's stream never sent. */
  release: () => Promise<void>;
}

/** One part of a multipart body, as an exchange log shows it. */
export interface PartSummary {
  name: string;
  filename: string;
  contentType: string;
  bytes: number;
}

/** One attempt's multipart body. */
export interface UploadBody {
  /** The multipart body, the tar in it as part `image`: what the request reads. */
  body: Readable;
  /** Content-Type with the boundary, and Content-Length. */
  headers: Record<string, string>;
  summary: { multipart: PartSummary[] };
  /** Body bytes the request has written to its socket so far, multipart framing included. */
  sent: () => number;
  /** The image name read from the tar's metadata as it went past, once seen. */
  imageName: () => string | undefined;
  /** Lets the tar flow into the body as the request reads it; `onError` hears a source that failed or changed. */
  start: (onError: (error: McmError) => void) => void;
  /** The request has written this chunk to its socket: it counts as sent, and a file's read buffer can be reused. */
  written: (chunk: Buffer) => void;
  /**
   * The socket tells how much of a write the kernel has taken: from now on the body goes to it in
   * writes of UPLOAD_CHUNK_BYTES (a file's reads whole, a caller's larger chunks cut to that size).
   * Until then it goes in SEND_PIECE_BYTES pieces, each counted once it is written.
   */
  sendWhole: () => void;
  destroy: () => void;
}

const op = 'uploadImage';
const nothingToRelease = async () => undefined;

/**
 * Checks the source before any request: missing, unreadable, a directory, a device or empty all
 * fail here. Copying a stream ends early when a signal aborts.
 */
export async function openImageSource(source: ImageSource, options: SourceOptions, signal?: AbortSignal): Promise<OpenedSource> {
  if (source === undefined || source === null || source === '') throw McmError.invalid(op, 'source-missing');
  if (typeof source === 'string') return openFile(source, options, signal);
  if (Buffer.isBuffer(source)) {
    if (source.length === 0) throw McmError.invalid(op, 'source-empty');
    const filename = options.filename ?? 'image.tar';
    return { take: () => Readable.from(chunks(source)), total: source.length, filename, replayable: true, release: nothingToRelease };
  }
  if (isReadable(source)) {
    const filename = options.filename ?? 'image.tar';
    if (options.size === undefined) return spool(source, filename, signal);
    if (!(Number.isSafeInteger(options.size) && options.size > 0)) {
      source.destroy();
      throw McmError.invalid(op, 'source-empty');
    }
    // Until the upload takes it (it may wait for a free slot), an error must not go unheard.
    source.on('error', () => undefined);
    let taken = false;
    return {
      take: () => ((taken = true), source),
      total: options.size,
      filename,
      replayable: false,
      release: async () => {
        if (!taken) source.destroy();
      },
    };
  }
  throw McmError.invalid(op, 'source-type', { type: Array.isArray(source) ? 'array' : typeof source });
}

async function openFile(path: string, options: SourceOptions, signal?: AbortSignal): Promise<OpenedSource> {
  let stat;
  try {
    stat = await fsp.stat(path);
    await fsp.access(path, fsConstants.R_OK);
  } catch (err) {
    throw McmError.invalid(op, 'source-unreadable', { path, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
  if (stat.isDirectory()) throw McmError.invalid(op, 'source-directory', { path });
  // Reading a FIFO waits for a writer, a device may never end: neither is an image file.
  if (!stat.isFile()) throw McmError.invalid(op, 'source-not-file', { path, kind: fileKind(stat) });
  const filename = options.filename ?? basename(path);
  // Where the file system type cannot be read, the file is taken at its word.
  const pseudo = await fsp.statfs(path).then(
    (fs) => PSEUDO_FILE_SYSTEMS.has(Number(fs.type)),
    () => false,
  );
  if (pseudo) return spool(createReadStream(path, { highWaterMark: UPLOAD_CHUNK_BYTES }), filename, signal);
  if (stat.size === 0) throw McmError.invalid(op, 'source-empty');
  return {
    take: () => new FileChunks(path),
    file: path,
    total: stat.size,
    filename,
    watchedPath: path,
    replayable: true,
    release: nothingToRelease,
  };
}

/** Copies a stream into a private temporary file (directory 0700, file 0600) to learn its length. */
async function spool(stream: Readable, filename: string, signal?: AbortSignal): Promise<OpenedSource> {
  // Heard from the start: a stream that fails while the directory is made must not go unheard.
  let readFailure: Error | undefined;
  stream.once('error', (err) => (readFailure = err));
  let dir: string;
  try {
    dir = await fsp.mkdtemp(join(tmpdir(), 'mimoe-upload-'));
  } catch (err) {
    stream.destroy();
    throw McmError.invalid(op, 'source-spool-failed', { reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
  const remove = () => fsp.rm(dir, { recursive: true, force: true });
  const file = join(dir, 'image.tar');
  try {
    await pipeline(stream, bytesOnly, createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: UPLOAD_CHUNK_BYTES }), { signal });
  } catch (err) {
    await remove();
    if (signal?.aborted) throw new McmError({ operation: op, code: 'aborted' });
    if (err instanceof McmError) throw err;
    if (readFailure) throw McmError.invalid(op, 'source-stream-failed', { reason: readFailure.message });
    throw McmError.invalid(op, 'source-spool-failed', { reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
  const { size } = await fsp.stat(file);
  if (size === 0) {
    await remove();
    throw McmError.invalid(op, 'source-empty');
  }
  return {
    take: () => new FileChunks(file),
    file,
    total: size,
    filename,
    replayable: true,
    release: remove,
  };
}

/**
 * A multipart body for one attempt: the tar as part `image` between form-data's framing, with its
 * length declared, so the body has a Content-Length and is never read into memory. The request
 * reads it as one stream, with nothing between (form-data's own stream would pass every chunk
 * through two more streams and a pipe: per-chunk work, and functions V8 optimizes again for each
 * upload). Per chunk it only counts (and skips through the tar's headers for the image name);
 * the file's size is checked on a timer.
 */
export function uploadBody(opened: OpenedSource, onProgress?: (progress: UploadProgress) => void): UploadBody {
  const contentType = 'application/x-tar';
  const total = opened.total;
  const framing = multipartFraming(opened.filename, contentType);
  const scanner = new ImageTarScanner({ digest: false });
  let source: Readable | undefined;
  let sizeCheck: NodeJS.Timeout | undefined;
  let onError: ((error: McmError) => void) | undefined;
  let tarBytes = 0;
  let bodyBytes = 0;
  let ended = false;
  let failed = false;
  let pieceBytes = SEND_PIECE_BYTES;

  const stop = () => {
    clearInterval(sizeCheck);
    source?.destroy();
    body.destroy();
  };
  const fail = (error: McmError) => {
    if (failed) return;
    failed = true;
    stop();
    onError?.(error);
  };
  const changed = (actual?: number) => {
    const path = opened.watchedPath;
    if (path === undefined) return fail(McmError.invalid(op, 'source-size-mismatch', { expected: total }));
    // The body holds back what it has not sent (see, end); stopped before the error is known, the
    // request would fail first, as a broken connection.
    clearInterval(sizeCheck);
    const report = (size: number | string) => fail(McmError.invalid(op, 'source-changed', { path, expected: total, actual: size }));
    if (actual !== undefined) return report(actual);
    // Bytes read are not the new size: ask the file.
    statCallback(path, (err, stat) => report(err ? 'an unknown number of' : stat.size));
  };

  /** Sees a chunk of the tar before it is sent; false: the source is longer than declared. */
  const see = (chunk: Buffer): boolean => {
    tarBytes += chunk.length;
    if (tarBytes > total) {
      changed();
      return false;
    }
    scanner.write(chunk);
    onProgress?.({ bytes: tarBytes, total, percentage: Math.floor((tarBytes / total) * 100) });
    return true;
  };
  /** The tar ended; false: shorter than declared. */
  const end = (): boolean => {
    if (tarBytes < total) {
      changed();
      return false;
    }
    clearInterval(sizeCheck);
    ended = true;
    return true;
  };

  // A file is read by the body itself. Any other source flows in through a Transform. Either way a
  // source longer or shorter than the length declared stops at see() or end(), its extra chunk and
  // its end held back, so the runtime never gets a body that ends otherwise than its Content-Length says.
  const file = opened.file;
  let tar: Transform | undefined;
  let body: Readable;
  if (file === undefined) {
    body = tar = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        if (!see(chunk)) return;
        pushPieces(this, chunk, pieceBytes);
        next();
      },
      flush(next) {
        if (end()) next(null, framing.tail);
      },
    });
  } else {
    body = new FileChunks(file, { ...framing, see, end, pieceBytes: () => pieceBytes });
  }

  const start = (listener: (error: McmError) => void) => {
    onError = listener;
    const taken = (source = file === undefined ? opened.take() : body);
    // A caller's stream may have failed while the upload waited for a free slot.
    if (taken.destroyed) {
      return fail(McmError.invalid(op, 'source-stream-failed', { reason: taken.errored?.message ?? 'the stream was closed' }));
    }
    taken.once('error', (err) => fail(McmError.invalid(op, 'source-stream-failed', { reason: err.message })));
    const path = opened.watchedPath;
    if (path !== undefined) {
      sizeCheck = setInterval(() => {
        statCallback(path, (err, stat) => {
          if (!err && stat.size !== total && !ended) changed(stat.size);
        });
      }, SIZE_CHECK_MS);
    }
    if (!tar) return;
    tar.push(framing.head);
    taken.pipe(tar);
  };

  return {
    body,
    headers: { 'Content-Type': framing.contentType, 'Content-Length': String(framing.head.length + total + framing.tail.length) },
    summary: { multipart: [{ name: 'image', filename: opened.filename, contentType, bytes: total }] },
    sent: () => bodyBytes,
    imageName: () => scanner.imageName(),
    start,
    written: (chunk) => {
      bodyBytes += chunk.length;
      if (source instanceof FileChunks) source.recycle(chunk);
    },
    sendWhole: () => (pieceBytes = UPLOAD_CHUNK_BYTES),
    destroy: stop,
  };
}

/**
 * form-data's framing of one file part, as it would stream it: the part's head (boundary,
 * Content-Disposition with the file name escaped, Content-Type) and, after the content, the
 * line break and the closing boundary. Built from an empty part, whose whole form is head + tail.
 */
function multipartFraming(filename: string, contentType: string): { head: Buffer; tail: Buffer; contentType: string } {
  const form = new FormData();
  form.append('image', Buffer.alloc(0), { filename, contentType });
  const whole = form.getBuffer();
  const tail = Buffer.from(`\r\n--${form.getBoundary()}--\r\n`);
  return { head: whole.subarray(0, whole.length - tail.length), tail, contentType: String(form.getHeaders()['content-type']) };
}

/** A read buffer and how many bytes of it a read filled. */
interface ReadChunk {
  buffer: Buffer;
  bytes: number;
}

/** What an upload's body puts around a file's bytes and sees of them (uploadBody). */
interface BodyFraming {
  head: Buffer;
  tail: Buffer;
  /** Sees a chunk before it is sent; false: the body stops there. */
  see: (chunk: Buffer) => boolean;
  /** The file ended; false: the body stops without its tail. */
  end: () => boolean;
  /** How many bytes of a chunk the request is handed at a time. */
  pieceBytes: () => number;
}

/**
 * A file's bytes in chunks, read into the shared free buffers (a new one when none is free). A
 * buffer goes back to them once every byte of its chunk was recycled (written by the request; a
 * chunk split on its way counts piece by piece); a chunk never recycled leaves its buffer to the
 * garbage collector. With a framing, it is an upload's whole body: the part's head, the file's
 * bytes, the tail (no stream between the file and the request).
 */
class FileChunks extends Readable {
  private fd?: number;
  private position = 0;
  private reading = false;
  private headSent = false;
  /** The stream asked for a chunk (_read) and none was pushed since. */
  private wanted = false;
  /** A chunk read ahead that the stream has not asked for yet; null: the file's end. */
  private readAhead?: ReadChunk | null;
  private closeAfterRead?: () => void;
  /** Held strongly while this upload lives. */
  private readonly free = sharedFreeReadBuffers();
  /** Buffers sent on, by their memory, with the bytes of their chunk not yet recycled. */
  private readonly unwritten = new Map<ArrayBufferLike, ReadChunk>();

  constructor(
    private readonly path: string,
    private readonly framing?: BodyFraming,
  ) {
    super({ highWaterMark: UPLOAD_CHUNK_BYTES });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    openFd(this.path, 'r', (error, fd) => {
      this.fd = fd;
      callback(error);
    });
  }

  override _read(): void {
    // The head alone: pushed from here, a read started with it could be started twice.
    if (this.framing && !this.headSent) {
      this.headSent = true;
      this.push(this.framing.head);
      return;
    }
    this.wanted = true;
    const ahead = this.readAhead;
    if (ahead === undefined) {
      if (!this.reading) this.readNext();
      return;
    }
    this.readAhead = undefined;
    if (ahead !== null) this.readNext();
    this.deliver(ahead);
  }

  /**
   * Reads the next chunk. A chunk the stream wants is pushed at once, and the read after it starts
   * first: the file is read (in libuv's threads) while the request writes this chunk to its socket,
   * instead of one after the other. One chunk at most waits read ahead.
   */
  private readNext(): void {
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(UPLOAD_CHUNK_BYTES);
    this.reading = true;
    readFd(this.fd as number, buffer, 0, buffer.length, this.position, (error, bytes) => {
      this.reading = false;
      if (this.destroyed) return this.closeAfterRead?.();
      if (error) return this.destroy(error);
      if (bytes === 0) this.free.push(buffer);
      this.position += bytes;
      const chunk = bytes === 0 ? null : { buffer, bytes };
      if (!this.wanted) {
        this.readAhead = chunk;
        return;
      }
      if (chunk !== null) this.readNext();
      this.deliver(chunk);
    });
  }

  /** Hands a chunk (null: the file's end) to the stream, through the framing. */
  private deliver(read: ReadChunk | null): void {
    const framing = this.framing;
    this.wanted = false;
    if (read === null) {
      if (framing && !framing.end()) return;
      if (framing) this.push(framing.tail);
      this.push(null);
      return;
    }
    const { buffer, bytes } = read;
    const chunk = bytes === buffer.length ? buffer : buffer.subarray(0, bytes);
    if (framing && !framing.see(chunk)) {
      this.free.push(buffer);
      return;
    }
    this.unwritten.set(buffer.buffer, { buffer, bytes });
    this.wanted = framing ? pushPieces(this, chunk, framing.pieceBytes()) : this.push(chunk);
  }

  /** The request has written this chunk (or a piece of it): once all of it is, its buffer is free. */
  recycle(chunk: Buffer): void {
    const entry = this.unwritten.get(chunk.buffer);
    if (!entry) return;
    entry.bytes -= chunk.length;
    if (entry.bytes > 0) return;
    this.unwritten.delete(chunk.buffer);
    this.free.push(entry.buffer);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const close = () => {
      if (this.fd === undefined) return callback(error);
      closeFd(this.fd, (closeError) => callback(error ?? closeError));
      this.fd = undefined;
    };
    // Closing under a read in flight could let the descriptor's number be reused beneath it.
    if (this.reading) this.closeAfterRead = close;
    else close();
  }
}

function fileKind(stat: Stats): string {
  if (stat.isFIFO()) return 'named pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  if (stat.isSocket()) return 'socket';
  return 'special file';
}

/** A stream's chunks as bytes; a stream of other objects is not an image. */
async function* bytesOnly(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (Buffer.isBuffer(chunk)) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk);
    else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw McmError.invalid(op, 'source-type', { type: 'stream of objects' });
  }
}

/** A chunk on its way to the request, in views of `pieceBytes` (no copy); false: the stream is full. */
function pushPieces(stream: Readable, chunk: Buffer, pieceBytes: number): boolean {
  if (chunk.length <= pieceBytes) return stream.push(chunk);
  let more = true;
  for (let offset = 0; offset < chunk.length && !stream.destroyed; offset += pieceBytes) {
    more = stream.push(chunk.subarray(offset, offset + pieceBytes));
  }
  return more;
}

function* chunks(buffer: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += UPLOAD_CHUNK_BYTES) yield buffer.subarray(offset, offset + UPLOAD_CHUNK_BYTES);
}
