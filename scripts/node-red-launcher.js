// Starts a real Node-RED with this package in its user directory: used by `npm start` and by
// the tests that need the whole runtime (admin API, editor, the packed package).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const packageName = pkg.name;
/** The node types this package registers, from package.json's node-red section. */
const nodeTypes = Object.keys(pkg['node-red'].nodes);

/** Links a package folder into userDir/node_modules, as `npm install <folder>` would. */
function linkPackage(userDir, packageDir = root) {
  const link = path.join(userDir, 'node_modules', ...packageName.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(packageDir, link, 'dir');
}

/**
 * Writes settings.js for a Node-RED that listens on 127.0.0.1 only and never calls the internet.
 * `extra` is JavaScript source for more settings properties (e.g. adminAuth).
 */
function writeSettings(userDir, { port, extra = '' }) {
  const file = path.join(userDir, 'settings.js');
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(
    file,
    `// Written by scripts/node-red-launcher.js.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  editorTheme: { palette: { catalogues: [] }, tours: false, projects: { enabled: false } },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  telemetry: { enabled: false },
  ${extra}
};
`,
  );
  return file;
}

/**
 * Spawns Node-RED and resolves once its flows have started, with the URL it serves. Port 0 picks
 * a free port. `nodeRedDir` chooses the node-red installation (default NODE_RED_PATH, else this
 * project's), `node` the Node.js binary. `output` receives Node-RED's output as it comes; without
 * it, a failure's message holds that output. A failure carries it as `nodeRedLog`, and the code
 * EADDRINUSE when the port was taken.
 */
function startNodeRed({
  userDir,
  settings,
  env = process.env,
  nodeRedDir = process.env.NODE_RED_PATH,
  node = process.execPath,
  output,
  timeoutMs = 60_000,
}) {
  const shown = output !== undefined;
  output ??= () => {};
  const red = nodeRedDir ? path.join(nodeRedDir, 'red.js') : require.resolve('node-red/red.js');
  const child = spawn(node, [red, '--userDir', userDir, '--settings', settings], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let url;
    let log = '';
    const timer = setTimeout(() => fail(new Error(`Node-RED did not start within ${timeoutMs} ms${shown ? '' : `:\n${log}`}`)), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onData = (chunk) => {
      const text = chunk.toString();
      log += text;
      output(text);
      url ??= /Server now running at (http:\/\/\S+?)\/?\s/.exec(log)?.[1];
      if (url && /Started flows/.test(log)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.on('data', (c) => output(c.toString()));
        resolve({ url, child, log: () => log, stop: () => stopNodeRed(child) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => {
      log += c.toString();
      output(c.toString());
    });
    child.once('exit', (code) => {
      const err = new Error(`Node-RED exited with ${code}${shown ? '' : `:\n${log}`}`);
      err.nodeRedLog = log;
      if (/EADDRINUSE|port in use/i.test(log)) err.code = 'EADDRINUSE';
      fail(err);
    });
  });
}

function stopNodeRed(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

module.exports = { linkPackage, writeSettings, startNodeRed, stopNodeRed, packageName, nodeTypes };
