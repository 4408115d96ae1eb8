/**
 * The simulator's own limits: a request body that stalls is not kept open forever, and the
 * request log keeps bounded summaries with the Authorization header redacted.
 */
import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { LOG_BODY_BYTES, LOG_PARTS, McmSimulator } from '../../src/simulator';
import { api, multipartBody, sleep, socketExchange, startTestSimulator, uploadTar, waitFor } from '../support/simulator-helpers';

const BODY_TIMEOUT_MS = 250;

/** Resolves true when the connection closed within `ms`, else false. */
const closedWithin = (closed: Promise<void>, ms: number): Promise<boolean> =>
  Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

function head(sim: McmSimulator, path: string, contentType: string, length: number, token = sim.key): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`
  );
}

describe('simulator body silence timeout', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator({ bodyTimeoutMs: BODY_TIMEOUT_MS });
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  it('a JSON body that stalls is answered 408 and its connection closed', async () => {
    const body = JSON.stringify({ name: 'hello', image: 'hello-v1' });
    const exchange = socketExchange(sim, head(sim, '/mcm/v1/mims', 'application/json', body.length + 50) + body);
    const t0 = Date.now();
    assert.ok(await closedWithin(exchange.closed, BODY_TIMEOUT_MS + 2000), 'the connection was closed');
    assert.ok(Date.now() - t0 >= BODY_TIMEOUT_MS - 20, `closed after ${Date.now() - t0} ms`);
    const answer = exchange.text();
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /connection: close/i);
    assert.match(answer, /"code":408,"message":"the request body stalled: nothing arrived for 250 ms"/);
    assert.equal(sim.requests('deployMim')[0].status, 408);
    assert.equal(sim.inFlight, 0);
  });

  it('an upload that stalls mid-body is answered 408 and nothing is stored', async () => {
    const form = multipartBody([{ name: 'image', data: buildImageTar({ name: 'stalled', paddingBytes: 100_000 }) }]);
    const exchange = socketExchange(
      sim,
      Buffer.concat([Buffer.from(head(sim, '/mcm/v1/images', form.contentType, form.body.length)), form.body.subarray(0, 60_000)]),
    );
    assert.ok(await closedWithin(exchange.closed, BODY_TIMEOUT_MS + 2000));
    assert.match(exchange.text(), /^HTTP\/1\.1 408 /);
    assert.deepEqual(sim.images(), []);
    assert.equal((await uploadTar(sim, buildImageTar({ name: 'after' }))).status, 201, 'the simulator goes on');
  });

  it('a body that trickles in for longer than the timeout, never silent that long, is taken', async () => {
    const body = Buffer.from(JSON.stringify({ name: 'hello', image: 'nope-v1' }));
    const exchange = socketExchange(sim, head(sim, '/mcm/v1/mims', 'application/json', body.length));
    const t0 = Date.now();
    for (let at = 0; at < body.length; at += 4) {
      exchange.socket.write(body.subarray(at, at + 4));
      await sleep(BODY_TIMEOUT_MS / 3);
    }
    await waitFor(() => exchange.text().includes('\r\n\r\n'), 'the answer', 2000);
    assert.ok(Date.now() - t0 > BODY_TIMEOUT_MS * 2, 'the body took longer than the timeout');
    assert.match(exchange.text(), /^HTTP\/1\.1 404 /, 'answered on its merits (an unknown image)');
    exchange.socket.destroy();
  });

  it('a body still coming after an early answer is dropped, and its socket destroyed when it stalls', async () => {
    const exchange = socketExchange(
      sim,
      head(sim, '/mcm/v1/images', 'multipart/form-data; boundary=x', 100_000, 'wrong') + 'x'.repeat(1000),
    );
    await waitFor(() => exchange.text().includes('\r\n\r\n'), 'the answer', 2000);
    assert.match(exchange.text(), /^HTTP\/1\.1 403 /);
    assert.ok(await closedWithin(exchange.closed, BODY_TIMEOUT_MS + 2000), 'the stalled socket was destroyed');
  });
});

describe('simulator request log bounds and redaction', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  it('redacts the Authorization header, in the log and over /_simulator/log', async () => {
    await api(sim, '/mcm/v1/mims');
    await api(sim, '/mcm/v1/mims', { token: null, headers: { authorization: `Basic ${sim.key}` } });
    await api(sim, '/mcm/v1/mims', { token: null, headers: { authorization: sim.key } });
    assert.deepEqual(
      sim.log.map((e) => e.headers.authorization),
      ['Bearer ***', 'Basic ***', '***'],
    );
    const served = await api(sim, '/_simulator/log');
    assert.equal(served.status, 200);
    assert.ok(!served.text.includes(sim.key), 'the key is not served');
    assert.ok(!JSON.stringify(sim.log).includes(sim.key), 'the key is not kept');
  });

  it('keeps the Authorization header with logSecrets: true', async () => {
    const s = await startTestSimulator({ logSecrets: true });
    try {
      await api(s, '/mcm/v1/mims');
      assert.equal(s.log[0].headers.authorization, `Bearer ${s.key}`);
    } finally {
      await s.stop();
    }
  });

  it(`keeps JSON bodies up to ${LOG_BODY_BYTES} bytes; a bigger one by its byte count only`, async () => {
    await uploadTar(sim, buildImageTar({ name: 'hello-v1' }));
    const small = { name: 'small', image: 'hello-v1' };
    const big = { name: 'big', image: 'hello-v1', env: { PAYLOAD: 'p'.repeat(LOG_BODY_BYTES) } };
    assert.equal((await api(sim, '/mcm/v1/mims', { method: 'POST', body: small })).status, 201);
    assert.equal((await api(sim, '/mcm/v1/mims', { method: 'POST', body: big })).status, 201);
    const [logSmall, logBig] = sim.requests('deployMim');
    assert.deepEqual(logSmall.body, small);
    assert.equal(logSmall.bodyBytes, JSON.stringify(small).length);
    assert.equal(logBig.body, undefined);
    assert.equal(logBig.bodyBytes, JSON.stringify(big).length);
    assert.equal(sim.mims().find((m) => m.name === 'big')?.env.PAYLOAD.length, LOG_BODY_BYTES, 'the deploy itself used the whole body');
  });

  it(`logs at most ${LOG_PARTS} multipart parts, counts the rest, and clips long part names`, async () => {
    const tar = buildImageTar({ name: 'many-parts' });
    const fields = Array.from({ length: 40 }, (_, i) => ({ name: `field-${i}`, data: 'v' }));
    const form = multipartBody([
      { name: 'n'.repeat(5000), data: 'long' },
      ...fields,
      { name: 'image', data: tar, filename: 'f'.repeat(3000) },
    ]);
    const res = await api(sim, '/mcm/v1/images', { method: 'POST', body: form.body, headers: { 'content-type': form.contentType } });
    assert.equal(res.status, 201, res.text);
    const [entry] = sim.requests('uploadImage');
    assert.equal(entry.parts?.length, LOG_PARTS);
    assert.equal(entry.partsOmitted, 42 - LOG_PARTS);
    assert.ok((entry.parts?.[0].name?.length ?? 0) <= 203, 'a long name is clipped');
    assert.ok(entry.parts?.[0].name?.startsWith('nnnn'));
    assert.equal(entry.parts?.[1].name, 'field-0');
    assert.equal(JSON.stringify(entry).length < 4000, true, `the entry is small: ${JSON.stringify(entry).length} characters`);
  });
});
