#!/usr/bin/env bash
# The package as a user gets it: build, `npm pack`, install the tarball into a fresh project
# (from the registry for its dependencies, better-sqlite3's install script run), then use it
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
#   RETRACE_CONSUMER_BUILT=1
#                           pack dist/ as it is instead of building it again (.ci/run sets it:
#                           its previous step built dist/ from this same tree and tested it)
#   RETRACE_CONSUMER_COMPILE_NATIVE=1
#                           compile better-sqlite3 in the consumer project even when the
#                           repository's own build can be reused (see below)
#
# better-sqlite3 in the consumer project. Its install script is `prebuild-install || node-gyp
# rebuild`: a user gets a prebuilt binary from its GitHub releases, or a compile when there is
# none. Neither is worth repeating here: the repository's node_modules holds the same
# better-sqlite3 version (package-lock pins it) that `npm ci` compiled from source minutes ago,
# for this very Node (checked: it loads on it). So that build is handed to the consumer's
# install as a local prebuild (prebuild-install's documented `<pkg>_local_prebuilds` folder,
# a tarball of build/Release/better_sqlite3.node under the name prebuild-install asks for):
# the install script still runs, prebuild-install unpacks it and require()s it, and the checks
# below load it from the consumer's node_modules. That saves a compile of about two minutes per
# Node. The compile itself is tested by `npm ci`; if the build cannot be reused (another
# version, another Node, a name prebuild-install no longer asks for), the script compiles, as
# before, and says which it did.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
FIXTURES="$ROOT/test/package/consumer"

NODE_BIN="${RETRACE_CONSUMER_NODE:-$(command -v node)}"
[[ -x "$NODE_BIN" ]] || { echo "consumer test: no node binary at '$NODE_BIN'" >&2; exit 1; }
NODE_BIN="$(cd "$(dirname "$NODE_BIN")" && pwd)/$(basename "$NODE_BIN")"
export PATH="$(dirname "$NODE_BIN"):$PATH"
hash -r
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

if [[ "${RETRACE_CONSUMER_BUILT:-}" == 1 ]]; then
  step "pack (dist/ as built by the step before: RETRACE_CONSUMER_BUILT=1)"
  [[ -f dist/index.js && -f dist/cli/main.js ]] || { echo "RETRACE_CONSUMER_BUILT=1 but dist/ is not built" >&2; exit 1; }
else
  step "build and pack"
  "$NODE_BIN" scripts/build.mjs
fi
# --ignore-scripts: prepack would build a second time.
npm pack --ignore-scripts --silent --pack-destination "$WORK" >"$WORK/pack.out"
TARBALL="$WORK/$(tail -n 1 "$WORK/pack.out")"
[[ -f "$TARBALL" ]] || { echo "npm pack made no tarball: $(cat "$WORK/pack.out")" >&2; exit 1; }
echo "tarball: $TARBALL ($(du -k "$TARBALL" | cut -f1) KiB)"

step "better-sqlite3 for the consumer's install"
NATIVE_FROM="$ROOT/node_modules/better-sqlite3"
NATIVE_FILE=build/Release/better_sqlite3.node
REUSED_NATIVE=""
native_name() {
  # The file name prebuild-install looks for, from its own code (run where it runs: in the
  # package's folder, with the consumer's node).
  (cd "$NATIVE_FROM" && "$NODE_BIN" -e "
    const pkg = require('./package.json');
    const opts = { ...require('prebuild-install/rc')(pkg), pkg };
    console.log(require('node:path').basename(require('prebuild-install/util').getDownloadUrl(opts)));
  ")
}
if [[ "${RETRACE_CONSUMER_COMPILE_NATIVE:-}" == 1 ]]; then
  echo "RETRACE_CONSUMER_COMPILE_NATIVE=1: compiling it in the consumer project"
elif [[ ! -f "$NATIVE_FROM/$NATIVE_FILE" ]]; then
  echo "no build in $NATIVE_FROM: compiling it in the consumer project"
elif [[ "$("$NODE_BIN" -p "require('$NATIVE_FROM/package.json').version")" != "$(pinned better-sqlite3)" ]]; then
  echo "the repository's better-sqlite3 is not the pinned $(pinned better-sqlite3): compiling it in the consumer project"
elif ! "$NODE_BIN" -e "new (require('$NATIVE_FROM'))(':memory:').close()" 2>/dev/null; then
  echo "the repository's better-sqlite3 does not load on this node: compiling it in the consumer project"
elif ! NAME=$(native_name) || [[ -z "$NAME" ]]; then
  echo "prebuild-install cannot name the binary: compiling it in the consumer project"
else
  mkdir -p "$WORK/prebuilds"
  tar -czf "$WORK/prebuilds/$NAME" -C "$NATIVE_FROM" "$NATIVE_FILE"
  export npm_config_better_sqlite3_local_prebuilds="$WORK/prebuilds"
  REUSED_NATIVE="$NATIVE_FROM/$NATIVE_FILE"
  echo "reusing the repository's build (better-sqlite3 $(pinned better-sqlite3), ABI $("$NODE_BIN" -p process.versions.modules)) as $NAME"
fi
if [[ -z "$REUSED_NATIVE" ]]; then
  # No prebuilt-binary download attempt (there is no network for it in CI): straight to the compile.
  export npm_config_build_from_source="${npm_config_build_from_source:-true}"
else
  # prebuild-install would skip every prebuild, the local one too, and compile.
  unset npm_config_build_from_source
fi

step "fresh project; npm install the tarball"
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
INSTALLED_NATIVE="node_modules/better-sqlite3/$NATIVE_FILE"
[[ -f "$INSTALLED_NATIVE" ]] || { echo "the install left no $INSTALLED_NATIVE" >&2; exit 1; }
if [[ -n "$REUSED_NATIVE" ]] && cmp -s "$REUSED_NATIVE" "$INSTALLED_NATIVE"; then
  echo "better-sqlite3: prebuild-install unpacked the repository's build"
else
  echo "better-sqlite3: compiled in the consumer project"
fi
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
