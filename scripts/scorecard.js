#!/usr/bin/env node
// The Node-RED Flow Library scorecard (`node-red-dev validate`), run offline.
//
//   node scripts/scorecard.js            validate what `npm pack` would publish (needs a build)
//   node scripts/scorecard.js --dir      validate the working tree instead of the packed copy
//   node scripts/scorecard.js --catalogue FILE   answer the catalogue lookups from FILE
//                                                (default: an empty catalogue, {"modules": []})
//
// node-red-dev fetches https://catalogue.nodered.org/catalogue.json twice (P08 similar names,
// N01 duplicate node types) and aborts when it cannot. This file is also the preload module
// (`node -r scripts/scorecard.js`) of the node-red-dev child process: there it answers those
// catalogue requests inside node-red-dev's own axios (no socket is opened) and refuses every
// TCP connection except to the npm registry and the loopback host.
// Exit status: 0 all checks pass (advisory ones may fail: D03, see ADVISORY), 1 a check failed,
// 2 the tool could not run.
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const CATALOGUE_HOST = 'catalogue.nodered.org';
const BLOCKED_TAG = '[scorecard] blocked connection to';
const nrdDir = path.dirname(require.resolve('node-red-dev/package.json'));

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`scorecard: ${err && err.stack ? err.stack : err}`);
      process.exit(2);
    },
  );
} else if (process.env.SCORECARD_PRELOAD === '1') {
  installOfflineGuards();
}

// ---------------------------------------------------------------- preload (child process)

function installOfflineGuards() {
  const allowed = new Set(JSON.parse(process.env.SCORECARD_ALLOWED_HOSTS || '[]'));
  const catalogueFile = process.env.SCORECARD_CATALOGUE || '';

  // 1. The catalogue: answered in node-red-dev's axios (0.21) by wrapping its default adapter.
  const axios = require(require.resolve('axios', { paths: [nrdDir] }));
  const httpAdapter = axios.defaults.adapter;
  axios.defaults.adapter = function scorecardAdapter(config) {
    let host = '';
    try {
      host = new URL(config.url, config.baseURL).hostname;
    } catch {
      /* relative URL */
    }
    if (host !== CATALOGUE_HOST) return httpAdapter(config);
    const body = catalogueFile ? fs.readFileSync(catalogueFile, 'utf8') : '{"modules":[]}';
    process.stderr.write(`[scorecard] answered ${config.url} from ${catalogueFile || 'an empty catalogue'}\n`);
    return Promise.resolve({
      data: JSON.parse(body),
      status: 200,
      statusText: 'OK',
      headers: { 'content-type': 'application/json' },
      config,
      request: {},
    });
  };

  // 2. Every other TCP connection (axios, request, got, ...) goes through net.Socket#connect.
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    let opts = args[0];
    if (Array.isArray(opts)) opts = opts[0]; // net's internal normalized arguments
    let host;
    if (opts !== null && typeof opts === 'object') {
      host = opts.path ? null : opts.host || opts.hostname || 'localhost';
    } else if (typeof opts === 'string' && !/^\d+$/.test(opts)) {
      host = null; // an IPC path
    } else {
      host = typeof args[1] === 'string' ? args[1] : 'localhost';
    }
    if (host === null || allowed.has(String(host).toLowerCase())) return connect.apply(this, args);
    const err = new Error(`${BLOCKED_TAG} ${host}`);
    err.code = 'ECONNREFUSED';
    process.stderr.write(`${BLOCKED_TAG} ${host}\n`);
    process.nextTick(() => this.destroy(err));
    return this;
  };
}

// ---------------------------------------------------------------- wrapper (main process)

const CHECKS = {
  P01: 'package.json declares a license',
  P03: 'package.json has a repository or bugs URL',
  P04: 'package name is scoped, or does not misuse the node-red prefix',
  P05: "package.json keywords contain 'node-red'",
  P06: "node-red.version admits a current Node-RED (dist-tag 'latest' or '*maintenance*')",
  P07: "engines.node admits the minimum Node.js of Node-RED 'latest'",
  P08: 'no similarly named package in the catalogue',
  N00: "every declared node's .js and .html are packed and the .html parses (registerType)",
  N01: 'node types do not clash with types in the catalogue',
  N02: 'every non-config node is used in an examples/*.json flow',
  D01: 'at most 6 runtime dependencies',
  D02: 'no known-incompatible package in the dependency tree',
  D03: 'runtime dependencies are at their latest version',
};

/**
 * Checks shown with their state but not counted in the exit status: D03 turns red the day axios
 * or form-data publishes a release, through no change here (the caret ranges take the release; the
 * lockfile keeps CI on the tested versions).
 */
const ADVISORY = new Set(['D03']);

/**
 * The printed card and the exit status for a scorecard: every check's state, one line each; the
 * status is 1 when a check that is not advisory failed or did not run, when node-red-dev exited
 * with an error, or when it tried a host outside the allow-list.
 */
function verdict(score, run) {
  const lines = [];
  const failures = [];
  const advisories = [];
  for (const [id, what] of Object.entries(CHECKS)) {
    const r = score[id];
    const ok = Boolean(r && r.test === true);
    if (!ok) (ADVISORY.has(id) ? advisories : failures).push(id);
    const detail = r
      ? Object.entries(r)
          .filter(([k, v]) => k !== 'test' && !(Array.isArray(v) && v.length === 0))
          .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
          .join(' ')
      : 'not run';
    const advisory = !ok && ADVISORY.has(id) ? '  (advisory: does not fail the run)' : '';
    lines.push(`${ok ? 'PASS' : 'FAIL'}  ${id}  ${what}${detail ? `  [${detail}]` : ''}${advisory}`);
  }
  if (run.code !== 0) {
    failures.push('EXIT');
    lines.push(`FAIL  EXIT  node-red-dev exited with status ${run.code}`);
  }
  if (run.blocked.length) {
    failures.push('NET');
    lines.push(`FAIL  NET  the tool tried hosts outside the allow-list: ${run.blocked.join(', ')}`);
  }
  const total = Object.keys(CHECKS).length;
  const passing = total - failures.filter((f) => f in CHECKS).length - advisories.length;
  const advised = advisories.length ? `; advisory, not failing the run: ${advisories.join(', ')}` : '';
  lines.push(
    failures.length
      ? `scorecard: FAILED ${failures.join(', ')} (${passing}/${total} checks pass${advised})`
      : `scorecard: ${passing === total ? 'all ' : ''}${passing}/${total} checks pass${advised}`,
  );
  return { lines, failures, advisories, exitCode: failures.length ? 1 : 0 };
}

module.exports = { CHECKS, ADVISORY, verdict };

function parseArgs(argv) {
  const opts = { dir: false, catalogue: '' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dir') opts.dir = true;
    else if (argv[i] === '--catalogue') opts.catalogue = path.resolve(argv[++i] || '');
    else throw new Error(`unknown argument ${argv[i]} (use --dir, --catalogue FILE)`);
  }
  return opts;
}

function hostOf(url) {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

function allowedHosts() {
  const hosts = new Set(['127.0.0.1', 'localhost', '::1', 'registry.npmjs.org']);
  // The registry npm-check / npm-remote-ls use (registry-url reads the npm config).
  const registries = [process.env.npm_config_registry];
  try {
    registries.push(require(require.resolve('registry-url', { paths: [nrdDir] }))());
  } catch {
    /* absent */
  }
  for (const r of registries) {
    const h = r && hostOf(r);
    if (h) hosts.add(h);
  }
  return [...hosts];
}

function missingBuildFiles(pkgDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const nodes = Object.values((pkg['node-red'] || {}).nodes || {});
  const missing = [];
  for (const js of nodes) {
    for (const f of [js, js.replace('.js', '.html')]) {
      if (!fs.existsSync(path.join(pkgDir, f))) missing.push(f);
    }
  }
  return missing;
}

function packCopy(root, tmp) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  const tgz = path.join(tmp, info.filename);
  execFileSync('tar', ['-xzf', tgz, '-C', tmp]);
  console.log(`scorecard: packed ${info.id} (${info.entryCount} files) into ${path.join(tmp, 'package')}`);
  return path.join(tmp, 'package');
}

function runValidate(pkgDir, scoreFile, opts, hosts) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', __filename, path.join(nrdDir, 'bin', 'run'), 'validate', '-p', pkgDir, '-o', scoreFile], {
      cwd: pkgDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SCORECARD_PRELOAD: '1',
        SCORECARD_ALLOWED_HOSTS: JSON.stringify(hosts),
        SCORECARD_CATALOGUE: opts.catalogue,
        FORCE_COLOR: '0',
      },
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      output += d;
      process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      output += '\n[scorecard] timed out after 300 s\n';
      child.kill('SIGKILL');
    }, 300_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const root = path.resolve(__dirname, '..');
  const started = Date.now();

  const missing = missingBuildFiles(root);
  if (missing.length) {
    console.error(`scorecard: build output missing (run \`npm run build\` first): ${missing.join(', ')}`);
    return 2;
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scorecard-'));
  try {
    const pkgDir = opts.dir ? root : packCopy(root, tmp);
    const scoreFile = path.join(tmp, 'scorecard.json');
    const hosts = allowedHosts();
    console.log(`scorecard: node-red-dev validate -p ${pkgDir} (network: ${hosts.join(', ')} only)`);
    const run = await runValidate(pkgDir, scoreFile, opts, hosts);

    if (!fs.existsSync(scoreFile)) {
      console.error(
        `scorecard: node-red-dev did not finish (exit ${run.code}${run.signal ? `, ${run.signal}` : ''}); no scorecard written`,
      );
      return 2;
    }
    const score = JSON.parse(fs.readFileSync(scoreFile, 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

    // Checks node-red-dev 0.1.6 runs but does not record faithfully:
    // P05 is recorded as passed even when it warns; an .html that does not parse is only
    // logged ("Unable to parse") and its nodes silently drop out of N01/N02.
    const keywordOk = Array.isArray(pkg.keywords) && pkg.keywords.includes('node-red');
    if (score.P05 && !keywordOk) score.P05 = { test: false, note: "no 'node-red' keyword (the tool records a pass)" };
    const unparsed = [...run.output.matchAll(/Unable to parse\s+(\S+)/g)].map((m) => m[1]);
    const absent = missingBuildFiles(pkgDir);
    score.N00 = unparsed.length || absent.length ? { test: false, unparsed, missing: absent } : { test: true };

    const blocked = [...new Set([...run.output.matchAll(/\[scorecard\] blocked connection to (\S+)/g)].map((m) => m[1]))];

    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const result = verdict(score, { code: run.code, blocked });
    console.log(`\n    ---Scorecard summary---\n${result.lines.join('\n')} (${secs} s)`);
    return result.exitCode;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
