/**
 * The config node's settings reach the client: timeouts, the low-speed limit and the proxy of a
 * core `http proxy` config node, as Node-RED's http request node takes it. The client's own tests
 * show what it does with them; these show what it is given.
 */
import assert from 'node:assert/strict';
import { McmClientOptions } from '../../src/mcm/client';
import { clientOptions, ConfigSettings, connectionOptions } from '../../src/nodes/shared/config-client';
import { SHARED_CATALOG, type RED } from '../../src/nodes/shared/runtime';
import { CORE, helper, loadActionFlow, loadFlow, loadListFlow, run } from '../support/nodes';
import { makeCertificate } from '../support/tls';
import { McmSimulator } from '../../src/simulator';

const HTTP_PROXY = 'network/06-httpproxy.js';

describe('mimoe-config settings', () => {
  /** The node API the config node sees, over the flow the helper loaded: its nodes, and catalog keys as texts. */
  const red = { nodes: { getNode: (id: string) => helper.getNode(id) }, _: (key: string) => key } as unknown as RED;
  const options = (settings: ConfigSettings, token = 'k'): McmClientOptions => clientOptions(red, settings, { token }, () => undefined);

  afterEach(async () => {
    await helper.unload();
  });

  it('defaults: 300 s answer wait, 1024 bytes per 60 s, the proxy from the environment', () => {
    const o = options({ url: 'http://127.0.0.1:8083' });
    assert.deepEqual(
      { answerTimeoutMs: o.answerTimeoutMs, lowSpeedBytes: o.lowSpeedBytes, lowSpeedWindowMs: o.lowSpeedWindowMs, timeoutMs: o.timeoutMs },
      { answerTimeoutMs: 300_000, lowSpeedBytes: 1024, lowSpeedWindowMs: 60_000, timeoutMs: 30_000 },
    );
    assert.equal(o.proxy, undefined, 'no proxy node: the client reads the environment');
    assert.ok(!('proxy' in o), 'undefined, not a value that would turn the environment off');
  });

  it('maps the seconds and bytes of the dialog, as saved (strings) or as numbers', () => {
    const o = options({ url: 'http://127.0.0.1:8083', answerTimeout: '7.5', lowSpeedBytes: 2048, lowSpeedWindow: '90', timeout: '12' });
    assert.deepEqual(
      { answerTimeoutMs: o.answerTimeoutMs, lowSpeedBytes: o.lowSpeedBytes, lowSpeedWindowMs: o.lowSpeedWindowMs, timeoutMs: o.timeoutMs },
      { answerTimeoutMs: 7500, lowSpeedBytes: 2048, lowSpeedWindowMs: 90_000, timeoutMs: 12_000 },
    );
    const invalid = options({ url: 'http://127.0.0.1:8083', answerTimeout: 'soon', lowSpeedBytes: -5, lowSpeedWindow: 0 });
    assert.deepEqual(
      [invalid.answerTimeoutMs, invalid.lowSpeedBytes, invalid.lowSpeedWindowMs],
      [300_000, 1024, 60_000],
      'values the dialog refuses fall back to the defaults',
    );
    assert.equal(options({ url: 'http://127.0.0.1:8083', lowSpeedBytes: 0.5 }).lowSpeedBytes, 1, 'a fraction never makes the limit 0');
  });

  it('takes the proxy from a core http proxy config node: URL, no-proxy hosts, user and password', async () => {
    await loadFlow(
      [{ id: 'p1', type: 'http proxy', url: 'http://127.0.0.1:3128', noproxy: ['.example.com', ' localhost ', ''] }],
      { p1: { username: 'proxy-user', password: 'proxy-pass' } },
      [HTTP_PROXY],
    );
    assert.deepEqual(options({ url: 'http://127.0.0.1:8083', proxy: 'p1' }).proxy, {
      url: 'http://127.0.0.1:3128',
      noProxy: ['.example.com', 'localhost'],
      username: 'proxy-user',
      password: 'proxy-pass',
    });
  });

  it('refuses a proxy setting that names no http proxy node, or one without a URL', async () => {
    await loadFlow(
      [
        { id: 'p1', type: 'http proxy', url: '' },
        { id: 'other', type: 'helper' },
      ],
      {},
      [HTTP_PROXY],
    );
    for (const proxy of ['missing', 'other', 'p1']) {
      assert.throws(
        () => options({ url: 'http://127.0.0.1:8083', proxy }),
        { message: `${SHARED_CATALOG}:mimoe-config.errors.proxy` },
        proxy,
      );
    }
  });

  it('takes the CA of a tls-config node; accept self-signed turns verification off, and is warned of for https only', async () => {
    const cert = makeCertificate();
    await loadFlow([{ id: 'ca', type: 'tls-config', cert: '', key: '', ca: cert.certFile, verifyservercert: true }], {}, [CORE.tls]);
    const verified = connectionOptions(red, { tls: 'ca' }).tls;
    assert.deepEqual([verified?.ca, verified?.rejectUnauthorized], [cert.cert, true]);
    assert.equal(connectionOptions(red, { tls: 'ca', insecure: true }).tls?.rejectUnauthorized, false);
    assert.equal(connectionOptions(red, {}).tls?.rejectUnauthorized, true, 'verified by default');
    const warnings: string[] = [];
    clientOptions(red, { url: 'https://127.0.0.1:8443', insecure: true }, {}, (text) => warnings.push(text));
    clientOptions(red, { url: 'http://127.0.0.1:8083', insecure: true }, {}, (text) => warnings.push(text));
    assert.deepEqual(warnings, [`${SHARED_CATALOG}:mimoe-config.warn.insecure`]);
  });

  it('a config whose proxy is gone fails every msg with the reason, and sends nothing', async () => {
    const sim = await McmSimulator.start({ quiet: true });
    try {
      await loadActionFlow(sim, { type: 'mimoe-list' }, { proxy: 'gone' });
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.error.message, 'the mimOE server config cannot be used: the proxy chosen under Proxy is missing or has no URL');
      assert.equal(sim.log.length, 0);
    } finally {
      await helper.unload();
      await sim.stop();
    }
  });

  it('a URL or key that reads an environment variable which is not set fails naming it, and sends nothing', async () => {
    const sim = await McmSimulator.start({ quiet: true });
    delete process.env.MIMOE_TEST_UNSET_URL;
    delete process.env.MIMOE_TEST_UNSET_KEY;
    try {
      await loadActionFlow(sim, { type: 'mimoe-list' }, { url: '${MIMOE_TEST_UNSET_URL}' });
      const url = await run({});
      assert.equal(url.kind, 'caught');
      assert.equal(
        url.msg.error.message,
        "the mimOE server config cannot be used: the environment variable MIMOE_TEST_UNSET_URL is not set in Node-RED's environment (this setting reads ${MIMOE_TEST_UNSET_URL})",
      );
      await helper.unload();
      await loadListFlow(sim, {}, '${MIMOE_TEST_UNSET_KEY}');
      const key = await run({});
      assert.equal(key.kind, 'caught');
      assert.match(key.msg.error.message, /MIMOE_TEST_UNSET_KEY is not set/);
      assert.equal(sim.log.length, 0);
    } finally {
      await helper.unload();
      await sim.stop();
    }
  });

  it('a config with an http proxy node works against a runtime on loopback', async () => {
    const sim = await McmSimulator.start({ quiet: true });
    try {
      await loadActionFlow(
        sim,
        { type: 'mimoe-list' },
        { proxy: 'p1' },
        [{ id: 'p1', type: 'http proxy', url: 'http://127.0.0.1:1', noproxy: [] }],
        [HTTP_PROXY],
      );
      const { kind, msg } = await run({});
      assert.equal(kind, 'sent', msg.error?.message);
      assert.equal(sim.requests('listMims').length, 1);
    } finally {
      await helper.unload();
      await sim.stop();
    }
  });
});
