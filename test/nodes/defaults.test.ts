/**
 * One source of defaults: the client used on its own and a config node that does not set a value
 * (a flow saved before the setting existed) behave by the same value of src/mcm/defaults.ts, the
 * one the dialogs show. Concurrency was 8 in the client and 4 in the config node.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { CLIENT_DEFAULTS, CONNECTION_DEFAULTS } from '../../src/mcm/defaults';
import { configNode, helper, loadFlow } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { waitFor } from '../support/simulator-helpers';

describe('defaults: one value for the client, the nodes and the dialogs', function () {
  /** More requests at once than any default lets through. */
  const BURST = 3 * CLIENT_DEFAULTS.maxConcurrent;
  // Each request takes a while, so that the burst piles up against the limit.
  const sim = useSimulator({ startDelayMs: 0, slowMs: 150 });

  afterEach(async () => {
    await helper.unload();
  });

  it('a client without maxConcurrent has that many requests in flight at most', async () => {
    const client = new McmClient({ url: sim().url, token: sim().key });
    try {
      await Promise.all(Array.from({ length: BURST }, () => client.listMims()));
    } finally {
      client.close();
    }
    assert.equal(sim().requests('listMims').length, BURST);
    assert.equal(sim().maxInFlight, CLIENT_DEFAULTS.maxConcurrent);
  });

  it('a config node saved without a concurrency setting has as many in flight at most', async () => {
    const config = configNode(sim());
    delete config.concurrency;
    await loadFlow([config, { id: 'n1', type: 'mimoe-list', server: 'cfg', wires: [['out']] }, { id: 'out', type: 'helper' }], {
      cfg: { token: sim().key },
    });
    let sent = 0;
    helper.getNode('out').on('input', () => sent++);
    for (let i = 0; i < BURST; i++) helper.getNode('n1').receive({});
    await waitFor(() => sent === BURST, 'every list sent on', 8000);
    assert.equal(sim().maxInFlight, CONNECTION_DEFAULTS.concurrency);
  });
});
