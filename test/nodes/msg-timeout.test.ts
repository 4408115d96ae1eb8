/**
 * msg.timeout, a msg's own time limit in ms, in real flows against the simulator over HTTP: it
 * overrides the server's timeout both ways, digits in a text count (an http in node's query gives
 * text), and any other value fails before a request is sent instead of being quietly ignored.
 */
import assert from 'node:assert/strict';
import { helper, loadActionFlow, run, StatusCall, statuses } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { waitFor } from '../support/simulator-helpers';

const last = (seen: StatusCall[]) => seen[seen.length - 1];

describe('msg.timeout', function () {
  this.timeout(20_000);
  const sim = useSimulator();
  afterEach(() => helper.unload());

  for (const timeout of [300, '300', ' 300 ']) {
    it(`${JSON.stringify(timeout)} cuts a slow answer short although the server allows 30 s`, async () => {
      sim().setFault('listMims', { delayMs: 2000 });
      await loadActionFlow(sim(), { type: 'mimoe-list' }, { timeout: 30 });
      const { kind, msg } = await run({ timeout });
      assert.equal(kind, 'caught');
      assert.equal(msg.error.code, 'MCM_TIMEOUT');
      assert.match(msg.error.message, /^listMims failed: timed out \(.*300 ms/);
    });
  }

  it('a longer msg.timeout lets a slow answer through although the server allows 1 s', async () => {
    sim().setFault('listMims', { delayMs: 1500 });
    await loadActionFlow(sim(), { type: 'mimoe-list' }, { timeout: 1 });
    const { kind, msg } = await run({ timeout: 5000 });
    assert.equal(kind, 'sent', JSON.stringify(msg.error));
    assert.ok(Array.isArray(msg.payload));
  });

  for (const [timeout, shown] of [
    ['soon', '"soon"'],
    ['', '""'],
    ['30s', '"30s"'],
    [0, '0'],
    [-5, '-5'],
    [Number.NaN, 'NaN'],
    [true, 'a boolean'],
    [{ ms: 300 }, 'an object'],
  ] as const) {
    it(`${String(shown)} fails before a request is sent, naming msg.timeout`, async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' });
      const seen = statuses('n1');
      const { kind, msg } = await run({ timeout });
      assert.equal(kind, 'caught');
      assert.equal(msg.error.code, 'MCM_INVALID_INPUT');
      assert.equal(
        msg.error.message,
        `msg.timeout must be a number of milliseconds above 0 (got ${shown}); remove it to use the server's timeout`,
      );
      assert.equal(sim().requests('listMims').length, 0);
      await waitFor(() => last(seen)?.fill === 'red', 'the red status', 3000);
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'invalid input' });
    });
  }

  it('null is no timeout of its own: the server’s applies', async () => {
    await loadActionFlow(sim(), { type: 'mimoe-list' });
    const { kind } = await run({ timeout: null });
    assert.equal(kind, 'sent');
    assert.equal(sim().requests('listMims').length, 1);
  });
});
