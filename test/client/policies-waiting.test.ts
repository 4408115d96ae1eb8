/**
 * Waiting until deployed mims are `started` (waitStarted): the list is polled until every one is,
 * progress is reported on the way, and a wait that runs out names each mim still waiting with the
 * state it was last seen in. The simulator's `startDelayMs` keeps new mims `created` for a while
 * (or, negative, for ever); list faults stand for a mim that vanished or a state left out.
 */
import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { deployCompositionWithPolicy, deployMimWithPolicy, waitUntilStarted } from '../../src/mcm/policies';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';

describe('deploy policies: waiting until started', function () {
  const sim = useSimulator();
  let client: McmClient;
  /** Records what onWaiting is told: [started, total] each time. */
  const progress = () => {
    const calls: Array<[number, number]> = [];
    return { calls, onWaiting: (started: number, total: number) => void calls.push([started, total]) };
  };

  beforeEach(async () => {
    client = simulatorClient(sim());
    await client.uploadImage(buildImageTar({ name: 'v1' }));
    sim().resetStats();
  });
  afterEach(() => client.close());

  it('does not wait unless asked: the mim comes back as deployed', async () => {
    sim().options.startDelayMs = -1;
    const mim = await deployMimWithPolicy(client, { name: 'svc', image: 'v1' }, { waitTimeoutMs: 300, pollMs: 20 });
    assert.equal(mim.id, 'api-svc');
    assert.equal(mim.state, 'created');
  });

  it('polls until the mim is started, within the default time, and reports progress', async () => {
    sim().options.startDelayMs = 400;
    const seen = progress();
    const mim = await deployMimWithPolicy(
      client,
      { name: 'slow', image: 'v1' },
      { waitStarted: true, pollMs: 20, onWaiting: seen.onWaiting },
    );
    assert.equal(mim.id, 'api-slow');
    assert.equal(mim.state, 'started');
    assert.deepEqual(seen.calls[0], [0, 1]);
    assert.deepEqual(seen.calls.at(-1), [1, 1]);
    assert.ok(
      seen.calls.slice(0, -1).every(([started, total]) => started === 0 && total === 1),
      JSON.stringify(seen.calls),
    );
    // Polled at the interval asked for (20 ms over 400 ms), not the default 500 ms.
    assert.ok(sim().requests('listMims').length >= 3, String(sim().requests('listMims').length));
  });

  it('waits for every mim of a composition and returns them started, in the order of the specs', async () => {
    await client.uploadImage(buildImageTar({ name: 'v2' }));
    sim().options.startDelayMs = 300;
    const seen = progress();
    const mims = await deployCompositionWithPolicy(
      client,
      [
        { name: 'b', image: 'v2' },
        { name: 'a', image: 'v1' },
      ],
      { waitStarted: true, pollMs: 20, onWaiting: seen.onWaiting },
    );
    assert.deepEqual(
      mims.map((m) => [m.id, m.state]),
      [
        ['api-b', 'started'],
        ['api-a', 'started'],
      ],
    );
    assert.deepEqual(seen.calls[0], [0, 2]);
    assert.deepEqual(seen.calls.at(-1), [2, 2]);
  });

  it('returns mims that are started already at once, without a list', async () => {
    const mim = await client.deployMim('svc', 'v1');
    sim().resetStats();
    const seen = progress();
    const mims = await waitUntilStarted(client, 'deployMim', [mim], { onWaiting: seen.onWaiting });
    assert.deepEqual(mims, [mim]);
    assert.deepEqual(seen.calls, [[1, 1]]);
    assert.equal(sim().log.length, 0);
  });

  describe('a wait that runs out', () => {
    beforeEach(() => {
      sim().options.startDelayMs = -1;
    });

    it('names the mim still waiting, its state and the time waited, in whole seconds', async () => {
      const error = await rejects(
        deployMimWithPolicy(client, { name: 'stuck', image: 'v1' }, { waitStarted: true, waitTimeoutMs: 600, pollMs: 50 }),
      );
      assert.equal(error.code, 'not-started');
      assert.equal(error.operation, 'deployMim');
      assert.deepEqual(error.params, { seconds: 1, mims: 'api-stuck (created)' });
      assert.equal(error.message, 'deployMim failed: not started within 1 s: api-stuck (created)');
    });

    it('calls a mim that is no longer listed missing', async () => {
      const mim = await client.deployMim('gone', 'v1');
      sim().setFault('listMims', { status: 200, body: { data: [] } });
      const error = await rejects(waitUntilStarted(client, 'deployMim', [mim], { waitTimeoutMs: 600, pollMs: 50 }));
      assert.equal(error.message, 'deployMim failed: not started within 1 s: api-gone (missing)');
    });

    it('calls a mim listed without a state unknown', async () => {
      const mim = await client.deployMim('quiet', 'v1');
      sim().setFault('listMims', { status: 200, body: { data: [{ id: 'api-quiet', name: 'quiet', image: 'v1' }] } });
      const error = await rejects(waitUntilStarted(client, 'deployMim', [mim], { waitTimeoutMs: 600, pollMs: 50 }));
      assert.equal(error.message, 'deployMim failed: not started within 1 s: api-quiet (unknown)');
    });
  });

  it('ends at once when the call is aborted while waiting', async () => {
    sim().options.startDelayMs = -1;
    const aborting = new AbortController();
    const error = await rejects(
      deployMimWithPolicy(
        client,
        { name: 'svc', image: 'v1' },
        {
          waitStarted: true,
          pollMs: 20,
          // The node closes after the first poll.
          onWaiting: () => {
            if (sim().requests('listMims').length > 0) aborting.abort();
          },
        },
        { signal: aborting.signal },
      ),
    );
    assert.equal(error.code, 'aborted');
    assert.equal(error.operation, 'deployMim');
  });
});
