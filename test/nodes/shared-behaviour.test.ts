/**
 * Two behaviours of the node code that no other test would miss: a failure never leaves an earlier
 * node's msg.statusCode in place for Catch nodes, and mimoe-watch sends copies, so a downstream
 * node that edits a msg does not change what the watch compares on its next poll.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import { collect, configNode, helper, loadActionFlow, loadFlow, run } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { waitFor } from '../support/simulator-helpers';

describe('shared node behaviour', function () {
  const sim = useSimulator({ startDelayMs: 0 });
  let client: McmClient;

  beforeEach(async () => {
    client = new McmClient({ url: sim().url, token: sim().key });
    await client.uploadImage(buildImageTar({ name: 'v1' }));
  });
  afterEach(async () => {
    await helper.unload();
    client.close();
  });

  describe('msg.statusCode at Catch', () => {
    /** A msg that comes from an http request node: it carries that request's status. */
    const fromHttpRequest = (payload: unknown) => ({ payload, statusCode: 200 });

    it('is gone after a failure without an HTTP status (invalid input): the 200 of an earlier request is not the answer', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-deploy' });
      const before = sim().log.length;
      const { kind, msg } = await run(fromHttpRequest({ image: 'v1' }));
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /^deployMim: /);
      assert.equal('statusCode' in msg, false, `msg.statusCode ${String(msg.statusCode)}`);
      assert.equal(sim().log.length, before, 'no request');
    });

    it('is gone after a runtime that cannot be reached', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' }, { url: 'http://127.0.0.1:1', timeout: 2 });
      const { kind, msg } = await run(fromHttpRequest(undefined));
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /^listMims failed: /);
      assert.equal('statusCode' in msg, false, `msg.statusCode ${String(msg.statusCode)}`);
    });

    it("is the runtime's own after an HTTP failure", async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' });
      sim().rotateKey();
      const { kind, msg } = await run(fromHttpRequest(undefined));
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, 403);
    });
  });

  describe('mimoe-watch sends copies', () => {
    /** A watch node `w` polling every 100 ms, whose msgs reach `out`, where the test edits them. */
    async function loadWatch(): Promise<void> {
      await loadFlow(
        [
          configNode(sim()),
          { id: 'w', type: 'mimoe-watch', server: 'cfg', resource: 'mim', interval: 0.1, wires: [['out']] },
          { id: 'out', type: 'helper' },
        ],
        { cfg: { token: sim().key } },
      );
      await waitFor(() => sim().requests('listMims').length >= 2, 'the first polls', 8000);
    }

    it('a downstream node that edits msg.payload does not make the next poll see a change', async () => {
      await loadWatch();
      const received = collect('out');
      // Edits what it receives, as a change or function node may.
      helper.getNode('out').on('input', (msg: Record<string, any>) => {
        msg.payload.after.state = 'edited downstream';
        msg.payload.after.env = { EDITED: 'yes' };
      });
      await client.deployMim('svc', 'v1');
      await waitFor(() => received.length >= 1, 'the mim/added msg', 8000);
      const polls = sim().requests('listMims').length;
      await waitFor(() => sim().requests('listMims').length >= polls + 5, 'five more polls', 8000);
      assert.deepEqual(
        received.map((m) => m.topic),
        ['mim/added'],
        'nothing changed on the runtime',
      );
    });
  });
});
