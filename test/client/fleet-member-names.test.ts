/**
 * A member may be called anything Insight (or a person) calls it: a name that is also a property
 * of every JavaScript object (toString, constructor, __proto__) still takes the fleet's key unless
 * the member keys name it.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { FleetClient, parseMemberKeys } from '../../src/mcm/fleet';
import { buildImageTar } from '../../src/wire/image-tar';
import { useSimulator } from '../support/simulator-fixture';

describe('fleet members named like object properties', function () {
  this.timeout(20_000);
  const sim = useSimulator();
  const NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty'];

  it("each takes the fleet's key when the member keys do not name it", async () => {
    const client = new McmClient({ url: sim().url, token: sim().key });
    await client.uploadImage(buildImageTar({ name: 'img' }));
    client.close();
    for (const name of NAMES) {
      const fleet = new FleetClient({ members: [{ name, url: sim().url }], token: sim().key, keys: { other: 'not-this-one' } });
      try {
        const result = await fleet.rollout({ operation: 'deploy', spec: { name: 'm', image: 'img' }, policy: { ifExists: 'replace' } });
        assert.deepEqual(
          result.devices.map((d) => ({ device: d.device, ok: d.ok, error: d.error })),
          [{ device: name, ok: true, error: undefined }],
        );
      } finally {
        fleet.close();
      }
    }
  });

  it('member keys read as text name them as their own', () => {
    const keys = parseMemberKeys('{"__proto__":"k1","toString":"k2"}');
    assert.deepEqual(Object.entries(keys), [
      ['__proto__', 'k1'],
      ['toString', 'k2'],
    ]);
    assert.deepEqual(Object.entries(parseMemberKeys('__proto__=k3 constructor=k4')), [
      ['__proto__', 'k3'],
      ['constructor', 'k4'],
    ]);
  });
});
