#!/usr/bin/env bash
# `npm run mutate`: mutation testing of src/mcm with StrykerJS (stryker.config.json; see
# docs/mutation-testing.md). Extra arguments go to `stryker run`, e.g.
#   npm run mutate -- --mutate src/mcm/validate.ts
set -euo pipefail
cd "$(dirname "$0")/.."
exec node node_modules/@stryker-mutator/core/bin/stryker.js run "$@"
