#!/usr/bin/env bash
# One command from a fresh checkout to the main job: installs the build dependencies, builds
# the release preset, ingests a folder into the embedded store and asks a question about it.
# Works with no model files (BM25 search + an extractive answer with citations); set
# XNAI_EMBED_MODEL / MODEL_PATH (or `xnai pull --recommended`) for hybrid search and written answers.
#   scripts/quickstart.sh [FOLDER] [QUESTION]
# Defaults: this project's own docs/ folder and a question about it; the store goes to
# XNAI_DATA (default ~/.local/share/xnai).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target xnai
folder="${1:-docs}"
question="${2:-How are chunks cut from a document?}"
./build/release/xnai ingest "$folder"
./build/release/xnai ask "$question"
