/**
 * A hostile runtime's answers in real flows: an answer that would break what Node-RED does with a
 * msg (copying it for a second wire) reaches Catch instead of vanishing, and odd values are sent
 * on as text.
 */
import assert from 'node:assert/strict';
import { configNode, credentials, helper, loadFlow, run } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';

describe('hostile answers in flows', function () {
  const sim = useSimulator();
  afterEach(() => helper.unload());

  /** A list node wired to two helpers, so Node-RED copies its msg; Catch scoped to it. */
  async function loadTwoWires(): Promise<void> {
    await loadFlow(
      [
        configNode(sim()),
        { id: 'n1', type: 'mimoe-list', server: 'cfg', wires: [['out', 'copy']] },
        { id: 'out', type: 'helper' },
        { id: 'copy', type: 'helper' },
        { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ],
      credentials(sim()),
    );
  }

  it('a list nested thousands deep reaches Catch as an answer that cannot be read', async () => {
    sim().setFault('listMims', { status: 200, body: `[{"id":"a","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}]` });
    await loadTwoWires();
    let copies = 0;
    helper.getNode('copy').on('input', () => copies++);
    const { kind, msg } = await run({});
    assert.equal(kind, 'caught');
    assert.match(msg.error.message, /^listMims failed: .*nested deeper than 64 levels/);
    assert.equal(copies, 0);
  });

  it('an id or name that is an object is sent on as its JSON, and both wires get the same mim when it sends __proto__', async () => {
    const body = '[{"id":{"toString":1},"name":["x"],"__proto__":{"admin":true},"env":{"__proto__":"p","A":"1"}}]';
    sim().setFault('listMims', { status: 200, body });
    await loadTwoWires();
    const copy = new Promise<Record<string, any>>((resolve) => helper.getNode('copy').once('input', resolve));
    const { kind, msg } = await run({});
    assert.equal(kind, 'sent');
    for (const received of [msg, await copy]) {
      const [mim] = received.payload;
      assert.equal(mim.id, '{"toString":1}');
      assert.equal(mim.name, '["x"]');
      assert.equal(mim.admin, undefined, 'no wire sees the runtime’s object as a prototype');
      assert.equal(Object.getPrototypeOf(mim), Object.prototype);
      assert.deepEqual(Object.entries(mim.env), [['A', '1']]);
    }
  });
});
