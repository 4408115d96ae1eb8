#!/usr/bin/env node
// `npm start`: Node-RED on 127.0.0.1:1880 with this package loaded, a user directory in the
// git-ignored .node-red-home/, no calls to the internet, and a mimOE to talk to:
// - MIMOE_URL and MIMOE_TOKEN set: that runtime, and no simulator;
// - otherwise the MCM simulator on 127.0.0.1:8083 (a free port when that one is taken, said in
//   the summary) with a demo image already uploaded.
// The demo flow's config node reads ${MIMOE_URL} and the key file ${MIMOE_KEY_FILE}, which
// this script sets for Node-RED, so the same flow works with either. For the fleet examples it
// also starts a simulated fleet of FLEET_SIZE devices on 127.0.0.1 that accept the key in that
// file, and sets ${MIMOE_FLEET_SEED} to its first device (unless MIMOE_FLEET_SEED is set: then
// that fleet is used, and none is started).
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { linkPackage, startNodeRed, stopNodeRed, writeSettings } = require('./node-red-launcher');
const { McmFleet, McmSimulator } = require(path.join(root, 'build/src/simulator'));
const { buildImageTar } = require(path.join(root, 'build/src/wire/image-tar'));
const { McmClient } = require(path.join(root, 'build/src/mcm/client'));

const userDir = path.resolve(process.env.MIMOE_USER_DIR || path.join(root, '.node-red-home'));
const editorPort = Number(process.env.PORT || 1880);
const simulatorPort = Number(process.env.MIMOE_SIMULATOR_PORT || 8083);
const keyFile = path.join(userDir, 'mimoe-api-key.env');
const demoTar = path.join(userDir, 'demo', 'hello-v1.tar');
const FLEET_SIZE = 3;

/** Whether nothing listens on 127.0.0.1:port yet (where Node-RED will listen). */
function portFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The failure of a busy editor port, with what to do about it. */
function portBusy() {
  return `port ${editorPort} is in use (another Node-RED, or an earlier npm start?): stop that, or start on another port, e.g. PORT=${editorPort + 1} npm start`;
}

async function startRuntime() {
  if (process.env.MIMOE_URL && process.env.MIMOE_TOKEN) {
    fs.writeFileSync(keyFile, `# written by npm start from MIMOE_TOKEN\nMCM_API_KEY=${process.env.MIMOE_TOKEN}\n`, { mode: 0o600 });
    return { url: process.env.MIMOE_URL.replace(/\/+$/, ''), simulator: undefined };
  }
  if (process.env.MIMOE_URL || process.env.MIMOE_TOKEN) {
    console.warn('npm start: set both MIMOE_URL and MIMOE_TOKEN to use a real runtime; starting the simulator instead');
  }
  let simulator;
  let moved;
  try {
    simulator = await McmSimulator.start({ port: simulatorPort, keyFile, quiet: true, logLimit: 10_000 });
  } catch (err) {
    if (err.code !== 'EADDRINUSE') throw err;
    // The demo reads ${MIMOE_URL}, so any port works: take a free one, and say so with the summary.
    simulator = await McmSimulator.start({ port: 0, keyFile, quiet: true, logLimit: 10_000 });
    moved = `port ${simulatorPort} is in use, so the simulator took port ${new URL(simulator.url).port}; MIMOE_SIMULATOR_PORT chooses another`;
  }
  const client = new McmClient({ url: simulator.url, token: simulator.key });
  await client.uploadImage(demoTar);
  client.close();
  return { url: simulator.url, simulator, moved };
}

/** The fleet the fleet examples use: MIMOE_FLEET_SEED's, else a simulated one sharing the demo's key file. */
async function startFleet() {
  if (process.env.MIMOE_FLEET_SEED) return { seed: process.env.MIMOE_FLEET_SEED, fleet: undefined };
  const fleet = await McmFleet.start({ size: FLEET_SIZE, keyFile, quiet: true, logLimit: 10_000 });
  return { seed: fleet.urls[0], fleet };
}

function prepareUserDir() {
  linkPackage(userDir);
  fs.mkdirSync(path.dirname(demoTar), { recursive: true });
  fs.writeFileSync(demoTar, buildImageTar({ name: 'hello-v1' }));
  const flows = path.join(userDir, 'flows.json');
  if (!fs.existsSync(flows)) fs.copyFileSync(path.join(root, 'examples', 'round-trip.json'), flows);
  return writeSettings(userDir, { port: editorPort });
}

/** What npm start started besides Node-RED, stopped when it ends. */
const started = { simulator: undefined, fleet: undefined };
async function stopSimulators() {
  await started.simulator?.stop();
  await started.fleet?.stop();
}

async function main() {
  // Port 0 takes a free port.
  if (editorPort !== 0 && !(await portFree(editorPort))) throw new Error(portBusy());
  const settings = prepareUserDir();
  const runtime = await startRuntime();
  started.simulator = runtime.simulator;
  const fleet = await startFleet();
  started.fleet = fleet.fleet;
  const env = { ...process.env, MIMOE_URL: runtime.url, MIMOE_KEY_FILE: keyFile, MIMOE_DEMO_TAR: demoTar, MIMOE_FLEET_SEED: fleet.seed };
  const red = await startNodeRed({ userDir, settings, env, output: (text) => process.stdout.write(text), timeoutMs: 120_000 });
  console.log(`\n  Node-RED editor:  ${red.url}/`);
  console.log(
    runtime.simulator
      ? `  mimOE runtime:    MCM simulator at ${runtime.url}/mcm/v1 (key in ${keyFile}; demo image hello-v1 uploaded)`
      : `  mimOE runtime:    ${runtime.url}/mcm/v1 (from MIMOE_URL; token from MIMOE_TOKEN)`,
  );
  if (runtime.moved) console.log(`  Note:             ${runtime.moved}`);
  console.log(
    fleet.fleet
      ? `  mimOE fleet:      ${FLEET_SIZE} simulated devices, ${fleet.fleet.urls.join(' ')} (same key; MIMOE_FLEET_SEED=${fleet.seed})`
      : `  mimOE fleet:      seed ${fleet.seed} (from MIMOE_FLEET_SEED)`,
  );
  console.log('  Stop with Ctrl+C.\n');
  const stop = async () => {
    await stopNodeRed(red.child);
    await stopSimulators();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  red.child.on('exit', async (code) => {
    await stopSimulators();
    process.exit(code ?? 0);
  });
}

main().catch(async (err) => {
  // Node-RED's own output was shown as it came: say what failed once, and what to do.
  console.error(`npm start failed: ${err.code === 'EADDRINUSE' && err.nodeRedLog !== undefined ? portBusy() : err.message}`);
  await stopSimulators();
  process.exit(1);
});
