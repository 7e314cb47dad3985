#!/usr/bin/env bash
# The package as a user gets it: build, `npm pack`, install the tarball into a fresh project
# (from the registry for its dependencies, better-sqlite3 built from source), then use it
# there with plain node and nothing of this repository on the module path:
#   esm     an .mjs that imports 'retrace-engine', runs a flow on the embedded store, prints it
#   cjs     the same from a .cjs with require()
#   ts      a strict TypeScript consumer (skipLibCheck off, module nodenext), compiled with this
#           repository's TypeScript, then run: schema-typed flow, 'retrace-engine/server' and
#           'retrace-engine/testing'; and a .cts that require()s the package
#   cli     the installed `retrace --version` and `retrace executions list --json`
# Each check compares its output with what it must be; all run, and the script exits non-zero
# if any failed. The fixtures are in test/package/consumer/.
#
# Knobs (environment):
#   RETRACE_CONSUMER_NODE   the node binary to test with (default: node on PATH). Its folder is
#                           put first on PATH, so npm's scripts, node-gyp and the installed
#                           `retrace` run on it too. For a Node other than the machine's, also
#                           set npm_config_nodedir to its headers (as .ci/run's Node 24 section does).
#   RETRACE_CONSUMER_KEEP=1 keep the temporary project (its path is printed)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
FIXTURES="$ROOT/test/package/consumer"

NODE_BIN="${RETRACE_CONSUMER_NODE:-$(command -v node)}"
[[ -x "$NODE_BIN" ]] || { echo "consumer test: no node binary at '$NODE_BIN'" >&2; exit 1; }
NODE_BIN="$(cd "$(dirname "$NODE_BIN")" && pwd)/$(basename "$NODE_BIN")"
export PATH="$(dirname "$NODE_BIN"):$PATH"
hash -r
# No prebuilt-binary download attempt for better-sqlite3 (there is no network for it in CI).
export npm_config_build_from_source="${npm_config_build_from_source:-true}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# Nothing of this repository may leak into the consumer's resolution or Node's options.
unset NODE_OPTIONS NODE_PATH

WORK=$(mktemp -d "${TMPDIR:-/tmp}/retrace-consumer.XXXXXX")
cleanup() {
  if [[ "${RETRACE_CONSUMER_KEEP:-}" == 1 ]]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

step() { printf '\n---- consumer: %s\n' "$*"; }
# The version the repository pins for a package (the consumer installs the same one).
pinned() { "$NODE_BIN" -p "const p = require('$ROOT/package.json'); p.devDependencies['$1'] ?? p.dependencies['$1']"; }

step "node $("$NODE_BIN" --version) at $NODE_BIN, npm $(npm --version)"
VERSION=$("$NODE_BIN" -p "require('$ROOT/package.json').version")

step "build and pack"
"$NODE_BIN" scripts/build.mjs
# --ignore-scripts: prepack would build a second time.
npm pack --ignore-scripts --silent --pack-destination "$WORK" >"$WORK/pack.out"
TARBALL="$WORK/$(tail -n 1 "$WORK/pack.out")"
[[ -f "$TARBALL" ]] || { echo "npm pack made no tarball: $(cat "$WORK/pack.out")" >&2; exit 1; }
echo "tarball: $TARBALL ($(du -k "$TARBALL" | cut -f1) KiB)"

step "fresh project; npm install the tarball (better-sqlite3 builds from source)"
PROJECT="$WORK/project"
mkdir -p "$PROJECT"
cp "$FIXTURES/esm.mjs" "$FIXTURES/cjs.cjs" "$FIXTURES/typed.ts" "$FIXTURES/typed-cjs.cts" "$FIXTURES/tsconfig.json" "$PROJECT/"
cat >"$PROJECT/package.json" <<'JSON'
{ "name": "retrace-consumer", "version": "1.0.0", "private": true, "type": "module" }
JSON
cd "$PROJECT"
START=$SECONDS
# What a TypeScript user has beside the package: Node's types, and the Standard Schema types
# their hand-written schema names (the versions this repository pins).
npm install --no-package-lock "$TARBALL" "@types/node@$(pinned @types/node)" "@standard-schema/spec@$(pinned @standard-schema/spec)"
echo "installed in $((SECONDS - START))s"
[[ ! -e node_modules/retrace-engine/src && ! -e node_modules/retrace-engine/test ]] ||
  { echo "the installed package has src/ or test/" >&2; exit 1; }

FAILED=()
# check NAME EXPECTED COMMAND...: runs COMMAND in the project; its stdout must be EXPECTED exactly.
check() {
  local name=$1 expected=$2
  shift 2
  local out rc=0
  out=$("$@" 2>"$WORK/stderr") || rc=$?
  if ((rc == 0)) && [[ "$out" == "$expected" ]]; then
    echo "ok: $name"
  else
    echo "FAIL: $name (exit $rc)"
    echo "  expected: $expected"
    echo "  got:      $out"
    sed 's/^/  stderr: /' "$WORK/stderr" | head -n 30
    FAILED+=("$name")
  fi
}

step "checks"
check "esm: import from an .mjs, run a flow on the embedded store" \
  '{"via":"esm","output":"hello, esm"}' node esm.mjs
check "cjs: require() from a .cjs" \
  '{"via":"cjs","output":"hello, cjs"}' node cjs.cjs
check "ts: strict compile (skipLibCheck off, nodenext) with the repository's TypeScript" \
  '' node "$ROOT/node_modules/typescript/bin/tsc" -p tsconfig.json
check "ts: run the compiled ESM consumer (typed flow, server, testing)" \
  '{"via":"ts","output":"hello, ts","length":9,"status":"succeeded","refused":"INPUT_INVALID","health":"ok"}' \
  node out/typed.js
check "ts: run the compiled CommonJS consumer (.cts)" \
  '{"via":"cts","output":"hello, cts"}' node out/typed-cjs.cjs
check "cli: the installed retrace --version" "$VERSION" ./node_modules/.bin/retrace --version
# The four runs above left four succeeded executions of greet in .retrace/retrace.db here.
check "cli: retrace executions list --json reads the project's embedded store" \
  'greet:succeeded:cjs greet:succeeded:cts greet:succeeded:esm greet:succeeded:ts' \
  node -e "
    const { execFileSync } = require('node:child_process');
    const list = JSON.parse(execFileSync('./node_modules/.bin/retrace', ['executions', 'list', '--json'], { encoding: 'utf8' }));
    console.log(list.items.map((e) => e.flow + ':' + e.status + ':' + e.input.who).sort().join(' '));
  "

if ((${#FAILED[@]})); then
  printf '\nconsumer test FAILED on Node %s: %d check(s):\n' "$("$NODE_BIN" --version)" "${#FAILED[@]}" >&2
  printf '  - %s\n' "${FAILED[@]}" >&2
  exit 1
fi
printf '\nconsumer test passed on Node %s\n' "$("$NODE_BIN" --version)"
