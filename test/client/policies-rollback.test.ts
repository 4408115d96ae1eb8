/**
 * Compositions that fail part-way remove what they created, and only that: never a mim that ran
 * before, never another call's, never a kept one. Against the simulator over real HTTP; its
 * `partialCompositions` deploys one spec at a time and stops at the first refused one (an unknown
 * image), leaving the ones before it.
 */
import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { MimSpec } from '../../src/mcm/models';
import { deployCompositionWithPolicy } from '../../src/mcm/policies';
import { byProfile, sortedMimIds, waitFor } from '../support/simulator-helpers';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';

describe('deploy policies: composition rollback', function () {
  const sim = useSimulator();
  let client: McmClient;
  const unknownImage = () => byProfile({ contract: 404, field: 400 });
  /** Two that deploy, then one the runtime refuses: with partialCompositions the first two stay. */
  const failingPartWay: MimSpec[] = [
    { name: 'one', image: 'v1' },
    { name: 'two', image: 'v1' },
    { name: 'three', image: 'missing' },
  ];

  beforeEach(async () => {
    client = simulatorClient(sim());
    await client.uploadImage(buildImageTar({ name: 'v1' }));
    await client.uploadImage(buildImageTar({ name: 'v2' }));
    sim().options.partialCompositions = true;
    sim().resetStats();
  });
  afterEach(() => client.close());

  describe('after a part-way failure', () => {
    it('removes exactly the mims it created, though another of the same image and env runs', async () => {
      await client.deployMim('existing', 'v1');
      const error = await rejects(deployCompositionWithPolicy(client, failingPartWay));
      assert.equal(error.statusCode, unknownImage());
      assert.deepEqual(error.rolledBack, ['api-one', 'api-two']);
      assert.deepEqual(error.rollbackFailed, []);
      assert.match(error.message, /; rolled back: api-one, api-two$/);
      assert.deepEqual(sortedMimIds(sim()), ['api-existing']);
    });

    it('never removes a mim that ran before, though it was asked for again and matches', async () => {
      await client.deployMim('a', 'v1', { A: '1' });
      const error = await rejects(
        deployCompositionWithPolicy(client, [
          { name: 'x', image: 'v1' },
          { name: 'y', image: 'missing' },
          { name: 'a', image: 'v1', env: { A: '1' } },
        ]),
      );
      assert.deepEqual(error.rolledBack, ['api-x']);
      assert.deepEqual(sortedMimIds(sim()), ['api-a']);
    });

    it('with replace, removes the new mim it deployed in place of a running one', async () => {
      await client.deployMim('a', 'v1', { A: '1' });
      const error = await rejects(
        deployCompositionWithPolicy(
          client,
          [
            { name: 'a', image: 'v1', env: { A: '2' } },
            { name: 'b', image: 'missing' },
          ],
          { ifExists: 'replace' },
        ),
      );
      assert.equal(error.statusCode, unknownImage());
      assert.deepEqual(error.rolledBack, ['api-a']);
      assert.deepEqual(sim().mims(), []);
    });

    it('leaves what it created when rollback is off', async () => {
      const error = await rejects(deployCompositionWithPolicy(client, failingPartWay, { rollback: false }));
      assert.equal(error.statusCode, unknownImage());
      assert.deepEqual(error.rolledBack, []);
      assert.doesNotMatch(error.message, /rolled back/);
      assert.deepEqual(sortedMimIds(sim()), ['api-one', 'api-two']);
      assert.equal(sim().requests('removeMim').length, 0);
    });

    it('names the mims it could not remove', async () => {
      sim().setFault('removeMim', { status: 500, body: { error: { code: 500, message: 'busy' } }, times: 1 });
      const error = await rejects(deployCompositionWithPolicy(client, failingPartWay));
      assert.deepEqual(error.rolledBack, ['api-two']);
      assert.deepEqual(error.rollbackFailed, ['api-one']);
      assert.match(error.message, /; rolled back: api-two; could not remove: api-one$/);
      assert.deepEqual(sortedMimIds(sim()), ['api-one']);
    });

    it('removes nothing when the mims cannot be listed afterwards, and passes the failure on', async () => {
      sim().setFault('deployComposition', { delayMs: 200, times: 1 });
      const pending = rejects(deployCompositionWithPolicy(client, failingPartWay));
      await waitFor(() => sim().requests('deployComposition').length === 1, 'the composition');
      sim().setFault('listMims', { status: 400, body: 'busy' });
      const error = await pending;
      assert.equal(error.statusCode, unknownImage());
      assert.deepEqual(error.rolledBack, []);
      assert.equal(sim().requests('removeMim').length, 0);
      assert.deepEqual(sortedMimIds(sim()), ['api-one', 'api-two']);
    });

    it('gives its removals the call’s time limit afresh, not the client’s', async () => {
      client.close();
      client = simulatorClient(sim(), { timeoutMs: 10_000 });
      // The runtime takes longer to remove than the call allows (and gives up when the client does).
      sim().setFault('removeMim', { delayMs: 3000 });
      const error = await rejects(deployCompositionWithPolicy(client, failingPartWay.slice(1), {}, { timeoutMs: 1000 }));
      assert.equal(error.statusCode, unknownImage());
      assert.deepEqual(error.rolledBack, []);
      assert.deepEqual(error.rollbackFailed, ['api-two']);
    });
  });

  describe('a refusal that looks like another call’s', () => {
    it('removes nothing when every name is listed afterwards', async () => {
      await client.deployComposition([
        { name: 'a', image: 'v1' },
        { name: 'b', image: 'v1' },
      ]);
      const error = await rejects(
        deployCompositionWithPolicy(client, [
          { name: 'a', image: 'v1' },
          { name: 'b', image: 'v1' },
        ]),
      );
      assert.equal(error.statusCode, byProfile({ contract: 409, field: 400 }));
      assert.deepEqual(error.rolledBack, []);
      assert.deepEqual(error.rollbackFailed, []);
      assert.equal(sim().requests('removeMim').length, 0);
      assert.deepEqual(sortedMimIds(sim()), ['api-a', 'api-b']);
    });
  });

  describe('mims that do not start in time', () => {
    const waitBriefly = { waitStarted: true, waitTimeoutMs: 600, pollMs: 50 };
    const specs: MimSpec[] = [
      { name: 'a', image: 'v1' },
      { name: 'b', image: 'v2' },
    ];

    beforeEach(() => {
      sim().options.startDelayMs = -1; // created, never started
    });

    it('are removed again, and the error says which were waited for and removed', async () => {
      const error = await rejects(deployCompositionWithPolicy(client, specs, waitBriefly));
      assert.equal(error.code, 'not-started');
      assert.equal(
        error.message,
        'deployComposition failed: not started within 1 s: api-a (created), api-b (created); rolled back: api-a, api-b',
      );
      assert.deepEqual(sim().mims(), []);
    });

    it('stay when rollback is off', async () => {
      const error = await rejects(deployCompositionWithPolicy(client, specs, { ...waitBriefly, rollback: false }));
      assert.equal(error.message, 'deployComposition failed: not started within 1 s: api-a (created), api-b (created)');
      assert.deepEqual(sortedMimIds(sim()), ['api-a', 'api-b']);
    });

    it('are never removed when they were kept, only the ones this call deployed', async () => {
      await client.deployMim('a', 'v1');
      const error = await rejects(deployCompositionWithPolicy(client, specs, { ...waitBriefly, ifExists: 'keep' }));
      assert.equal(error.message, 'deployComposition failed: not started within 1 s: api-a (created), api-b (created); rolled back: api-b');
      assert.deepEqual(sortedMimIds(sim()), ['api-a']);
    });

    it('are never removed when every one was kept', async () => {
      await client.deployComposition(specs);
      const error = await rejects(deployCompositionWithPolicy(client, specs, { ...waitBriefly, ifExists: 'keep' }));
      assert.equal(error.message, 'deployComposition failed: not started within 1 s: api-a (created), api-b (created)');
      assert.deepEqual(error.rollbackFailed, []);
      assert.deepEqual(sortedMimIds(sim()), ['api-a', 'api-b']);
    });
  });

  describe('failures that are not the runtime’s', () => {
    it('an aborted call sends nothing more: no list, no removal', async () => {
      sim().setFault('deployComposition', { delayMs: 300, times: 1 });
      const aborting = new AbortController();
      const pending = rejects(deployCompositionWithPolicy(client, failingPartWay, {}, { signal: aborting.signal }));
      await waitFor(() => sim().requests('deployComposition').length === 1, 'the composition');
      aborting.abort();
      const error = await pending;
      assert.equal(error.code, 'aborted');
      assert.equal(error.operation, 'deployComposition');
      assert.equal(sim().requests('listMims').length, 1, 'only the list before the deploy');
      assert.equal(sim().requests('removeMim').length, 0);
    });

    it('a composition refused before it is sent (the key cannot be read) lists and removes nothing', async () => {
      let reads = 0;
      client.close();
      client = simulatorClient(sim(), {
        token: () => {
          reads++;
          if (reads === 2) throw new Error('the key file is being rewritten');
          return sim().key;
        },
      });
      const error = await rejects(deployCompositionWithPolicy(client, failingPartWay));
      assert.equal(error.code, 'invalid-input');
      assert.equal(error.rule, 'token-unavailable');
      assert.deepEqual(
        sim().log.map((e) => e.route),
        ['listMims'],
      );
    });
  });
});
