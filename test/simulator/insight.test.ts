import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { api, rawRequest, startTestSimulator, uploadTar } from '../support/simulator-helpers';

const INSIGHT = '/mimik-mesh/insight/v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('simulator Insight API', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  const insight = (path: string, token: string | null = '1234', method = 'GET') => api(sim, INSIGHT + path, { token, method });

  it('a lone simulator lists no other node, of any type', async () => {
    for (const type of ['linkLocal', 'account', 'proximity']) {
      const res = await insight(`/nodes?type=${type}`);
      assert.equal(res.status, 200, type);
      assert.deepEqual(res.json, { data: [] }, type);
    }
  });

  it('/info describes the device itself, the same id after a restart', async () => {
    const res = await insight('/info');
    assert.equal(res.status, 200);
    assert.match(res.json.id, UUID);
    assert.deepEqual(
      { ...res.json, id: undefined },
      {
        id: undefined,
        accountId: 'simulated-account',
        name: 'mcm-simulator',
        os: process.platform,
        addresses: [{ type: 'local', url: { href: sim.url } }],
        services: [],
      },
    );
    await sim.restart();
    const again = await rawRequest(sim, `${INSIGHT}/info`, { headers: { authorization: 'Bearer 1234' } }); // a new connection
    assert.equal(JSON.parse(again.text).id, res.json.id);
  });

  it('wants its own Bearer token: 401 without one, 403 with a wrong one or the MCM key', async () => {
    const cases: Array<[string | null, number]> = [
      [null, 401],
      ['wrong', 403],
      [sim.key, 403],
    ];
    for (const [token, status] of cases) {
      for (const path of ['/nodes?type=linkLocal', '/info']) {
        const res = await insight(path, token);
        assert.equal(res.status, status, `${path} with ${token}`);
        assert.equal(res.json.error.code, status);
        assert.equal(typeof res.json.error.message, 'string');
      }
    }
  });

  it('takes the token from insightToken', async () => {
    const other = await startTestSimulator({ insightToken: 'not-the-default', insightNode: { name: 'kiosk-7', accountId: 'acct-9' } });
    try {
      assert.equal((await api(other, `${INSIGHT}/info`, { token: '1234' })).status, 403);
      const info = await api(other, `${INSIGHT}/info`, { token: 'not-the-default' });
      assert.equal(info.status, 200);
      assert.equal(info.json.name, 'kiosk-7');
      assert.equal(info.json.accountId, 'acct-9');
    } finally {
      await other.stop();
    }
  });

  it('answers 400 to a missing or unknown type, 405 to another method, 404 to another path', async () => {
    for (const query of ['', '?type=', '?type=galaxy']) {
      const res = await insight(`/nodes${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.json.error.message, /type must be one of linkLocal, account, proximity/);
    }
    const post = await insight('/nodes?type=linkLocal', '1234', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    assert.equal((await insight('/token', '1234', 'PUT')).status, 404);
  });

  it('logs its requests as insightNodes and insightInfo, which take faults', async () => {
    sim.setFault('insightNodes', { status: 503, times: 1 });
    assert.equal((await insight('/nodes?type=linkLocal')).status, 503);
    assert.equal((await insight('/nodes?type=linkLocal')).status, 200);
    assert.equal((await insight('/info')).status, 200);
    assert.deepEqual(
      sim.requests().map((e) => [e.route, e.status]),
      [
        ['insightNodes', 503],
        ['insightNodes', 200],
        ['insightInfo', 200],
      ],
    );
  });
});

describe("simulator: a started mim's own API", () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.reset();
    sim.options.startDelayMs = 0;
    sim.options.unhealthyMims = undefined;
    assert.equal((await uploadTar(sim, buildImageTar({ name: 'hello-v1' }))).status, 201);
  });

  const deploy = async (name: string, env: Record<string, string>, clientId?: string): Promise<void> => {
    if (clientId) assert.equal((await uploadTar(sim, buildImageTar({ name: 'hello-v1' }), { clientId })).status, 201);
    const res = await api(sim, '/mcm/v1/mims', { method: 'POST', clientId, body: { name, image: 'hello-v1', env } });
    assert.equal(res.status, 201, res.text);
  };
  /** The mims serve their own API: no token. */
  const call = (path: string, method = 'GET', body?: string) => api(sim, path, { token: null, method, body });

  it('answers 200 JSON naming the mim and the path below its mount point, without a token', async () => {
    await deploy('hello', { 'MCM.BASE_API_PATH': '/hello/v1' });
    const res = await call('/api/hello/v1/healthz?deep=1');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.json, {
      mim: 'api-hello',
      name: 'hello',
      image: 'hello-v1',
      clientId: 'api',
      method: 'GET',
      path: '/healthz',
      bytesReceived: 0,
    });
    assert.equal((await call('/api/hello/v1')).json.path, '/');
    const post = await call('/api/hello/v1/echo', 'POST', 'twelve bytes');
    assert.equal(post.status, 200);
    assert.equal(post.json.bytesReceived, 12);
    assert.deepEqual(
      sim.requests('mimApi').map((e) => e.status),
      [200, 200, 200],
    );
  });

  it('mounts under the client id, and also under /api with MCM.API_ALIAS "true"', async () => {
    await deploy('hello', { 'MCM.BASE_API_PATH': '/hello/v1', 'MCM.API_ALIAS': 'true' }, 'team-a');
    assert.equal((await call('/team-a/hello/v1/x')).json.mim, 'team-a-hello');
    assert.equal((await call('/api/hello/v1/x')).json.mim, 'team-a-hello');
    await deploy('other', { 'MCM.BASE_API_PATH': '/other/v1' }, 'team-b');
    assert.equal((await call('/team-b/other/v1/x')).status, 200);
    assert.equal((await call('/api/other/v1/x')).status, 404, 'no alias without MCM.API_ALIAS');
  });

  it('answers 404 where no mim is mounted, with a token or without', async () => {
    await deploy('hello', { 'MCM.BASE_API_PATH': '/hello/v1' });
    await deploy('no-path', {});
    for (const path of ['/api/nope/v1/healthz', '/api/hello/v10', '/other/hello/v1', '/', '/api/no-path']) {
      for (const token of [null, sim.key]) {
        const res = await api(sim, path, { token });
        assert.equal(res.status, 404, `${path} ${token}`);
        assert.match(res.json.error.message, /nothing is mounted/);
      }
    }
    assert.ok(
      sim
        .requests()
        .slice(-10)
        .every((e) => e.route === 'unknown' && e.status === 404),
    );
    await api(sim, '/mcm/v1/mims/api-hello', { method: 'DELETE' });
    assert.equal((await call('/api/hello/v1/healthz')).status, 404, 'removed mims are gone');
  });

  it('answers 503 while the mim is still "created"', async () => {
    sim.options.startDelayMs = -1;
    await deploy('hello', { 'MCM.BASE_API_PATH': '/hello/v1' });
    const res = await call('/api/hello/v1/healthz');
    assert.equal(res.status, 503);
    assert.match(res.json.error.message, /not started \(state created\)/);
  });

  it('answers 503 when unhealthyMims is set, 405 to other methods', async () => {
    await deploy('hello', { 'MCM.BASE_API_PATH': '/hello/v1' });
    sim.options.unhealthyMims = true;
    assert.equal((await call('/api/hello/v1/healthz')).status, 503);
    sim.options.unhealthyMims = undefined;
    const put = await call('/api/hello/v1/healthz', 'PUT', '{}');
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
  });

  it('takes faults on the mimApi route', async () => {
    await deploy('hello', { 'MCM.BASE_API_PATH': '/hello/v1' });
    sim.setFault('mimApi', { status: 500, times: 1 });
    assert.equal((await call('/api/nothing/here')).status, 404, 'only mounted paths are the mimApi route');
    assert.equal((await call('/api/hello/v1/healthz')).status, 500);
    assert.equal((await call('/api/hello/v1/healthz')).status, 200);
  });
});
