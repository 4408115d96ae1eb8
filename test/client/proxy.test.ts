/**
 * Proxies as Node-RED's core http request node uses them: the decision (environment, an explicit
 * proxy, no_proxy, loopback) on its own, then real requests through a recording proxy on
 * 127.0.0.1 that maps a made-up device name to the simulator, so no name is ever looked up.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { buildImageTar } from '../../src/wire/image-tar';
import { bypasses, isLoopback, proxyFor } from '../../src/mcm/proxy';
import { McmSimulator } from '../../src/simulator';
import { RecordingProxy } from '../support/proxy';
import { useSimulator } from '../support/simulator-fixture';
import { byProfile, sleep, waitFor } from '../support/simulator-helpers';
import { makeCertificate } from '../support/tls';
import { closeServer, listenOnLoopback } from '../support/loopback-server';

const DEVICE = 'mimoe-device.test';
const PROXY_VARIABLES = [
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'npm_config_proxy',
  'npm_config_http_proxy',
  'npm_config_https_proxy',
  'npm_config_no_proxy',
];

/** Runs with exactly these proxy variables set (lower and upper case cleared first), then restores the environment. */
function withEnv(vars: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const name of PROXY_VARIABLES.flatMap((n) => [n, n.toUpperCase()])) {
    saved.set(name, process.env[name]);
    delete process.env[name];
  }
  Object.assign(process.env, vars);
  return () => {
    for (const name of Object.keys(vars)) delete process.env[name];
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  };
}

const route = (url: string, option?: Parameters<typeof proxyFor>[1], env: NodeJS.ProcessEnv = {}) =>
  proxyFor(new URL(url), option, env)?.url.href;

describe('proxy decision', () => {
  it('reads <scheme>_proxy for the target scheme, lower case before upper, npm variants and all_proxy as Node-RED does', () => {
    assert.equal(route('http://dev:8083', undefined, { http_proxy: 'http://p:3128' }), 'http://p:3128/');
    assert.equal(route('https://dev:8083', undefined, { http_proxy: 'http://p:3128' }), undefined);
    assert.equal(route('https://dev:8083', undefined, { https_proxy: 'http://s:3128' }), 'http://s:3128/');
    assert.equal(route('http://dev', undefined, { HTTP_PROXY: 'http://upper:1' }), 'http://upper:1/');
    assert.equal(route('http://dev', undefined, { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' }), 'http://lower:1/');
    assert.equal(route('http://dev', undefined, { npm_config_http_proxy: 'http://npm:1', http_proxy: 'http://p:1' }), 'http://npm:1/');
    assert.equal(route('http://dev', undefined, { npm_config_proxy: 'http://npm:2' }), 'http://npm:2/');
    assert.equal(route('http://dev', undefined, { ALL_PROXY: 'http://all:3' }), 'http://all:3/');
    assert.equal(route('http://dev', undefined, {}), undefined);
  });

  it('gives a proxy without a scheme the target’s scheme, as Node-RED does', () => {
    assert.equal(route('http://dev', undefined, { http_proxy: 'p:3128' }), 'http://p:3128/');
    assert.equal(route('https://dev', undefined, { https_proxy: 'p:3128' }), 'https://p:3128/');
  });

  it('matches no_proxy entries the way Node-RED does', () => {
    const cases: Array<[string, string, boolean]> = [
      ['http://dev.example.com', 'dev.example.com', true],
      ['http://DEV.example.com', 'dev.EXAMPLE.com', true],
      ['http://other.example.com', 'dev.example.com', false],
      ['http://dev.example.com', '.example.com', true],
      ['http://example.com', '.example.com', false],
      ['http://dev.example.com', '*.example.com', true],
      ['http://badexample.com', '*example.com', true],
      ['http://example.com', 'example', false],
      ['http://dev:8083', 'dev:8083', true],
      ['http://dev:8083', 'dev:9000', false],
      ['http://dev', 'dev:80', true],
      ['https://dev', 'dev:443', true],
      ['https://dev', 'dev:80', false],
      ['http://dev', 'a.b, c.d dev', true],
      ['http://dev', ' , ', false],
      ['http://anything.at.all', '*', true],
      ['http://10.1.2.3:8083', '10.1.2.3', true],
      ['http://[fd00::7]:8083', '[fd00::7]', true],
      ['http://[fd00::7]:8083', '[fd00::7]:8083', true],
    ];
    for (const [url, noProxy, direct] of cases) assert.equal(bypasses(new URL(url), noProxy), direct, `${url} with no_proxy=${noProxy}`);
  });

  it('honours no_proxy from the environment (npm variant first, lower case before upper)', () => {
    const env = { http_proxy: 'http://p:1', NO_PROXY: 'dev' };
    assert.equal(route('http://dev', undefined, env), undefined);
    assert.equal(route('http://other', undefined, env), 'http://p:1/');
    assert.equal(route('http://dev', undefined, { ...env, no_proxy: 'other' }), 'http://p:1/');
    assert.equal(route('http://dev', undefined, { ...env, npm_config_no_proxy: 'x' }), 'http://p:1/');
  });

  it('never proxies loopback, even with no no_proxy at all', () => {
    for (const host of ['localhost', 'LOCALHOST', 'device.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '[::ffff:127.0.0.1]']) {
      assert.equal(route(`http://${host}:8083`, undefined, { http_proxy: 'http://p:1' }), undefined, host);
      assert.equal(route(`http://${host}:8083`, { url: 'http://p:1' }), undefined, host);
    }
    for (const host of ['localhost.example.com', '128.0.0.1', '[::2]', 'mylocalhost'])
      assert.equal(isLoopback(new URL(`http://${host}`).hostname), false, host);
  });

  it('takes an explicit proxy instead of the environment, and false for never', () => {
    const env = { http_proxy: 'http://env:1', no_proxy: 'dev' };
    assert.equal(route('http://dev', { url: 'http://cfg:2' }, env), 'http://cfg:2/', 'the environment’s no_proxy does not apply');
    assert.equal(route('http://dev', { url: 'http://cfg:2', noProxy: ['dev'] }, env), undefined);
    assert.equal(route('https://dev', { url: 'http://cfg:2' }, env), 'http://cfg:2/', 'one proxy for both schemes');
    assert.equal(route('http://other', false, env), undefined);
  });

  it('builds Proxy-Authorization from the options or the URL, and keeps credentials out of the proxy URL', () => {
    const fromOptions = proxyFor(new URL('http://dev'), { url: 'http://p:1', username: 'me', password: 'sécret:1' });
    assert.equal(fromOptions?.authorization, `Basic ${Buffer.from('me:sécret:1').toString('base64')}`);
    const fromUrl = proxyFor(new URL('http://dev'), undefined, { http_proxy: 'http://me:p%40ss@p:1' });
    assert.equal(fromUrl?.authorization, `Basic ${Buffer.from('me:p@ss').toString('base64')}`);
    assert.equal(fromUrl?.url.href, 'http://p:1/');
    assert.equal(proxyFor(new URL('http://dev'), { url: 'http://p:1' })?.authorization, undefined);
  });

  it('refuses a proxy it cannot speak to, without showing its credentials', () => {
    assert.throws(
      () => new McmClient({ url: 'http://dev:8083', token: 't', proxy: { url: 'socks5://me:secret@p:1080' } }),
      (err: Error) => err instanceof TypeError && /http:\/\/ or https:\/\//.test(err.message) && !err.message.includes('secret'),
    );
  });
});

describe('requests through a proxy', function () {
  this.timeout(20_000);
  // The log keeps the Authorization header: the test checks what the proxy passed on.
  const sim = useSimulator({ logSecrets: true });
  let proxy: RecordingProxy;
  let client: McmClient | undefined;
  let restoreEnv: (() => void) | undefined;
  const deviceUrl = () => `http://${DEVICE}:${sim().port}`;
  const make = (options: Partial<McmClientOptions>) =>
    (client = new McmClient({ url: deviceUrl(), token: sim().key, retries: 0, ...options }));

  before(async () => {
    proxy = await RecordingProxy.start({ [`${DEVICE}:${sim().port}`]: sim().port });
  });
  after(async () => {
    await proxy.stop();
  });
  afterEach(() => {
    client?.close();
    client = undefined;
    restoreEnv?.();
    restoreEnv = undefined;
    proxy.seen.length = 0;
  });

  it('sends every call through http_proxy from the environment, as absolute-form requests', async () => {
    restoreEnv = withEnv({ http_proxy: proxy.url });
    make({});
    await client!.uploadImage(buildImageTar({ name: 'via-proxy' }));
    await client!.deployMim('hello', 'via-proxy');
    assert.equal((await client!.listMims()).length, 1);
    const [images, mims] = [`${deviceUrl()}/mcm/v1/images`, `${deviceUrl()}/mcm/v1/mims`];
    assert.deepEqual(
      proxy.seen.map((r) => `${r.method} ${r.target}`),
      byProfile({
        contract: [`POST ${images}`, `POST ${mims}`, `GET ${mims}`],
        // Creates answered without the object: each is looked up in its list, through the proxy too.
        field: [`POST ${images}`, `GET ${images}`, `POST ${mims}`, `GET ${mims}`, `GET ${mims}`],
      }),
    );
    assert.equal(proxy.seen[0].headers.host, `${DEVICE}:${sim().port}`);
    assert.ok(Number(proxy.seen[0].headers['content-length']) > 0, 'the upload went with its Content-Length');
    assert.equal(sim().requests().length, proxy.seen.length, 'the simulator got them all from the proxy');
    assert.equal(sim().requests('listMims')[0].headers.authorization, `Bearer ${sim().key}`);
  });

  it('sends an explicit proxy its credentials, and never shows them in the exchange log', async () => {
    const expected = `Basic ${Buffer.from('me:pw').toString('base64')}`;
    const guarded = await RecordingProxy.start({ [`${DEVICE}:${sim().port}`]: sim().port }, expected);
    const logged: string[] = [];
    try {
      make({ proxy: { url: guarded.url, username: 'me', password: 'pw' }, onExchange: (e) => logged.push(JSON.stringify(e)) });
      await client!.listMims();
      assert.equal(guarded.seen.length, 1);
      assert.equal(guarded.seen[0].headers['proxy-authorization'], expected);
      assert.equal(sim().requests('listMims')[0].headers['proxy-authorization'], undefined, 'the runtime never sees them');
      assert.ok(!logged.join().includes(expected.slice(6)) && !/authorization/i.test(logged.join()));
    } finally {
      await guarded.stop();
    }
  });

  it('goes direct to loopback although a proxy is set: the proxy sees nothing', async () => {
    restoreEnv = withEnv({ http_proxy: proxy.url, https_proxy: proxy.url });
    client = new McmClient({ url: sim().url, token: sim().key });
    await client.listMims();
    await client.uploadImage(buildImageTar({ name: 'direct' }));
    assert.equal(proxy.seen.length, 0);
    // In the field profile the upload's answer has no image: the list is asked for it.
    assert.equal(sim().requests().length, byProfile({ contract: 2, field: 3 }));
  });

  it('names the proxy when it cannot be reached', async () => {
    const closed = await RecordingProxy.start({});
    const url = closed.url;
    await closed.stop();
    make({ proxy: { url } });
    const error = await client!.listMims().catch((err: McmError) => err);
    assert.ok(error instanceof McmError);
    assert.equal(error.code, 'unreachable');
    assert.match(error.message, new RegExp(`ECONNREFUSED ${DEVICE}:${sim().port} via the proxy 127\\.0\\.0\\.1:\\d+`));
  });

  it('keeps the proxy’s password out of an error text when the proxy echoes it', async () => {
    const password = 'proxy-pass-7781';
    const echoing = http.createServer((req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`cannot carry ${req.url} for me:${password}`);
    });
    const echoingUrl = await listenOnLoopback(echoing);
    try {
      make({ proxy: { url: echoingUrl, username: 'me', password } });
      const error = await client!.deployMim('a', 'b').catch((err: McmError) => err);
      assert.ok(error instanceof McmError);
      assert.equal(error.statusCode, 502);
      assert.match(error.message, /cannot carry .* for me:\*\*\*/);
      assert.ok(!JSON.stringify({ ...error, message: error.message }).includes(password));
    } finally {
      await closeServer(echoing);
    }
  });

  describe('an https proxy', () => {
    let proxyCert: ReturnType<typeof makeCertificate>;
    let tlsProxy: tls.Server;
    let tlsProxyUrl = '';
    before(async () => {
      proxyCert = makeCertificate();
      tlsProxy = tls.createServer({ key: proxyCert.key, cert: proxyCert.cert }, (socket) => socket.destroy());
      await new Promise<void>((resolve) => tlsProxy.listen(0, '127.0.0.1', resolve));
      tlsProxyUrl = `https://127.0.0.1:${(tlsProxy.address() as net.AddressInfo).port}`;
    });
    after(() => new Promise((resolve) => tlsProxy.close(resolve)));

    // The proxy's self-signed certificate is not trusted (the tls option is for the runtime): only
    // a client that speaks TLS to the proxy finds that out.
    for (const scheme of ['http', 'https']) {
      it(`is spoken to over TLS, its certificate checked, for an ${scheme} runtime`, async () => {
        make({ url: `${scheme}://${DEVICE}:${sim().port}`, proxy: { url: tlsProxyUrl } });
        const error = await client!.listMims().catch((err: McmError) => err);
        assert.ok(error instanceof McmError);
        assert.equal(error.code, 'tls');
        assert.match(error.message, /SELF_SIGNED|UNABLE_TO_VERIFY/);
      });
    }
  });

  describe('https through a CONNECT tunnel', () => {
    let cert: ReturnType<typeof makeCertificate>;
    const tlsSim = useSimulator(() => {
      cert = makeCertificate([DEVICE]);
      return { tls: { key: cert.key, cert: cert.cert } };
    });
    before(() => (proxy.routes[`${DEVICE}:${tlsSim().port}`] = tlsSim().port));
    const tlsUrl = () => `https://${DEVICE}:${tlsSim().port}`;

    it('tunnels https_proxy requests and checks the runtime’s certificate against its name', async () => {
      restoreEnv = withEnv({ https_proxy: proxy.url });
      client = new McmClient({ url: tlsUrl(), token: tlsSim().key, tls: { ca: cert.cert } });
      await client.uploadImage(buildImageTar({ name: 'tunnelled', paddingBytes: 2 * 1024 * 1024 }));
      assert.deepEqual(
        (await client.listImages()).map((i) => i.name),
        ['tunnelled'],
      );
      assert.ok(proxy.seen.length >= 1);
      assert.ok(proxy.seen.every((r) => r.method === 'CONNECT' && r.target === `${DEVICE}:${tlsSim().port}`));
      // In the field profile the upload's answer has no image: the list is asked for it.
      assert.equal(tlsSim().requests().length, byProfile({ contract: 2, field: 3 }));
    });

    it('refuses a certificate for another name, inside the tunnel too', async () => {
      // Trusted, but issued for 127.0.0.1 only.
      const other = makeCertificate();
      const otherSim = await McmSimulator.start({ quiet: true, tls: { key: other.key, cert: other.cert } });
      proxy.routes[`${DEVICE}:${otherSim.port}`] = otherSim.port;
      try {
        restoreEnv = withEnv({ https_proxy: proxy.url });
        client = new McmClient({ url: `https://${DEVICE}:${otherSim.port}`, token: otherSim.key, retries: 0, tls: { ca: other.cert } });
        const error = await client.listMims().catch((err: McmError) => err);
        assert.ok(error instanceof McmError);
        assert.equal(error.code, 'tls');
        assert.match(error.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
        assert.equal(proxy.seen[0].method, 'CONNECT');
        assert.equal(otherSim.requests().length, 0);
      } finally {
        await otherSim.stop();
      }
    });

    it('gives a tunnel all the time it needs when calls have no time limit', async () => {
      restoreEnv = withEnv({ https_proxy: proxy.url });
      client = new McmClient({ url: tlsUrl(), token: tlsSim().key, timeoutMs: 0, tls: { ca: cert.cert } });
      assert.deepEqual(await client.listMims(), []);
      assert.equal(proxy.seen[0].method, 'CONNECT');
    });

    it('sends an explicit proxy its credentials with the tunnel request', async () => {
      const expected = `Basic ${Buffer.from('me:pw').toString('base64')}`;
      const guarded = await RecordingProxy.start({ [`${DEVICE}:${tlsSim().port}`]: tlsSim().port }, expected);
      try {
        client = new McmClient({
          url: tlsUrl(),
          token: tlsSim().key,
          tls: { ca: cert.cert },
          proxy: { url: guarded.url, username: 'me', password: 'pw' },
        });
        assert.deepEqual(await client.listMims(), []);
        assert.deepEqual(
          guarded.seen.map((r) => [r.method, r.headers['proxy-authorization']]),
          [['CONNECT', expected]],
        );
        assert.equal(tlsSim().requests('listMims')[0].headers['proxy-authorization'], undefined, 'the runtime never sees them');
      } finally {
        await guarded.stop();
      }
    });

    it('keeps an idle tunnel open longer than the time allowed to open one', async () => {
      restoreEnv = withEnv({ https_proxy: proxy.url });
      client = new McmClient({ url: tlsUrl(), token: tlsSim().key, timeoutMs: 300, tls: { ca: cert.cert } });
      await client.listMims();
      // Idle on purpose, longer than the 300 ms allowed to open a tunnel: it must not be closed.
      await sleep(800);
      await client.listMims();
      assert.equal(proxy.seen.length, 1, 'one tunnel, reused');
      assert.equal(tlsSim().connections, 1);
    });

    it('gives up on a proxy that never answers the tunnel request, and leaves no connection open', async () => {
      const open = new Set<net.Socket>();
      const silent = net.createServer((socket) => {
        socket.resume(); // reads the request (and so sees the client close), never answers
        open.add(socket);
        socket.on('close', () => open.delete(socket));
      });
      const proxyUrl = await listenOnLoopback(silent);
      try {
        client = new McmClient({ url: tlsUrl(), token: tlsSim().key, timeoutMs: 400, retries: 0, proxy: { url: proxyUrl } });
        const started = Date.now();
        const error = await client.listMims().catch((err: McmError) => err);
        assert.ok(error instanceof McmError);
        // Whichever of the two equal limits ends it first: the tunnel's or the call's silence.
        assert.match(error.message, /opened no tunnel within 400 ms for mimoe-device\.test:\d+|nothing from the runtime for 400 ms/);
        assert.ok(Date.now() - started < 400 + 1500);
        await waitFor(() => open.size === 0, 'the tunnel request closed');
      } finally {
        silent.close();
      }
    });

    it('names a tunnel’s proxy that cannot be reached, and leaves no timer behind', async () => {
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
      const closed = await RecordingProxy.start({});
      const proxyUrl = closed.url;
      await closed.stop();
      await new Promise((resolve) => setImmediate(resolve)); // mocha starts its test timer after the first step
      const before = timers();
      client = new McmClient({ url: tlsUrl(), token: tlsSim().key, timeoutMs: 60_000, retries: 0, proxy: { url: proxyUrl } });
      const error = await client.listMims().catch((err: McmError) => err);
      assert.ok(error instanceof McmError);
      assert.equal(error.code, 'unreachable');
      assert.match(error.message, new RegExp(`ECONNREFUSED ${DEVICE}:${tlsSim().port} via the proxy 127\\.0\\.0\\.1:\\d+`));
      // The minute allowed to open the tunnel does not keep running once it failed.
      await waitFor(() => timers() === before, 'no timer left');
    });

    it('says so when the proxy refuses the tunnel', async () => {
      const guarded = await RecordingProxy.start({ [`${DEVICE}:${tlsSim().port}`]: tlsSim().port }, 'Basic right');
      try {
        client = new McmClient({ url: tlsUrl(), token: tlsSim().key, retries: 0, tls: { ca: cert.cert }, proxy: { url: guarded.url } });
        const error = await client.listMims().catch((err: McmError) => err);
        assert.ok(error instanceof McmError);
        assert.equal(error.code, 'unreachable');
        assert.match(
          error.message,
          /the proxy 127\.0\.0\.1:\d+ answered HTTP 407 to the tunnel request \(CONNECT\) for mimoe-device\.test:\d+/,
        );
        assert.equal(tlsSim().requests().length, 0);
      } finally {
        await guarded.stop();
      }
    });
  });
});
