/**
 * A TypedInput field saved without its type, in a config at the current version (as a flow posted
 * to the Admin API may be: no migration step runs on it), is read as its dialog's type.
 */
import assert from 'node:assert/strict';
import { configVersion } from '../../src/nodes/shared/migrations';
import { helper, loadActionFlow, run } from '../support/nodes';
import { useSimulatorWithImages } from '../support/simulator-fixture';

describe('TypedInput fields saved without their type', () => {
  const sim = useSimulatorWithImages(['hello-v1'], { startDelayMs: 0 });
  afterEach(() => helper.unload());

  it('a composition at the current version, its specs JSON text and no specsType, deploys the specs as JSON', async () => {
    const specs = [
      { name: 'front', image: 'hello-v1' },
      { name: 'back', image: 'hello-v1' },
    ];
    await loadActionFlow(sim(), {
      type: 'mimoe-composition',
      version: configVersion('mimoe-composition'),
      specs: JSON.stringify(specs),
    });
    const { kind, msg } = await run({});
    assert.equal(kind, 'sent', JSON.stringify(msg.error));
    assert.deepEqual(msg.payload.map((m: { name: string }) => m.name).sort(), ['back', 'front']);
    assert.equal(sim().requests('deployComposition').length, 1);
  });

  it('a deploy at the current version, its name with no mimNameType, reads the name as a string', async () => {
    await loadActionFlow(sim(), { type: 'mimoe-deploy', version: configVersion('mimoe-deploy'), mimName: 'hello', image: 'hello-v1' });
    const { kind, msg } = await run({});
    assert.equal(kind, 'sent', JSON.stringify(msg.error));
    assert.equal(msg.payload.name, 'hello');
  });
});
