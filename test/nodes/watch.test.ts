/**
 * mimoe-watch in a flow against the simulator: each change in the kind of failure reaches Catch
 * and the log once (a 403 after an outage is news, not more of the outage), and the status is
 * sent only when it changes (a Status node must not fire on every poll).
 */
import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { collect, configNode, helper, loadFlow, nextMessage, statuses } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { sleep, waitFor } from '../support/simulator-helpers';

describe('mimoe-watch: failures and statuses', function () {
  const sim = useSimulator({ startDelayMs: 0 });

  afterEach(async () => {
    await helper.unload();
  });

  /** The watch node `w`, polling every 100 ms; with a Catch node scoped to it, or without (errors go to the log). */
  async function loadWatch(withCatch: boolean): Promise<void> {
    const catchNodes = [
      { id: 'catch', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
    await loadFlow(
      [
        configNode(sim(), { timeout: 1 }),
        { id: 'w', type: 'mimoe-watch', server: 'cfg', resource: 'mim', interval: 0.1, wires: [['out']] },
        { id: 'out', type: 'helper' },
        ...(withCatch ? catchNodes : []),
      ],
      { cfg: { token: sim().key } },
    );
  }

  /** The texts of the errors node w logged (an error a Catch node handles is not logged). */
  const loggedErrors = (): string[] =>
    helper
      .log()
      .args.map((args: unknown[]) => args[0] as { level: number; id?: string; msg?: unknown })
      .filter((entry) => entry.id === 'w' && entry.level === 20)
      .map((entry) => String(entry.msg));

  it('polls at the default interval when the saved one is negative, never as fast as it can', async () => {
    await loadFlow(
      [
        configNode(sim()),
        { id: 'w', type: 'mimoe-watch', server: 'cfg', resource: 'mim', interval: '-5', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
      { cfg: { token: sim().key } },
    );
    await waitFor(() => sim().requests('listMims').length > 0, 'the first poll', 8000);
    // A period, not an event: a second poll within a second would mean the interval was not the default.
    await sleep(1000);
    assert.equal(sim().requests('listMims').length, 1);
  });

  it('reports a 403 that follows an outage to Catch, once each', async () => {
    await loadWatch(true);
    const caught = collect('caught');
    await waitFor(() => sim().requests('listMims').length > 0, 'the first poll', 8000);
    await sim().stop();
    await waitFor(() => caught.length === 1, 'the outage at Catch', 8000);
    assert.match(caught[0].error.message, /^listMims failed: (cannot reach|the connection to) the mimOE runtime/);
    // The runtime comes back with another key: the config's key is refused.
    sim().rotateKey();
    await sim().restart();
    await waitFor(() => caught.length === 2, 'the 403 at Catch', 8000);
    assert.match(caught[1].error.message, /^listMims failed: HTTP 403/);
    assert.equal(caught[1].statusCode, 403, 'msg.statusCode, as the other nodes set it');
    assert.equal(caught[0].statusCode, undefined, 'none for an outage');
    // The 403 goes on: it is not reported again.
    const refused = () =>
      sim()
        .requests('listMims')
        .filter((e) => e.status === 403).length;
    await waitFor(() => refused() >= 3, 'two more polls refused', 8000);
    assert.equal(caught.length, 2, 'each kind of failure reached Catch once');
  });

  it('a config that cannot be used reaches Catch once, and the status says it is the config', async () => {
    await loadFlow([
      configNode(sim(), { url: 'http://user:secret@127.0.0.1:1' }),
      { id: 'w', type: 'mimoe-watch', server: 'cfg', resource: 'mim', interval: 0.1, wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'catch', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    const calls = statuses('w');
    const caught = collect('caught');
    await waitFor(() => caught.length === 1, 'the config problem at Catch', 8000);
    assert.equal(caught[0].error.code, 'MCM_CONFIG');
    assert.match(caught[0].error.message, /^the mimOE server config cannot be used: the runtime URL must not hold a user name or password/);
    await waitFor(() => calls.some((c) => c.fill === 'red'), 'the red status', 8000);
    assert.deepEqual(calls.at(-1), { fill: 'red', shape: 'ring', text: 'config problem' });
    // Three poll intervals more: no second report may come.
    await sleep(300);
    assert.equal(caught.length, 1, 'said once');
  });

  it('logs each kind of failure once without a Catch node: a 403, then the outage', async () => {
    await loadWatch(false);
    sim().rotateKey();
    await waitFor(() => loggedErrors().length === 1, 'the 403 in the log', 8000);
    const refused = sim()
      .requests('listMims')
      .filter((e) => e.status === 403).length;
    await waitFor(
      () =>
        sim()
          .requests('listMims')
          .filter((e) => e.status === 403).length >=
        refused + 2,
      'two more polls refused',
      8000,
    );
    assert.equal(loggedErrors().length, 1, 'the 403 is logged once');
    await sim().stop();
    await waitFor(() => loggedErrors().length === 2, 'the outage in the log', 8000);
    const [forbidden, outage] = loggedErrors();
    assert.match(forbidden, /^listMims failed: HTTP 403/);
    assert.match(outage, /^listMims failed: (cannot reach|the connection to) the mimOE runtime/);
  });

  it('sends one status in a steady state, not one per poll, and a new one for each change', async () => {
    await loadWatch(false);
    // The blue status of the start may or may not be seen (the helper reports statuses a tick late).
    const calls = statuses('w');
    const seen = () => calls.filter((s) => s.fill !== 'blue');
    await waitFor(() => sim().requests('listMims').length >= 10, 'ten polls', 8000);
    assert.deepEqual(seen(), [{ fill: 'green', shape: 'dot', text: 'watching' }]);
    const client = new McmClient({ url: sim().url, token: sim().key });
    try {
      await client.uploadImage(buildImageTar({ name: 'v1' }));
      const added = nextMessage('out');
      await client.deployMim('svc', 'v1');
      assert.equal((await added).topic, 'mim/added');
    } finally {
      client.close();
    }
    const polls = sim().requests('listMims').length;
    await waitFor(() => sim().requests('listMims').length >= polls + 5, 'five more polls', 8000);
    assert.deepEqual(
      seen().map((s) => s.text),
      ['watching', '1 change'],
    );
  });
});
