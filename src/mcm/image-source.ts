/**
 * Image tar sources for uploads: a file path, a Buffer or a caller's stream, checked before any
 * request leaves, and turned into a multipart body that counts the bytes it sends.
 */
import FormData from 'form-data';
import { constants as fsConstants, createReadStream, promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { McmError } from './errors';
import { isReadable } from './validate';

/**
 * Read size for uploads. Measured in a Node-RED process (bench/): 256 KiB keeps a 1 GiB upload
 * near curl's time; 4 MiB chunks push V8 into repeated full collections, 64 KiB costs per chunk.
 */
export const UPLOAD_CHUNK_BYTES = 256 * 1024;

/** An image tar: a file path, a Readable stream or the bytes. */
export type ImageSource = string | Readable | Buffer;

export interface UploadProgress {
  bytes: number;
  /** Undefined for a stream of unknown length. */
  total?: number;
  /** 0..100, undefined when the total is unknown. */
  percentage?: number;
}

export interface SourceOptions {
  /** The file name sent with the part; default the path's base name or `image.tar`. */
  filename?: string;
  /** Length of a stream source, when known (enables Content-Length and a percentage). */
  size?: number;
}

export interface OpenedSource {
  /** A fresh stream of the tar; a caller's own stream can be taken once only. */
  take: () => Readable;
  total?: number;
  filename: string;
  replayable: boolean;
  /** After the upload, sent or not: a caller's stream that was never sent is destroyed (its file closed). */
  release: () => void;
}

/** One attempt's multipart body. */
export interface UploadBody {
  form: FormData;
  headers: Record<string, string>;
  /** Set when reading the source failed, to tell that apart from a network failure. */
  sourceError: () => Error | undefined;
  destroy: () => void;
}

const nothingToRelease = () => undefined;

/** Checks the source before any request: missing, unreadable, a directory, or empty all fail here. */
export async function openImageSource(source: ImageSource, options: SourceOptions): Promise<OpenedSource> {
  const op = 'uploadImage';
  if (source === undefined || source === null || source === '') throw McmError.invalid(op, 'source-missing');
  if (typeof source === 'string') {
    let stat;
    try {
      stat = await fsp.stat(source);
      await fsp.access(source, fsConstants.R_OK);
    } catch (err) {
      throw McmError.invalid(op, 'source-unreadable', { path: source, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
    }
    if (stat.isDirectory()) throw McmError.invalid(op, 'source-directory', { path: source });
    if (stat.size === 0) throw McmError.invalid(op, 'source-empty');
    return {
      take: () => createReadStream(source, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      total: stat.size,
      filename: options.filename ?? basename(source),
      replayable: true,
      release: nothingToRelease,
    };
  }
  if (Buffer.isBuffer(source)) {
    if (source.length === 0) throw McmError.invalid(op, 'source-empty');
    const filename = options.filename ?? 'image.tar';
    return { take: () => Readable.from(chunks(source)), total: source.length, filename, replayable: true, release: nothingToRelease };
  }
  if (isReadable(source)) {
    // Until the upload takes it (it may wait for a free slot), an error must not go unheard.
    const ignore = () => undefined;
    source.on('error', ignore);
    let first: Buffer | undefined;
    try {
      first = await firstChunk(source);
    } catch (err) {
      source.destroy();
      throw err;
    }
    if (first === undefined) throw McmError.invalid(op, 'source-empty');
    let taken = false;
    return {
      take: () => {
        taken = true;
        return Readable.from(prepend(first, source));
      },
      total: options.size,
      filename: options.filename ?? 'image.tar',
      replayable: false,
      release: () => {
        source.off('error', ignore);
        if (!taken) source.destroy();
      },
    };
  }
  throw McmError.invalid(op, 'source-type', { type: Array.isArray(source) ? 'array' : typeof source });
}

/** A multipart body for one attempt: the tar in a part named `image`, its bytes counted as they go. */
export function uploadBody(opened: OpenedSource, onProgress?: (progress: UploadProgress) => void): UploadBody {
  const stream = opened.take();
  let sent = 0;
  let sourceError: Error | undefined;
  stream.once('error', (err) => (sourceError = err));
  const counter = new Transform({
    highWaterMark: UPLOAD_CHUNK_BYTES,
    transform(chunk: Buffer, _encoding, next) {
      sent += chunk.length;
      onProgress?.({
        bytes: sent,
        total: opened.total,
        percentage: opened.total ? Math.min(100, Math.floor((sent / opened.total) * 100)) : undefined,
      });
      next(null, chunk);
    },
  });
  stream.on('error', (err) => counter.destroy(err));
  stream.pipe(counter);
  const form = new FormData({ maxDataSize: Infinity });
  form.append('image', counter, { filename: opened.filename, contentType: 'application/x-tar', knownLength: opened.total });
  const headers: Record<string, string> = { ...form.getHeaders() };
  if (opened.total !== undefined) headers['Content-Length'] = String(form.getLengthSync());
  return { form, headers, sourceError: () => sourceError, destroy: () => (stream.destroy(), counter.destroy()) };
}

/** The chunk read to check for emptiness, then the rest of the stream (unshift cannot undo an ended stream). */
async function* prepend(first: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  yield first;
  for await (const chunk of rest) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
}

function* chunks(buffer: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += UPLOAD_CHUNK_BYTES) yield buffer.subarray(offset, offset + UPLOAD_CHUNK_BYTES);
}

/** Reads one chunk (undefined at a clean end) so an empty stream fails before any request. */
function firstChunk(stream: Readable): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      const chunk = stream.read() as unknown;
      if (chunk === null) return;
      cleanup();
      if (Buffer.isBuffer(chunk)) resolve(chunk);
      else if (typeof chunk === 'string' || chunk instanceof Uint8Array) resolve(Buffer.from(chunk));
      else reject(McmError.invalid('uploadImage', 'source-type', { type: 'stream of objects' }));
    };
    const onEnd = () => (cleanup(), resolve(undefined));
    const onError = (err: Error) => {
      cleanup();
      reject(McmError.invalid('uploadImage', 'source-stream-failed', { reason: err.message }));
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    onReadable();
  });
}
