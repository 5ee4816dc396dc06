#!/bin/sh
# run-fuzz.sh [SECONDS] - builds the decoder's libFuzzer target with clang
# in a build directory of its own and runs it for SECONDS (default 60),
# starting from a seed corpus of generated images of every format.
# Exits 0 when the fuzzer found nothing, 77 when clang is missing (skip),
# non-zero with the crashing input saved in the build dir otherwise.
# Build dir: $REELFS_FUZZ_BUILD, default ${TMPDIR:-/tmp}/reelfs-fuzz-build.
set -eu
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${REELFS_FUZZ_BUILD:-${TMPDIR:-/tmp}/reelfs-fuzz-build}

if ! command -v clang >/dev/null 2>&1; then
	echo "run-fuzz.sh: clang is missing, so the fuzzer cannot be built; skipped" >&2
	exit 77
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" -Dfuzz=true -Dbench=false >/dev/null
else
	meson configure "$build" -Dfuzz=true
fi
ninja -C "$build" tests/encoder/fuzz_decoder tests/encoder/test_fuzz_replay >/dev/null
corpus="$build/fuzz-corpus"
mkdir -p "$corpus"
"$build/tests/encoder/test_fuzz_replay" --write-corpus "$corpus"
echo "run-fuzz.sh: fuzzing the decoder for $secs s (corpus $corpus)" >&2
exec "$build/tests/encoder/fuzz_decoder" -max_total_time="$secs" -max_len=70000 \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$build/" "$corpus"
