/**
 * A small streaming multipart/form-data parser (RFC 7578 / RFC 2046). It never holds a whole
 * part: body bytes go to the handler as they arrive, keeping back only a tail short enough to
 * be the start of a boundary split across two chunks. Benchmarks upload 1 GiB through it.
 */

export class MultipartError extends Error {}

export interface PartInfo {
  /** Lowercase header names as they came in the part. */
  headers: Record<string, string>;
  /** The form field name from Content-Disposition. */
  name?: string;
  filename?: string;
  contentType?: string;
}

export interface MultipartHandler {
  partStart(part: PartInfo): void;
  partData(chunk: Buffer): void;
  partEnd(): void;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** Part headers are a few lines; more than this is not a form upload. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Transport padding after a boundary is a few spaces at most. */
const MAX_BOUNDARY_LINE = 256;

/** The boundary of a multipart/form-data Content-Type, or undefined if it is not one. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  // RFC 2046 limits boundaries to 70 printable characters; be a little lenient.
  if (!boundary || boundary.length > 200 || /[\r\n]/.test(boundary)) return undefined;
  return boundary;
}

/** `form-data; name="image"; filename="a.tar"` -> {name: 'image', filename: 'a.tar'} */
function dispositionParams(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
  }
  return params;
}

function parseHeaders(block: Buffer): PartInfo {
  const headers: Record<string, string> = {};
  for (const line of block.toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('malformed multipart body: bad part header line');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const disposition = dispositionParams(headers['content-disposition'] ?? '');
  return { headers, name: disposition.name, filename: disposition.filename, contentType: headers['content-type'] };
}

type State = 'preamble' | 'afterBoundary' | 'headers' | 'body' | 'done';

export class MultipartParser {
  private state: State = 'preamble';
  /** Bytes received but not yet handed on. */
  private buf: Buffer;
  /** Every boundary but the first is preceded by CRLF, which belongs to the boundary. */
  private readonly delimiter: Buffer;

  constructor(
    boundary: string,
    private readonly handler: MultipartHandler,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    // The first boundary usually opens the body with no CRLF before it: pretend there was one.
    this.buf = CRLF;
  }

  /** True once the closing boundary was seen. */
  get complete(): boolean {
    return this.state === 'done';
  }

  /** Feeds a chunk; throws MultipartError on a malformed body. */
  write(chunk: Buffer): void {
    if (this.state === 'done') return; // the epilogue is ignored
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.step());
  }

  /** Call when the body ended; throws if the closing boundary never came. */
  end(): void {
    if (this.state !== 'done') throw new MultipartError('malformed multipart body: it ended before the closing boundary');
  }

  /** Does one step of work; false when more input is needed. */
  private step(): boolean {
    switch (this.state) {
      case 'preamble':
        return this.skipPreamble();
      case 'afterBoundary':
        return this.afterBoundary();
      case 'headers':
        return this.readHeaders();
      case 'body':
        return this.readBody();
      case 'done':
        return false;
    }
  }

  private skipPreamble(): boolean {
    const at = this.buf.indexOf(this.delimiter);
    if (at < 0) {
      this.buf = this.buf.subarray(this.tailStart());
      return false;
    }
    this.buf = this.buf.subarray(at + this.delimiter.length);
    this.state = 'afterBoundary';
    return true;
  }

  /** After a boundary: `--` closes the body, else (optional padding and) CRLF starts a part. */
  private afterBoundary(): boolean {
    if (this.buf.length < 2) return false;
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
      this.state = 'done';
      this.buf = Buffer.alloc(0);
      return false;
    }
    const eol = this.buf.indexOf(CRLF);
    if (eol < 0) {
      if (this.buf.length > MAX_BOUNDARY_LINE) throw new MultipartError('malformed multipart body: bad boundary line');
      return false;
    }
    if (!/^[ \t]*$/.test(this.buf.toString('latin1', 0, eol))) {
      throw new MultipartError('malformed multipart body: bad boundary line');
    }
    this.buf = this.buf.subarray(eol + 2);
    this.state = 'headers';
    return true;
  }

  private readHeaders(): boolean {
    let info: PartInfo;
    if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
      info = { headers: {} }; // a part with no headers at all
      this.buf = this.buf.subarray(2);
    } else {
      const end = this.buf.indexOf(HEADER_END);
      if (end < 0) {
        if (this.buf.length > MAX_HEADER_BYTES) throw new MultipartError('malformed multipart body: part headers too long');
        return false;
      }
      info = parseHeaders(this.buf.subarray(0, end));
      this.buf = this.buf.subarray(end + HEADER_END.length);
    }
    this.state = 'body';
    this.handler.partStart(info);
    return true;
  }

  private readBody(): boolean {
    const at = this.buf.indexOf(this.delimiter);
    if (at >= 0) {
      if (at > 0) this.handler.partData(this.buf.subarray(0, at));
      this.buf = this.buf.subarray(at + this.delimiter.length);
      this.state = 'afterBoundary';
      this.handler.partEnd();
      return true;
    }
    const keep = this.tailStart();
    if (keep > 0) this.handler.partData(this.buf.subarray(0, keep));
    this.buf = this.buf.subarray(keep);
    return false;
  }

  /**
   * Where the bytes that might begin a boundary start. The delimiter holds one CR, its first
   * byte (boundaries cannot contain CR), so only the last CR within reach can begin one.
   */
  private tailStart(): number {
    const from = Math.max(0, this.buf.length - (this.delimiter.length - 1));
    const cr = this.buf.subarray(from).lastIndexOf(0x0d);
    return cr >= 0 ? from + cr : this.buf.length;
  }
}
