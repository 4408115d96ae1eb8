import assert from 'node:assert/strict';
import http from 'node:http';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { api, rawRequest, startTestSimulator, uploadTar, waitFor } from '../support/simulator-helpers';

describe('simulator faults', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  it('status + default error body + Retry-After header', async () => {
    sim.setFault('listMims', { status: 503, headers: { 'Retry-After': '1' } });
    const res = await api(sim, '/mcm/v1/mims');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(res.json.error.code, 503);
    assert.match(res.json.error.message, /simulated fault/);
    // until cleared, every request gets it
    assert.equal((await api(sim, '/mcm/v1/mims')).status, 503);
    sim.clearFaults();
    assert.equal((await api(sim, '/mcm/v1/mims')).status, 200);
  });

  it('status with a JSON object body and with a raw string body', async () => {
    sim.setFault('listImages', { status: 500, body: { message: 'custom shape' } });
    const json = await api(sim, '/mcm/v1/images');
    assert.deepEqual([json.status, json.json], [500, { message: 'custom shape' }]);
    sim.setFault('listImages', { status: 502, body: '<html>Bad Gateway</html>', headers: { 'Content-Type': 'text/html' } });
    const raw = await api(sim, '/mcm/v1/images');
    assert.equal(raw.status, 502);
    assert.equal(raw.text, '<html>Bad Gateway</html>');
    assert.equal(raw.headers.get('content-type'), 'text/html');
  });

  it('times: applies to the next N requests only', async () => {
    sim.setFault('deployMim', { status: 429, times: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await api(sim, '/mcm/v1/mims', { method: 'POST', body: { name: 'x', image: 'nope' } })).status);
    assert.deepEqual(statuses, [429, 429, 404]);
  });

  it('is matched by route name, also through the /containers alias', async () => {
    sim.setFault('removeMim', { status: 500, times: 1 });
    assert.equal((await api(sim, '/mcm/v1/containers/api-x', { method: 'DELETE' })).status, 500);
    assert.equal((await api(sim, '/mcm/v1/containers/api-x', { method: 'DELETE' })).status, 404);
    assert.equal((await api(sim, '/mcm/v1/mims')).status, 200, 'other routes are untouched');
  });

  it('delayMs: waits, then handles normally (headers added to the normal answer)', async () => {
    sim.setFault('listMims', { delayMs: 150, headers: { 'X-Sim': 'slow' } });
    const t0 = Date.now();
    const res = await api(sim, '/mcm/v1/mims');
    assert.ok(Date.now() - t0 >= 140, `took ${Date.now() - t0} ms`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { data: [] });
    assert.equal(res.headers.get('x-sim'), 'slow');
  });

  it('delayMs with status: waits, then answers the status', async () => {
    sim.setFault('listMims', { delayMs: 80, status: 504 });
    const t0 = Date.now();
    assert.equal((await api(sim, '/mcm/v1/mims')).status, 504);
    assert.ok(Date.now() - t0 >= 70);
  });

  it('hang: never answers; the client times out; the log shows no status', async () => {
    sim.setFault('listMims', { hang: true, times: 1 });
    const t0 = Date.now();
    await assert.rejects(api(sim, '/mcm/v1/mims', { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
    assert.ok(Date.now() - t0 < 1000);
    await waitFor(() => sim.inFlight === 0);
    const [entry] = sim.requests('listMims');
    assert.equal(entry.status, 0);
    assert.ok(entry.endedAt !== undefined);
    assert.equal((await api(sim, '/mcm/v1/mims')).status, 200, 'times: 1 is used up');
  });

  it('reset: destroys the socket without an answer', async () => {
    sim.setFault('listImages', { reset: true, times: 1 });
    await assert.rejects(rawRequest(sim, '/mcm/v1/images'), (err: NodeJS.ErrnoException) => {
      assert.match(`${err.code} ${err.message}`, /ECONNRESET|socket hang up/);
      return true;
    });
    assert.equal(sim.requests('listImages')[0].status, 0);
    assert.equal((await api(sim, '/mcm/v1/images')).status, 200, 'the next request is answered');
  });

  it('reset on an upload: the client sees the connection break', async () => {
    sim.setFault('uploadImage', { reset: true });
    await assert.rejects(uploadTar(sim, buildImageTar({ name: 'x', paddingBytes: 2_000_000 })));
    assert.deepEqual(sim.images(), []);
  });

  it('resetMidResponse: 200 headers and part of a JSON body, then the socket breaks', async () => {
    sim.setFault('listMims', { resetMidResponse: true });
    const res = await fetch(`${sim.url}/mcm/v1/mims`, { headers: { authorization: `Bearer ${sim.key}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    await assert.rejects(res.text());
  });

  it('malformed: 200 with invalid JSON', async () => {
    sim.setFault('deployComposition', { malformed: true, times: 1 });
    const res = await api(sim, '/mcm/v1/compositions', { method: 'POST', body: { mims: [] } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.ok(res.text.length > 0);
    assert.throws(() => JSON.parse(res.text), SyntaxError);
    assert.deepEqual(sim.mims(), []);
  });

  it('keeps the connection alive across an answered fault', async () => {
    sim.setFault('listMims', { status: 500, times: 1 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.get(`${sim.url}/mcm/v1/mims`, { agent, headers: { authorization: `Bearer ${sim.key}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    try {
      sim.resetStats();
      assert.deepEqual(await get(), { status: 500, reused: false });
      assert.deepEqual(await get(), { status: 200, reused: true });
      assert.deepEqual(await get(), { status: 200, reused: true });
      assert.equal(sim.connections, 1);
    } finally {
      agent.destroy();
    }
  });
});
