/**
 * The live suggestions route gives the editor at most 1,000 entries: a runtime that lists tens
 * of thousands of images froze the editor tab (20,000 took 10 s to show in chromium, and each key
 * typed to narrow them a further 10 s).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { helper, loadFlow } from '../support/nodes';
import { closeServer, listenOnLoopback } from '../support/loopback-server';

describe('the suggestions route (mimoe-config) caps what it lists', () => {
  let count = 0;
  const runtime = http.createServer((_req, res) => {
    const images = Array.from({ length: count }, (_, i) => ({ id: `id-${i}`, name: `image-${i}` }));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(images));
  });
  let url = '';

  before(async () => {
    url = await listenOnLoopback(runtime);
  });
  after(() => closeServer(runtime));
  beforeEach(() => loadFlow([]));
  afterEach(() => helper.unload());

  const items = async (): Promise<Array<{ value: string; detail: string }>> => {
    const res = await helper.request().post('/mimoe/resources/images').send({ settings: { url }, token: 'typed-key' }).expect(200);
    assert.equal(res.body.ok, true, JSON.stringify(res.body));
    return res.body.items as Array<{ value: string; detail: string }>;
  };

  it('50,000 images: the first 1,000, as the runtime listed them', async () => {
    count = 50_000;
    const listed = await items();
    assert.equal(listed.length, 1000);
    assert.deepEqual(listed[0], { value: 'image-0', label: 'image-0', detail: 'id-0' });
    assert.equal(listed[999].value, 'image-999');
  });

  it('1,000 images or fewer: all of them', async () => {
    count = 1000;
    assert.equal((await items()).length, 1000);
    count = 3;
    assert.deepEqual(
      (await items()).map((item) => item.value),
      ['image-0', 'image-1', 'image-2'],
    );
  });
});
