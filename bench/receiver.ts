/**
 * The fast receiver, run by the benchmark in its own process: it answers the routes the benchmark
 * uses as MCM answers them, from memory and with as little work as a Node server can do, so the
 * contender, not the server, sets the pace (the simulator parses, hashes, keeps state and logs).
 *
 * - `GET /mcm/v1/mims`: a list of `--mims` (20) mims, its JSON built once at start.
 * - `POST /mcm/v1/mims`: 201 with the mim the body names (a deploy); nothing is kept, so the same
 *   name can be deployed again.
 * - `POST /mcm/v1/compositions`: 201 with the mims the body names.
 * - `POST /mcm/v1/images`: the body only counted, neither parsed as multipart nor hashed; 201 with
 *   a MimImage whose size is the body's length less the multipart framing around its one part,
 *   found in the first and the last bytes only.
 * - `GET /mcm/v1/images`: an empty list (curl's idle baseline).
 * - `GET /_receiver/last` describes the last upload, `DELETE` forgets it.
 *
 *   node build/bench/receiver.js --key KEY --image NAME [--mims 20]
 *   (prints "listening on http://127.0.0.1:PORT")
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
/** Deploy and composition bodies are small; anything longer is refused unread. */
const JSON_BODY_MAX = 1024 * 1024;
const CREATED = 1764633600;

function option(name: string, fallback?: string): string {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? process.argv[index + 1] : fallback;
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const key = option('--key');
const authorization = `Bearer ${key}`;
const imageName = option('--image');
const listed = Number(option('--mims', '20'));
let last: Upload | undefined;

/** A deployed mim as the runtime describes it. */
function wireMim(name: string, image: string, env: unknown, index: number): Record<string, unknown> {
  return {
    id: `${name}-${index}`,
    name,
    image,
    imageId: `sha256:${imageName}`,
    clientId: 'bench',
    created: CREATED,
    state: 'started',
    status: 'running',
    env: env && typeof env === 'object' ? env : {},
  };
}

const mimList = Buffer.from(
  JSON.stringify({ data: Array.from({ length: listed }, (_, i) => wireMim(`listed-${i}`, imageName, { INDEX: String(i) }, i)) }),
);
const emptyList = Buffer.from(JSON.stringify({ data: [] }));
let deployed = 0;

function send(res: http.ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, Buffer.from(JSON.stringify(body)));
}

/** Reads a small JSON body, then answers with what `reply` makes of it (a 400 for anything else). */
function receiveJson(req: http.IncomingMessage, res: http.ServerResponse, reply: (body: Record<string, unknown>) => unknown): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes <= JSON_BODY_MAX) chunks.push(chunk);
  });
  req.once('end', () => {
    let body: unknown;
    try {
      body = bytes <= JSON_BODY_MAX ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== 'object') return answer(res, 400, { error: { code: 400, message: 'a JSON object is required' } });
    answer(res, 201, reply(body as Record<string, unknown>));
  });
}

function deployedMim(spec: unknown): Record<string, unknown> {
  const s = (spec && typeof spec === 'object' ? spec : {}) as Record<string, unknown>;
  return wireMim(String(s.name ?? ''), String(s.image ?? ''), s.env, deployed++);
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
  const method = req.method;
  if (path === '/_receiver/last' && method === 'GET') return answer(res, 200, last ?? {});
  if (path === '/_receiver/last' && method === 'DELETE') {
    last = undefined;
    return answer(res, 200, {});
  }
  if (req.headers.authorization !== authorization) {
    req.resume();
    return answer(res, 403, { error: { code: 403, message: 'Forbidden' } });
  }
  if (path === '/mcm/v1/images' && method === 'POST') return receiveUpload(req, res);
  if (path === '/mcm/v1/mims' && method === 'POST') return receiveJson(req, res, deployedMim);
  if (path === '/mcm/v1/compositions' && method === 'POST') {
    return receiveJson(req, res, (body) => ({ data: (Array.isArray(body.mims) ? body.mims : []).map(deployedMim) }));
  }
  req.resume();
  if (path === '/mcm/v1/mims' && method === 'GET') return send(res, 200, mimList);
  if (path === '/mcm/v1/images' && method === 'GET') return send(res, 200, emptyList);
  answer(res, 404, { error: { code: 404, message: 'not found' } });
});
// Keep-alive connections stay open between a contender's bursts.
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`fast receiver listening on http://127.0.0.1:${port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
