/**
 * The normalisers of src/mcm/models.ts: whatever shape a runtime answers in (lists under other
 * keys, nulls, numbers where strings belong, env entries that are not KEY=VALUE), a program gets
 * the contract's models, with the contract's defaults for what is missing and the runtime's extra
 * fields kept. Lists through McmClient against the simulator's fault table; data store results and
 * Insight nodes through the normalisers the client and the fleet use.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { DataStoreAction, normalizeDataStoreResult, normalizeInsightNode } from '../../src/mcm/models';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';

describe('models: answers normalised', function () {
  describe('lists', () => {
    const sim = useSimulator();
    let client: McmClient;

    beforeEach(() => {
      client = simulatorClient(sim());
    });
    afterEach(() => client.close());

    const answerMims = (body: object) => sim().setFault('listMims', { status: 200, body });

    it('finds mims under data, mims or items, or bare', async () => {
      const mim = { id: 'api-a', name: 'a' };
      for (const body of [{ data: [mim] }, { mims: [mim] }, { items: [mim] }, [mim]]) {
        answerMims(body);
        assert.deepEqual(
          (await client.listMims()).map((m) => m.id),
          ['api-a'],
          JSON.stringify(body),
        );
      }
    });

    it('finds images under images', async () => {
      sim().setFault('listImages', { status: 200, body: { images: [{ id: 'api-i', name: 'i' }] } });
      assert.deepEqual(
        (await client.listImages()).map((i) => i.id),
        ['api-i'],
      );
    });

    it('refuses an answer with no list in it', async () => {
      for (const body of [{ data: 'none' }, { mim: [] }, { message: 'ok' }]) {
        answerMims(body);
        const error = await rejects(client.listMims());
        assert.equal(error.code, 'bad-response', JSON.stringify(body));
        assert.equal(error.message, 'listMims failed: the runtime sent an answer that cannot be read (expected a list)');
      }
    });

    it('takes null fields for empty, keeps numbers as text, and created as sent', async () => {
      answerMims({
        data: [
          { id: 'api-a', name: 'a', image: null, imageId: null, clientId: null, state: null, status: null, created: null },
          { id: 7, name: 'b', state: 0, created: 1700000000 },
          { id: 'api-c', name: 'c', created: '2024-05-01T10:00:00Z', extra: { kept: true } },
        ],
      });
      const [a, b, c] = await client.listMims();
      assert.deepEqual([a.image, a.imageId, a.clientId, a.state, a.status, a.created], ['', '', '', '', '', '']);
      assert.deepEqual([b.id, b.state, b.created, b.image], ['7', '0', 1700000000, '']);
      assert.equal(c.created, '2024-05-01T10:00:00Z');
      assert.deepEqual(c.extra, { kept: true });
    });

    it('fills a mim that leaves fields out with empty text and an empty env', async () => {
      answerMims({ data: [{ id: 'api-a' }] });
      const [mim] = await client.listMims();
      assert.deepEqual(mim, { id: 'api-a', name: '', image: '', imageId: '', clientId: '', created: '', state: '', status: '', env: {} });
    });

    it('keeps the env entries that name a variable, and only those', async () => {
      answerMims({
        data: [
          {
            id: 'api-a',
            env: [
              'A=1',
              null,
              7,
              { name: '', value: 'no name' },
              { name: 5, value: 'not a name' },
              { name: 'B', value: null },
              { name: 'C' },
            ],
          },
          { id: 'api-b', env: { A: null, B: 2, C: 'x' } },
        ],
      });
      const [a, b] = await client.listMims();
      assert.deepEqual(a.env, { A: '1', B: '', C: '' });
      assert.deepEqual(b.env, { A: '', B: '2', C: 'x' });
    });

    it('takes an env that is neither a list nor an object for empty', async () => {
      answerMims({
        data: [
          { id: 'api-a', env: 'A=1' },
          { id: 'api-b', env: 42 },
          { id: 'api-c', env: null },
        ],
      });
      assert.deepEqual(
        (await client.listMims()).map((m) => m.env),
        [{}, {}, {}],
      );
    });

    it('gives images their size in bytes, tags as text, and the defaults for the rest', async () => {
      sim().setFault('listImages', {
        status: 200,
        body: {
          data: [
            { id: 'api-a', name: 'a', size: 1234, repoTags: ['a:1', 2] },
            { id: 'api-b', name: 'b', size: '2048', repoTags: 'b:latest' },
            { id: 'api-c', size: 'big' },
            { id: 'api-d', digest: null },
          ],
        },
      });
      const images = await client.listImages();
      assert.deepEqual(
        images.map((i) => [i.size, i.repoTags]),
        [
          [1234, ['a:1', '2']],
          [2048, []],
          [0, []],
          [0, []],
        ],
      );
      assert.deepEqual(images[3], { id: 'api-d', name: '', digest: '', repoTags: [], created: '', size: 0 });
    });
  });

  describe('data store results', () => {
    const backup = { action: 'backup' as DataStoreAction, path: '/backups/b1' };
    const restore = { action: 'restore' as DataStoreAction, path: '/backups/b1' };

    it('keeps what the runtime says about the action and the path', () => {
      assert.equal(normalizeDataStoreResult({ status: 'completed', action: 'restore' }, backup).action, 'restore');
      assert.equal(normalizeDataStoreResult({ status: 'completed', action: 'backup' }, restore).action, 'backup');
      assert.equal(normalizeDataStoreResult({ status: 'completed', path: '/elsewhere' }, backup).path, '/elsewhere');
    });

    it('fills the action and path from the request when the answer has none that can be used', () => {
      for (const answer of [{}, { action: 'copy', path: '' }, { action: null, path: 7 }, { action: 'BACKUP', path: null }]) {
        const result = normalizeDataStoreResult({ status: 'completed', ...answer }, restore);
        assert.equal(result.action, 'restore', JSON.stringify(answer));
        assert.equal(result.path, '/backups/b1', JSON.stringify(answer));
      }
    });

    it('keeps a percentage within 0..100, and without one says 100 only when completed', () => {
      const percentage = (answer: object) => normalizeDataStoreResult(answer, backup).percentage;
      assert.equal(percentage({ status: 'inProgress', percentage: 40 }), 40);
      assert.equal(percentage({ status: 'inProgress', percentage: '40.5' }), 40.5);
      assert.equal(percentage({ status: 'inProgress', percentage: 150 }), 100);
      assert.equal(percentage({ status: 'inProgress', percentage: -5 }), 0);
      assert.equal(percentage({ status: 'inProgress', percentage: 'half' }), 0);
      assert.equal(percentage({ status: 'inProgress' }), 0);
      assert.equal(percentage({ status: 'completed' }), 100);
      assert.equal(percentage({ status: 'failed' }), 0);
    });

    it('keeps the runtime’s message and extra fields; an answer without a status is only accepted', () => {
      assert.deepEqual(normalizeDataStoreResult({ status: 'failed', message: 'disk full', jobId: 'j1' }, backup), {
        status: 'failed',
        message: 'disk full',
        jobId: 'j1',
        action: 'backup',
        path: '/backups/b1',
        percentage: 0,
      });
      for (const answer of [undefined, 'OK', [], { status: '' }]) {
        assert.deepEqual(normalizeDataStoreResult(answer, restore), {
          action: 'restore',
          status: 'accepted',
          message: '',
          path: '/backups/b1',
          percentage: 0,
        });
      }
    });
  });

  describe('Insight nodes', () => {
    it('gives a node that leaves out its addresses and services empty lists', () => {
      assert.deepEqual(normalizeInsightNode({ id: 'n1', name: 'kitchen' }), {
        id: 'n1',
        accountId: '',
        name: 'kitchen',
        os: '',
        addresses: [],
        services: [],
      });
    });

    it('keeps addresses as type and href, and the services as sent', () => {
      const node = normalizeInsightNode({
        id: 'n1',
        addresses: [{ type: 'local', url: { href: 'http://127.0.0.1:8083' } }, { type: 'public' }, null],
        services: [{ type: 'mcm' }],
        extra: 1,
      });
      assert.deepEqual(node.addresses, [
        { type: 'local', url: { href: 'http://127.0.0.1:8083' } },
        { type: 'public', url: { href: '' } },
        { type: '', url: { href: '' } },
      ]);
      assert.deepEqual(node.services, [{ type: 'mcm' }]);
      assert.equal(node.extra, 1);
    });
  });
});
