/**
 * mimoe-fleet in a real flow: a member called like a property of every JavaScript object still
 * gets the fleet's key, and member keys may name it.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import { helper, loadFlow, run } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';

describe('mimoe-fleet members named like object properties', function () {
  this.timeout(20_000);
  const sim = useSimulator();

  beforeEach(async () => {
    const client = new McmClient({ url: sim().url, token: sim().key });
    await client.uploadImage(buildImageTar({ name: 'img' }));
    client.close();
  });
  afterEach(() => helper.unload());

  async function rolloutTo(name: string, keys: string): Promise<Record<string, any>> {
    await loadFlow(
      [
        { id: 'fleet', type: 'mimoe-fleet', members: [{ name, url: sim().url }], discover: false, timeout: 5 },
        {
          id: 'n1',
          type: 'mimoe-rollout',
          fleet: 'fleet',
          operation: 'deploy',
          mimName: 'm',
          image: 'img',
          ifExists: 'replace',
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
        { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ],
      { fleet: { token: keys === '' ? sim().key : 'not-the-key', keys } },
    );
    const { kind, msg } = await run({});
    assert.equal(kind, 'sent', JSON.stringify(msg.error));
    return msg.payload as Record<string, any>;
  }

  for (const name of ['toString', 'constructor', '__proto__']) {
    it(`${name}: the fleet's key when the member keys do not name it, its own when they do`, async () => {
      const shared = await rolloutTo(name, '');
      assert.deepEqual(
        shared.devices.map((d: Record<string, unknown>) => [d.device, d.ok, d.error]),
        [[name, true, undefined]],
      );
      await helper.unload();
      const own = await rolloutTo(name, `${name}=${sim().key}`);
      assert.deepEqual(
        own.devices.map((d: Record<string, unknown>) => [d.device, d.ok, d.error]),
        [[name, true, undefined]],
      );
    });
  }
});
