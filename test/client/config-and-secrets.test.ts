/**
 * What the client accepts as configuration (keys, client ids, URLs) and what it lets out of a
 * secret: odd keys and URLs are refused before any request, and a key that a runtime echoes in
 * any encoding never reaches an error. Over real HTTP against the simulator.
 */
import assert from 'node:assert/strict';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { Redactor } from '../../src/mcm/redact';
import { McmSimulator } from '../../src/simulator';
import { makeCertificate } from '../support/tls';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';

/** A key with the characters every encoding treats specially (all sendable in a header). */
const KEY = 'k3y/With+Sp=cial&"Ch\\rs%é~0123456789abcdef';

const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');

/** Bytes before the key in each base64 form: the characters after them stand for the key alone. */
const BASE64_PREFIX: Record<string, number> = {
  base64: 0,
  base64url: 0,
  'base64 of Bearer <key>': 'Bearer '.length,
  'base64 of the header bytes (Latin-1)': 'Bearer '.length,
  'base64 of a header line': 'Authorization: Bearer '.length,
  'base64 of a JSON blob': '{"headers":{"authorization":"Bearer '.length,
};

/** The key as a runtime might echo it, each form by name. */
function echoes(key: string): Record<string, string> {
  const jsonEscaped = JSON.stringify(key).slice(1, -1);
  const bearer = `Bearer ${key}`;
  return {
    raw: key,
    'JSON-escaped with \\/': jsonEscaped.replace(/\//g, '\\/'),
    'JSON \\u00xx for every character': [...key].map((c) => `\\u${hex(c.charCodeAt(0), 4)}`).join(''),
    'JSON \\u00XX in capitals': [...key].map((c) => `\\u${hex(c.charCodeAt(0), 4).toUpperCase()}`).join(''),
    'URL-encoded': encodeURIComponent(key),
    'URL-encoded in lower case': encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    'URL-encoded, every byte': [...Buffer.from(key, 'utf8')].map((b) => `%${hex(b, 2).toUpperCase()}`).join(''),
    'URL-encoded Bearer': encodeURIComponent(bearer),
    base64: Buffer.from(key).toString('base64'),
    base64url: Buffer.from(key).toString('base64url'),
    'base64 of Bearer <key>': Buffer.from(bearer).toString('base64'),
    'base64 of the header bytes (Latin-1)': Buffer.from(bearer, 'latin1').toString('base64'),
    'base64 of a header line': Buffer.from(`Authorization: ${bearer}`).toString('base64'),
    'base64 of a JSON blob': Buffer.from(JSON.stringify({ headers: { authorization: bearer } })).toString('base64'),
  };
}

/** Every echoed form that survives in a text. */
function leaks(text: string, key: string): string[] {
  const forms = echoes(key);
  const found = Object.entries(forms)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name);
  // A part of a base64 form that stands for the key alone would reveal it too.
  for (const [name, prefix] of Object.entries(BASE64_PREFIX)) {
    const start = Math.ceil((prefix * 4) / 3) + 4;
    if (text.includes(forms[name].slice(start, start + 16))) found.push(`${name} (part)`);
  }
  if (text.includes(key.slice(0, 12))) found.push('a part of the raw key');
  return found;
}

describe('McmClient configuration and secrets', function () {
  const sim = useSimulator({ key: KEY });
  let client: McmClient | undefined;
  const make = (options: Partial<McmClientOptions> = {}) => simulatorClient(sim(), options);

  afterEach(() => client?.close());

  describe('keys and client ids', () => {
    it('trims a key and a client id pasted with surrounding whitespace', async () => {
      client = make({ token: `  ${KEY}\r\n`, clientId: ' edge-7\t' });
      assert.deepEqual(await client.listMims(), []);
      const [entry] = sim().requests('listMims');
      assert.equal(entry.status, 200, 'the trimmed key was taken (a Latin-1 é included)');
      assert.equal(entry.clientId, 'edge-7');
    });

    it('trims what a key function gives', async () => {
      client = make({ token: () => `\n${KEY} ` });
      assert.deepEqual(await client.listMims(), []);
    });

    const odd: Array<[string, string]> = [
      ['a line break', 'abc\ndef'],
      ['a carriage return', 'abc\rdef'],
      ['a tab', 'abc\tdef'],
      ['a NUL', 'abc\u0000def'],
      ['DEL', 'abc\u007fdef'],
      ['a C1 control', 'abc\u0085def'],
      ['a character outside Latin-1', 'abc€def'],
      ['an emoji', 'abc\u{1f511}def'],
    ];

    it('refuses a key with a control character or a character outside Latin-1, before any request', async () => {
      for (const [label, key] of odd) {
        assert.throws(
          () => make({ token: key }),
          (err: Error) => {
            assert.ok(err instanceof TypeError, label);
            assert.match(err.message, /line break, another control character or a character outside Latin-1/, label);
            assert.ok(!err.message.includes('abc') && !err.message.includes('def'), `${label}: the key is not in the text`);
            return true;
          },
        );
        const fromFile = make({ token: () => key });
        try {
          const error = await rejects(fromFile.listMims());
          assert.equal(error.code, 'invalid-input', label);
          assert.equal(error.rule, 'token-invalid', label);
          assert.ok(!error.message.includes('abc') && !error.message.includes('def'), `${label}: the key is not in the text`);
          assert.ok(!JSON.stringify(error).includes('abc'), label);
        } finally {
          fromFile.close();
        }
      }
      assert.equal(sim().log.length, 0, 'no request was sent');
    });

    it('refuses such a client id with a TypeError', () => {
      for (const [label, id] of odd) {
        assert.throws(() => make({ clientId: id }), /client id holds a line break, another control character/, label);
      }
      assert.equal(sim().log.length, 0);
    });

    it('refuses a key that turns odd after a reload, before the repeat', async () => {
      let key = 'old-key';
      client = make({
        token: () => key,
        reloadToken: () => {
          key = 'new\nkey';
          return true;
        },
      });
      const error = await rejects(client.listMims());
      assert.equal(error.rule, 'token-invalid');
      assert.equal(sim().log.length, 1, 'only the first, refused attempt went out');
    });
  });

  describe('echoed secrets', () => {
    for (const [name, form] of Object.entries(echoes(KEY))) {
      it(`keeps a key echoed ${name} out of the error`, async () => {
        client = make();
        const bodies: Array<[string, string | object, Record<string, string>]> = [
          ['in a JSON error', { error: { code: 400, message: `bad token: ${form} (sent)` } }, {}],
          ['in a text', `bad token: ${form} (sent)`, {}],
          ['in HTML', `<p>token=${form}</p>`, { 'Content-Type': 'text/html' }],
        ];
        for (const [where, body, headers] of bodies) {
          sim().setFault('listMims', { status: 400, body, headers, times: 1 });
          const error = await rejects(client.listMims());
          assert.deepEqual(leaks(error.message, KEY), [], `${where}: ${error.message}`);
          assert.deepEqual(leaks(JSON.stringify(error), KEY), [], where);
          assert.match(error.message, /\*\*\*/, where);
        }
        // A 2xx that is not JSON: the excerpt in the error.
        sim().setFault('listImages', { status: 200, body: `${form} is the key`, times: 1 });
        const malformed = await rejects(client.listImages());
        assert.equal(malformed.code, 'bad-response');
        assert.deepEqual(leaks(malformed.message, KEY), [], malformed.message);
      });
    }

    it('keeps a key cut by the 500-character limit out of the error, in every encoding', async () => {
      client = make();
      for (const [name, form] of Object.entries(echoes(KEY))) {
        for (const at of [490, 497, 499]) {
          sim().setFault('listMims', { status: 400, body: `${'x'.repeat(at)}${form}${'y'.repeat(200)}`, times: 1 });
          const error = await rejects(client.listMims());
          const shown = error.serverMessage ?? '';
          assert.ok(shown.length <= 501, `${name} at ${at}`);
          assert.deepEqual(leaks(shown, KEY), [], `${name} at ${at}: ${shown.slice(480)}`);
        }
      }
    });

    it('masks credentials and queries of URLs in the runtime’s text', async () => {
      client = make();
      sim().setFault('listMims', { status: 502, body: 'upstream http://admin:hunter2@127.0.0.1:9/x?sig=abc123&k=v failed' });
      const error = await rejects(client.listMims());
      assert.equal(error.serverMessage, 'upstream http://***@127.0.0.1:9/x?*** failed');
    });

    it('forgets no token it sent: an echo of a rotated key is removed too', async () => {
      let key = 'first-key-0123456789';
      client = make({ token: () => key });
      sim().setFault('listMims', { status: 400, body: 'x', times: 1 });
      await rejects(client.listMims());
      key = KEY;
      sim().setFault('listMims', { status: 400, body: 'old first-key-0123456789 new ' + KEY });
      const error = await rejects(client.listMims());
      assert.equal(error.serverMessage, 'old *** new ***');
    });

    it('a Redactor removes every secret it was given, and an excerpt never shows a cut one', () => {
      const redactor = new Redactor();
      redactor.add('pr0xy-pass');
      redactor.add(KEY);
      assert.equal(redactor.redact(`a pr0xy-pass b ${encodeURIComponent(KEY)} c`), 'a *** b *** c');
      // Secrets shrink to *** before the cut: a secret cut at the end of the part read must never
      // move into what is shown, wherever it sits.
      for (let before = 0; before <= 150; before++) {
        const crowded = `${'pr0xy-pass '.repeat(before)}${'x'.repeat(before % 11)}${KEY}${'z'.repeat(3000)}`;
        const excerpt = redactor.excerpt(crowded, 400);
        assert.ok(!/k3y|pr0/.test(excerpt), `${before}: ${excerpt}`);
        assert.ok(excerpt.length <= 401);
      }
    });
  });

  describe('URLs', () => {
    it('takes the scheme in any case', async () => {
      client = make({ url: sim().url.replace('http://', 'HTTP://') });
      assert.equal(client.url, sim().url);
      assert.deepEqual(await client.listMims(), []);
    });

    it('takes HTTPS:// in capitals to an https runtime', async () => {
      const cert = makeCertificate();
      const secure = await McmSimulator.start({ quiet: true, key: KEY, tls: { key: cert.key, cert: cert.cert } });
      const tlsClient = new McmClient({ url: secure.url.replace('https://', 'HTTPS://'), token: KEY, tls: { ca: cert.cert } });
      try {
        assert.equal(tlsClient.url, secure.url);
        assert.deepEqual(await tlsClient.listMims(), []);
      } finally {
        tlsClient.close();
        await secure.stop();
      }
    });

    it('still removes a trailing /mcm/v1 and slashes', () => {
      assert.equal(new McmClient({ url: ' HTTP://127.0.0.1:1/mcm/v1/ ', token: 't' }).url, 'http://127.0.0.1:1');
      assert.equal(new McmClient({ url: 'http://127.0.0.1:1/edge/mcm/v1', token: 't' }).url, 'http://127.0.0.1:1/edge');
    });

    it('refuses userinfo, a query and a fragment, never repeating them', () => {
      const cases: Array<[string, RegExp]> = [
        ['http://admin:s3cret@127.0.0.1:8083', /must not hold a user name or password/],
        ['http://s3cret@127.0.0.1:8083', /must not hold a user name or password/],
        ['HTTPS://admin:s3cret@127.0.0.1:8083/', /must not hold a user name or password/],
        ['http://127.0.0.1:8083/?token=s3cret', /must not hold a query/],
        ['http://127.0.0.1:8083?', /must not hold a query/],
        ['http://127.0.0.1:8083/#s3cret', /must not hold a fragment/],
        ['http://127.0.0.1:8083#', /must not hold a fragment/],
        ['ftp://admin:s3cret@127.0.0.1/?s3cret', /must start with http:\/\/ or https:\/\//],
        ['admin:s3cret@127.0.0.1:8083', /must start with http:\/\/ or https:\/\//],
        ['http://', /must start with http:\/\/ or https:\/\/ and a host/],
      ];
      for (const [url, expected] of cases) {
        assert.throws(
          () => new McmClient({ url, token: 't' }),
          (err: Error) => {
            assert.ok(err instanceof TypeError, url);
            assert.match(err.message, expected, url);
            assert.ok(!err.message.includes('s3cret'), `${url}: ${err.message}`);
            return true;
          },
        );
      }
    });

    it('names a mistyped scheme in its error', () => {
      assert.throws(() => new McmClient({ url: 'htp://127.0.0.1:8083', token: 't' }), /\(got "htp:\/\/127\.0\.0\.1:8083"\)/);
    });
  });
});
