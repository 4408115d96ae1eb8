/**
 * The client against the simulator's field profile, which answers as real runtimes were
 * recorded answering: 401/403 with their texts, an empty 503 where nothing is mounted, env as
 * "K=V" strings, creates answered 200 without a body, 400 for taken names and unknown images,
 * no data store follow-up, numeric `created`. Every point of issue 11's tolerant client, with
 * nothing staged by faults.
 */
import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { deployCompositionWithPolicy, deployMimWithPolicy } from '../../src/mcm/policies';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';
import { sortedMimIds } from '../support/simulator-helpers';

describe('McmClient against the field profile', function () {
  const sim = useSimulator({ profile: 'field', tokens: { 'renewed-key': 'api' } });
  let client: McmClient;
  const make = (options: Partial<McmClientOptions> = {}) => simulatorClient(sim(), options);

  beforeEach(async () => {
    client = make();
    await client.uploadImage(buildImageTar({ name: 'v1' }));
    sim().resetStats();
  });
  afterEach(() => client.close());

  describe('auth', () => {
    it('a wrong key: HTTP 403 Forbidden', async () => {
      client = make({ token: 'wrong-key' });
      const error = await rejects(client.listMims());
      assert.equal(error.message, 'listMims failed: HTTP 403 Forbidden');
      assert.equal(error.structured, true);
    });

    it('no key (which the runtime answers 401 Unauthorized): refused before any request, a blank key as a blank file key', async () => {
      for (const token of ['', '  ', () => '']) {
        client = make({ token });
        const error = await rejects(client.listMims());
        assert.equal(error.code, 'invalid-input');
        assert.equal(error.rule, 'token-missing');
        assert.match(error.message, /^listMims: no API key or token is set .*: mimOE refuses every call without one/);
        client.close();
      }
      assert.equal(sim().log.length, 0, 'no request was sent');
    });

    it('an expired key (401): reloaded once, and the call repeated with the new one', async () => {
      sim().options.expiredTokens = [sim().key];
      let key = sim().key;
      client = make({
        token: () => key,
        reloadToken: () => {
          key = 'renewed-key';
          return true;
        },
      });
      assert.equal((await client.listImages()).length, 1);
      assert.deepEqual(
        sim()
          .requests('listImages')
          .map((e) => e.status),
        [401, 200],
      );
    });
  });

  describe('a wrong base URL', () => {
    for (const [label, suffix, tried] of [
      ['/mcm/v1 given twice', '/mcm/v1/mcm/v1', '/mcm/v1/mcm/v1/mims'],
      ['a reverse proxy prefix that is not there', '/edge', '/edge/mcm/v1/mims'],
    ]) {
      it(`${label}: no-api at once, naming the URL tried`, async () => {
        client = make({ url: sim().url + suffix });
        const error = await rejects(client.listMims());
        assert.equal(error.code, 'no-api');
        assert.equal(
          error.message,
          `listMims failed: nothing answers at that path (GET ${sim().url}${tried}: HTTP 503 with an empty body); ` +
            "check the config node's URL (the base URL, without /mcm/v1)",
        );
        assert.equal(sim().log.length, 1, 'not retried');
      });
    }
  });

  describe('deploys', () => {
    it('a deploy answered 200 without a body resolves the mim, env and created as the runtime has them', async () => {
      const mim = await client.deployMim('svc', 'v1', { 'MCM.BASE_API_PATH': '/svc/v1', URL: 'http://x/?a=b' });
      assert.equal(mim.id, 'api-svc');
      assert.deepEqual(mim.env, { 'MCM.BASE_API_PATH': '/svc/v1', URL: 'http://x/?a=b' });
      assert.equal(typeof mim.created, 'number');
      assert.equal(sim().requests('deployMim')[0].status, 200);
      assert.equal(typeof (await client.listImages())[0].created, 'number');
    });

    it('a composition answered 200 without a body resolves its mims in the order of the specs', async () => {
      const mims = await client.deployComposition([
        { name: 'b', image: 'v1', env: { X: '1' } },
        { name: 'a', image: 'v1' },
      ]);
      assert.deepEqual(
        mims.map((m) => [m.id, m.env]),
        [
          ['api-b', { X: '1' }],
          ['api-a', {}],
        ],
      );
    });

    it("an unknown image: the runtime's words", async () => {
      const error = await rejects(client.deployMim('x', 'nope'));
      assert.equal(error.message, 'deployMim failed: HTTP 400 cannot find image with name nope');
    });

    it('a name taken: HTTP 400 with ifExists fail', async () => {
      await client.deployMim('svc', 'v1');
      const error = await rejects(deployMimWithPolicy(client, { name: 'svc', image: 'v1' }));
      assert.equal(error.message, 'deployMim failed: HTTP 400 mim with name svc already exists');
    });

    it('keep and replace find the running mim by listing: no refused deploy', async () => {
      await client.deployMim('svc', 'v1', { A: '1' });
      const kept = await deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { A: '1' } }, { ifExists: 'keep' });
      const replaced = await deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { A: '2' } }, { ifExists: 'replace' });
      assert.equal(kept.id, 'api-svc');
      assert.deepEqual(replaced.env, { A: '2' });
      assert.ok(
        sim().log.every((e) => e.status < 300),
        sim()
          .log.map((e) => `${e.route} ${e.status}`)
          .join(', '),
      );
    });

    it('the same deploy twice at once with keep: both succeed with the one mim', async () => {
      const spec = { name: 'svc', image: 'v1', env: { A: '1' } };
      const [a, b] = await Promise.all([
        deployMimWithPolicy(client, spec, { ifExists: 'keep' }),
        deployMimWithPolicy(client, spec, { ifExists: 'keep' }),
      ]);
      assert.equal(a.id, 'api-svc');
      assert.equal(b.id, 'api-svc');
      assert.deepEqual(
        sim()
          .requests('deployMim')
          .map((e) => e.status)
          .sort(),
        [200, 400],
      );
    });

    it('the same composition twice at once with keep: both succeed, nothing removed', async () => {
      const specs = [
        { name: 'a', image: 'v1' },
        { name: 'b', image: 'v1' },
      ];
      const [one, two] = await Promise.all([
        deployCompositionWithPolicy(client, specs, { ifExists: 'keep' }),
        deployCompositionWithPolicy(client, specs, { ifExists: 'keep' }),
      ]);
      assert.deepEqual(
        [one, two].map((mims) => mims.map((m) => m.id)),
        [
          ['api-a', 'api-b'],
          ['api-a', 'api-b'],
        ],
      );
      assert.equal(sim().requests('removeMim').length, 0);
    });

    it('the same composition twice at once with fail: one fails, and its rollback removes none of the other’s mims', async () => {
      const specs = [
        { name: 'a', image: 'v1' },
        { name: 'b', image: 'v1' },
      ];
      const outcomes = await Promise.allSettled([deployCompositionWithPolicy(client, specs), deployCompositionWithPolicy(client, specs)]);
      const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      assert.equal(failed.length, 1);
      assert.equal((failed[0].reason as McmError).statusCode, 400);
      assert.equal(sim().requests('removeMim').length, 0);
      assert.deepEqual(sortedMimIds(sim()), ['api-a', 'api-b']);
    });

    it('a composition that fails part-way on a partial runtime still removes what it created', async () => {
      sim().options.partialCompositions = true;
      const error = await rejects(
        deployCompositionWithPolicy(client, [
          { name: 'one', image: 'v1' },
          { name: 'two', image: 'nope' },
        ]),
      );
      assert.equal(error.statusCode, 400);
      assert.deepEqual(error.rolledBack, ['api-one']);
      assert.deepEqual(sim().mims(), []);
      sim().options.partialCompositions = false;
    });
  });

  describe('data store', () => {
    beforeEach(async () => {
      await client.deployMim('db', 'v1');
      client = make({ dataStorePollMs: 10 });
    });

    it('inProgress with no follow-up (405): the result as the runtime gave it', async () => {
      sim().options.asyncDataStore = true;
      const result = await client.backupDataStore('api-db', '/b');
      assert.equal(result.status, 'inProgress');
      const followUps = sim().log.filter((e) => e.method === 'GET' && e.url.endsWith('/dataStore'));
      assert.deepEqual(
        followUps.map((e) => e.status),
        [405],
        'asked once',
      );
    });

    it('completed when the runtime says so', async () => {
      const result = await client.backupDataStore('api-db', '/b');
      assert.equal(result.status, 'completed');
    });
  });

  it('uses ids whole when the client id is a project UUID: image deletes by id only', async () => {
    const project = '0f8e6d2a-1b3c-4d5e-8f90-a1b2c3d4e5f6';
    client = make({ clientId: project });
    const image = await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
    assert.equal(image.id, `${project}-hello-v1`);
    await client.deleteImage(image.id);
    assert.deepEqual(await client.listImages(), []);
  });
});
