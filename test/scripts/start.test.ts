/**
 * `npm start` (scripts/start.js, run after the build as npm start runs it) the way a newcomer meets
 * it: the fleet examples work against what it sets up, with no other step, a busy editor port is
 * said once, with what to do, and a busy simulator port is replaced and said once.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McmClient } from '../../src/mcm/client';
import { readApiKey } from '../../src/mcm/key-file';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');

const root = join(__dirname, '..', '..', '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** scripts/start.js with its own user directory; none of the caller's MIMOE_* variables. */
function start(userDir: string, env: Record<string, string>): Started {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MIMOE_') && name !== 'PORT'));
  const child = spawn(process.execPath, [join(root, 'scripts', 'start.js')], {
    env: { ...clean, MIMOE_USER_DIR: userDir, MIMOE_SIMULATOR_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A listener on a free port of 127.0.0.1, as another program holding it. */
async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

const occurrences = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

describe('npm start (scripts/start.js)', function () {
  this.timeout(90_000);
  const dirs: string[] = [];
  const running: Started[] = [];
  const userDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'mimoe-start-'));
    dirs.push(dir);
    return dir;
  };
  // Ctrl+C as a person would: start.js then stops the Node-RED and the simulators it started (a
  // SIGKILL would leave them running). SIGKILL only for one that does not end in time.
  afterEach(async () => {
    for (const started of running.splice(0)) {
      if (started.child.exitCode !== null) continue;
      started.child.kill('SIGTERM');
      const force = setTimeout(() => started.child.kill('SIGKILL'), 15_000);
      await started.exited;
      clearTimeout(force);
    }
  });
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('sets up a simulated fleet on which the fleet examples run as shipped, and stops it on Ctrl+C', async () => {
    const dir = userDir();
    const started = start(dir, { PORT: '0' });
    running.push(started);
    await until('npm start to be ready', () => (/Stop with Ctrl\+C/.test(started.output()) ? true : undefined), 60_000);
    const editor = /Node-RED editor:\s+(http:\/\/\S+?)\/?\s/.exec(started.output())?.[1];
    const fleetLine = /mimOE fleet:.*/.exec(started.output())?.[0] ?? '';
    const devices = [...fleetLine.matchAll(/http:\/\/127\.0\.0\.1:\d+/g)].map((m) => m[0]);
    assert.ok(editor, started.output());
    assert.ok(devices.length >= 2, `a fleet of simulated devices: ${fleetLine}`);
    assert.match(fleetLine, new RegExp(`MIMOE_FLEET_SEED=${devices[0]}`));

    // The fleet-rollout example, deployed as shipped, and its inject pressed.
    const flow = JSON.parse(readFileSync(join(root, 'examples', 'fleet-rollout.json'), 'utf8')) as Array<Record<string, unknown>>;
    const deployed = await fetch(`${editor}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    assert.equal(deployed.status, 204, await deployed.text());
    const inject = flow.find((n) => n.type === 'inject')!;
    await until(
      'the inject to be pressed',
      async () => ((await fetch(`${editor}/inject/${inject.id as string}`, { method: 'POST' })).status === 200 ? true : undefined),
      10_000,
    );

    // Every device ends with the mim hello, deployed with the key of the demo's key file.
    const key = readApiKey(join(dir, 'mimoe-api-key.env'));
    const clients = devices.map((url) => new McmClient({ url, token: key }));
    try {
      await until(
        'hello on every device',
        async () =>
          (await Promise.all(clients.map((c) => c.listMims()))).every((mims) => mims.some((m) => m.name === 'hello')) ? true : undefined,
        30_000,
      );
    } finally {
      clients.forEach((c) => c.close());
    }
    assert.doesNotMatch(started.output(), /\[error\]/, 'Node-RED logged no error');

    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0);
    const gone = await fetch(devices[0]).then(
      () => false,
      () => true,
    );
    assert.ok(gone, 'the simulated fleet is stopped with npm start');
  });

  it('uses the fleet in MIMOE_FLEET_SEED instead, and starts none', async () => {
    const started = start(userDir(), { PORT: '0', MIMOE_FLEET_SEED: 'http://127.0.0.1:1' });
    running.push(started);
    await until('npm start to be ready', () => (/Stop with Ctrl\+C/.test(started.output()) ? true : undefined), 60_000);
    assert.match(started.output(), /mimOE fleet:\s+seed http:\/\/127\.0\.0\.1:1 \(from MIMOE_FLEET_SEED\)/);
  });

  it('with the editor port taken: says so once, with the PORT to set, and leaves nothing running', async () => {
    const { server, port } = await occupyPort();
    try {
      const started = start(userDir(), { PORT: String(port) });
      running.push(started);
      assert.equal(await started.exited, 1);
      const output = started.output();
      assert.equal(occurrences(output, /npm start failed/), 1, output);
      assert.equal(output.trim().split('\n').length, 1, `one line and nothing else:\n${output}`);
      assert.match(output, new RegExp(`npm start failed: port ${port} is in use .*PORT=${port + 1} npm start`));
      assert.equal(occurrences(output, /Welcome to Node-RED/), 0, `Node-RED was not started:\n${output}`);
    } finally {
      server.close();
    }
  });

  it('with the simulator port taken: takes a free one and says so in one line naming MIMOE_SIMULATOR_PORT', async () => {
    const { server, port } = await occupyPort();
    try {
      const dir = userDir();
      const started = start(dir, { PORT: '0', MIMOE_SIMULATOR_PORT: String(port) });
      running.push(started);
      await until('npm start to be ready', () => (/Stop with Ctrl\+C/.test(started.output()) ? true : undefined), 60_000);
      const output = started.output();
      const runtime = /MCM simulator at http:\/\/127\.0\.0\.1:(\d+)\/mcm\/v1/.exec(output);
      assert.ok(runtime, output);
      assert.notEqual(Number(runtime[1]), port, 'the simulator is not on the taken port');
      const said = output.split('\n').filter((line) => line.includes(`port ${port} is in use`));
      assert.equal(said.length, 1, output);
      assert.match(
        said[0],
        new RegExp(`port ${port} is in use, so the simulator took port ${runtime[1]}; MIMOE_SIMULATOR_PORT chooses another`),
      );
      const client = new McmClient({ url: `http://127.0.0.1:${runtime[1]}`, token: readApiKey(join(dir, 'mimoe-api-key.env')) });
      try {
        assert.deepEqual(
          (await client.listImages()).map((image) => image.name),
          ['hello-v1'],
          'the demo image is on the simulator at the announced port',
        );
      } finally {
        client.close();
      }
    } finally {
      server.close();
    }
  });

  it("the launcher: Node-RED's output shown as it came is not repeated in the error, which names a taken port", async () => {
    const { server, port } = await occupyPort();
    const dir = userDir();
    let shown = '';
    try {
      const settings = launcher.writeSettings(dir, { port });
      const failure = await launcher.startNodeRed({ userDir: dir, settings, output: (text) => (shown += text) }).then(
        () => assert.fail('Node-RED started on a taken port'),
        (err: Error & { code?: string; nodeRedLog?: string }) => err,
      );
      assert.equal(failure.code, 'EADDRINUSE');
      assert.match(failure.message, /^Node-RED exited with \d+$/);
      assert.match(shown, /Welcome to Node-RED/);
      assert.equal(failure.nodeRedLog, shown);
    } finally {
      server.close();
    }
  });
});
