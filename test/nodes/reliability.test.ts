/**
 * Reliability in real flows: faults from the simulator, load with bounded concurrency, close
 * during uploads, TLS, and a token that never shows up in a msg, a log line, a status or an error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar, writeImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { McmSimulator } from '../../src/simulator';
import { CORE, collect, configNode, helper, loadActionFlow, loadFlow, run, statuses } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
import { byProfile, waitFor } from '../support/simulator-helpers';
import { makeCertificate } from '../support/tls';

const TIMEOUT_S = 1;
/** A failure must arrive within the timeout plus this. */
const BOUND_MS = 1500;

describe('reliability', function () {
  this.timeout(60_000);
  const sim = useSimulator();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  after(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  beforeEach(async () => {
    const client = new McmClient({ url: sim().url, token: sim().key });
    await client.uploadImage(buildImageTar({ name: 'img' }));
    client.close();
    sim().resetStats();
  });
  afterEach(async () => {
    await helper.unload();
    // Every test checks its own: a rejection left unhandled shows up by the next turn of the loop.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled.splice(0), [], 'no unhandled rejection');
  });

  describe('faults', () => {
    const faults: Array<[string, Parameters<McmSimulator['setFault']>[1], RegExp]> = [
      [
        'HTTP 500',
        { status: 500, body: { error: { code: 500, message: 'internal failure' } } },
        /^listMims failed: HTTP 500 internal failure$/,
      ],
      [
        'HTTP 503 with Retry-After, every time',
        { status: 503, headers: { 'Retry-After': '0' }, body: { message: 'busy, rebooting' } },
        /^listMims failed: HTTP 503 busy, rebooting$/,
      ],
      [
        'malformed JSON',
        { malformed: true },
        /^listMims failed: the mimOE runtime sent an answer that cannot be read \(HTTP 200 with malformed JSON/,
      ],
      ['a socket reset', { reset: true }, /^listMims failed: the connection to the mimOE runtime broke \(ECONNRESET/],
      [
        'a reset mid-response',
        { resetMidResponse: true },
        /^listMims failed: the (connection to the mimOE runtime broke|mimOE runtime sent an answer that cannot be read)/,
      ],
      ['a hang past the timeout', { hang: true }, /^listMims failed: timed out \(nothing from the runtime for 1 s\)$/],
    ];
    for (const [label, fault, message] of faults) {
      it(`${label}: Catch names the problem in time; the next msg succeeds`, async () => {
        await loadActionFlow(sim(), { type: 'mimoe-list' }, { timeout: TIMEOUT_S });
        sim().setFault('listMims', fault);
        const started = Date.now();
        const failed = await run({ payload: 'first' });
        assert.equal(failed.kind, 'caught');
        assert.match(failed.msg.error.message, message);
        assert.ok(Date.now() - started < TIMEOUT_S * 1000 + BOUND_MS, `took ${Date.now() - started} ms`);
        sim().clearFaults();
        const next = await run({ payload: 'second' });
        assert.equal(next.kind, 'sent');
        assert.ok(Array.isArray(next.msg.payload));
      });
    }

    it('msg.timeout (ms) overrides the config node timeout for that msg', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' }, { timeout: 20 });
      sim().setFault('listMims', { hang: true });
      const started = Date.now();
      const { kind, msg } = await run({ timeout: 300 });
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /timed out \(nothing from the runtime for 300 ms\)/);
      assert.ok(Date.now() - started < 300 + BOUND_MS);
    });

    it('retries a list through a single 503 with Retry-After and succeeds', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-list' }, { timeout: TIMEOUT_S });
      sim().setFault('listMims', { status: 503, headers: { 'Retry-After': '0' }, times: 1 });
      const { kind } = await run({});
      assert.equal(kind, 'sent');
      assert.equal(sim().requests('listMims').length, 2);
    });

    it('connection refused: Catch says the runtime cannot be reached', async () => {
      const gone = await McmSimulator.start({ quiet: true });
      await gone.stop();
      await loadActionFlow(gone, { type: 'mimoe-deploy' }, { timeout: TIMEOUT_S });
      const started = Date.now();
      const { kind, msg } = await run({ payload: { name: 'a', image: 'img' } });
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /^deployMim failed: cannot reach the mimOE runtime \(ECONNREFUSED 127\.0\.0\.1:\d+\)/);
      assert.ok(Date.now() - started < TIMEOUT_S * 1000 + BOUND_MS);
    });

    it('a server restart in the middle of a flow: caught while down, served once back', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-deploy' }, { timeout: TIMEOUT_S });
      assert.equal((await run({ payload: { name: 'before', image: 'img' } })).kind, 'sent');
      await sim().stop();
      let down;
      try {
        down = await run({ payload: { name: 'during', image: 'img' } });
      } finally {
        await sim().restart();
      }
      assert.equal(down.kind, 'caught');
      // A pooled connection the server closed, or a refused new one: either way the text says so.
      assert.match(down.msg.error.message, /^deployMim failed: (cannot reach the mimOE runtime|the connection to the mimOE runtime broke)/);
      const back = await run({ payload: { name: 'after', image: 'img' } });
      assert.equal(back.kind, 'sent');
      assert.equal(back.msg.payload.id, 'api-after');
      assert.ok(
        sim()
          .mims()
          .some((m) => m.id === 'api-before'),
        'state survived the restart',
      );
    });

    it('never retries a deploy, an upload or a delete on 503', async () => {
      for (const [type, route, payload] of [
        ['mimoe-deploy', 'deployMim', { name: 'x', image: 'img' }],
        ['mimoe-upload', 'uploadImage', buildImageTar({ name: 'y' })],
        ['mimoe-remove', 'removeMim', 'api-x'],
        ['mimoe-composition', 'deployComposition', [{ name: 'z', image: 'img' }]],
      ] as const) {
        await loadActionFlow(sim(), { type }, { timeout: TIMEOUT_S });
        sim().resetStats();
        sim().setFault(route, { status: 503, headers: { 'Retry-After': '0' } });
        const { kind, msg } = await run({ payload });
        assert.equal(kind, 'caught', type);
        assert.equal(msg.statusCode, 503, `${type}: ${msg.error.message}`);
        assert.equal(sim().requests(route).length, 1, `${type} sent once`);
        sim().clearFaults();
        await helper.unload();
      }
    });
  });

  describe('load', () => {
    it('1,000 msgs at once across list and deploy: none lost, concurrency bounded', async () => {
      const limit = 3;
      sim().setFault('listMims', { delayMs: 2 });
      await loadFlow(
        [
          configNode(sim(), { concurrency: limit, timeout: 30 }),
          { id: 'list', type: 'mimoe-list', server: 'cfg', wires: [['out']] },
          { id: 'deploy', type: 'mimoe-deploy', server: 'cfg', wires: [['out']] },
          { id: 'out', type: 'helper' },
          { id: 'catch', type: 'catch', scope: ['list', 'deploy'], uncaught: false, wires: [['caught']] },
          { id: 'caught', type: 'helper' },
        ],
        { cfg: { token: sim().key } },
      );
      const sent = collect('out');
      const caught = collect('caught');
      const list = helper.getNode('list');
      const deploy = helper.getNode('deploy');
      for (let i = 0; i < 1000; i++) {
        // Every tenth deploy repeats a name: those must reach Catch with the runtime's refusal, not vanish.
        if (i % 2) list.receive({ payload: i, seq: i });
        else deploy.receive({ payload: { name: `m${i % 10 === 0 ? 0 : i}`, image: 'img' }, seq: i });
      }
      await waitFor(() => sent.length + caught.length >= 1000, 'a result for each of the 1000 msgs', 45_000);
      assert.equal(sent.length + caught.length, 1000, `${sent.length} sent + ${caught.length} caught`);
      const seqs = new Set([...sent, ...caught].map((m) => m.seq));
      assert.equal(seqs.size, 1000, 'every msg accounted for once');
      assert.equal(caught.length, 99, 'the 99 repeated names were refused');
      const refusal = byProfile({ contract: 409, field: 400 });
      assert.ok(
        caught.every((m) => m.statusCode === refusal && /already exists/.test(m.error.message)),
        JSON.stringify(caught[0]?.error),
      );
      assert.ok(sim().maxInFlight <= limit, `simulator saw ${sim().maxInFlight} at once`);
      assert.ok(sim().maxInFlight >= 2, 'requests did run in parallel');
    });
  });

  describe('close and redeploy', () => {
    const openHandlesOn = (file: string) =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      }).length;
    const tcpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

    it('aborts an upload in flight, calls done, and closes its file and its connection', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mimoe-close-'));
      const file = join(dir, 'big.tar');
      await writeImageTar(file, { name: 'big', paddingBytes: 64 * 1024 * 1024 });
      // The simulator sits on the request, so the upload stalls under backpressure mid-file.
      sim().setFault('uploadImage', { delayMs: 3000 });
      const socketsBefore = tcpSockets();
      await loadActionFlow(sim(), { type: 'mimoe-upload' });
      helper.getNode('n1').receive({ filename: file });
      await waitFor(() => sim().requests('uploadImage').length === 1, 'the upload at the simulator');
      assert.equal(sim().inFlight, 1);
      assert.equal(openHandlesOn(file), 1, 'the file is being read');
      assert.equal(tcpSockets(), socketsBefore + 2, 'client and server ends of the upload');
      const started = Date.now();
      await helper.unload();
      assert.ok(Date.now() - started < 2000, 'close did not wait for the upload');
      await waitFor(() => openHandlesOn(file) === 0, 'the file handle closed');
      // The client's socket goes; the simulator's end lingers until its delay ends.
      await waitFor(() => tcpSockets() <= socketsBefore + 1, 'the client end of the upload closed');
    });
  });

  describe('TLS', () => {
    let tlsSim: McmSimulator;
    let cert: ReturnType<typeof makeCertificate>;
    before(async () => {
      cert = makeCertificate();
      tlsSim = await McmSimulator.start({ quiet: true, tls: { key: cert.key, cert: cert.cert } });
    });
    after(async () => {
      await tlsSim.stop();
    });

    it('verifies certificates by default: a self-signed one is refused with a TLS error', async () => {
      await loadActionFlow(tlsSim, { type: 'mimoe-list' });
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, /^listMims failed: TLS problem with the mimOE runtime \(DEPTH_ZERO_SELF_SIGNED_CERT/);
    });

    it('trusts a custom CA given through a tls-config node', async () => {
      await loadActionFlow(
        tlsSim,
        { type: 'mimoe-list' },
        { tls: 'tls' },
        [{ id: 'tls', type: 'tls-config', cert: '', key: '', ca: cert.certFile, verifyservercert: true }],
        [CORE.tls],
      );
      const { kind, msg } = await run({});
      assert.equal(kind, 'sent', msg.error?.message);
    });

    it('accepts a self-signed certificate only when asked, with a warning', async () => {
      await loadActionFlow(tlsSim, { type: 'mimoe-list' }, { insecure: true });
      const { kind } = await run({});
      assert.equal(kind, 'sent');
      const warnings = helper.log().args.filter((args: unknown[]) => /verification is OFF/.test(JSON.stringify(args)));
      assert.ok(warnings.length >= 1, 'a warning was logged');
    });
  });

  describe('secrets', () => {
    it('never puts the token in a msg, a status, a log line or an error', async () => {
      const secret = sim().key;
      await loadActionFlow(sim(), { type: 'mimoe-deploy' }, { timeout: TIMEOUT_S });
      const seen = statuses('n1');
      const outcomes = [];
      outcomes.push(await run({ payload: { name: 'ok1', image: 'img' } }));
      outcomes.push(await run({ payload: { name: 'ok1', image: 'img' } }));
      outcomes.push(await run({ payload: { name: 'bad name', image: 'img' } }));
      sim().setFault('deployMim', { status: 400, body: { message: `rejected Authorization: Bearer ${secret}` } });
      outcomes.push(await run({ payload: { name: 'ok2', image: 'img' } }));
      sim().setFault('deployMim', { hang: true });
      outcomes.push(await run({ payload: { name: 'ok3', image: 'img' } }));
      const everything = JSON.stringify({ outcomes, seen, log: helper.log().args });
      assert.ok(!everything.includes(secret), 'the token leaked');
      assert.match(JSON.stringify(outcomes[3].msg.error), /\*\*\*/);
    });
  });
});
