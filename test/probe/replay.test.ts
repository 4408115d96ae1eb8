import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { LogConformance, LogHeader, LogResult, parseLog } from '../../src/probe/exchange-log';
import { Probe } from '../../src/probe/probe';
import { rawRequest } from '../../src/probe/raw';
import { ReplayServer } from '../../src/simulator/replay';
import { SIMULATOR_CLI, listeningUrl, runCli } from '../support/cli';
import { tempDir } from '../support/simulator-helpers';
import { probeCli } from './helpers';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/field');

function exchange(method: string, path: string, status: number, body: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'exchange',
    method,
    path,
    status,
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: body,
    ms: 0,
    ...extra,
  });
}

describe('replay of recorded runtimes (test/fixtures/field)', function () {
  const files = readdirSync(FIXTURES).filter((file) => file.endsWith('.jsonl'));

  it('has at least the simulator field profile fixture', () => {
    assert.ok(files.includes('simulator-field-profile.jsonl'), files.join(', '));
  });

  for (const file of files) {
    it(`${file}: the probe re-run against the replay completes with the recorded table`, async function () {
      const lines = parseLog(readFileSync(join(FIXTURES, file), 'utf8'));
      const header = lines.find((line): line is LogHeader => line.type === 'probe');
      const recorded = lines.find((line): line is LogConformance => line.type === 'conformance');
      const result = lines.find((line): line is LogResult => line.type === 'result');
      assert.ok(header && recorded && result, 'a complete probe log: header, table and result');
      // The replay answers at the recorded pace.
      const recordedMs = lines.reduce((sum, line) => sum + (line.type === 'exchange' ? line.ms : 0), 0);
      this.timeout(20_000 + recordedMs * 2);
      const replay = await ReplayServer.fromFile(join(FIXTURES, file));
      try {
        const rerun = await new Probe({
          url: replay.url,
          key: 'replay-key-not-checked',
          prefix: header.prefix,
          clientId: header.clientId,
          deviceDir: header.deviceDir,
          timeoutMs: header.timeoutMs,
          startWaitMs: header.startWaitMs,
          pollMs: header.pollMs,
        }).run();
        assert.deepEqual(rerun.rows, recorded.rows);
        assert.equal(rerun.exitCode, result.exitCode);
        assert.deepEqual(replay.unmatched, []);
        assert.deepEqual(replay.unused, []);
      } finally {
        await replay.stop();
      }
    });
  }
});

describe('the probe against a replay with another prefix than the recording', function () {
  this.timeout(30_000);

  it('could not run, and says why whole in the result and the log; the table cuts after a whole word', async () => {
    const replay = await ReplayServer.fromFile(join(FIXTURES, 'simulator-field-profile.jsonl'));
    try {
      const result = await new Probe({ url: replay.url, key: 'replay-key-not-checked', prefix: 'not-the-recorded-one' }).run();
      assert.equal(result.outcome, 'could not run');
      assert.match(
        result.problem ?? '',
        /^upload failed: bad-response: uploadImage failed: the runtime sent an answer that cannot be read \(answered without the image, and "not-the-recorded-one-img" is not listed\)$/,
      );
      assert.equal(result.log.result?.problem, result.problem);
      // In the table, a long text is cut after a whole word.
      const createBody = result.rows.find((row) => row.id === 'create.body');
      assert.equal(createBody?.seen, 'upload: bad-response: uploadImage failed: the runtime sent an answer that cannot be read (answered…');
    } finally {
      await replay.stop();
    }
  });
});

describe('replay server', () => {
  let replay: ReplayServer | undefined;
  afterEach(async () => {
    await replay?.stop();
    replay = undefined;
  });

  it('answers requests by method and path in recorded order, each exchange once, unmatched ones with 501', async () => {
    replay = await ReplayServer.start(
      [
        JSON.stringify({ type: 'probe', prefix: 'x' }),
        exchange('GET', '/mcm/v1/mims', 200, '{"data":[]}'),
        exchange('GET', '/mcm/v1/mims', 403, '{"error":{"code":403,"message":"Forbidden"}}'),
        exchange('DELETE', '/mcm/v1/images/api-a%2Fb', 404, '', { responseHeaders: { 'x-runtime': 'v3', 'content-length': '999' } }),
      ].join('\n'),
    );
    const del = await fetch(`${replay.url}/mcm/v1/images/api-a%2Fb`, { method: 'DELETE' });
    assert.deepEqual([del.status, del.headers.get('x-runtime'), del.headers.get('content-length'), await del.text()], [404, 'v3', '0', '']);
    const first = await fetch(`${replay.url}/mcm/v1/mims`, { headers: { authorization: 'Bearer anything' } });
    assert.deepEqual([first.status, await first.json()], [200, { data: [] }]);
    const second = await fetch(`${replay.url}/mcm/v1/mims`);
    assert.equal(second.status, 403);
    const third = await fetch(`${replay.url}/mcm/v1/mims`);
    assert.equal(third.status, 501);
    assert.equal(third.headers.get('x-mimoe-replay'), 'unmatched');
    assert.match((await third.json()).error.message, /no recorded answer left for GET \/mcm\/v1\/mims/);
    assert.deepEqual(replay.unmatched, [{ method: 'GET', path: '/mcm/v1/mims' }]);
    assert.deepEqual(replay.unused, []);
  });

  it('keeps the recorded pace, and plays a recorded connection failure as one', async () => {
    replay = await ReplayServer.start(
      [exchange('POST', '/mcm/v1/images', 200, '', { ms: 400 }), exchange('GET', '/mcm/v1/mims', 0, '', { error: 'connection' })].join(
        '\n',
      ),
    );
    const started = Date.now();
    const upload = await fetch(`${replay.url}/mcm/v1/images`, { method: 'POST', body: 'tar bytes' });
    assert.equal(upload.status, 200);
    assert.ok(Date.now() - started >= 390, `answered after ${Date.now() - started} ms`);
    await assert.rejects(fetch(`${replay.url}/mcm/v1/mims`));
  });

  it('answers an Expect: 100-continue request before its body when the runtime did, without sending 100', async () => {
    replay = await ReplayServer.start(
      exchange('POST', '/mcm/v1/images', 400, '{"error":{"code":400,"message":"no image received"}}', {
        expect: { continued: false, bodySent: false },
      }),
    );
    const answer = await new Promise<{ status: number; continued: boolean }>((done, fail) => {
      let continued = false;
      const req = http.request(`${replay!.url}/mcm/v1/images`, {
        method: 'POST',
        headers: { expect: '100-continue', 'content-length': '5' },
        agent: false,
      });
      req.on('continue', () => (continued = true));
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode ?? 0, continued }));
      });
      req.on('error', fail);
      req.flushHeaders();
    });
    assert.deepEqual(answer, { status: 400, continued: false });
  });

  it('sends 100 Continue when the runtime did, takes the body, then answers; a recorded timeout never answers', async () => {
    replay = await ReplayServer.start(
      [
        exchange('POST', '/mcm/v1/images', 201, '{"id":"api-x","name":"x"}', { expect: { continued: true, bodySent: true } }),
        exchange('GET', '/mcm/v1/mims', 0, '', { error: 'timeout' }),
      ].join('\n'),
    );
    const upload = await rawRequest(replay.url, {
      method: 'POST',
      path: '/mcm/v1/images',
      headers: {},
      body: Buffer.from('tar bytes'),
      expectContinue: true,
      timeoutMs: 5000,
    });
    assert.deepEqual([upload.status, upload.expect], [201, { continued: true, bodySent: true }]);
    assert.ok(upload.ms < 1000, `the body went on 100 Continue, not after curl's second (${upload.ms} ms)`);
    const silent = await rawRequest(replay.url, { method: 'GET', path: '/mcm/v1/mims', headers: {}, timeoutMs: 300 });
    assert.deepEqual([silent.status, silent.error], [0, 'timeout']);
  });

  it('mcm-simulator --replay serves a log, then says how much of it was used', async () => {
    const file = join(tempDir(), 'one.jsonl');
    writeFileSync(file, exchange('GET', '/mcm/v1/images', 200, '{"data":[{"id":"api-x","name":"x"}]}') + '\n');
    const served = runCli(SIMULATOR_CLI, ['--replay', file, '--port', '0', '--quiet']);
    try {
      const url = await listeningUrl(served);
      const images = await fetch(`${url}/mcm/v1/images`);
      assert.deepEqual(await images.json(), { data: [{ id: 'api-x', name: 'x' }] });
      assert.equal((await fetch(`${url}/mcm/v1/mims`)).status, 501);
      served.child.kill('SIGTERM');
      assert.equal((await served.exit).code, 0);
      assert.match(served.stdout(), /replay: 1 of 1 exchanges used, 1 requests unmatched/);
    } finally {
      served.child.kill('SIGKILL');
    }
    const combined = spawn(process.execPath, [SIMULATOR_CLI, '--replay', file, '--key', 'k'], { stdio: 'ignore' });
    assert.equal(await new Promise((done) => combined.on('exit', done)), 2);
  });

  it('a probe run against the replay of its own log writes a log with the same exchanges', async function () {
    this.timeout(20_000);
    const fixture = join(FIXTURES, 'simulator-field-profile.jsonl');
    const header = parseLog(readFileSync(fixture, 'utf8'))[0] as LogHeader;
    replay = await ReplayServer.fromFile(fixture);
    const log = join(tempDir(), 'rerun.jsonl');
    const run = probeCli(['--url', replay.url, '--key-env', 'K', '--prefix', header.prefix, '--log', log], { K: 'replay-key-not-checked' });
    await run.exit;
    const paths = (text: string) =>
      parseLog(text)
        .filter((line) => line.type === 'exchange')
        .map((line) => line.type === 'exchange' && `${line.step} ${line.method} ${line.path} ${line.status}`);
    assert.deepEqual(paths(readFileSync(log, 'utf8')), paths(readFileSync(fixture, 'utf8')));
  });
});
