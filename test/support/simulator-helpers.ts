/**
 * Small helpers for tests that talk to the MCM simulator over real HTTP on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McmSimulator, ProfileName, SimulatorOptions, profileFromEnvironment, startSimulator } from '../../src/simulator';

export const TEST_KEY = 'sim-test-key';

/**
 * The profile of the simulators the client and flow suites start without one: MCM_SIMULATOR_PROFILE
 * (`npm run test:field` sets `field`), else `contract`. Tests whose outcome differs by profile read it here.
 */
export const simulatorProfile = (): ProfileName => profileFromEnvironment();

/** The value for the running profile. */
export const byProfile = <T>(values: Record<ProfileName, T>): T => values[simulatorProfile()];

/** The status of an upload, deploy or composition that worked (the field's come without a body). */
export const createdStatus = (): number => byProfile({ contract: 201, field: 200 });

/**
 * A quiet simulator on an ephemeral port with a known key, for the simulator's own tests: they
 * check one profile's rules, so it is the contract's unless `options.profile` says otherwise
 * (never MCM_SIMULATOR_PROFILE's).
 */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<McmSimulator> {
  return startSimulator({ key: TEST_KEY, quiet: true, profile: 'contract', ...options });
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

export interface ApiInit {
  method?: string;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The bearer token; default the simulator's key; null sends no Authorization header. */
  token?: string | null;
  clientId?: string;
  signal?: AbortSignal;
}

/** fetch against the simulator, authorised with its key unless told otherwise. */
export async function api(sim: McmSimulator, path: string, init: ApiInit = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? sim.key : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.clientId) headers['x-client-id'] = init.clientId;
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (typeof init.body === 'string') body = init.body;
  else if (Buffer.isBuffer(init.body))
    body = new Uint8Array(init.body); // fetch's typings want an ArrayBuffer-backed view
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(sim.url + path, { method: init.method ?? 'GET', headers, body, signal: init.signal });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface FormPart {
  name: string;
  data: Buffer | string;
  filename?: string;
  contentType?: string;
}

/** A multipart/form-data body built by hand, so tests control every byte. */
export function multipartBody(
  parts: FormPart[],
  boundary = `----simtest${Date.now().toString(16)}`,
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"`;
    head += '\r\n';
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(head + '\r\n'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Uploads a tar as the `image` part. */
export function uploadTar(
  sim: McmSimulator,
  tar: Buffer,
  init: { clientId?: string; token?: string | null; filename?: string } = {},
): Promise<ApiResponse> {
  const form = multipartBody([{ name: 'image', data: tar, filename: init.filename ?? 'image.tar', contentType: 'application/x-tar' }]);
  return api(sim, '/mcm/v1/images', {
    method: 'POST',
    body: form.body,
    headers: { 'content-type': form.contentType },
    clientId: init.clientId,
    token: init.token,
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface RawInit {
  method?: string;
  headers?: Record<string, string>;
  /** One Buffer is sent with Content-Length; an array is sent chunk by chunk, chunked. */
  body?: Buffer | Buffer[];
  /** Write the body only after this many ms (0: at once); `false`: never write it. */
  bodyAfterMs?: number | false;
  timeoutMs?: number;
}

/** node:http request without connection pooling, for exact control of headers and framing. */
export function rawRequest(sim: McmSimulator, path: string, init: RawInit = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${sim.key}`, ...init.headers };
    if (Buffer.isBuffer(init.body)) headers['content-length'] = String(init.body.length);
    const req = http.request(sim.url + path, { method: init.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (init.timeoutMs) req.setTimeout(init.timeoutMs, () => req.destroy(new Error('client timeout')));
    const writeBody = (): void => {
      if (Array.isArray(init.body)) for (const chunk of init.body) req.write(chunk);
      else if (init.body) req.write(init.body);
      req.end();
    };
    if (init.bodyAfterMs === false) req.flushHeaders();
    else if (init.bodyAfterMs) {
      req.flushHeaders();
      setTimeout(writeBody, init.bodyAfterMs);
    } else writeBody();
  });
}

export interface SocketExchange {
  /** Everything the server sent, as latin1 text. */
  text: () => string;
  /** Resolves when the server closed or destroyed the connection. */
  closed: Promise<void>;
  socket: Socket;
}

/** Writes raw bytes on a fresh TCP connection and records every byte the server sends back. */
export function socketExchange(sim: McmSimulator, data: string | Buffer): SocketExchange {
  const socket = connect(sim.port, '127.0.0.1');
  socket.write(data); // queued until connected, so later writes follow it
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined); // a reset shows as `closed`
  return { text: () => text, closed, socket };
}

/** The ids of the simulator's mims, sorted: what is left on it, whatever order calls ran in. */
export const sortedMimIds = (sim: McmSimulator): string[] =>
  sim
    .mims()
    .map((m) => m.id)
    .sort();

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed when the test process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-sim-test-'));
  tempDirs.push(dir);
  return dir;
}

/**
 * Gives each test of the calling describe block its own empty TMPDIR (os.tmpdir() follows it), to
 * see temporary files come and go; returns the current test's directory.
 */
export function tmpdirPerTest(): () => string {
  let dir = '';
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.TMPDIR;
    dir = tempDir();
    process.env.TMPDIR = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });
  return () => dir;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what = 'the condition', timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
