#!/usr/bin/env bash
# Builds one libFuzzer target (preset `fuzz`: clang, ASan + UBSan) and runs it for N seconds.
#
#   scripts/fuzz.sh <target> [seconds] [extra libFuzzer flags…]
#   scripts/fuzz.sh gguf_reader_fuzz 600 -max_len=65536
#
# Corpus: fuzz/corpus-<name>/ (git-ignored; <name> is the target without "_fuzz" and
# without a "_reader"/"_parser" suffix, e.g. gguf); the committed seeds in
# fuzz/seeds/<name>/ are read as a second corpus directory. Crash reproducers land in
# build/fuzz/artifacts/. Runs at nice 10 in one process; FUZZ_JOBS=N runs N jobs.
set -euo pipefail

target="${1:?usage: scripts/fuzz.sh <target> [seconds] [libFuzzer flags...]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

name="${target%_fuzz}"
name="${name%_reader}"
name="${name%_parser}"
corpus="fuzz/corpus-${name}"
seeds="fuzz/seeds/${name}"
artifacts="build/fuzz/artifacts"
mkdir -p "$corpus" "$artifacts"
dirs=("$corpus")
if [[ -d "$seeds" ]]; then dirs+=("$seeds"); fi
parallel=()
if (( ${FUZZ_JOBS:-1} > 1 )); then parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi

if [[ ! -f build/fuzz/build.ninja ]]; then cmake --preset fuzz; fi
nice -n 10 ninja -C build/fuzz -j "${FUZZ_BUILD_JOBS:-2}" "$target"

# UBSan findings stop the run and leave a reproducer, like ASan's.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
exec nice -n 10 "build/fuzz/fuzz/${target}" -max_total_time="$seconds" "${parallel[@]}" \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" "${dirs[@]}"
