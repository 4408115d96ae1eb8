#!/usr/bin/env node
// `npm start`: Node-RED on 127.0.0.1:1880 with this package loaded, a user directory in the
// git-ignored .node-red-home/, no calls to the internet, and a mimOE to talk to:
// - MIMOE_URL and MIMOE_TOKEN set: that runtime, and no simulator;
// - otherwise the MCM simulator on 127.0.0.1:8083 with a demo image already uploaded.
// The demo flow's config node reads ${MIMOE_URL} and the key file ${MIMOE_KEY_FILE}, which
// this script sets for Node-RED, so the same flow works with either.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const { McmSimulator } = require(path.join(root, 'build/src/simulator'));
const { buildImageTar } = require(path.join(root, 'build/src/mcm/image-tar'));
const { McmClient } = require(path.join(root, 'build/src/mcm/client'));

const userDir = path.resolve(process.env.MIMOE_USER_DIR || path.join(root, '.node-red-home'));
const editorPort = Number(process.env.PORT || 1880);
const simulatorPort = Number(process.env.MIMOE_SIMULATOR_PORT || 8083);
const keyFile = path.join(userDir, 'mimoe-api-key.env');
const demoTar = path.join(userDir, 'demo', 'hello-v1.tar');

async function startRuntime() {
  if (process.env.MIMOE_URL && process.env.MIMOE_TOKEN) {
    fs.writeFileSync(keyFile, `# written by npm start from MIMOE_TOKEN\nMCM_API_KEY=${process.env.MIMOE_TOKEN}\n`, { mode: 0o600 });
    return { url: process.env.MIMOE_URL.replace(/\/+$/, ''), simulator: undefined };
  }
  let simulator;
  try {
    simulator = await McmSimulator.start({ port: simulatorPort, keyFile, quiet: true });
  } catch (err) {
    if (err.code !== 'EADDRINUSE') throw err;
    simulator = await McmSimulator.start({ port: 0, keyFile, quiet: true });
  }
  const client = new McmClient({ url: simulator.url, token: simulator.key });
  await client.uploadImage(demoTar);
  client.close();
  return { url: simulator.url, simulator };
}

/** Links this package into the user directory the way `npm install <path>` would. */
function prepareUserDir() {
  const link = path.join(userDir, 'node_modules', ...pkg.name.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.mkdirSync(path.dirname(demoTar), { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(demoTar, buildImageTar({ name: 'hello-v1' }));
  const settings = path.join(userDir, 'settings.js');
  fs.writeFileSync(
    settings,
    `// Written by npm start; edit scripts/start.js instead.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${editorPort},
  flowFile: 'flows.json',
  credentialSecret: false,
  editorTheme: { palette: { catalogues: [] }, tours: false, projects: { enabled: false } },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  telemetry: { enabled: false },
  logging: { console: { level: 'info' } },
};
`,
  );
  const flows = path.join(userDir, 'flows.json');
  if (!fs.existsSync(flows)) fs.copyFileSync(path.join(root, 'examples', 'round-trip.json'), flows);
  return settings;
}

async function main() {
  const settings = prepareUserDir();
  const runtime = await startRuntime();
  const env = { ...process.env, MIMOE_URL: runtime.url, MIMOE_KEY_FILE: keyFile, MIMOE_DEMO_TAR: demoTar };
  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settings], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let announced = false;
  red.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (!announced && /Started flows/.test(chunk.toString())) {
      announced = true;
      console.log(`\n  Node-RED editor:  http://127.0.0.1:${editorPort}/`);
      console.log(
        runtime.simulator
          ? `  mimOE runtime:    MCM simulator at ${runtime.url}/mcm/v1 (key in ${keyFile}; demo image hello-v1 uploaded)`
          : `  mimOE runtime:    ${runtime.url}/mcm/v1 (from MIMOE_URL; token from MIMOE_TOKEN)`,
      );
      console.log('  Stop with Ctrl+C.\n');
    }
  });
  const stop = async () => {
    red.kill('SIGTERM');
    await runtime.simulator?.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  red.on('exit', async (code) => {
    await runtime.simulator?.stop();
    process.exit(code ?? 0);
  });
}

main().catch((err) => {
  console.error(`npm start failed: ${err.message}`);
  process.exit(1);
});
