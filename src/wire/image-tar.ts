/**
 * mim image tars in `docker save` layout: build them (tests, examples, the demo, the probe) and
 * read the image name out of one while it streams past, never holding the tar in memory (the
 * simulator reads what it receives; the client what it sends, to look up an upload answered
 * without it).
 *
 * Layout: manifest.json, repositories, <config>.json and <dir>/layer.tar, a tar holding index.js.
 * The image name is the repository name inside the tar, not the file name.
 *
 * Shared by the client and the simulator because it is a codec of a file format, not a rule of
 * the API: both must read the same bytes the same way, and a second tar reader would only add
 * its own bugs. What the runtime answers about an image stays each side's own. */
import { createHash, Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const FILLER_CHUNK = 4 * 1024 * 1024;

export interface ImageTarOptions {
  /** Repository name, i.e. the image name MCM will report (e.g. "hello-v1"). */
  name: string;
  /** Tag, default "1.0.0". */
  tag?: string;
  /** Source of the bundled mim; a small hello-world handler by default. */
  indexJs?: string;
  /** Extra bytes of zeros bundled as assets.bin, to make large images for benchmarks. */
  paddingBytes?: number;
}

type Entry = { name: string; size: number; chunks: () => Iterable<Buffer> };

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;
const tarSize = (entries: Entry[]): number => entries.reduce((total, e) => total + BLOCK + e.size + padding(e.size), 2 * BLOCK);

function* tarChunks(entries: Entry[]): Generator<Buffer> {
  for (const entry of entries) {
    yield header(entry.name, entry.size);
    yield* entry.chunks();
    const pad = padding(entry.size);
    if (pad) yield ZERO_BLOCK.subarray(0, pad);
  }
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}

function fileEntry(name: string, content: string | Buffer): Entry {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { name, size: data.length, chunks: () => [data] };
}

function* zeros(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(Math.min(FILLER_CHUNK, Math.max(total, 1)));
  for (let left = total; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

function defaultIndexJs(name: string): string {
  return (
    `// ${name}: a minimal mim\n` +
    `mimikModule.exports = (context, req, res) => {\n` +
    `  res.end(JSON.stringify({ mim: '${name}', path: req.url }));\n` +
    `};\n`
  );
}

function imageEntries(options: ImageTarOptions): Entry[] {
  const tag = options.tag ?? '1.0.0';
  const repoTag = `${options.name}:${tag}`;
  const layer: Entry[] = [fileEntry('index.js', options.indexJs ?? defaultIndexJs(options.name))];
  if (options.paddingBytes) {
    const size = options.paddingBytes;
    layer.push({ name: 'assets.bin', size, chunks: () => zeros(size) });
  }
  const config = JSON.stringify({ architecture: 'js', os: 'mimik', config: { Labels: { name: options.name } } });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const dir = createHash('sha256').update(repoTag).digest('hex');
  const manifest = [{ Config: configName, RepoTags: [repoTag], Layers: [`${dir}/layer.tar`] }];
  return [
    fileEntry('manifest.json', JSON.stringify(manifest)),
    fileEntry('repositories', JSON.stringify({ [options.name]: { [tag]: dir } })),
    fileEntry(configName, config),
    { name: `${dir}/layer.tar`, size: tarSize(layer), chunks: () => tarChunks(layer) },
  ];
}

/** The whole tar in memory: for small images. */
export function buildImageTar(options: ImageTarOptions): Buffer {
  return Buffer.concat([...tarChunks(imageEntries(options))]);
}

/** The tar as a stream, for images of any size. */
export function imageTarStream(options: ImageTarOptions): Readable {
  return Readable.from(tarChunks(imageEntries(options)), { objectMode: false });
}

/** Writes an image tar to a file without holding it in memory; resolves to its size in bytes. */
export async function writeImageTar(path: string, options: ImageTarOptions): Promise<number> {
  await pipeline(imageTarStream(options), createWriteStream(path, { highWaterMark: FILLER_CHUNK }));
  return tarSize(imageEntries(options));
}

export interface ImageTarInfo {
  name: string;
  repoTags: string[];
  size: number;
  digest: string;
  entries: string[];
}

export class ImageTarError extends Error {}

/** Small metadata entries worth keeping while the rest streams past. */
const KEEP_MAX_BYTES = 1024 * 1024;
const isMetadata = (name: string): boolean => name === 'manifest.json' || name === 'repositories';

export interface ScannerOptions {
  /** false skips the sha256 of every byte (an uploader needs only the name). Default true. */
  digest?: boolean;
}

/**
 * Reads a tar as it streams: feed chunks with `write`, then `finish` returns the image's
 * metadata or throws ImageTarError. Memory use is bounded by the metadata entries; the bodies
 * of other entries are skipped by counting, so only the digest costs per byte.
 */
export class ImageTarScanner {
  private readonly hash?: Hash;
  private size = 0;
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current entry's body (plus padding) still to come. */
  private bodyLeft = 0;
  private paddingLeft = 0;
  private current?: { name: string; keep: Buffer[] | undefined };
  private ended = false;
  private error?: string;
  private readonly entries: string[] = [];
  private readonly kept = new Map<string, Buffer>();

  constructor(options: ScannerOptions = {}) {
    if (options.digest !== false) this.hash = createHash('sha256');
  }

  write(chunk: Buffer): void {
    this.hash?.update(chunk);
    this.size += chunk.length;
    if (this.error || this.ended) return;
    let offset = 0;
    while (offset < chunk.length && !this.error && !this.ended) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - offset);
        // A copy: an upload reads into its buffers again once they are sent (image-source.ts).
        this.current?.keep?.push(Buffer.from(chunk.subarray(offset, offset + take)));
        this.bodyLeft -= take;
        offset += take;
        if (this.bodyLeft === 0) this.closeEntry();
      } else if (this.paddingLeft > 0) {
        const take = Math.min(this.paddingLeft, chunk.length - offset);
        this.paddingLeft -= take;
        offset += take;
      } else {
        const need = BLOCK - this.pending.length;
        const take = Math.min(need, chunk.length - offset);
        this.pending = Buffer.concat([this.pending, chunk.subarray(offset, offset + take)]);
        offset += take;
        if (this.pending.length === BLOCK) {
          const block = this.pending;
          this.pending = Buffer.alloc(0);
          this.readHeader(block);
        }
      }
    }
  }

  private readHeader(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.ended = true;
      return;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
    const stored = parseInt(block.toString('ascii', 148, 156).replace(/\0.*$/, '').trim(), 8);
    if (stored !== sum) {
      this.error = 'not a tar archive (bad header checksum)';
      return;
    }
    const field = (start: number, length: number) => block.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const prefix = block.toString('ascii', 257, 262) === 'ustar' ? field(345, 155) : '';
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) {
      this.error = `bad size for tar entry ${name}`;
      return;
    }
    this.entries.push(name);
    this.current = { name, keep: isMetadata(name) && size <= KEEP_MAX_BYTES ? [] : undefined };
    this.bodyLeft = size;
    this.paddingLeft = padding(size);
    if (size === 0) this.closeEntry();
  }

  private closeEntry(): void {
    if (this.current?.keep) this.kept.set(this.current.name, Buffer.concat(this.current.keep));
    this.current = undefined;
  }

  finish(): ImageTarInfo {
    const digest = this.hash ? `sha256:${this.hash.digest('hex')}` : '';
    if (this.size === 0) throw new ImageTarError('no image received');
    if (this.error) throw new ImageTarError(this.error);
    // Cut inside an entry's padding or before the end-of-archive block is truncated too.
    if (this.bodyLeft > 0 || this.paddingLeft > 0 || this.pending.length > 0 || (this.entries.length > 0 && !this.ended)) {
      throw new ImageTarError('the tar archive is truncated');
    }
    if (this.entries.length === 0) throw new ImageTarError('not a tar archive');
    return { ...this.names(), size: this.size, digest, entries: this.entries };
  }

  /** The image name seen so far, or undefined: for an uploader that sent the tar and got no answer body. */
  imageName(): string | undefined {
    try {
      return this.names().name;
    } catch {
      return undefined;
    }
  }

  /** The name from `repositories`, else from the first RepoTag of manifest.json. */
  private names(): { name: string; repoTags: string[] } {
    const manifestText = this.kept.get('manifest.json');
    if (!manifestText) throw new ImageTarError('not an image tar: manifest.json is missing');
    let repoTags: string[] = [];
    try {
      const manifest = JSON.parse(manifestText.toString('utf8')) as Array<{ RepoTags?: unknown }>;
      if (Array.isArray(manifest) && Array.isArray(manifest[0]?.RepoTags)) repoTags = manifest[0].RepoTags.map(String);
    } catch {
      throw new ImageTarError('not an image tar: manifest.json is not valid JSON');
    }
    let name = '';
    const repositories = this.kept.get('repositories');
    if (repositories) {
      try {
        name = Object.keys(JSON.parse(repositories.toString('utf8')) as object)[0] ?? '';
      } catch {
        throw new ImageTarError('not an image tar: repositories is not valid JSON');
      }
    }
    if (!name && repoTags[0]) name = withoutTag(repoTags[0]);
    if (!name) throw new ImageTarError('not an image tar: no image name in repositories or RepoTags');
    return { name, repoTags };
  }
}

/** `name:tag` -> name; a registry's port (`host:5000/name`) is not a tag. */
function withoutTag(repoTag: string): string {
  const colon = repoTag.lastIndexOf(':');
  return colon > repoTag.lastIndexOf('/') ? repoTag.slice(0, colon) : repoTag;
}
