/**
 * The input checks the package exports (and the client and the nodes apply before any request):
 * what they accept, what they turn into strings, and the texts of their refusals, which a person
 * reads in a Catch node or a library user in the McmError. Each refusal must say what was wrong
 * and with which value, or the person cannot act on it.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { McmError } from '../../src/mcm/errors';
import { MAX_ENV_BYTES, checkEnv, checkId, checkPath, checkSpecs } from '../../src/mcm/validate';

/** The McmError a check throws; anything else fails the test. */
function refusal(check: () => unknown): McmError {
  try {
    check();
  } catch (err) {
    assert.ok(err instanceof McmError, `expected an McmError, got ${String(err)}`);
    assert.equal(err.code, 'invalid-input');
    return err;
  }
  assert.fail('expected the input to be refused');
}

describe('input checks', () => {
  describe('a composition that is not an array says what it got', () => {
    const cases: Array<[string, unknown, string]> = [
      ['nothing', undefined, 'nothing'],
      ['null', null, 'null'],
      ['a string', 'svc-a', 'a string'],
      ['a number', 3, 'a number'],
      ['a boolean', true, 'a boolean'],
      ['an object', { name: 'svc-a', image: 'svc-v1' }, 'an object'],
      ['a Buffer', Buffer.from('[]'), 'a Buffer'],
      ['a stream', new PassThrough(), 'a stream'],
      ['a stream of another library (pipe and on)', { pipe() {}, on() {} }, 'a stream'],
    ];
    for (const [title, value, said] of cases) {
      it(title, () => {
        const err = refusal(() => checkSpecs('deployComposition', value));
        assert.equal(err.rule, 'specs-not-array');
        assert.equal(err.message, `deployComposition: a composition must be an array of mim specs {name, image, env} (got ${said})`);
      });
    }

    it('an object with only a pipe function is an object, not a stream', () => {
      const err = refusal(() => checkSpecs('deployComposition', { pipe() {} }));
      assert.match(err.message, /\(got an object\)$/);
    });
  });

  it('names the position of a spec that is not an object', () => {
    const err = refusal(() => checkSpecs('deployComposition', [{ name: 'svc-a', image: 'svc-v1' }, 'svc-b']));
    assert.equal(err.rule, 'spec-not-object');
    assert.equal(err.message, 'deployComposition: mim spec 1 must be an object {name, image, env}');
    assert.deepEqual(err.params, { index: 1 });
  });

  it('names a mim that appears twice in a composition', () => {
    const specs = [
      { name: 'svc-a', image: 'svc-v1' },
      { name: 'svc-a', image: 'svc-v2' },
    ];
    const err = refusal(() => checkSpecs('deployComposition', specs));
    assert.equal(err.rule, 'spec-duplicate-name');
    assert.equal(err.message, 'deployComposition: the name "svc-a" appears twice in the composition');
  });

  it('returns each spec checked, with env values made strings', () => {
    const specs = checkSpecs('deployComposition', [
      { name: 'svc-a', image: ' svc-v1 ', env: { PORT: 8080, DEBUG: false } },
      { name: 'svc-b', image: 'svc-v1' },
    ]);
    assert.deepEqual(specs, [
      { name: 'svc-a', image: 'svc-v1', env: { PORT: '8080', DEBUG: 'false' } },
      { name: 'svc-b', image: 'svc-v1', env: {} },
    ]);
  });

  describe('env', () => {
    it('takes finite numbers and booleans as strings', () => {
      assert.deepEqual(checkEnv('deployMim', { A: 'x', B: 0, C: -1.5, D: true }), { A: 'x', B: '0', C: '-1.5', D: 'true' });
    });

    const refused: Array<[string, unknown, string]> = [
      ['null', null, 'null'],
      ['an array', ['a'], 'array'],
      ['an object', { nested: 'x' }, 'object'],
      ['NaN', Number.NaN, 'number'],
      ['Infinity', Number.POSITIVE_INFINITY, 'number'],
      ['undefined', undefined, 'undefined'],
    ];
    for (const [title, value, type] of refused) {
      it(`refuses ${title} as a value, naming the key and the type`, () => {
        const err = refusal(() => checkEnv('deployMim', { GOOD: 'x', BAD: value }));
        assert.equal(err.rule, 'env-value');
        assert.equal(err.message, `deployMim: env value "BAD" must be a string (got ${type})`);
      });
    }

    it('refuses an env larger than MAX_ENV_BYTES, with its size and the limit', () => {
      const err = refusal(() => checkEnv('deployMim', { BIG: 'x'.repeat(MAX_ENV_BYTES) }));
      assert.equal(err.rule, 'env-too-large');
      const size = JSON.stringify({ BIG: 'x'.repeat(MAX_ENV_BYTES) }).length;
      assert.equal(err.message, `deployMim: env is too large (${size} bytes, at most ${MAX_ENV_BYTES})`);
    });

    it('takes an env of exactly MAX_ENV_BYTES', () => {
      const overhead = JSON.stringify({ BIG: '' }).length;
      const env = { BIG: 'x'.repeat(MAX_ENV_BYTES - overhead) };
      assert.deepEqual(checkEnv('deployMim', env), env);
    });
  });

  it('names an id it refuses', () => {
    for (const id of ['.', '..', 'api-hello v1', 'api-hello\u0000']) {
      const err = refusal(() => checkId('removeMim', id));
      assert.equal(err.rule, 'id-invalid');
      assert.equal(err.message, `removeMim: the id "${id}" is not a valid id`);
    }
  });

  it('refuses a data store path that is not a string', () => {
    for (const path of [42, { path: '/tmp/x' }, ['/tmp/x'], true]) {
      const err = refusal(() => checkPath('backupDataStore', path));
      assert.equal(err.rule, 'path-missing');
      assert.equal(err.message, 'backupDataStore: a data store path on the mimOE host is required');
    }
    assert.equal(checkPath('backupDataStore', '/tmp/x.bak'), '/tmp/x.bak');
  });
});
