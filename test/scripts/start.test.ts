/**
 * `npm start` (scripts/start.js, run after the build as npm start runs it) the way a newcomer meets
 * it: a busy editor port is said once, with what to do.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  afterEach(async () => {
    for (const started of running.splice(0)) {
      if (started.child.exitCode === null) started.child.kill('SIGKILL');
      await started.exited;
    }
  });
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('with the editor port taken: says so once, with the PORT to set, and leaves nothing running', async () => {
    const { server, port } = await occupyPort();
    try {
      const started = start(userDir(), { PORT: String(port) });
      running.push(started);
      assert.equal(await started.exited, 1);
      const output = started.output();
      assert.equal(occurrences(output, /npm start failed/), 1, output);
      assert.match(output, new RegExp(`npm start failed: port ${port} is in use .*PORT=${port + 1} npm start`));
      assert.equal(occurrences(output, /Welcome to Node-RED/), 0, `Node-RED was not started:\n${output}`);
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
