#!/usr/bin/env bash
# The project's test command (README.md and .ci/run call exactly this): installs the build
# dependencies, builds the release preset and runs every test with ctest. Conformance tests
# read ../shared/testdata (override with XNAI_TESTDATA) and skip with a message without it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release -j "$(nproc)" "$@"
