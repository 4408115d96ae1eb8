/**
 * What a deploy does about a mim of the same name that runs already (ifExists): `fail` sends the
 * deploy and passes the runtime's refusal on, `replace` removes the running mim first, `keep`
 * keeps it when image and env match. Also: which failures are named as the deploy, and when a
 * refused deploy may take another call's identical mim (only with keep, only after an answer).
 * Against the simulator over real HTTP; "a stale list" is a list answered before another call
 * deployed the name (a fault that answers the list empty once).
 */
import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { deployCompositionWithPolicy, deployMimWithPolicy, parseIfExists } from '../../src/mcm/policies';
import { byProfile, waitFor } from '../support/simulator-helpers';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';

describe('deploy policies: ifExists', function () {
  const sim = useSimulator();
  let client: McmClient;
  /** The routes and statuses the simulator saw, in order. */
  const routes = () => sim().log.map((e) => `${e.route} ${e.status}`);
  const staleList = () => sim().setFault('listMims', { status: 200, body: { data: [] }, times: 1 });
  const taken = () => byProfile({ contract: 409, field: 400 });

  beforeEach(async () => {
    client = simulatorClient(sim());
    await client.uploadImage(buildImageTar({ name: 'v1' }));
    await client.uploadImage(buildImageTar({ name: 'v2' }));
    sim().resetStats();
  });
  afterEach(() => client.close());

  describe('parseIfExists', () => {
    it('takes a missing, null or empty setting as fail, the default', () => {
      for (const value of [undefined, null, '']) assert.equal(parseIfExists(value, 'deployMim'), 'fail');
    });

    it('accepts fail, replace and keep as they are', () => {
      for (const value of ['fail', 'replace', 'keep']) assert.equal(parseIfExists(value, 'deployComposition'), value);
    });

    it('refuses anything else, naming the operation and the value given', () => {
      for (const [value, shown] of [
        ['overwrite', 'overwrite'],
        ['KEEP', 'KEEP'],
        [1, '1'],
        [false, 'false'],
      ] as const) {
        assert.throws(
          () => parseIfExists(value, 'deployComposition'),
          (err: McmError) => {
            assert.ok(err instanceof McmError);
            assert.equal(err.code, 'invalid-input');
            assert.equal(err.rule, 'if-exists');
            assert.equal(err.operation, 'deployComposition');
            assert.equal(err.message, `deployComposition: ifExists must be "fail", "replace" or "keep" (got "${shown}")`);
            return true;
          },
        );
      }
    });
  });

  describe('fail', () => {
    it('is the default: the deploy is sent without a list first, and a taken name is the runtime’s refusal', async () => {
      await client.deployMim('svc', 'v1', { A: '1' });
      sim().resetStats();
      const error = await rejects(deployMimWithPolicy(client, { name: 'svc', image: 'v2' }));
      assert.equal(error.operation, 'deployMim');
      assert.equal(error.statusCode, taken());
      assert.deepEqual(routes(), [`deployMim ${taken()}`]);
      assert.equal(sim().mims()[0].image, 'v1', 'the running mim stays');
    });

    it('never removes a running mim of a composition: the refusal stands', async () => {
      await client.deployMim('a', 'v1', { A: '1' });
      sim().resetStats();
      const error = await rejects(
        deployCompositionWithPolicy(client, [
          { name: 'a', image: 'v2' },
          { name: 'b', image: 'v1' },
        ]),
      );
      assert.equal(error.statusCode, taken());
      assert.equal(sim().requests('removeMim').length, 0);
      assert.deepEqual(
        sim()
          .mims()
          .map((m) => [m.id, m.image, m.env]),
        [['api-a', 'v1', { A: '1' }]],
      );
    });
  });

  describe('replace', () => {
    it('replaces a running mim even when it matches the spec', async () => {
      await client.deployMim('svc', 'v1', { A: '1' });
      sim().resetStats();
      const mim = await deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { A: '1' } }, { ifExists: 'replace' });
      assert.equal(mim.id, 'api-svc');
      assert.equal(sim().requests('removeMim').length, 1);
      assert.equal(sim().requests('deployMim').length, 1);
    });

    it('removes the running mims of a composition first, then deploys all of it', async () => {
      await client.deployMim('a', 'v1');
      sim().resetStats();
      const mims = await deployCompositionWithPolicy(
        client,
        [
          { name: 'b', image: 'v1' },
          { name: 'a', image: 'v2' },
        ],
        { ifExists: 'replace' },
      );
      assert.deepEqual(
        mims.map((m) => [m.id, m.image]),
        [
          ['api-b', 'v1'],
          ['api-a', 'v2'],
        ],
      );
      assert.deepEqual(
        sim()
          .requests('removeMim')
          .map((e) => e.url),
        ['/mcm/v1/mims/api-a'],
      );
    });

    it('never takes a mim it did not deploy: a deploy refused after a stale list stands', async () => {
      await client.deployMim('svc', 'v1');
      staleList();
      const error = await rejects(deployMimWithPolicy(client, { name: 'svc', image: 'v1' }, { ifExists: 'replace' }));
      assert.equal(error.code, 'http');
      assert.equal(error.statusCode, taken());
    });
  });

  describe('keep', () => {
    it('keeps a running mim of the same image and env: nothing sent but the list', async () => {
      await client.deployMim('svc', 'v1', { A: '1', B: '2' });
      sim().resetStats();
      const mim = await deployMimWithPolicy(client, { name: 'svc', image: 'v1', env: { B: '2', A: '1' } }, { ifExists: 'keep' });
      assert.equal(mim.id, 'api-svc');
      assert.deepEqual(routes(), ['listMims 200']);
    });

    const differences: Array<[string, { image: string; env?: Record<string, string> }]> = [
      ['another image', { image: 'v2', env: { A: '1' } }],
      ['another value', { image: 'v1', env: { A: '2' } }],
      ['a key less', { image: 'v1', env: {} }],
      ['no env', { image: 'v1' }],
      ['a key more', { image: 'v1', env: { A: '1', B: '2' } }],
      ['another key', { image: 'v1', env: { B: '1' } }],
    ];
    for (const [label, spec] of differences) {
      it(`replaces a running mim with ${label}`, async () => {
        await client.deployMim('svc', 'v1', { A: '1' });
        sim().resetStats();
        const mim = await deployMimWithPolicy(client, { name: 'svc', ...spec }, { ifExists: 'keep' });
        assert.equal(mim.image, spec.image);
        assert.deepEqual(mim.env, spec.env ?? {});
        assert.equal(sim().requests('removeMim').length, 1);
        assert.equal(sim().requests('deployMim').length, 1);
      });
    }

    it('returns a composition’s kept and new mims in the order of the specs, deploying only the new', async () => {
      await client.deployMim('kept', 'v1');
      sim().resetStats();
      const mims = await deployCompositionWithPolicy(
        client,
        [
          { name: 'first', image: 'v2' },
          { name: 'kept', image: 'v1' },
          { name: 'last', image: 'v1' },
        ],
        { ifExists: 'keep' },
      );
      assert.deepEqual(
        mims.map((m) => m.id),
        ['api-first', 'api-kept', 'api-last'],
      );
      const body = sim().requests('deployComposition')[0].body as { mims: Array<{ name: string }> };
      assert.deepEqual(
        body.mims.map((m) => m.name),
        ['first', 'last'],
      );
    });

    it('keeps every mim of a composition that runs already, in the order of the specs, without deploying', async () => {
      await client.deployComposition([
        { name: 'a', image: 'v1' },
        { name: 'b', image: 'v2', env: { X: '1' } },
      ]);
      sim().resetStats();
      const mims = await deployCompositionWithPolicy(
        client,
        [
          { name: 'b', image: 'v2', env: { X: '1' } },
          { name: 'a', image: 'v1' },
        ],
        { ifExists: 'keep' },
      );
      assert.deepEqual(
        mims.map((m) => [m.id, m.image]),
        [
          ['api-b', 'v2'],
          ['api-a', 'v1'],
        ],
      );
      assert.deepEqual(routes(), ['listMims 200']);
    });

    it('takes an identical twin only when the runtime answered: a broken connection is passed on', async () => {
      await client.deployMim('svc', 'v1');
      staleList();
      sim().setFault('deployMim', { reset: true, times: 1 });
      const error = await rejects(deployMimWithPolicy(client, { name: 'svc', image: 'v1' }, { ifExists: 'keep' }));
      assert.equal(error.code, 'connection');
      assert.equal(error.operation, 'deployMim');
    });

    it('passes the refusal on when the twins cannot be listed', async () => {
      sim().setFault('deployMim', { delayMs: 200, status: 400, body: 'mim with name svc already exists', times: 1 });
      const pending = deployMimWithPolicy(client, { name: 'svc', image: 'v1' }, { ifExists: 'keep' }).then(
        () => assert.fail('the deploy must fail'),
        (err: unknown) => err,
      );
      await waitFor(() => sim().requests('deployMim').length === 1, 'the deploy');
      sim().setFault('listMims', { status: 400, body: 'busy' });
      const error = (await pending) as McmError;
      assert.ok(error instanceof McmError, String(error));
      assert.equal(error.message, 'deployMim failed: HTTP 400 mim with name svc already exists');
    });

    it('does not take a composition’s twins unless every one runs and matches', async () => {
      await client.deployMim('a', 'v1');
      await client.deployMim('b', 'v1', { OTHER: '1' });
      staleList();
      const error = await rejects(
        deployCompositionWithPolicy(
          client,
          [
            { name: 'a', image: 'v1' },
            { name: 'b', image: 'v1' },
          ],
          { ifExists: 'keep' },
        ),
      );
      assert.equal(error.statusCode, taken());
      assert.deepEqual(error.rolledBack, []);
      assert.deepEqual(error.rollbackFailed, []);
      assert.deepEqual(
        sim()
          .mims()
          .map((m) => [m.id, m.env]),
        [
          ['api-a', {}],
          ['api-b', { OTHER: '1' }],
        ],
      );
    });
  });

  describe('errors named as the deploy', () => {
    it('a failure to list the running mims is the deploy’s failure, with its status', async () => {
      sim().setFault('listMims', { status: 400, body: { error: { code: 400, message: 'registry busy' } } });
      for (const ifExists of ['keep', 'replace'] as const) {
        const single = await rejects(deployMimWithPolicy(client, { name: 'svc', image: 'v1' }, { ifExists }));
        assert.equal(single.operation, 'deployMim');
        assert.equal(single.statusCode, 400);
        assert.equal(single.message, 'deployMim failed: HTTP 400 registry busy');
      }
      const composition = await rejects(deployCompositionWithPolicy(client, [{ name: 'a', image: 'v1' }]));
      assert.equal(composition.operation, 'deployComposition');
      assert.equal(composition.message, 'deployComposition failed: HTTP 400 registry busy');
      assert.equal(sim().requests('deployMim').length + sim().requests('deployComposition').length, 0, 'nothing deployed');
    });

    it('input refused before any request names the deploy', async () => {
      const single = await rejects(deployMimWithPolicy(client, { name: 'has space', image: 'v1' }, { ifExists: 'keep' }));
      assert.equal(single.operation, 'deployMim');
      assert.equal(single.code, 'invalid-input');
      assert.match(single.message, /^deployMim: /);
      const composition = await rejects(deployCompositionWithPolicy(client, [{ name: 'has space', image: 'v1' }]));
      assert.equal(composition.operation, 'deployComposition');
      assert.match(composition.message, /^deployComposition: /);
      assert.equal(sim().log.length, 0);
    });
  });
});
