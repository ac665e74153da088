#!/usr/bin/env bash
# One command from a fresh checkout to a running xnai: installs the build dependencies,
# builds the release preset, then runs the main job that exists today — text generation
# from a GGUF model. MODEL_PATH (or the first argument) picks the model; without one it
# uses the tiny conformance model from ../shared/testdata when present.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target xnai
model="${1:-${MODEL_PATH:-}}"
if [ -z "$model" ]; then
  td="${XNAI_TESTDATA:-../shared/testdata}"
  [ -f "$td/llm/tiny-qwen2-f16.gguf" ] && model="$td/llm/tiny-qwen2-f16.gguf"
fi
if [ -z "$model" ]; then
  echo "built build/release/xnai; pass a GGUF model: scripts/quickstart.sh path/to/model.gguf"
  exit 0
fi
./build/release/xnai model info "$model"
./build/release/xnai generate -m "$model" -p "${PROMPT:-The capital of France is}" -n 32 --temp 0
