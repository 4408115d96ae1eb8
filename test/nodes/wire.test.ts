/**
 * The wire layer in real flows: proxies from Node-RED's environment, streamed msg.payloads kept
 * in a temporary file that a redeploy removes too, and files that change size reaching Catch.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildImageTar, writeImageTar } from '../../src/wire/image-tar';
import { configNode, helper, loadActionFlow, loadFlow, run } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { RecordingProxy } from '../support/proxy';
import { byProfile, tmpdirPerTest, waitFor } from '../support/simulator-helpers';
import { ThrottlingRelay } from '../support/relay';

describe('the wire in flows', function () {
  this.timeout(30_000);
  const sim = useSimulator();
  const work = mkdtempSync(join(tmpdir(), 'mimoe-wire-'));

  afterEach(async () => {
    await helper.unload();
  });

  describe('proxies from the environment', () => {
    const DEVICE = 'mimoe-device.test';
    let proxy: RecordingProxy;
    const saved: Record<string, string | undefined> = {};
    before(async () => {
      proxy = await RecordingProxy.start({ [`${DEVICE}:${sim().port}`]: sim().port });
      for (const name of ['http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY']) {
        saved[name] = process.env[name];
        delete process.env[name];
      }
      process.env.HTTP_PROXY = proxy.url;
    });
    after(async () => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await proxy.stop();
    });
    afterEach(() => (proxy.seen.length = 0));

    it('carry a list node’s call to a runtime named by host name', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' }, { url: `http://${DEVICE}:${sim().port}` });
      const { kind, msg } = await run({});
      assert.equal(kind, 'sent', msg.error?.message);
      assert.deepEqual(
        proxy.seen.map((r) => `${r.method} ${r.target}`),
        [`GET http://${DEVICE}:${sim().port}/mcm/v1/mims`],
      );
      assert.equal(sim().requests('listMims').length, 1);
    });

    it('give way to a core http proxy node on the config node, with its credentials', async () => {
      const expected = `Basic ${Buffer.from('edge:pw').toString('base64')}`;
      const guarded = await RecordingProxy.start({ [`${DEVICE}:${sim().port}`]: sim().port }, expected);
      try {
        await loadFlow(
          [
            { id: 'p1', type: 'http proxy', url: guarded.url, noproxy: [] },
            configNode(sim(), { url: `http://${DEVICE}:${sim().port}`, proxy: 'p1' }),
            { id: 'n1', type: 'mimoe-upload', server: 'cfg', wires: [['out']] },
            { id: 'out', type: 'helper' },
            { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
            { id: 'caught', type: 'helper' },
          ],
          { cfg: { token: sim().key }, p1: { username: 'edge', password: 'pw' } },
          ['network/06-httpproxy.js'],
        );
        const { kind, msg } = await run({ payload: buildImageTar({ name: 'via-proxy-node' }) });
        assert.equal(kind, 'sent', msg.error?.message);
        const images = `http://${DEVICE}:${sim().port}/mcm/v1/images`;
        assert.deepEqual(
          guarded.seen.map((r) => `${r.method} ${r.target} ${r.headers['proxy-authorization']}`),
          byProfile({
            contract: [`POST ${images} ${expected}`],
            // Answered without the image: the list is asked for it, through the same proxy.
            field: [`POST ${images} ${expected}`, `GET ${images} ${expected}`],
          }),
        );
        assert.equal(proxy.seen.length, 0, 'the environment’s proxy is not used');
      } finally {
        await guarded.stop();
      }
    });

    it('are never used for a runtime on loopback: the proxy sees nothing', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' });
      const { kind } = await run({});
      assert.equal(kind, 'sent');
      assert.equal(proxy.seen.length, 0);
      assert.equal(sim().requests('listMims').length, 1);
    });
  });

  describe('a streamed msg.payload', () => {
    const spoolRoot = tmpdirPerTest();

    it('is uploaded with Content-Length, and its temporary copy is gone afterwards', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-upload' });
      const payload = new PassThrough();
      setTimeout(() => payload.end(buildImageTar({ name: 'from-flow' })), 20);
      const { kind, msg } = await run({ payload });
      assert.equal(kind, 'sent', msg.error?.message);
      assert.equal(msg.payload.name, 'from-flow');
      const [sent] = sim().requests('uploadImage');
      assert.ok(Number(sent.headers['content-length']) > 0);
      assert.equal(sent.headers['transfer-encoding'], undefined);
      assert.deepEqual(readdirSync(spoolRoot()), []);
    });

    it('leaves no temporary copy when the flow is redeployed while the stream is being copied', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-upload' });
      const payload = new PassThrough();
      payload.write(buildImageTar({ name: 'unfinished' }));
      helper.getNode('n1').receive({ payload });
      await waitFor(() => readdirSync(spoolRoot()).length === 1, 'the copying begun');
      await helper.unload();
      await waitFor(() => readdirSync(spoolRoot()).length === 0, 'the copy removed');
      assert.ok(payload.destroyed, 'the msg’s stream was closed');
      assert.equal(sim().requests().length, 0);
    });
  });

  it('reports an upload over a link that stops moving to Catch, saying it stalled', async () => {
    const relay = await ThrottlingRelay.start(sim().port, { up: 2 * 1024 * 1024 });
    try {
      await loadActionFlow(sim(), { type: 'mimoe-upload' }, { url: relay.url, timeout: 0.3, lowSpeedBytes: 1024, lowSpeedWindow: 1.6 });
      setTimeout(() => (relay.rates.up = 0), 500);
      const started = Date.now();
      const { kind, msg } = await run({ payload: buildImageTar({ name: 'stalled', paddingBytes: 12 * 1024 * 1024 }) });
      assert.equal(kind, 'caught');
      assert.equal(msg.error.message, 'uploadImage failed: timed out (the upload stalled: fewer than 1024 bytes sent in 1.6 s)');
      assert.ok(Date.now() - started < 500 + 1600 + 200 + 1500, `caught after ${Date.now() - started} ms`);
    } finally {
      await relay.stop();
    }
  });

  it('reports a file that shrinks mid-upload to Catch at once, in words', async () => {
    const file = join(work, 'shrinking.tar');
    const size = await writeImageTar(file, { name: 'shrinking', paddingBytes: 32 * 1024 * 1024 });
    sim().setFault('uploadImage', { delayMs: 4000 });
    await loadActionFlow(sim(), { type: 'mimoe-upload' });
    setTimeout(() => truncateSync(file, 1024), 300);
    const started = Date.now();
    const { kind, msg } = await run({ filename: file });
    assert.equal(kind, 'caught');
    assert.equal(
      msg.error.message,
      `uploadImage: the image file "${file}" changed size while it was being sent (from ${size} to 1024 bytes); send it again once it is complete`,
    );
    assert.ok(Date.now() - started < 2000, `caught after ${Date.now() - started} ms`);
  });
});
