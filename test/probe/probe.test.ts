import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { LogExchange, LogLine, parseLog } from '../../src/probe/exchange-log';
import { POINTS, Verdict } from '../../src/probe/points';
import { Probe } from '../../src/probe/probe';
import { KEY_PLACEHOLDER, KeyRedactor } from '../../src/probe/redact';
import { McmSimulator, SIM_ROUTES } from '../../src/simulator';
import { startTestSimulator, tempDir, uploadTar, waitFor } from '../support/simulator-helpers';
import { leftOn, printedTable, probeCli, verdicts } from './helpers';

/** A key with characters that every encoding writes differently. */
const ODD_KEY = 'pr0be/key+with=odd&chars"\\~x';

const allAsDocumented = Object.fromEntries(POINTS.map((point) => [point.id, 'as documented'])) as Record<string, Verdict>;

function logLines(file: string): LogLine[] {
  return parseLog(readFileSync(file, 'utf8'));
}

const exchangesOf = (lines: LogLine[]): LogExchange[] => lines.filter((line): line is LogExchange => line.type === 'exchange');

describe('mimoe-probe against the simulator', function () {
  this.timeout(30_000);
  let sim: McmSimulator | undefined;

  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function probeRun(prefix: string, extra: string[] = [], key = 'sim-test-key') {
    const log = join(tempDir(), `${prefix}.jsonl`);
    const run = probeCli(['--url', sim!.url, '--key-env', 'PROBE_TEST_KEY', '--prefix', prefix, '--log', log, ...extra], {
      PROBE_TEST_KEY: key,
    });
    const code = await run.exit;
    return { code, stdout: run.stdout(), stderr: run.stderr(), log };
  }

  it('contract profile: prints every point as documented, leaves nothing, and logs every exchange without the key', async () => {
    sim = await startTestSimulator();
    const prefix = 'probe-contract';
    const { code, stdout, stderr, log } = await probeRun(prefix);
    assert.equal(code, 0, stderr);
    const table = printedTable(stdout);
    assert.deepEqual(
      table.map((row) => row.id),
      POINTS.map((point) => point.id),
    );
    assert.deepEqual(verdicts(table), allAsDocumented);
    assert.match(stdout, /27 as documented, 0 differs, 0 not observed/);
    assert.deepEqual(leftOn(sim, prefix), []);
    assert.match(stdout, /nothing named probe-contract-\.\.\. is left/);

    const lines = logLines(log);
    const exchanges = exchangesOf(lines);
    // Every request the simulator saw is in the log, in order, with its status.
    assert.deepEqual(
      exchanges.map((e) => `${e.method} ${e.path} ${e.status}`),
      sim.requests().map((r) => `${r.method} ${r.url} ${r.status}`),
    );
    assert.deepEqual(
      lines.find((line) => line.type === 'conformance'),
      { type: 'conformance', rows: table },
    );
    assert.deepEqual(new KeyRedactor('sim-test-key').leaks(readFileSync(log, 'utf8')), []);
  });

  it('field profile: the points where real runtimes differ show `differs`, with what was seen', async () => {
    sim = await startTestSimulator({ profile: 'field', uploadAnswerDelayMs: 2500 });
    const prefix = 'probe-field';
    const { code, stdout, stderr, log } = await probeRun(prefix);
    assert.equal(code, 0, stderr);
    assert.deepEqual(new KeyRedactor('sim-test-key').leaks(readFileSync(log, 'utf8')), []);
    const table = printedTable(stdout);
    const differs = [
      'auth.missing-key',
      'path.unmounted',
      'create.body',
      'upload.answer-delay',
      'created.type',
      'mim.env-shape',
      'mim.duplicate',
      'deploy.unknown-image',
      'datastore.follow-up',
      'composition.answer',
      'upload.chunked',
      'upload.expect',
      'image.delete-by-name',
    ];
    assert.deepEqual(verdicts(table), { ...allAsDocumented, ...Object.fromEntries(differs.map((id) => [id, 'differs'])) });
    const seen = Object.fromEntries(table.map((row) => [row.id, row.seen]));
    assert.equal(seen['auth.missing-key'], 'HTTP 401 Unauthorized');
    assert.equal(seen['path.unmounted'], 'HTTP 503 with an empty body');
    assert.equal(seen['mim.env-shape'], 'listed with env as an array of "KEY=VALUE" strings');
    assert.equal(seen['created.type'], 'images: a number; mims: a number');
    assert.equal(seen['upload.answer-delay'], 'answered more than 2 s after the last byte');
    assert.match(seen['create.body'], /^upload: HTTP 200 with an empty body; deploy: HTTP 200 with an empty body$/);
    assert.match(seen['deploy.unknown-image'], /^HTTP 400 cannot find image with name probe-field-missing$/);
    assert.match(seen['upload.chunked'], /^HTTP 411/);
    assert.match(seen['upload.expect'], /^HTTP 400 no image received/);
    assert.match(seen['image.delete-by-name'], /^HTTP 404/);
    assert.deepEqual(leftOn(sim, prefix), []);
  });

  it('redacts the key in every encoding a runtime echoes it in, and still logs that something was there', async () => {
    sim = await startTestSimulator({ key: ODD_KEY });
    const echoes: Record<string, string> = {
      'x-echo-raw': ODD_KEY,
      'x-echo-url': encodeURIComponent(ODD_KEY),
      'x-echo-base64': Buffer.from(ODD_KEY).toString('base64'),
      'x-echo-base64url': Buffer.from(ODD_KEY).toString('base64url'),
      'x-echo-bearer': Buffer.from(`Bearer ${ODD_KEY}`).toString('base64'),
      'x-echo-basic': Buffer.from(`api:${ODD_KEY}`).toString('base64'),
      'x-echo-hex': Buffer.from(ODD_KEY).toString('hex').toUpperCase(),
    };
    for (const route of SIM_ROUTES) sim.setFault(route, { headers: echoes });
    const body = {
      error: { code: 500, message: `echo ${ODD_KEY} ${encodeURIComponent(encodeURIComponent(ODD_KEY))} ${JSON.stringify({ k: ODD_KEY })}` },
    };
    sim.setFault('dataStore', { headers: echoes, status: 500, body, times: 1 });
    const prefix = 'probe-echo';
    const { code, stderr, log } = await probeRun(prefix, [], ODD_KEY);
    assert.equal(code, 0, stderr);
    const text = readFileSync(log, 'utf8');
    assert.deepEqual(new KeyRedactor(ODD_KEY).leaks(text), []);
    for (const form of [
      ODD_KEY,
      encodeURIComponent(ODD_KEY),
      JSON.stringify(ODD_KEY).slice(1, -1),
      Buffer.from(ODD_KEY).toString('base64'),
    ]) {
      assert.equal(text.includes(form), false, form);
    }
    // The echoes were recorded, as placeholders.
    const echoed = exchangesOf(parseLog(text)).find((e) => e.step === 'backup');
    assert.equal(echoed?.responseHeaders['x-echo-raw'], KEY_PLACEHOLDER);
    assert.equal(echoed?.responseHeaders['x-echo-bearer'], KEY_PLACEHOLDER);
    assert.ok((echoed?.responseBody as string).includes(`echo ${KEY_PLACEHOLDER}`));
    assert.deepEqual(leftOn(sim, prefix), []);
  });

  it('cleans up after an essential step fails: could not run, exit 1, nothing left', async () => {
    sim = await startTestSimulator();
    sim.setFault('deployMim', { status: 500, times: 1 });
    const prefix = 'probe-deploy-fails';
    const { code, stdout, stderr } = await probeRun(prefix);
    assert.equal(code, 1, stdout);
    assert.match(stderr, /could not run: deploy failed: HTTP 500 simulated fault/);
    const table = Object.fromEntries(printedTable(stdout).map((row) => [row.id, row]));
    assert.equal(table['create.body'].verdict, 'differs');
    assert.equal(table['upload.answer-delay'].verdict, 'as documented');
    assert.equal(table['datastore.backup'].verdict, 'not observed');
    assert.equal(table['datastore.backup'].seen, 'not reached (the probe could not run)');
    assert.equal(sim.requests('deleteImage').length > 0, true);
    assert.deepEqual(leftOn(sim, prefix), []);
  });

  it('a refused key: could not run, said once after the table, with what to check', async () => {
    sim = await startTestSimulator();
    const { code, stdout, stderr, log } = await probeRun('probe-wrong-key', [], 'not-the-simulator-key');
    assert.equal(code, 1, stdout);
    const problem =
      /^mimoe-probe: could not run: preflight failed: HTTP 403 .*; the runtime refused the key \(401: missing or expired, 403: wrong\): check the key that --key-file or --key-env gives$/m;
    assert.match(stderr, problem);
    const table = printedTable(stdout);
    assert.equal(table.length, POINTS.length);
    const notReached = table.filter((row) => row.verdict === 'not observed');
    assert.ok(notReached.length >= POINTS.length - 1, stdout);
    assert.ok(
      notReached.every((row) => row.seen === 'not reached (the probe could not run)'),
      stdout,
    );
    assert.equal(`${stdout}${stderr}`.split('preflight failed').length - 1, 1, 'the reason is said once');
    const result = logLines(log).find((line) => line.type === 'result') as { problem?: string } | undefined;
    assert.match(`mimoe-probe: could not run: ${result?.problem}`, problem, 'the log keeps the whole problem');
  });

  it('an upload refused as some builds refuse them: could not run, the refusal in the table, nothing left', async () => {
    sim = await startTestSimulator();
    sim.setFault('uploadImage', { status: 400, body: { error: { code: 400, message: 'no image received' } }, times: 1 });
    const { code, stdout } = await probeRun('probe-upload-refused');
    assert.equal(code, 1, stdout);
    const table = Object.fromEntries(printedTable(stdout).map((row) => [row.id, row]));
    assert.deepEqual([table['create.body'].verdict, table['create.body'].seen], ['differs', 'upload: HTTP 400 no image received']);
    assert.deepEqual([table['upload.answer-delay'].verdict, table['upload.answer-delay'].seen], ['not observed', 'the upload failed']);
    assert.equal(table['auth.wrong-key'].verdict, 'as documented');
    assert.deepEqual(leftOn(sim, 'probe-upload-refused'), []);
  });

  it('goes on after a failed step that others do not need: the failure is a finding, exit 0, nothing left', async () => {
    sim = await startTestSimulator();
    sim.setFault('dataStore', { status: 500, times: 1 });
    const prefix = 'probe-backup-fails';
    const { code, stdout, stderr } = await probeRun(prefix);
    assert.equal(code, 0, stderr);
    const table = Object.fromEntries(printedTable(stdout).map((row) => [row.id, row]));
    assert.equal(table['datastore.backup'].verdict, 'differs');
    assert.match(table['datastore.backup'].seen, /^backup: HTTP 500 simulated fault/);
    assert.deepEqual(
      [table['datastore.restore'].verdict, table['datastore.restore'].seen],
      ['not observed', 'the backup did not complete'],
    );
    assert.equal(table['image.delete-by-name'].verdict, 'as documented');
    assert.deepEqual(leftOn(sim, prefix), []);
  });

  it('a simulated Ctrl-C stops the sequence, cleans up, and ends `interrupted` (exit 130)', async () => {
    sim = await startTestSimulator();
    sim.setFault('dataStore', { hang: true });
    const stop = new AbortController();
    const prefix = 'probe-abort';
    const probe = new Probe({
      url: sim.url,
      key: sim.key,
      prefix,
      signal: stop.signal,
      onProgress: (line) => {
        if (line === 'backup') setTimeout(() => stop.abort(), 50);
      },
    });
    const result = await probe.run();
    assert.equal(result.outcome, 'interrupted');
    assert.equal(result.exitCode, 130);
    assert.deepEqual(result.leftovers, []);
    assert.deepEqual(leftOn(sim, prefix), []);
    const rows = Object.fromEntries(result.rows.map((row) => [row.id, row]));
    assert.equal(rows['mim.duplicate'].verdict, 'as documented');
    assert.deepEqual([rows['datastore.backup'].verdict, rows['datastore.backup'].seen], ['not observed', 'interrupted before this point']);
    assert.equal(result.log.result?.outcome, 'interrupted');
  });

  it('Ctrl-C: the first stops and cleans up (exit 130); a second exits at once naming what may be left, and --cleanup removes it', async () => {
    sim = await startTestSimulator();
    const env = { PROBE_TEST_KEY: sim.key };
    const base = ['--url', sim.url, '--key-env', 'PROBE_TEST_KEY', '--log', join(tempDir(), 'p.jsonl')];

    sim.setFault('dataStore', { hang: true });
    const once = probeCli([...base, '--prefix', 'probe-sigint'], env);
    await waitFor(() => sim!.requests('dataStore').length === 1, 'the backup request', 10_000);
    once.child.kill('SIGINT');
    assert.equal(await once.exit, 130);
    assert.match(once.stderr(), /stopping; removing what the probe created/);
    assert.match(once.stderr(), /interrupted/);
    assert.deepEqual(leftOn(sim, 'probe-sigint'), []);

    sim.setFault('dataStore', { hang: true });
    sim.setFault('removeMim', { hang: true });
    const [backups, removals] = [sim.requests('dataStore').length, sim.requests('removeMim').length];
    const twice = probeCli([...base, '--prefix', 'probe-twice'], env);
    await waitFor(() => sim!.requests('dataStore').length > backups, 'the backup request', 10_000);
    twice.child.kill('SIGINT');
    await waitFor(() => sim!.requests('removeMim').length > removals, 'the removal request', 10_000);
    twice.child.kill('SIGINT');
    assert.equal(await twice.exit, 130);
    assert.match(twice.stderr(), /exited at once; these may be left on the runtime: .*probe-twice-img/);
    assert.match(twice.stderr(), /probe-twice-mim/);
    assert.match(twice.stderr(), /--prefix probe-twice --cleanup/);
    assert.notDeepEqual(leftOn(sim, 'probe-twice'), []);

    sim.clearFaults();
    const cleanup = probeCli([...base, '--prefix', 'probe-twice', '--cleanup'], env);
    assert.equal(await cleanup.exit, 0, cleanup.stderr());
    assert.deepEqual(leftOn(sim, 'probe-twice'), []);
  });

  it("with an access token, accepts ids made of the token's client id (a UUID, hyphens and all) and the name", async () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9iZSJ9.c2lnbmF0dXJlLW9mLWEtdGVzdA';
    const project = '3b241101-e2bb-4255-8caf-4136c566a962';
    sim = await startTestSimulator({ tokens: { [jwt]: project } });
    const result = await new Probe({ url: sim.url, key: jwt, prefix: 'probe-jwt' }).run();
    const rows = Object.fromEntries(result.rows.map((row) => [row.id, row]));
    assert.deepEqual(rows['image.id-shape'], {
      id: 'image.id-shape',
      verdict: 'as documented',
      seen: `id "${project}-probe-jwt-img" (client id "${project}" from the token)`,
    });
    assert.equal(rows['mim.id-shape'].verdict, 'as documented');
    assert.equal(result.exitCode, 0);
    assert.deepEqual(leftOn(sim, 'probe-jwt'), []);
  });

  it('refuses to start when one of its names exists already, and touches nothing', async () => {
    sim = await startTestSimulator();
    await uploadTar(sim, buildImageTar({ name: 'probe-taken-img' }));
    const before = sim.requests().length;
    const { code, stderr, stdout } = await probeRun('probe-taken');
    assert.equal(code, 1, stdout);
    assert.match(stderr, /already has image probe-taken-img: choose another --prefix/);
    assert.deepEqual(
      sim
        .requests()
        .slice(before)
        .map((r) => r.method),
      ['GET', 'GET'],
    );
    assert.deepEqual(
      sim.images().map((image) => image.name),
      ['probe-taken-img'],
    );
  });

  it('never takes the key on the command line, and explains why', async () => {
    const help = probeCli(['--help']);
    assert.equal(await help.exit, 0);
    assert.match(help.stdout(), /shell history/);
    for (const args of [
      ['--url', 'http://127.0.0.1:9', '--key', 'secret-key-1'],
      ['--url', 'http://127.0.0.1:9'],
      ['--key-env', 'X'],
      ['--url', 'http://127.0.0.1:9', '--key-env', 'X', '--key-file', 'f'],
      ['--bogus'],
    ]) {
      const run = probeCli(args);
      assert.equal(await run.exit, 2, args.join(' '));
      assert.match(run.stderr(), /Usage: mimoe-probe/);
    }
    const keyArg = probeCli(['--url', 'http://127.0.0.1:9', '--key', 'secret-key-1']);
    await keyArg.exit;
    assert.match(keyArg.stderr(), /--key is not taken: a key on the command line ends up in shell history/);
  });

  it('reads the key from the runtime key file, and says so when the runtime cannot be reached (exit 1)', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'mimoe-api-key.env');
    writeFileSync(keyFile, '# written by mimOE\nMCM_API_KEY=file-key-123456\nACCOUNT_API_KEY=other\n');
    sim = await startTestSimulator({ key: 'file-key-123456' });
    const url = sim.url;
    await sim.stop();
    const log = join(dir, 'unreachable.jsonl');
    const run = probeCli(['--url', url, '--key-file', keyFile, '--prefix', 'probe-unreachable', '--log', log, '--timeout', '2']);
    assert.equal(await run.exit, 1);
    assert.match(run.stderr(), /could not run: .*cannot reach the runtime/);
    assert.equal(existsSync(log), true);
    assert.deepEqual(new KeyRedactor('file-key-123456').leaks(readFileSync(log, 'utf8')), []);
  });
});

describe('docs/mcm-api.md and the probe', () => {
  it("the document gives every point of the probe's table an entry, in the same order", () => {
    const doc = readFileSync(resolve(__dirname, '../../../docs/mcm-api.md'), 'utf8');
    const ids = [...doc.matchAll(/^#### `([a-z.-]+)`/gm)].map((match) => match[1]);
    assert.deepEqual(
      ids,
      POINTS.map((point) => point.id),
    );
  });
});
