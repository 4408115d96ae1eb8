#!/usr/bin/env bash
# Runs every compiled test file of the mocha suite alone, then every file of the field run alone
# (MCM_SIMULATOR_PROFILE=field), each in its own mocha: a file that passes only after another
# file's tests fails here. Needs `npm run build` first.
#
# Prints one line per file and a plain summary, never mocha's "N passing" lines (.ci/run adds
# those up, and the main runs already count these tests); a failing file's output is shown
# indented behind "| ". Exits non-zero when any file fails.
set -uo pipefail
cd "$(dirname "$0")/.."

# The settings of a mocharc file (require, timeout, exit), without its spec, and the files its spec names.
mocha_options() {
  node -e '
    const rc = require(process.argv[1]);
    const args = ["--no-config", "--timeout", String(rc.timeout ?? 2000)];
    for (const file of [].concat(rc.require ?? [])) args.push("--require", file);
    if (rc.exit) args.push("--exit");
    console.log(args.join("\n"));
  ' "./$1"
}
spec_files() {
  node -e '
    const { globSync } = require(require.resolve("glob", { paths: [require.resolve("mocha")] })); // the glob mocha itself uses
    const rc = require(process.argv[1]);
    const files = [].concat(rc.spec).flatMap((pattern) => globSync(pattern)).sort();
    console.log([...new Set(files)].join("\n"));
  ' "./$1"
}

passed=0
failed=0
failures=()
started=$SECONDS

run_alone() {
  local label=$1 rc=$2 file=$3
  shift 3
  local options log t0=$SECONDS
  mapfile -t options < <(mocha_options "$rc")
  log=$(env "$@" npx mocha "${options[@]}" "$file" 2>&1)
  local status=$?
  local counts
  counts=$(printf '%s\n' "$log" | awk '/^ *[0-9]+ passing/ {p = $1} /^ *[0-9]+ failing/ {f = $1} END {printf "%d passed, %d failed", p, f}')
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "test:each: ok   ${label} ${file} (${counts}, $((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("${label} ${file}")
    echo "test:each: FAIL ${label} ${file} (${counts}, exit ${status}, $((SECONDS - t0)) s)"
    printf '%s\n' "$log" | sed 's/^/    | /'
  fi
}

mapfile -t main_files < <(spec_files .mocharc.json)
mapfile -t field_files < <(spec_files .mocharc.field.json)
if [ "${#main_files[@]}" -eq 0 ]; then
  echo "test:each: no compiled test files (run npm run build first)"
  exit 1
fi

for file in "${main_files[@]}"; do run_alone contract .mocharc.json "$file" MCM_SIMULATOR_PROFILE=contract; done
for file in "${field_files[@]}"; do run_alone field .mocharc.field.json "$file" MCM_SIMULATOR_PROFILE=field; done

echo "test:each: ${passed} files passed alone, ${failed} failed ($((SECONDS - started)) s)"
for failure in "${failures[@]}"; do echo "test:each: failed alone: ${failure}"; done
[ "$failed" -eq 0 ]
