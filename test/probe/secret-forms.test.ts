/**
 * The forms a key is looked for in (src/mcm/secret-forms.ts), as the probe names them when a log
 * still holds the key ("the log still holds the key (URL-encoded)"): each echo is found, and
 * named by the form a person would search the log for. The client's error texts use the same forms.
 */
import assert from 'node:assert/strict';
import { KeyRedactor } from '../../src/probe/redact';

const KEY = 'k3y/with+odd=chars&"quotes"\\~Zz';
const json = JSON.stringify(KEY).slice(1, -1);
const allUnicodeEscapes = [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

describe('the forms of a key', () => {
  const echoes: Array<[string, string]> = [
    ['raw', `x-echo: ${KEY}`],
    ['JSON-escaped', `{"echo":"${json}"}`],
    ['JSON-escaped', `"${allUnicodeEscapes}"`],
    ['URL-encoded', `?token=${encodeURIComponent(KEY)}`],
    ['URL-encoded', `token=${encodeURIComponent(`${KEY} x`).replace(/%20/g, '+')}`],
    ['URL-encoded twice', `next=${encodeURIComponent(encodeURIComponent(KEY))}`],
    ['JSON and URL escapes mixed', `{"q":"${json.replace(/\//g, '%2F')}"}`],
    ['hex', Buffer.from(KEY).toString('hex').toUpperCase()],
    ['base64 of "Bearer <key>"', Buffer.from(`Bearer ${KEY}`).toString('base64')],
    ['base64', `data: ${Buffer.from(`ab${KEY}`).toString('base64')}`],
    ['base64url', Buffer.from(`a${KEY}`).toString('base64url')],
    ['base64 of JSON', Buffer.from(JSON.stringify({ key: KEY })).toString('base64')],
    ['base64 of a URL', Buffer.from(`/x?t=${encodeURIComponent(KEY)}`).toString('base64')],
  ];
  for (const [encoding, echo] of echoes) {
    it(`finds it ${encoding} and says so: ${echo.slice(0, 40)}`, () => {
      const redactor = new KeyRedactor(KEY);
      assert.deepEqual(redactor.leaks(echo), [encoding]);
      assert.deepEqual(redactor.leaks(redactor.text(echo)), []);
    });
  }

  it('finds a key with a character beyond ASCII in its UTF-8 and its Latin-1 bytes (how a header carries it)', () => {
    const key = 'clé-0123456789';
    const redactor = new KeyRedactor(key);
    assert.deepEqual(redactor.leaks(Buffer.from(key, 'utf8').toString('hex')), ['hex']);
    assert.deepEqual(redactor.leaks(Buffer.from(key, 'latin1').toString('hex')), ['hex']);
    assert.deepEqual(redactor.leaks(encodeURIComponent(key)), ['URL-encoded']);
    assert.deepEqual(redactor.leaks(escape(key)), ['URL-encoded']);
  });

  it('finds a key with spaces form-encoded, spaces as "+"', () => {
    const key = 'my key 0123';
    assert.deepEqual(new KeyRedactor(key).leaks(`q=${encodeURIComponent(key).replace(/%20/g, '+')}`), ['URL-encoded']);
  });

  it('finds a key of three bytes in base64 (one whole group of four characters)', () => {
    assert.deepEqual(new KeyRedactor('k3y').leaks(Buffer.from('k3y').toString('base64')), ['base64']);
  });

  it('leaves short base64 runs that are common in any text alone', () => {
    const redactor = new KeyRedactor('ab');
    const text = `header ${Buffer.from('xxab').toString('base64')} and ${Buffer.from('ab').toString('base64')}`;
    assert.equal(redactor.text(text), text);
  });
});
