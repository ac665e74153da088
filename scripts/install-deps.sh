#!/usr/bin/env bash
# Installs everything xnai needs to build, test and fuzz on Debian 12 / Ubuntu (apt only).
# Idempotent: when every package is already present it changes nothing and asks no mirror.
set -euo pipefail

packages=(
  # toolchain and tests
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev            # libFuzzer + sanitizers (scripts/fuzz.sh)
  # engine
  nlohmann-json3-dev libicu-dev
  zlib1g-dev                          # zip members: PyTorch checkpoints (formats/), .docx (rag/)
  # model downloads (hub/)
  libcpp-httplib-dev libssl-dev
  # RAG: store, document loaders, vector index; test PDFs are made with enscript + ghostscript
  libsqlite3-dev sqlite3 libgumbo-dev libpoppler-cpp-dev libhnswlib-dev enscript ghostscript
  # speech: G2P and fallback voice, audio formats (wav flac ogg/opus mp3)
  libespeak-ng-dev espeak-ng-data libsndfile1-dev
)
# End-to-end tests with real clients (tests/js/run.sh): node + npm for the openai package and
# playwright-core, chromium for the browser test. A node from elsewhere (NodeSource's bundles
# npm, and Debian's npm package would conflict with it) counts as present.
for tool in nodejs:node npm:npm chromium:chromium; do
  command -v "${tool#*:}" >/dev/null || packages+=("${tool%%:*}")
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
