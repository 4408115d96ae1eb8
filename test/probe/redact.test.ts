import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExchangeLog, LOG_FORMAT, LogRefused } from '../../src/probe/exchange-log';
import { KEY_PLACEHOLDER, KeyRedactor } from '../../src/probe/redact';
import { tempDir } from '../support/simulator-helpers';

const KEY = 'k3y/with+odd=chars&"quotes"\\~Zz';

/** The key as a runtime or a proxy might echo it, each embedded in other text. */
const ENCODED: Record<string, string> = {
  raw: `x-echo: ${KEY}`,
  'JSON-escaped': JSON.stringify({ echo: KEY }),
  'JSON-escaped, slashes too': JSON.stringify({ echo: KEY }).replace(/\//g, '\\/'),
  'JSON \\u escapes': `"${[...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`,
  'URL-encoded': `GET /x?token=${encodeURIComponent(KEY)}&a=1`,
  'URL-encoded, lowercase escapes': `?t=${encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}`,
  'form-encoded': `token=${encodeURIComponent(KEY).replace(/%20/g, '+')}`,
  'URL-encoded twice': `next=${encodeURIComponent(encodeURIComponent(KEY))}`,
  'every byte percent-encoded': [...Buffer.from(KEY)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  base64: `data: ${Buffer.from(KEY).toString('base64')}`,
  base64url: Buffer.from(KEY).toString('base64url'),
  'base64 of "Bearer <key>"': `auth=${Buffer.from(`Bearer ${KEY}`).toString('base64')}`,
  'base64 of "api:<key>" (Basic)': `Basic ${Buffer.from(`api:${KEY}`).toString('base64')}`,
  'base64 of "ab<key>"': Buffer.from(`ab${KEY}`).toString('base64'),
  'base64 of JSON holding it': Buffer.from(JSON.stringify({ key: KEY })).toString('base64'),
  hex: Buffer.from(KEY).toString('hex'),
  'hex, uppercase': Buffer.from(KEY).toString('hex').toUpperCase(),
};

describe('probe log redaction', () => {
  const redactor = new KeyRedactor(KEY);

  for (const [encoding, text] of Object.entries(ENCODED)) {
    it(`finds and removes the key ${encoding}`, () => {
      assert.notDeepEqual(redactor.leaks(text), [], 'the scan must see it before redaction');
      const redacted = redactor.text(text);
      assert.deepEqual(redactor.leaks(redacted), []);
      assert.ok(redacted.includes(KEY_PLACEHOLDER), redacted);
    });
  }

  it('redacts keys and values of nested objects and leaves other text alone', () => {
    const value = { [KEY]: [`a ${KEY} b`, 1, null, { deep: encodeURIComponent(KEY) }], other: 'plain text' };
    assert.deepEqual(redactor.value(value), {
      [KEY_PLACEHOLDER]: [`a ${KEY_PLACEHOLDER} b`, 1, null, { deep: KEY_PLACEHOLDER }],
      other: 'plain text',
    });
    assert.equal(redactor.text('nothing secret here, base64 aGVsbG8= and %41'), 'nothing secret here, base64 aGVsbG8= and %41');
  });

  function log(key: string): ExchangeLog {
    return new ExchangeLog(key, {
      type: 'probe',
      format: LOG_FORMAT,
      url: 'http://127.0.0.1:9',
      prefix: 'probe-redact',
      deviceDir: '/tmp',
      timeoutMs: 1000,
      startWaitMs: 1000,
      pollMs: 100,
      startedAt: new Date(0).toISOString(),
      node: process.version,
    });
  }

  it('records exchanges redacted: headers, bodies and paths', () => {
    const exchangeLog = log(KEY);
    exchangeLog.add('step', {
      method: 'GET',
      path: `/mcm/v1/mims?key=${encodeURIComponent(KEY)}`,
      status: 200,
      requestHeaders: { authorization: `Bearer ${KEY}` },
      responseHeaders: { 'x-echo': Buffer.from(`Bearer ${KEY}`).toString('base64') },
      responseBody: JSON.stringify({ echo: KEY }),
      bytesSent: 0,
      bytesReceived: 10,
      startedAt: Date.now(),
      ms: 1,
    });
    const text = exchangeLog.text();
    assert.deepEqual(redactor.leaks(text), []);
    const [entry] = exchangeLog.exchanges;
    assert.equal(entry.path, `/mcm/v1/mims?key=${KEY_PLACEHOLDER}`);
    assert.equal(entry.requestHeaders.authorization, `Bearer ${KEY_PLACEHOLDER}`);
    assert.equal(entry.responseHeaders['x-echo'], KEY_PLACEHOLDER);
  });

  it('refuses to write a log that still holds the key after redaction, and writes no file', () => {
    // A key built around the placeholder comes back with every pass of redaction: "xx" + key + "yy" -> ... -> key.
    const key = `x${KEY_PLACEHOLDER}y`;
    const exchangeLog = log(key);
    exchangeLog.add('step', {
      method: 'GET',
      path: '/mcm/v1/mims',
      status: 500,
      requestHeaders: {},
      responseHeaders: {},
      responseBody: `xx${key}yy`,
      bytesSent: 0,
      bytesReceived: 0,
      startedAt: Date.now(),
      ms: 1,
    });
    const file = join(tempDir(), 'refused.jsonl');
    assert.throws(
      () => exchangeLog.write(file),
      (err: Error) => err instanceof LogRefused && /still holds the key \(raw\)/.test(err.message),
    );
    assert.equal(existsSync(file), false);
  });
});
