/**
 * One HTTP exchange as HttpTransport makes it, seen through McmClient: what the exchange log
 * reports, how a failure to exchange is named, the answer cap at its exact bound, time limits
 * of 0 (none), signals left as they were found, and a connection an early answer leaves behind.
 * Against the simulator, and a test's own servers on 127.0.0.1 for answers it does not give.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { Exchange } from '../../src/mcm/transport';
import { McmSimulator } from '../../src/simulator';
import { buildImageTar } from '../../src/wire/image-tar';
import { rejects, simulatorClient } from '../support/client';
import { closeServer, listenOnLoopback } from '../support/loopback-server';
import { useSimulator } from '../support/simulator-fixture';

const MiB = 1024 * 1024;

describe('HTTP exchanges', function () {
  this.timeout(20_000);
  const sim = useSimulator();
  let client: McmClient | undefined;
  let seen: Exchange[] = [];
  const make = (options: Partial<McmClientOptions> = {}) =>
    (client = simulatorClient(sim(), { onExchange: (e) => seen.push(e), ...options }));

  afterEach(() => {
    client?.close();
    client = undefined;
    seen = [];
  });

  describe('the exchange log', () => {
    it('reports a read: what was asked, what came back, and when', async () => {
      const before = Date.now();
      await make({ clientId: 'cid-1' }).listMims();
      const after = Date.now();
      assert.equal(seen.length, 1);
      const [read] = seen;
      assert.equal(read.operation, 'listMims');
      assert.equal(read.method, 'GET');
      assert.equal(read.path, '/mcm/v1/mims');
      assert.deepEqual(read.requestHeaders, { Accept: 'application/json', 'x-client-id': 'cid-1' });
      assert.equal(read.requestBody, undefined);
      assert.equal(read.status, 200);
      assert.match(read.responseHeaders['content-type'], /^application\/json/);
      assert.equal(read.responseHeaders['content-length'], String(Buffer.byteLength(read.responseText)));
      assert.deepEqual(JSON.parse(read.responseText), { data: [] });
      assert.equal(read.bytesSent, 0);
      assert.equal(read.bytesReceived, Buffer.byteLength(read.responseText));
      assert.equal(read.error, undefined);
      assert.ok(read.startedAt >= before && read.startedAt <= after, 'started during the call');
      assert.ok(read.ms >= 0 && read.ms <= after - before, `took ${read.ms} ms of the call's ${after - before}`);
    });

    it('reports a JSON body as sent, with its type and length', async () => {
      make();
      await client!.uploadImage(buildImageTar({ name: 'img' }));
      seen = [];
      await client!.deployMim('logged', 'img', { MODE: 'on' });
      const deploy = seen.find((e) => e.operation === 'deployMim')!;
      assert.deepEqual(deploy.requestBody, { name: 'logged', image: 'img', env: { MODE: 'on' } });
      assert.equal(deploy.requestHeaders['Content-Type'], 'application/json');
      assert.equal(deploy.requestHeaders['Content-Length'], String(deploy.bytesSent));
      const logged = sim().requests('deployMim')[0];
      assert.equal(logged.headers['content-type'], 'application/json');
      assert.deepEqual(logged.body, deploy.requestBody);
    });

    it('reports an error answer as an answer: its status, text and no failure code', async () => {
      sim().setFault('listImages', { status: 500, body: { message: 'store broken' } });
      await rejects(make({ retries: 0 }).listImages());
      assert.equal(seen.length, 1);
      assert.equal(seen[0].status, 500);
      assert.match(seen[0].responseText, /store broken/);
      assert.equal(seen[0].error, undefined);
    });

    it('reports an exchange that got no answer: status 0, nothing received, and why', async () => {
      sim().setFault('listMims', { hang: true });
      await rejects(make({ retries: 0, timeoutMs: 200 }).listMims());
      assert.equal(seen.length, 1);
      assert.deepEqual(
        [seen[0].status, seen[0].responseHeaders, seen[0].responseText, seen[0].bytesReceived, seen[0].error],
        [0, {}, '', 0, 'timeout'],
      );
    });

    it('is not needed: a client without onExchange works the same', async () => {
      client = simulatorClient(sim());
      assert.deepEqual(await client.listMims(), []);
    });
  });

  describe('signals', () => {
    it('sends nothing for a call whose signal is already aborted', async () => {
      const error = await rejects(make().listMims({ signal: AbortSignal.abort() }));
      assert.equal(error.code, 'aborted');
      assert.equal(sim().requests().length, 0);
      assert.equal(seen.length, 0);
    });

    it('leaves no listener on a caller’s signal after calls that succeeded or failed', async () => {
      const controller = new AbortController();
      const call = { signal: controller.signal };
      make({ retries: 0, timeoutMs: 300 });
      await client!.listMims(call);
      sim().setFault('listImages', { status: 404, times: 1 });
      await rejects(client!.listImages(call));
      sim().setFault('listImages', { hang: true, times: 1 });
      await rejects(client!.listImages(call));
      await client!.uploadImage(buildImageTar({ name: 'signalled' }), call);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    });
  });

  describe('time limits of 0', () => {
    it('a read with timeoutMs 0 waits as long as the answer takes', async () => {
      sim().setFault('listMims', { delayMs: 400, times: 1 });
      assert.deepEqual(await make({ timeoutMs: 0 }).listMims(), []);
    });

    it('names a limit of one second in seconds', async () => {
      sim().setFault('listMims', { hang: true });
      const error = await rejects(make({ retries: 0, timeoutMs: 1000 }).listMims());
      assert.equal(error.message, 'listMims failed: timed out (nothing from the runtime for 1 s)');
    });
  });

  describe('failures to exchange', () => {
    it('names an unreachable runtime by its host, and reports it', async () => {
      const closed = await McmSimulator.start({ quiet: true });
      const { url, port } = closed;
      await closed.stop();
      client = new McmClient({ url, token: 'k', retries: 0, onExchange: (e) => seen.push(e) });
      const error = await rejects(client.listMims());
      assert.equal(error.message, `listMims failed: cannot reach the runtime (ECONNREFUSED 127.0.0.1:${port})`);
      assert.deepEqual(
        seen.map((e) => [e.status, e.error]),
        [[0, 'unreachable']],
      );
    });
  });
});

describe('HTTP exchanges with a test’s own server', function () {
  this.timeout(20_000);
  let server: http.Server;
  let url = '';
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => undefined;
  let client: McmClient | undefined;

  before(async () => {
    server = http.createServer((req, res) => handle(req, res));
    url = await listenOnLoopback(server);
  });
  after(() => closeServer(server));
  afterEach(() => {
    client?.close();
    client = undefined;
    server.closeAllConnections();
  });

  const answer = JSON.stringify({ data: [{ id: 'api-one', name: 'one', padding: 'x'.repeat(200) }] });

  describe('the answer cap at its bound', () => {
    const serve = (declared: boolean) => {
      handle = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', ...(declared ? { 'Content-Length': Buffer.byteLength(answer) } : {}) });
        // Two pieces, so that the cap counts across chunks.
        res.write(answer.slice(0, 100));
        setTimeout(() => res.end(answer.slice(100)), 20);
      };
    };

    for (const declared of [true, false]) {
      const how = declared ? 'with its Content-Length' : 'chunked';
      it(`takes an answer exactly as long as maxResponseBytes (${how})`, async () => {
        serve(declared);
        client = new McmClient({ url, token: 'k', retries: 0, maxResponseBytes: Buffer.byteLength(answer) });
        const mims = await client.listMims();
        assert.deepEqual(
          mims.map((m) => m.id),
          ['api-one'],
        );
      });

      it(`refuses an answer one byte longer, naming the limit in bytes (${how})`, async () => {
        serve(declared);
        const cap = Buffer.byteLength(answer) - 1;
        client = new McmClient({ url, token: 'k', retries: 0, maxResponseBytes: cap });
        const error = await rejects(client.listMims());
        assert.equal(error.code, 'too-large');
        assert.equal(error.message, `listMims failed: the answer is too large (over ${cap} bytes, the limit for one answer)`);
      });
    }
  });

  it('keeps the path of a runtime URL that has one, before /mcm/v1', async () => {
    const paths: string[] = [];
    handle = (req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    };
    client = new McmClient({ url: `${url}/edge/device-1/`, token: 'k' });
    await client.listMims();
    assert.deepEqual(paths, ['/edge/device-1/mcm/v1/mims']);
  });

  it('leaves no timer running once its calls are over', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    // A server without timers of its own: it answers every request at once and keeps the connection.
    const plain = net.createServer((socket) =>
      socket.on('data', (data) => {
        const answer = data.toString().startsWith('POST') ? '{"id":"api-t","name":"t"}' : '[]';
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${answer.length}\r\n\r\n${answer}`);
      }),
    );
    const plainUrl = await listenOnLoopback(plain as unknown as http.Server);
    try {
      await new Promise((resolve) => setImmediate(resolve)); // mocha starts its test timer after the first step
      const before = timers();
      client = new McmClient({ url: plainUrl, token: 'k', timeoutMs: 60_000, answerTimeoutMs: 60_000 });
      await client.listMims();
      await client.deployMim('t', 'img');
      assert.equal(timers(), before, 'no time limit outlives its exchange');
    } finally {
      client?.close();
      plain.close();
    }
  });

  it('joins a header given twice into one value', async () => {
    handle = (_req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    };
    const seen: Exchange[] = [];
    client = new McmClient({ url, token: 'k', onExchange: (e) => seen.push(e) });
    await client.listMims();
    assert.equal(seen[0].responseHeaders['set-cookie'], 'a=1, b=2');
  });

  it('with every time limit 0, an upload may wait to be read and its answer may wait to begin', async () => {
    handle = (req, res) => {
      // Reads nothing for a while (the upload stands still), then all of it, then answers late.
      req.pause();
      setTimeout(() => req.resume(), 400);
      req.on('end', () =>
        setTimeout(() => {
          res.writeHead(201, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ id: 'api-patient', name: 'patient' }));
        }, 400),
      );
    };
    client = new McmClient({ url, token: 'k', timeoutMs: 0, answerTimeoutMs: 0, lowSpeedWindowMs: 0 });
    const image = await client.uploadImage(buildImageTar({ name: 'patient', paddingBytes: 16 * MiB }));
    assert.equal(image.id, 'api-patient');
  });

  it('once an upload’s answer has begun, its silence is timed by timeoutMs again', async () => {
    handle = (req, res) => {
      req.resume();
      // The whole upload read, the answer begins, then stops half-way.
      req.on('end', () => {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.write('{"id": "api-half", ');
      });
    };
    client = new McmClient({ url, token: 'k', retries: 0, timeoutMs: 300, answerTimeoutMs: 10_000 });
    const error = await rejects(client.uploadImage(buildImageTar({ name: 'half' })));
    assert.equal(error.message, 'uploadImage failed: timed out (nothing from the runtime for 300 ms)');
  });

  it('after an upload answered before its body was read, the next call gets a connection', async () => {
    handle = (req, res) => {
      if (req.method === 'POST') {
        // Refuses at once, without reading the body.
        res.writeHead(413, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: 'too big for this runtime' }));
        return;
      }
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    };
    // One connection at most: an upload that kept its connection would leave none for the next call.
    client = new McmClient({ url, token: 'k', maxConcurrent: 1, retries: 0, timeoutMs: 3000 });
    const error = await rejects(client.uploadImage(buildImageTar({ name: 'huge', paddingBytes: 32 * MiB })));
    assert.equal(error.statusCode, 413);
    assert.deepEqual(await client.listImages(), []);
  });

  it('names a connection the runtime broke, with its host', async () => {
    handle = (req) => req.socket.destroy();
    client = new McmClient({ url, token: 'k', retries: 0 });
    const error = await rejects(client.listMims());
    assert.equal(error.code, 'connection');
    assert.equal(error.message, `listMims failed: the connection to the runtime broke (ECONNRESET ${new URL(url).host})`);
  });

  it('names a TLS failure: https to a runtime that speaks plain HTTP', async () => {
    handle = (_req, res) => res.end();
    client = new McmClient({ url: url.replace('http:', 'https:'), token: 'k', retries: 0 });
    const error = await rejects(client.listMims());
    assert.equal(error.code, 'tls');
    assert.match(error.message, new RegExp(`^listMims failed: TLS problem \\(\\S+ ${new URL(url).host}\\)$`));
  });

  it('names an answer that is not HTTP at all', async () => {
    const garbage = net.createServer((socket) => socket.end('this is not HTTP\r\n\r\n'));
    const garbageUrl = await listenOnLoopback(garbage as unknown as http.Server);
    try {
      client = new McmClient({ url: garbageUrl, token: 'k', retries: 0 });
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'connection');
      assert.match(error.message, new RegExp(`\\(HPE_\\w+ ${new URL(garbageUrl).host}\\)$`));
    } finally {
      garbage.close();
    }
  });
});
