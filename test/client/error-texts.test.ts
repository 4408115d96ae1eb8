/**
 * McmError as a library user (and, through the catalogs, a Catch node) reads it: the message
 * names the operation and what went wrong, with the detail that lets a person act, and the fields
 * carry what a program decides on.
 */
import assert from 'node:assert/strict';
import { McmError, McmErrorInit } from '../../src/mcm/errors';

const message = (init: McmErrorInit) => new McmError(init).message;

describe('McmError texts', () => {
  it('an HTTP failure names the operation, the status and the runtime’s words', () => {
    assert.equal(
      message({ operation: 'deployMim', code: 'http', statusCode: 409, serverMessage: 'mim "hello" already exists' }),
      'deployMim failed: HTTP 409 mim "hello" already exists',
    );
    assert.equal(message({ operation: 'listMims', code: 'http', statusCode: 502 }), 'listMims failed: HTTP 502');
  });

  it('each failure to exchange says what happened, and its detail in parentheses when there is one', () => {
    const cases: Array<[McmErrorInit['code'], string]> = [
      ['timeout', 'listMims failed: timed out'],
      ['unreachable', 'listMims failed: cannot reach the runtime'],
      ['connection', 'listMims failed: the connection to the runtime broke'],
      ['tls', 'listMims failed: TLS problem'],
      ['bad-response', 'listMims failed: the runtime sent an answer that cannot be read'],
      ['too-large', 'listMims failed: the answer is too large'],
    ];
    for (const [code, text] of cases) {
      assert.equal(message({ operation: 'listMims', code }), text, code);
      assert.equal(message({ operation: 'listMims', code, detail: 'ECONNREFUSED' }), `${text} (ECONNREFUSED)`, code);
    }
  });

  it('a wrong base URL says where to look', () => {
    assert.equal(
      message({ operation: 'listImages', code: 'no-api', detail: 'GET http://127.0.0.1:1/mcm/v1/images: HTTP 503 with an empty body' }),
      "listImages failed: nothing answers at that path (GET http://127.0.0.1:1/mcm/v1/images: HTTP 503 with an empty body); check the config node's URL (the base URL, without /mcm/v1)",
    );
  });

  it('a failure the runtime reported gives its words, or says that it failed', () => {
    assert.equal(
      message({ operation: 'restoreDataStore', code: 'operation-failed', serverMessage: 'no backup at /tmp/x' }),
      'restoreDataStore failed: no backup at /tmp/x',
    );
    assert.equal(
      message({ operation: 'restoreDataStore', code: 'operation-failed' }),
      'restoreDataStore failed: the runtime reported a failure',
    );
  });

  it('mims that did not start are named with the time waited', () => {
    assert.equal(
      message({ operation: 'deployComposition', code: 'not-started', params: { seconds: 60, mims: 'svc-a (created), svc-b (created)' } }),
      'deployComposition failed: not started within 60 s: svc-a (created), svc-b (created)',
    );
  });

  it('an abort is no failure of the runtime', () => {
    assert.equal(message({ operation: 'uploadImage', code: 'aborted' }), 'uploadImage aborted');
  });

  it('a composition rolled back says which mims were removed and which could not be', () => {
    const init: McmErrorInit = { operation: 'deployComposition', code: 'http', statusCode: 500, serverMessage: 'boom' };
    assert.equal(
      message({ ...init, rolledBack: ['api-a', 'api-b'], rollbackFailed: ['api-c', 'api-d'] }),
      'deployComposition failed: HTTP 500 boom; rolled back: api-a, api-b; could not remove: api-c, api-d',
    );
    assert.equal(message({ ...init, rolledBack: [], rollbackFailed: [] }), 'deployComposition failed: HTTP 500 boom');
  });

  it('refused input gives the rule’s text with its values filled in, and leaves unknown placeholders visible', () => {
    const err = McmError.invalid('deployMim', 'name-whitespace', { name: 'my mim' });
    assert.equal(err.message, 'deployMim: the mim name "my mim" must not contain whitespace');
    assert.equal(err.code, 'invalid-input');
    assert.equal(err.rule, 'name-whitespace');
    assert.deepEqual(err.params, { name: 'my mim' });
    assert.equal(McmError.ruleText('env-value', { key: 'PORT' }), 'env value "PORT" must be a string (got __type__)');
  });

  it('carries what a program decides on, and defaults the lists and params to empty', () => {
    const err = new McmError({
      operation: 'listMims',
      code: 'http',
      statusCode: 503,
      serverMessage: 'busy',
      retryAfterMs: 2000,
      contentType: 'text/plain',
      structured: false,
      result: { status: 'failed' },
    });
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'McmError');
    assert.deepEqual(
      [err.operation, err.code, err.statusCode, err.serverMessage, err.retryAfterMs, err.contentType, err.structured, err.result],
      ['listMims', 'http', 503, 'busy', 2000, 'text/plain', false, { status: 'failed' }],
    );
    assert.deepEqual([err.params, err.rolledBack, err.rollbackFailed], [{}, [], []]);
  });
});
