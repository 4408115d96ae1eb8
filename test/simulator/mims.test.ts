import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { api, sleep, startTestSimulator, uploadTar } from '../support/simulator-helpers';

describe('simulator mims and compositions', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.reset();
    sim.options.startDelayMs = 0;
    assert.equal((await uploadTar(sim, buildImageTar({ name: 'hello-v1' }))).status, 201);
  });

  const deploy = (body: unknown, path = '/mcm/v1/mims') => api(sim, path, { method: 'POST', body });

  it('deploys a mim: 201 with the Mim', async () => {
    const res = await deploy({ name: 'hello', image: 'hello-v1', env: { 'MCM.BASE_API_PATH': '/hello/v1', DEBUG: 'true' } });
    assert.equal(res.status, 201);
    const { created, ...rest } = res.json;
    assert.deepEqual(rest, {
      id: 'api-hello',
      name: 'hello',
      image: 'hello-v1',
      imageId: 'api-hello-v1',
      clientId: 'api',
      state: 'started',
      status: 'up',
      env: { 'MCM.BASE_API_PATH': '/hello/v1', DEBUG: 'true' },
    });
    assert.ok(!Number.isNaN(Date.parse(created)));
    assert.deepEqual(sim.requests('deployMim')[0].body, {
      name: 'hello',
      image: 'hello-v1',
      env: { 'MCM.BASE_API_PATH': '/hello/v1', DEBUG: 'true' },
    });
    const list = await api(sim, '/mcm/v1/mims');
    assert.deepEqual(list.json, { data: [res.json] });
  });

  it('answers 404 for an unknown image and 409 for a taken name', async () => {
    const unknown = await deploy({ name: 'x', image: 'nope-v1' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /image "nope-v1" not found/);
    assert.equal((await deploy({ name: 'hello', image: 'hello-v1' })).status, 201);
    const taken = await deploy({ name: 'hello', image: 'hello-v1' });
    assert.equal(taken.status, 409);
    assert.equal(taken.json.error.message, 'mim "api-hello" already exists');
    assert.equal(sim.mims().length, 1);
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['bad JSON', '{"name": ', /not valid JSON/],
    ['an empty body', '', /must be JSON/],
    ['a JSON array', [], /must be a JSON object/],
    ['no name', { image: 'hello-v1' }, /name is required/],
    ['no image', { name: 'x' }, /image name is required/],
    ['whitespace in the name', { name: 'my mim', image: 'hello-v1' }, /must not contain whitespace/],
    ['a number env value', { name: 'x', image: 'hello-v1', env: { N: 120 } }, /env value "N" must be a string \(got number\)/],
    ['env as an array', { name: 'x', image: 'hello-v1', env: ['a'] }, /env must be an object/],
  ];
  for (const [what, body, message] of invalid) {
    it(`answers 400 for ${what}`, async () => {
      const res = await api(sim, '/mcm/v1/mims', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 400);
      assert.match(res.json.error.message, message);
      assert.deepEqual(sim.mims(), []);
    });
  }

  it('removes a mim: 200 with it; 404 when unknown', async () => {
    const mim = (await deploy({ name: 'hello', image: 'hello-v1' })).json;
    const removed = await api(sim, '/mcm/v1/mims/api-hello', { method: 'DELETE' });
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.json, mim);
    const again = await api(sim, '/mcm/v1/mims/api-hello', { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal(again.json.error.message, 'mim "api-hello" not found');
  });

  it('serves every mim route under /containers too, on the same state', async () => {
    const made = await deploy({ name: 'old', image: 'hello-v1' }, '/mcm/v1/containers');
    assert.equal(made.status, 201);
    assert.deepEqual((await api(sim, '/mcm/v1/mims')).json.data, [made.json]);
    assert.deepEqual((await api(sim, '/mcm/v1/containers')).json.data, [made.json]);
    const backup = await api(sim, '/mcm/v1/containers/api-old/dataStore', { method: 'POST', body: { action: 'backup', path: '/b' } });
    assert.equal(backup.json.status, 'completed');
    assert.equal((await api(sim, '/mcm/v1/containers/api-old', { method: 'DELETE' })).status, 200);
    assert.deepEqual(sim.mims(), []);
    assert.deepEqual(
      sim.requests().map((e) => e.route),
      ['uploadImage', 'deployMim', 'listMims', 'listMims', 'dataStore', 'removeMim'],
    );
  });

  it('decodes URL-encoded ids and never lets them reach another route', async () => {
    await deploy({ name: 'a/b', image: 'hello-v1' });
    assert.equal(sim.mims()[0].id, 'api-a/b');
    const traversal = await api(sim, '/mcm/v1/mims/..%2Fimages%2Fhello-v1', { method: 'DELETE' });
    assert.equal(traversal.status, 404);
    assert.equal(traversal.json.error.message, 'mim "../images/hello-v1" not found');
    assert.equal(sim.images().length, 1, 'the image survived');
    const encoded = await api(sim, `/mcm/v1/mims/${encodeURIComponent('api-a/b')}`, { method: 'DELETE' });
    assert.equal(encoded.status, 200);
    assert.equal(encoded.json.name, 'a/b');
    assert.equal(sim.requests('removeMim')[1].url, '/mcm/v1/mims/api-a%2Fb');
    const badEncoding = await api(sim, '/mcm/v1/mims/%E0%A4%A', { method: 'DELETE' });
    assert.equal(badEncoding.status, 400);
  });

  it('answers 404 JSON for unknown paths and 405 for wrong methods', async () => {
    const unknown = await api(sim, '/mcm/v1/nothing');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 404);
    assert.equal((await api(sim, '/elsewhere')).status, 404);
    assert.equal((await api(sim, '/mcm/v1/mims/a/b/c')).status, 404);
    const wrong = await api(sim, '/mcm/v1/mims', { method: 'PUT', body: {} });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, POST');
    assert.equal(wrong.json.error.code, 405);
  });

  it('keeps a new mim "created" for startDelayMs, then "started"', async () => {
    sim.options.startDelayMs = 150;
    const res = await deploy({ name: 'slow', image: 'hello-v1' });
    assert.equal(res.json.state, 'created');
    assert.equal(res.json.status, 'pending');
    assert.equal((await api(sim, '/mcm/v1/mims')).json.data[0].state, 'created');
    await sleep(200);
    const later = (await api(sim, '/mcm/v1/mims')).json.data[0];
    assert.equal(later.state, 'started');
    assert.equal(later.status, 'up');
  });

  it('keeps a mim "created" forever with a negative startDelayMs', async () => {
    sim.options.startDelayMs = -1;
    await deploy({ name: 'stuck', image: 'hello-v1' });
    await sleep(30);
    assert.equal(sim.mims()[0].state, 'created');
  });

  describe('compositions', () => {
    const specs = [
      { name: 'one', image: 'hello-v1' },
      { name: 'two', image: 'hello-v1', env: { K: 'v' } },
    ];
    for (const [shape, body] of [
      ['{"mims": [...]}', { mims: specs }],
      ['a bare array', specs],
      ['{"data": [...]}', { data: specs }],
    ] as const) {
      it(`deploys ${shape}: 201 {"data": [Mim...]}`, async () => {
        const res = await api(sim, '/mcm/v1/compositions', { method: 'POST', body });
        assert.equal(res.status, 201);
        assert.deepEqual(
          res.json.data.map((m: { id: string; env: object }) => [m.id, m.env]),
          [
            ['api-one', {}],
            ['api-two', { K: 'v' }],
          ],
        );
        assert.equal(sim.mims().length, 2);
      });
    }

    const failing: Array<[string, unknown, number]> = [
      ['an unknown image', { mims: [specs[0], { name: 'bad', image: 'nope' }] }, 404],
      ['a taken name', { mims: [specs[0], { name: 'taken', image: 'hello-v1' }] }, 409],
      ['a name twice in the body', { mims: [specs[0], specs[1], { name: 'one', image: 'hello-v1' }] }, 409],
      ['an invalid spec', { mims: [specs[0], { name: 'has space', image: 'hello-v1' }] }, 400],
      ['an empty list', { mims: [] }, 400],
      ['no list at all', { something: 1 }, 400],
    ];
    for (const [what, body, status] of failing) {
      it(`creates nothing on ${what} (${status})`, async () => {
        await deploy({ name: 'taken', image: 'hello-v1' });
        const res = await api(sim, '/mcm/v1/compositions', { method: 'POST', body });
        assert.equal(res.status, status, res.text);
        assert.equal(res.json.error.code, status);
        assert.deepEqual(
          sim.mims().map((m) => m.name),
          ['taken'],
        );
      });
    }
  });
});
