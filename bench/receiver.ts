/**
 * The counting receiver, run by the benchmark in its own process: `POST /mcm/v1/images` answered
 * as the MCM upload route answers it (201 with a MimImage), but the body is only counted, neither
 * parsed as multipart nor hashed, so an uploader's own cost sets the pace instead of the
 * simulator's. The image size in the answer is the body's length less the multipart framing
 * around its one part, found in the first and the last bytes only. `GET /_receiver/last`
 * describes the last upload (`DELETE` forgets it), `GET /mcm/v1/images` answers an empty list (curl's idle baseline).
 *
 *   node build/bench/receiver.js --key KEY --image NAME   (prints "listening on http://127.0.0.1:PORT")
 */
import http from 'node:http';

interface Upload {
  status: number;
  /** Body bytes received. */
  bytes: number;
  contentLength: number;
  /** The part's content: bytes less the framing before and after it; -1 when the framing was not found. */
  imageBytes: number;
}

/** The part's headers end within this many bytes of the body's start. */
const HEAD_MAX = 8192;
/** The closing boundary lies within this many bytes of the body's end. */
const TAIL_BYTES = 512;

function option(name: string): string {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const key = option('--key');
const imageName = option('--image');
let last: Upload | undefined;

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Counts an upload's body, keeping only its first bytes (the part's headers) and its last ones. */
function receiveUpload(req: http.IncomingMessage, res: http.ServerResponse): void {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] ?? '');
  const contentLength = Number(req.headers['content-length'] ?? -1);
  let bytes = 0;
  let head = Buffer.alloc(0);
  let previous: Buffer | undefined;
  let latest: Buffer | undefined;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (head.length < HEAD_MAX) head = Buffer.concat([head, chunk.subarray(0, HEAD_MAX - head.length)]);
    previous = latest;
    latest = chunk;
  });
  req.once('end', () => {
    const tail = Buffer.concat([previous ?? Buffer.alloc(0), latest ?? Buffer.alloc(0)]).subarray(-TAIL_BYTES);
    const marker = boundary ? `\r\n--${boundary[1] ?? boundary[2]}` : undefined;
    const headEnd = head.indexOf('\r\n\r\n');
    const closing = marker ? tail.lastIndexOf(marker) : -1;
    const imageBytes = headEnd >= 0 && closing >= 0 ? bytes - (tail.length - closing) - (headEnd + 4) : -1;
    const complete = contentLength === bytes && imageBytes > 0;
    last = { status: complete ? 201 : 400, bytes, contentLength, imageBytes };
    if (!complete) return answer(res, 400, { error: { code: 400, message: 'no image received' } });
    answer(res, 201, { id: `bench-${imageName}`, name: imageName, digest: '', repoTags: [`${imageName}:latest`], size: imageBytes });
  });
}

const server = http.createServer((req, res) => {
  const path = req.url ?? '';
  if (path === '/_receiver/last' && req.method === 'GET') return answer(res, 200, last ?? {});
  if (path === '/_receiver/last' && req.method === 'DELETE') {
    last = undefined;
    return answer(res, 200, {});
  }
  if (req.headers.authorization !== `Bearer ${key}`) {
    req.resume();
    return answer(res, 403, { error: { code: 403, message: 'Forbidden' } });
  }
  if (path === '/mcm/v1/images' && req.method === 'POST') return receiveUpload(req, res);
  req.resume();
  if (path === '/mcm/v1/images' && req.method === 'GET') return answer(res, 200, { data: [] });
  answer(res, 404, { error: { code: 404, message: 'not found' } });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`counting receiver listening on http://127.0.0.1:${port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
