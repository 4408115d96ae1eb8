#!/usr/bin/env node
// Compiles the TypeScript, then puts what Node-RED loads beside each compiled node file:
// the hand-written editor .html, the icons and the locale catalogs (Node-RED looks for
// `locales/` next to the node's .js). The editor code (src/editor) is checked on its own and
// bundled into resources/mimoe-editor.js, which every node's .html loads.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outNodes = path.join(root, 'build', 'src', 'nodes');

const tsc = (project) => execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { stdio: 'inherit' });
tsc(root);
tsc(path.join(root, 'src', 'editor'));
require('esbuild').buildSync({
  entryPoints: [path.join(root, 'src', 'editor', 'index.ts')],
  outfile: path.join(root, 'resources', 'mimoe-editor.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2018',
  loader: { '.css': 'text' },
  banner: { js: '// Built from src/editor by scripts/build.js: edit the sources there.' },
  logLevel: 'warning',
});

fs.mkdirSync(outNodes, { recursive: true });
for (const file of fs.readdirSync(path.join(root, 'nodes'))) {
  fs.cpSync(path.join(root, 'nodes', file), path.join(outNodes, file), { recursive: true });
}
fs.cpSync(path.join(root, 'locales'), path.join(outNodes, 'locales'), { recursive: true });
