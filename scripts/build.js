#!/usr/bin/env node
// Compiles the TypeScript, then puts what Node-RED loads beside each compiled node file:
// the hand-written editor .html, the icons and the locale catalogs (Node-RED looks for
// `locales/` next to the node's .js).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outNodes = path.join(root, 'build', 'src', 'nodes');

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });

fs.mkdirSync(outNodes, { recursive: true });
for (const file of fs.readdirSync(path.join(root, 'nodes'))) {
  fs.cpSync(path.join(root, 'nodes', file), path.join(outNodes, file), { recursive: true });
}
fs.cpSync(path.join(root, 'locales'), path.join(outNodes, 'locales'), { recursive: true });
