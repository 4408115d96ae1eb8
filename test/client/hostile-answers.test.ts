/**
 * A hostile or broken runtime, byte by byte on a raw socket of 127.0.0.1: whatever it sends, the
 * call ends in an McmError (never a TypeError or RangeError), within the time limit, and nothing it
 * sends reaches Object.prototype or drops what it named.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { McmClient } from '../../src/mcm/client';
import { McmErrorCode } from '../../src/mcm/errors';
import { FleetClient } from '../../src/mcm/fleet';
import { rejects } from '../support/client';

/** What the runtime writes once it has read a request; it never ends the socket unless it says so. */
type Answer = (socket: net.Socket) => void;

const json = (body: string, status = '200 OK', type = 'application/json') =>
  `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('hostile answers on the wire', function () {
  this.timeout(10_000);
  let server: net.Server;
  let sockets: net.Socket[] = [];
  let answer: Answer = () => undefined;
  /** What the last connections sent. */
  let received = '';
  let client: McmClient;

  before(async () => {
    server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.once('data', () => answer(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  beforeEach(() => {
    const { port } = server.address() as net.AddressInfo;
    client = new McmClient({ url: `http://127.0.0.1:${port}`, token: 'k', timeoutMs: 600, retries: 0 });
  });
  afterEach(() => {
    client.close();
    sockets.forEach((socket) => socket.destroy());
    sockets = [];
    received = '';
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  /** listMims against `send`: the McmError's code and message. */
  async function failure(send: Answer): Promise<{ code: McmErrorCode; message: string }> {
    answer = send;
    const err = await rejects(client.listMims());
    return { code: err.code, message: err.message };
  }

  describe('JSON shapes', () => {
    it('an answer nested thousands deep fails as bad-response before anything walks it', async () => {
      const deep = `[{"id":"a","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}]`;
      const { code, message } = await failure((s) => s.end(json(deep)));
      assert.equal(code, 'bad-response');
      assert.match(message, /nested deeper than 64 levels/);
    });

    it('nesting up to 64 levels is read, 65 is not; brackets inside strings (escaped quotes too) do not count', async () => {
      // The list, the mim and 62 arrays: 64 levels.
      const nested = (levels: number) => `[{"id":"a","name":"\\"${'['.repeat(500)}","x":${'['.repeat(levels)}${']'.repeat(levels)}}]`;
      answer = (s) => s.end(json(nested(62)));
      const [mim] = await client.listMims();
      assert.equal(mim.name, `"${'['.repeat(500)}`);
      const { code } = await failure((s) => s.end(json(nested(63))));
      assert.equal(code, 'bad-response');
    });

    it("Insight's answer nested thousands deep fails discovery as bad-response", async () => {
      answer = (s) => s.end(json(`{"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`));
      const { port } = server.address() as net.AddressInfo;
      const fleet = new FleetClient({ token: 'k', timeoutMs: 600, discovery: { seedUrl: `http://127.0.0.1:${port}`, token: 'i' } });
      try {
        const err = await rejects(fleet.members());
        assert.equal(err.code, 'bad-response');
        assert.match(err.message, /^discoverMembers failed: .*nested deeper than 64 levels/);
      } finally {
        fleet.close();
      }
    });

    it('a deep JSON error body reaches the error only as a short excerpt', async () => {
      const deep = `{"error":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      const { code, message } = await failure((s) => s.end(json(deep, '500 Boom')));
      assert.equal(code, 'http');
      assert.ok(message.length < 1000, 'the excerpt is short');
    });

    it('an object where text belongs (even with a toString key) becomes its JSON, not a TypeError', async () => {
      answer = (s) => s.end(json('[{"id":{"toString":1},"name":{"valueOf":2},"state":["started"],"env":{"A":{"toString":1}}}]'));
      const [mim] = await client.listMims();
      assert.equal(mim.id, '{"toString":1}');
      assert.equal(mim.name, '{"valueOf":2}');
      assert.equal(mim.state, '["started"]');
      assert.deepEqual(mim.env, { A: '{"toString":1}' });
    });

    it('__proto__ keys, however written, are left out; constructor keys stay plain data; nothing reaches Object.prototype', async () => {
      const body =
        '[{"id":"a","__proto__":{"state":"started"},"constructor":{"prototype":{"polluted":2}},' +
        '"env":{"__proto__":"p","constructor":"c","A":"1"},"extra":{"\\u005f_proto__":{"polluted":3},"keep":1}},' +
        '{"id":"b","env":["__proto__=q","toString=t"]},{"id":"c","env":[{"name":"__proto__","value":"r"}]}]';
      answer = (s) => s.end(json(body));
      const [a, b, c] = await client.listMims();
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.getPrototypeOf(a), Object.prototype);
      assert.equal(Object.hasOwn(a, '__proto__'), false);
      assert.equal(a.state, '');
      assert.deepEqual(a.constructor, { prototype: { polluted: 2 } });
      assert.deepEqual(a.extra, { keep: 1 });
      assert.deepEqual(Object.entries(a.env), [
        ['constructor', 'c'],
        ['A', '1'],
      ]);
      assert.deepEqual(Object.entries(b.env), [['toString', 't']]);
      assert.deepEqual(Object.entries(c.env), []);
    });

    it('a __proto__ key spelled only in \\u escapes is left out too', async () => {
      const key = '\\u005f\\u005f\\u0070\\u0072\\u006f\\u0074\\u006f\\u005f\\u005f';
      answer = (s) => s.end(json(`[{"id":"d","${key}":{"polluted":4}}]`));
      const [d] = await client.listMims();
      assert.equal(Object.hasOwn(d, '__proto__'), false);
      assert.deepEqual(Object.keys(d).sort(), ['clientId', 'created', 'env', 'id', 'image', 'imageId', 'name', 'state', 'status']);
    });

    it('an env variable named __proto__ in the input is sent, not dropped', async () => {
      answer = (s) => setTimeout(() => s.end(json('{"id":"a"}', '201 Created')), 50);
      const env = JSON.parse('{"__proto__":"p","A":"1"}') as Record<string, string>;
      await client.deployMim('a', 'img', env);
      assert.match(received, /"env":\{"__proto__":"p","A":"1"\}/);
    });

    it('integers past 2^53 keep every digit, as text; other numbers stay numbers', async () => {
      answer = (s) =>
        s.end(
          json(
            '[{"id":12345678901234567890,"created":1700000000123456789,"count":-98765432109876543210,' +
              '"safe":1234567890123456,"fraction":1.2345678901234567890,"power":1e22,"exponent":2E-12345678901234567,' +
              '"text":"12345678901234567890","list":[9007199254740993]}]',
          ),
        );
      const [mim] = await client.listMims();
      assert.equal(mim.id, '12345678901234567890');
      assert.equal(mim.created, '1700000000123456789');
      assert.equal(mim.count, '-98765432109876543210');
      assert.equal(mim.safe, 1234567890123456);
      assert.equal(mim.fraction, 1.2345678901234567);
      assert.equal(mim.power, 1e22);
      assert.equal(mim.exponent, 0);
      assert.equal(mim.text, '12345678901234567890');
      assert.deepEqual(mim.list, ['9007199254740993']);
    });

    it('a Content-Type that lies (HTML as JSON) fails as bad-response, with markup only as an excerpt', async () => {
      const { code, message } = await failure((s) => s.end(json('<html><body>x</body></html>')));
      assert.equal(code, 'bad-response');
      assert.match(message, /malformed JSON/);
    });
  });

  describe('HTTP framing', () => {
    const cases: Array<[string, Answer, McmErrorCode]> = [
      ['5,000 headers', (s) => s.end(`HTTP/1.1 200 OK\r\n${'X-H: v\r\n'.repeat(5000)}Content-Length: 2\r\n\r\n[]`), 'connection'],
      ['a 100 KB header', (s) => s.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\nContent-Length: 2\r\n\r\n[]`), 'connection'],
      [
        '102 Processing, again and again',
        (s) => {
          const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('HTTP/1.1 102 Processing\r\n\r\n')), 50);
        },
        'timeout',
      ],
      [
        '101 Switching Protocols',
        (s) => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n'),
        'timeout',
      ],
      ['HTTP/1.0 without a length, socket kept open', (s) => s.write('HTTP/1.0 200 OK\r\n\r\n[{"id":"a"}]'), 'timeout'],
      ['a chunk that never ends', (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\n[{"id":"a"}'), 'timeout'],
      ['a bad chunk size', (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'), 'connection'],
      [
        'both Content-Length and chunked',
        (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n'),
        'connection',
      ],
      ['two Content-Lengths', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n[]'), 'connection'],
      ['fewer bytes than its Content-Length', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n[]'), 'connection'],
      ['no HTTP at all', (s) => s.end('garbage\r\n\r\n'), 'connection'],
    ];
    for (const [what, send, expected] of cases) {
      it(`${what}: ${expected}`, async () => {
        const started = Date.now();
        const { code } = await failure(send);
        assert.equal(code, expected);
        assert.ok(Date.now() - started < 3000, 'within the time limit');
      });
    }

    it('1xx answers before the real one (100, 103) are skipped', async () => {
      answer = (s) => s.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n' + json('[{"id":"a"}]'));
      assert.deepEqual(
        (await client.listMims()).map((m) => m.id),
        ['a'],
      );
    });

    it('HTTP/1.0 without a length is read to the end of the connection', async () => {
      answer = (s) => s.end('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[{"id":"a"}]');
      assert.deepEqual(
        (await client.listMims()).map((m) => m.id),
        ['a'],
      );
    });
  });
});
