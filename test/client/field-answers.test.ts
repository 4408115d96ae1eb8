/**
 * What the client makes of the answers real runtimes give (the "Field evidence" of the contract):
 * 401 like 403, an empty 503 at a wrong base URL, env arrays, creates answered without the
 * object, duplicates answered 400 or 500, data store work that cannot be followed, `created` of
 * either type, hyphenated client ids and plain-text errors. Reproduced over real HTTP with the
 * simulator's fault table.
 */
import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { DataStoreResult } from '../../src/mcm/models';
import { deployCompositionWithPolicy, deployMimWithPolicy } from '../../src/mcm/policies';
import { byProfile, simulatorProfile, sortedMimIds, waitFor } from '../support/simulator-helpers';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';

describe('McmClient with answers seen in the field', function () {
  const sim = useSimulator();
  let client: McmClient;
  const make = (options: Partial<McmClientOptions> = {}) => simulatorClient(sim(), options);

  beforeEach(() => {
    client = make();
  });
  afterEach(() => client.close());

  describe('401 and 403', () => {
    it('reloads the token once after a 401 (missing or expired key) and repeats the call', async () => {
      sim().setFault('listMims', { status: 401, body: { error: { code: 401, message: 'Unauthorized' } }, times: 1 });
      let reloads = 0;
      client = make({
        token: () => sim().key,
        reloadToken: () => {
          reloads++;
          return true;
        },
      });
      assert.deepEqual(await client.listMims(), []);
      assert.equal(reloads, 1);
      assert.deepEqual(
        sim()
          .requests('listMims')
          .map((e) => e.status),
        [401, 200],
      );
    });

    for (const status of [401, 403]) {
      it(`repeats a call refused with ${status} at most once, and then reports the runtime's words`, async () => {
        const message = status === 401 ? 'Unauthorized' : 'Forbidden';
        sim().setFault('listMims', { status, body: { error: { code: status, message } } });
        let reloads = 0;
        client = make({ reloadToken: () => ++reloads > 0 });
        const error = await rejects(client.listMims());
        assert.equal(error.code, 'http');
        assert.equal(error.statusCode, status);
        assert.equal(error.message, `listMims failed: HTTP ${status} ${message}`);
        assert.equal(reloads, 1);
        assert.equal(sim().requests('listMims').length, 2);
      });
    }

    it('leaves the 401 as the answer when the reloaded key is the same', async () => {
      sim().setFault('deployMim', { status: 401, body: { error: { code: 401, message: 'Unauthorized' } } });
      client = make({ reloadToken: () => false });
      const error = await rejects(client.deployMim('a', 'b'));
      assert.equal(error.statusCode, 401);
      assert.equal(sim().requests('deployMim').length, 1);
    });
  });

  describe('an empty 503: nothing answers at that path', () => {
    it('is not retried, and says to check the base URL, naming the path tried', async () => {
      sim().setFault('listMims', { status: 503, body: '' });
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'no-api');
      assert.equal(error.statusCode, 503);
      assert.equal(sim().requests('listMims').length, 1, 'not retried');
      assert.equal(
        error.message,
        `listMims failed: nothing answers at that path (GET ${sim().url}/mcm/v1/mims: HTTP 503 with an empty body); ` +
          "check the config node's URL (the base URL, without /mcm/v1)",
      );
    });

    it('names the URL tried for any operation, and takes a blank body for empty', async () => {
      sim().setFault('deleteImage', { status: 503, body: ' \r\n' });
      const error = await rejects(client.deleteImage('api-x'));
      assert.equal(error.code, 'no-api');
      assert.ok(error.message.includes(`(DELETE ${sim().url}/mcm/v1/images/api-x: HTTP 503 with an empty body)`), error.message);
      assert.equal(sim().requests('deleteImage').length, 1);
    });

    it('keeps retrying a 503 that has a body', async () => {
      sim().setFault('listMims', { status: 503, body: { message: 'busy' }, times: 2 });
      assert.deepEqual(await client.listMims(), []);
      assert.equal(sim().requests('listMims').length, 3);
    });
  });

  describe('env as an array', () => {
    it('turns "K=V" strings and {name, value} objects into an Env object', async () => {
      sim().setFault('listMims', {
        status: 200,
        body: {
          data: [
            { id: 'api-a', name: 'a', env: ['A=1', 'URL=http://x/?q=a=b', 'EMPTY=', 'BARE', '=nameless'] },
            { id: 'api-b', name: 'b', env: [{ name: 'A', value: '1' }, { name: 'N', value: 2 }, { value: 'no name' }] },
            { id: 'api-c', name: 'c', env: { A: '1' } },
          ],
        },
      });
      const [a, b, c] = await client.listMims();
      assert.deepEqual(a.env, { A: '1', URL: 'http://x/?q=a=b', EMPTY: '', BARE: '' });
      assert.deepEqual(b.env, { A: '1', N: '2' });
      assert.deepEqual(c.env, { A: '1' });
    });

    it('lets keep recognise a running mim whose env comes as an array', async () => {
      sim().setFault('listMims', {
        status: 200,
        body: { data: [{ id: 'api-svc', name: 'svc', image: 'v1', state: 'started', env: ['A=1', 'B=x=y'] }] },
      });
      const mim = await deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { A: '1', B: 'x=y' } }, { ifExists: 'keep' });
      assert.equal(mim.id, 'api-svc');
      assert.equal(sim().requests('deployMim').length, 0);
      assert.equal(sim().requests('removeMim').length, 0);
    });
  });

  describe('creates answered 2xx without the object', () => {
    beforeEach(async () => {
      await client.uploadImage(buildImageTar({ name: 'img' }));
    });

    const answers: Array<[string, number, string | object]> = [
      ['an empty body', 201, ''],
      ['a text', 200, 'OK'],
      ['JSON that is not the mim', 200, { message: 'deployed' }],
      ['an empty JSON object', 200, {}],
      ['a JSON string', 200, '"ok"'],
    ];
    for (const [label, status, body] of answers) {
      it(`deploy answered with ${label}: the mim is looked up by name`, async () => {
        await client.deployMim('quiet', 'img');
        sim().resetStats();
        sim().setFault('deployMim', { status, body });
        const mim = await client.deployMim('quiet', 'img');
        assert.equal(mim.id, 'api-quiet');
        assert.equal(mim.image, 'img');
        assert.equal(mim.state, 'started');
        assert.equal(sim().requests('listMims').length, 1);
      });
    }

    it('deploy answered with the mim, bare, wrapped or in a list: no lookup', async () => {
      const mim = { id: 'api-x', name: 'x', image: 'img', state: 'created' };
      for (const body of [mim, { data: mim }, [mim], { data: [mim] }, { id: 'api-x', state: 'created' }]) {
        sim().setFault('deployMim', { status: 201, body, times: 1 });
        const answered = await client.deployMim('x', 'img');
        assert.equal(answered.id, 'api-x', JSON.stringify(body));
        assert.equal(answered.name, 'x');
        assert.equal(answered.state, 'created');
      }
      assert.equal(sim().requests('listMims').length, 0);
    });

    it('deploy answered 2xx without the mim, and not listed: a bad answer naming the mim', async () => {
      sim().setFault('deployMim', { status: 200, body: 'OK' });
      const error = await rejects(client.deployMim('ghost', 'img'));
      assert.equal(error.code, 'bad-response');
      assert.match(error.message, /HTTP 200 without the mim, and "ghost" is not listed/);
    });

    it('composition answered with a text: its mims are looked up, in the order of the specs', async () => {
      await client.uploadImage(buildImageTar({ name: 'other' }));
      await client.deployComposition([
        { name: 'one', image: 'img' },
        { name: 'two', image: 'other' },
      ]);
      sim().resetStats();
      sim().setFault('deployComposition', { status: 200, body: 'done' });
      const mims = await client.deployComposition([
        { name: 'two', image: 'other' },
        { name: 'one', image: 'img' },
      ]);
      assert.deepEqual(
        mims.map((m) => m.id),
        ['api-two', 'api-one'],
      );
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('composition answered with some of its mims: only the rest is looked up', async () => {
      await client.deployMim('one', 'img');
      sim().setFault('deployComposition', { status: 201, body: { data: [{ id: 'api-two', name: 'two', image: 'img' }] } });
      const mims = await client.deployComposition([
        { name: 'one', image: 'img' },
        { name: 'two', image: 'img' },
      ]);
      assert.deepEqual(
        mims.map((m) => m.id),
        ['api-one', 'api-two'],
      );
    });

    it('composition answered 2xx with names that are not listed: a bad answer naming them', async () => {
      await client.deployMim('one', 'img');
      sim().setFault('deployComposition', { status: 204, body: '' });
      const error = await rejects(
        client.deployComposition([
          { name: 'one', image: 'img' },
          { name: 'two', image: 'img' },
          { name: 'three', image: 'img' },
        ]),
      );
      assert.equal(error.code, 'bad-response');
      assert.match(error.message, /HTTP 204 without "two", "three", and not listed/);
    });
  });

  describe('duplicates answered with 400 or 500', () => {
    beforeEach(async () => {
      await client.uploadImage(buildImageTar({ name: 'v1' }));
    });

    /** A twin deploys the same name while this call's deploy is held, which the runtime then refuses with `status`. */
    async function twinWhileHeld<T>(
      route: 'deployMim' | 'deployComposition',
      status: number,
      work: () => Promise<T>,
      twin: (other: McmClient) => Promise<unknown>,
    ): Promise<{ value: T } | { error: unknown }> {
      sim().setFault(route, { delayMs: 300, status, body: 'mim already exists', times: 1 });
      const pending = work().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await waitFor(() => sim().requests(route).length === 1);
      const other = make();
      try {
        await twin(other);
      } finally {
        other.close();
      }
      return pending;
    }

    for (const status of [400, 500]) {
      it(`keep returns the matching twin of a deploy refused with ${status}`, async () => {
        const spec = { name: 'svc', image: 'v1', env: { A: '1' } };
        const outcome = await twinWhileHeld(
          'deployMim',
          status,
          () => deployMimWithPolicy(client, spec, { ifExists: 'keep' }),
          (other) => other.deployMim('svc', 'v1', { A: '1' }),
        );
        assert.ok('value' in outcome, String((outcome as { error?: unknown }).error));
        assert.equal(outcome.value.id, 'api-svc');
        assert.equal(sim().requests('deployMim').length, 2);
        assert.equal(sim().requests('removeMim').length, 0);
      });

      it(`keep returns the matching twins of a composition refused with ${status}, removing nothing`, async () => {
        const specs = [
          { name: 'a', image: 'v1' },
          { name: 'b', image: 'v1' },
        ];
        const outcome = await twinWhileHeld(
          'deployComposition',
          status,
          () => deployCompositionWithPolicy(client, specs, { ifExists: 'keep' }),
          (other) => other.deployComposition(specs),
        );
        assert.ok('value' in outcome, String((outcome as { error?: unknown }).error));
        assert.deepEqual(
          outcome.value.map((m) => m.id),
          ['api-a', 'api-b'],
        );
        assert.equal(sim().requests('removeMim').length, 0);
      });

      it(`fail with rollback never removes a twin's mims after a composition refused with ${status}`, async () => {
        const specs = [
          { name: 'a', image: 'v1' },
          { name: 'b', image: 'v1' },
        ];
        const outcome = await twinWhileHeld(
          'deployComposition',
          status,
          () => deployCompositionWithPolicy(client, specs, { rollback: true }),
          (other) => other.deployComposition(specs),
        );
        assert.ok('error' in outcome);
        assert.equal((outcome.error as McmError).statusCode, status);
        assert.deepEqual((outcome.error as McmError).rolledBack, []);
        assert.equal(sim().requests('removeMim').length, 0);
        assert.deepEqual(sortedMimIds(sim()), ['api-a', 'api-b']);
      });
    }

    it("fail with rollback never removes another call's mim after a composition refused with 409, though not all its names are listed", async () => {
      const outcome = await twinWhileHeld(
        'deployComposition',
        409,
        () =>
          deployCompositionWithPolicy(
            client,
            [
              { name: 'a', image: 'v1' },
              { name: 'b', image: 'v1' },
            ],
            { rollback: true },
          ),
        // The other call deploys one of the names: a 409 says a name was taken, so nothing listed is this call's.
        (other) => other.deployMim('a', 'v1'),
      );
      assert.ok('error' in outcome);
      assert.equal((outcome.error as McmError).statusCode, 409);
      assert.deepEqual((outcome.error as McmError).rolledBack, []);
      assert.equal(sim().requests('removeMim').length, 0);
      assert.deepEqual(sortedMimIds(sim()), ['api-a']);
    });

    it('keep does not take a twin that differs: the refusal stands', async () => {
      const outcome = await twinWhileHeld(
        'deployMim',
        400,
        () => deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { A: '1' } }, { ifExists: 'keep' }),
        (other) => other.deployMim('svc', 'v1', { A: '2' }),
      );
      assert.ok('error' in outcome);
      assert.equal((outcome.error as McmError).statusCode, 400);
      assert.equal(sim().mims()[0].env.A, '2', "the other call's mim stays");
    });

    it('replace and keep find a running mim by listing first, never by a refused deploy', async () => {
      await client.deployMim('svc', 'v1', { A: '1' });
      sim().resetStats();
      const replaced = await deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { A: '2' } }, { ifExists: 'replace' });
      assert.deepEqual(replaced.env, { A: '2' });
      const kept = await deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { A: '2' } }, { ifExists: 'keep' });
      assert.equal(kept.id, 'api-svc');
      assert.deepEqual(
        sim().log.map((e) => `${e.route} ${e.status}`),
        byProfile({
          contract: ['listMims 200', 'removeMim 200', 'deployMim 201', 'listMims 200'],
          // The deploy comes back without the mim: the list after it finds the new one.
          field: ['listMims 200', 'removeMim 200', 'deployMim 200', 'listMims 200', 'listMims 200'],
        }),
      );
    });
  });

  describe('data store work that cannot be followed', () => {
    beforeEach(async () => {
      await client.uploadImage(buildImageTar({ name: 'db' }));
      await client.deployMim('db', 'db');
      sim().options.asyncDataStore = { steps: 3 };
      client = make({ dataStorePollMs: 10 });
    });

    const refusals: Array<[string, { status: number; body?: string }]> = [
      ['404', { status: 404 }],
      ['405', { status: 405 }],
      ['an empty 503', { status: 503, body: '' }],
    ];
    /** The GETs that tried to follow the operation (the field profile has no such route: they are logged 'unknown'). */
    const followUps = () => sim().log.filter((e) => e.method === 'GET' && e.url.endsWith('/dataStore'));

    for (const [label, fault] of refusals) {
      it(`returns the runtime's inProgress result when the follow-up answers ${label}`, async function () {
        // The field profile's follow-up answers 405 by itself; other answers are faults on the contract's route.
        if (simulatorProfile() === 'field' && fault.status !== 405) this.skip();
        sim().setFault('dataStoreStatus', fault);
        const progress: DataStoreResult[] = [];
        const result = await client.backupDataStore('api-db', '/b', { onProgress: (r) => progress.push(r) });
        assert.equal(result.status, 'inProgress');
        assert.equal(result.action, 'backup');
        assert.equal(progress.length, 1);
        assert.deepEqual(
          followUps().map((e) => e.status),
          [fault.status],
          'asked once, not retried',
        );
      });
    }

    it('fails when a follow-up that worked before answers 404', async function () {
      // Needs a follow-up that works first: field runtimes have none.
      if (simulatorProfile() === 'field') this.skip();
      let polls = 0;
      const error = await rejects(
        client.backupDataStore('api-db', '/b', {
          onProgress: () => {
            if (++polls === 2) sim().setFault('dataStoreStatus', { status: 404 });
          },
        }),
      );
      assert.equal(error.statusCode, 404);
    });

    it('calls an answer without a status accepted, never completed', async () => {
      sim().options.asyncDataStore = false;
      const answers: Array<string | object> = [{ action: 'restore', path: '/p', message: 'queued' }, '', 'OK', { status: null }];
      for (const body of answers) {
        sim().setFault('dataStore', { status: 200, body, times: 1 });
        const result = await client.restoreDataStore('api-db', '/p');
        assert.equal(result.status, 'accepted', JSON.stringify(body));
        assert.equal(result.action, 'restore');
        assert.equal(result.path, '/p');
        assert.equal(result.percentage, 0);
      }
      assert.equal(followUps().length, 0);
    });

    it('is completed only when the runtime says so', async () => {
      sim().options.asyncDataStore = false;
      sim().setFault('dataStore', { status: 200, body: { status: 'completed' }, times: 1 });
      const result = await client.backupDataStore('api-db', '/p');
      assert.equal(result.status, 'completed');
      assert.equal(result.percentage, 100);
    });
  });

  describe('ids, created and error texts', () => {
    it('keeps created as the runtime sent it, number or string, for mims and images', async () => {
      sim().setFault('listMims', {
        status: 200,
        body: [
          { id: 'api-a', name: 'a', created: 1700000000 },
          { id: 'api-b', name: 'b', created: '2024-05-01T10:00:00Z' },
        ],
      });
      sim().setFault('listImages', { status: 200, body: { data: [{ id: 'api-i', name: 'i', created: 1700000001 }] } });
      const [a, b] = await client.listMims();
      assert.equal(a.created, 1700000000);
      assert.equal(b.created, '2024-05-01T10:00:00Z');
      assert.equal((await client.listImages())[0].created, 1700000001);
    });

    it('uses ids whole when the client id is a project UUID full of hyphens', async () => {
      const project = '0f8e6d2a-1b3c-4d5e-8f90-a1b2c3d4e5f6';
      client = make({ clientId: project });
      const image = await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
      assert.equal(image.id, `${project}-hello-v1`);
      const mim = await client.deployMim('hello-world', 'hello-v1');
      assert.equal(mim.id, `${project}-hello-world`);
      await client.removeMim(mim.id);
      await client.deleteImage(image.id);
      assert.deepEqual(
        sim()
          .log.filter((e) => e.method === 'DELETE')
          .map((e) => `${e.url} ${e.status}`),
        [`/mcm/v1/mims/${project}-hello-world 200`, `/mcm/v1/images/${project}-hello-v1 200`],
      );
    });

    it("passes the runtime's plain-text words on an unknown image through as the error", async () => {
      sim().setFault('deployMim', { status: 500, body: 'cannot find image with name nope', headers: { 'Content-Type': 'text/plain' } });
      const error = await rejects(client.deployMim('x', 'nope'));
      assert.equal(error.serverMessage, 'cannot find image with name nope');
      assert.equal(error.message, 'deployMim failed: HTTP 500 cannot find image with name nope');
      assert.equal(error.structured, false);
      assert.equal(error.contentType, 'text/plain');
    });

    it('says whether the error text came from a JSON error shape, and what type the answer was', async () => {
      const answers: Array<[string | object, Record<string, string>, boolean, string | undefined]> = [
        [{ error: { code: 404, message: 'no such mim' } }, {}, true, 'application/json'],
        ['<html><body>Login</body></html>', { 'Content-Type': 'text/html; charset=utf-8' }, false, 'text/html'],
        [{ hello: 'world' }, {}, false, 'application/json'],
        ['plain', {}, false, 'text/plain'],
      ];
      for (const [body, headers, structured, contentType] of answers) {
        sim().setFault('removeMim', { status: 404, body, headers, times: 1 });
        const error = await rejects(client.removeMim('api-x'));
        assert.equal(error.structured, structured, JSON.stringify(body));
        assert.equal(error.contentType, contentType, JSON.stringify(body));
      }
    });
  });
});
