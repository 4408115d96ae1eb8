/**
 * What keeps secrets out of error texts: the Redactor every client and fleet holds (tokens it
 * sent, a proxy's password) and the masking of a runtime URL that an error repeats. A runtime
 * that echoes a request must not put a key into a Catch node's msg, however the texts are cut.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { Redactor } from '../../src/mcm/redact';

describe('secret redaction', () => {
  it('masks the user and password of a refused URL and leaves its query and fragment out', () => {
    assert.throws(
      () => new McmClient({ url: 'ftp://admin:s3cret@127.0.0.1:8083/base?key=s3cret#s3cret', token: 't' }),
      (err: Error) => {
        assert.match(err.message, /\(got "ftp:\/\/\*\*\*@127\.0\.0\.1:8083\/base"\)$/);
        return true;
      },
    );
  });

  it('removes a secret that holds a shorter one whole, in whichever order they were added', () => {
    const short = 'tok-1234';
    const long = 'tok-1234-and-the-rest';
    for (const order of [
      [short, long],
      [long, short],
    ]) {
      const redactor = new Redactor();
      for (const secret of order) redactor.add(secret);
      assert.equal(redactor.redact(`a ${long} b ${short} c`), 'a *** b *** c', order.join(', '));
    }
  });

  it('remembers the eight newest secrets, so a client whose key rotates for months holds a bounded set', () => {
    const secrets = Array.from({ length: 9 }, (_, i) => `rotated-key-${i}-${'q'.repeat(i + 4)}`);
    const redactor = new Redactor();
    for (const secret of secrets.slice(0, 8)) redactor.add(secret);
    // Sent again, the first key is new again: the second is now the oldest.
    redactor.add(secrets[0]);
    redactor.add(secrets[8]);
    assert.equal(redactor.redact(secrets[1]), secrets[1]);
    for (const secret of [secrets[0], ...secrets.slice(2)]) assert.equal(redactor.redact(`<${secret}>`), '<***>', secret);
  });

  it('ignores blank secrets (they would match everywhere)', () => {
    const redactor = new Redactor();
    redactor.add('');
    redactor.add('   ');
    redactor.add(undefined);
    assert.equal(redactor.redact('nothing to hide here'), 'nothing to hide here');
  });

  describe('excerpts', () => {
    const redactor = new Redactor();
    it('keeps a text that fits whole, without an ellipsis', () => {
      assert.equal(redactor.excerpt('x'.repeat(80), 80), 'x'.repeat(80));
      assert.equal(redactor.excerpt('short', 80), 'short');
    });

    it('cuts a longer text to the limit and says so with an ellipsis', () => {
      assert.equal(redactor.excerpt('y'.repeat(81), 80), `${'y'.repeat(80)}…`);
      assert.equal(redactor.excerpt('z'.repeat(5000), 500), `${'z'.repeat(500)}…`);
    });

    it('never shows the start of a secret cut at the end of the part read, even after secrets before it shrank the text', () => {
      const secret = 'Sekrit0123456789abcdefghijklmnopqrstuvw';
      const withSecret = new Redactor();
      withSecret.add(secret);
      // Each "secret " shrinks to "*** ": the part first read ends inside a secret while what it
      // became is only a little longer than the limit.
      for (const max of [60, 80, 100, 120]) {
        const excerpt = withSecret.excerpt(`${secret} `.repeat(100), max);
        assert.ok(!excerpt.includes('Sekrit'), `${max}: ${excerpt}`);
        assert.equal(excerpt, `${'*** '.repeat(100).slice(0, max)}…`);
      }
    });
  });
});
