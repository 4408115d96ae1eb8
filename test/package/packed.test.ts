/**
 * The package as npm would publish it: `npm pack` holds only what runs, and the tarball installed
 * into a fresh Node-RED user directory loads every node, enabled, with its catalog. The suite runs
 * after a build, so packing skips prepack's second one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../../package.json') as { name: string; version: string; 'node-red': { nodes: Record<string, string> } };

const root = join(__dirname, '..', '..', '..');
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the packed package', function () {
  this.timeout(180_000);
  const work = mkdtempSync(join(tmpdir(), 'mimoe-pack-'));
  let files: string[];
  let tarball: string;

  before(() => {
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], root)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    files = packed.files.map((f) => f.path);
    tarball = join(work, packed.filename);
  });

  it('holds only what runs', () => {
    const types = Object.keys(pkg['node-red'].nodes);
    for (const type of types) {
      for (const file of [
        `build/src/nodes/${type}.js`,
        `build/src/nodes/${type}.html`,
        `build/src/nodes/locales/en-US/${type}.json`,
        `build/src/nodes/locales/en-US/${type}.html`,
      ]) {
        assert.ok(files.includes(file), `${file} is packed`);
      }
    }
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'build/src/index.js',
      'build/src/index.d.ts',
      'build/src/mcm/client.d.ts',
      'build/src/simulator/cli.js',
      'build/src/simulator/index.d.ts',
      'build/src/wire/image-tar.js',
      'resources/mimoe-editor.js',
      'examples/round-trip.json',
    ]) {
      assert.ok(files.includes(file), `${file} is packed`);
    }
    assert.ok(
      files.some((f) => f.startsWith('build/src/nodes/icons/') && f.endsWith('.svg')),
      'icons are packed',
    );
    const strays = files.filter(
      (f) =>
        /^(src|test|bench|scripts|ci|\.ci|nodes|locales)\//.test(f) ||
        f.startsWith('build/test') ||
        f.startsWith('build/bench') ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
        f.endsWith('.map'),
    );
    assert.deepEqual(strays, []);
    assert.deepEqual(
      files.filter((f) => f.startsWith('docs/')),
      ['docs/mcm-api.md'],
      'of docs/, the contract the probe checks (no screenshots)',
    );
  });

  it('the commands name in their --help only files the package holds', () => {
    for (const cli of ['build/src/probe/cli.js', 'build/src/simulator/cli.js']) {
      const help = execFileSync(process.execPath, [join(root, cli), '--help'], { encoding: 'utf8' });
      const named = [...help.matchAll(/\b(?:docs|src|test|build|examples)\/[\w./-]*\w/g)].map((m) => m[0]);
      for (const file of named) assert.ok(files.includes(file), `${cli} --help names ${file}, which the package does not hold`);
    }
  });

  it('installs into a fresh Node-RED, every node loaded and enabled, catalogs served; the simulator only at its subpath', async () => {
    const userDir = join(work, 'user');
    execFileSync('mkdir', ['-p', userDir]);
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    // From npm's cache only (npm ci filled it): a test reaches no registry.
    npm(['install', '--offline', '--no-audit', '--no-fund', '--omit=dev', tarball], userDir);
    // The simulator comes from its own subpath (with its types) and its command, never from the main entry.
    const node = (code: string) => execFileSync(process.execPath, ['-e', code], { cwd: userDir, encoding: 'utf8' }).trim();
    assert.equal(node(`console.log(typeof require('${pkg.name}/simulator').McmSimulator)`), 'function');
    assert.equal(node(`console.log(typeof require('${pkg.name}').McmClient, 'McmSimulator' in require('${pkg.name}'))`), 'function false');
    writeFileSync(
      join(userDir, 'uses-simulator.ts'),
      `import { McmSimulator } from '${pkg.name}/simulator';\nimport { McmClient } from '${pkg.name}';\nexport const started: Promise<McmSimulator> = McmSimulator.start({ quiet: true });\nexport type Client = McmClient;\n`,
    );
    for (const resolution of ['node16', 'node10']) {
      const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', resolution === 'node16' ? 'node16' : 'commonjs'];
      args.push('--moduleResolution', resolution, '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node');
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), ...args, 'uses-simulator.ts'], {
        cwd: userDir,
        encoding: 'utf8',
      });
    }
    assert.match(
      execFileSync(join(userDir, 'node_modules', '.bin', 'mcm-simulator'), ['--help'], { encoding: 'utf8' }),
      /^Usage: mcm-simulator/,
    );
    const settings = launcher.writeSettings(userDir, { port: 0 });
    const red = await launcher.startNodeRed({ userDir, settings });
    try {
      const sets = (await (await fetch(`${red.url}/nodes`, { headers: { Accept: 'application/json' } })).json()) as Array<{
        id: string;
        module: string;
        types: string[];
        enabled: boolean;
        loaded: boolean;
        err?: string;
        version: string;
      }>;
      const ours = sets.filter((s) => s.module === pkg.name);
      assert.deepEqual(
        ours
          .map((s) => s.types)
          .flat()
          .sort(),
        Object.keys(pkg['node-red'].nodes).sort(),
      );
      for (const set of ours) {
        assert.ok(set.enabled, `${set.id} enabled`);
        assert.equal(set.err, undefined);
        assert.equal(set.version, pkg.version);
      }
      for (const type of Object.keys(pkg['node-red'].nodes)) {
        const res = await fetch(`${red.url}/locales/${pkg.name}/${type}?lng=en-US`);
        const catalog = (await res.json()) as Record<string, unknown>;
        assert.ok(catalog[type] || type === 'mimoe-config', `${type} catalog served`);
      }
      const html = await (await fetch(`${red.url}/nodes`, { headers: { Accept: 'text/html' } })).text();
      assert.match(html, /registerType\('mimoe-deploy'/);
      assert.match(html, /data-help-name="mimoe-deploy"/);
      const editorScript = await fetch(`${red.url}/resources/${pkg.name}/mimoe-editor.js`);
      assert.equal(editorScript.status, 200);
      const icon = await fetch(`${red.url}/icons/${pkg.name}/mimoe-deploy.svg`);
      assert.equal(icon.status, 200);
    } finally {
      await red.stop();
    }
  });
});
