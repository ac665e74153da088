#!/usr/bin/env bash
# End-to-end tests with real clients: starts `xnai serve` on a free loopback port with the
# tiny test models, then runs the node tests in this folder (the `openai` package and the
# web page in headless Chromium through playwright-core) and stops the server.
#
#   tests/js/run.sh [XNAI_BIN] [DEPS_DIR]
#     XNAI_BIN  default build/release/xnai
#     DEPS_DIR  where npm installs package-lock.json's packages (default: beside XNAI_BIN)
#   env: XNAI_TESTDATA (default ../shared/testdata), CHROMIUM (default: chromium on PATH)
#
# Exits 77 (ctest SKIP_RETURN_CODE) when node, npm, chromium, the test models or the npm
# registry are not available, saying which.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/build/release/xnai}
deps=${2:-$(dirname "$bin")/js-deps}
testdata=${XNAI_TESTDATA:-${XNAI_DEFAULT_TESTDATA:-$root/../shared/testdata}}

skip() { echo "SKIP: $*" >&2; exit 77; }

command -v node >/dev/null || skip "node is not installed (scripts/install-deps.sh installs nodejs and npm)"
command -v npm >/dev/null || skip "npm is not installed (scripts/install-deps.sh installs it)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || skip "node $(node --version) is too old; 18 or newer is needed"
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] && [ -x "$chromium" ] || skip "chromium is not installed (scripts/install-deps.sh installs it)"
[ -x "$bin" ] || { echo "FAIL: no xnai binary at $bin (build it first)" >&2; exit 1; }
llm=$testdata/llm/tiny-llama-spm-q8_0.gguf
embed=$testdata/llm/tiny-bert-bge-f16.gguf
for f in "$llm" "$embed"; do [ -f "$f" ] || skip "test model $f is missing (set XNAI_TESTDATA)"; done

# Node packages, exactly as locked; reinstalled only when the lock file changes.
mkdir -p "$deps"
if ! cmp -s "$here/package-lock.json" "$deps/node_modules/.xnai-lock"; then
  cp "$here/package.json" "$here/package-lock.json" "$deps/"
  (cd "$deps" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
    skip "npm ci failed in $deps (is the npm registry reachable?)"
  cp "$here/package-lock.json" "$deps/node_modules/.xnai-lock"
fi

# Servers of our own: temp stores, no model cache or config of the user's (speech falls back
# to espeak-ng), a key so the page's key handling is exercised. One answers with the LLM, one
# without (extractive answers: real sentences from the documents, so speech has several).
work=$(mktemp -d "${TMPDIR:-/tmp}/xnai-js.XXXXXX")
key="js-test-key-$RANDOM$RANDOM"
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME ARGS...: starts `xnai serve ARGS` and sets $port to its port.
start_server() {
  local name=$1 log=$work/$1.log
  shift
  XNAI_MODELS=$work/models XNAI_CONFIG=$work/config.json \
    "$bin" serve --embed-model "$embed" --data "$work/$name-store" --host 127.0.0.1 --port 0 \
    --api-key "$key" --threads 2 "$@" >"$log" 2>&1 &
  servers+=($!)
  port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" | head -n1)
    [ -n "$port" ] && break
    kill -0 "${servers[-1]}" 2>/dev/null || { echo "FAIL: xnai serve ($name) exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "FAIL: xnai serve ($name) did not start within 60 s:" >&2; cat "$log" >&2; exit 1; }
  echo "xnai serve ($name) on port $port"
}
start_server llm -m "$llm" --max-tokens 40
llm_port=$port
start_server extractive
extractive_port=$port

status=0
XNAI_URL="http://127.0.0.1:$llm_port" XNAI_URL_EXTRACTIVE="http://127.0.0.1:$extractive_port" XNAI_API_KEY="$key" CHROMIUM="$chromium" \
  XNAI_SHOT_DIR="$(dirname "$bin")/js-artifacts" NODE_PATH="$deps/node_modules" \
  node --test "$here"/*.test.cjs || status=$?
if [ "$status" -ne 0 ]; then
  for log in "$work"/*.log; do
    echo "--- $(basename "$log") ---" >&2
    tail -n 50 "$log" >&2
  done
fi
exit "$status"
