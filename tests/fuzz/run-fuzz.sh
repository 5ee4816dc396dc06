#!/bin/sh
# run-fuzz.sh TARGET [SECONDS] - builds one libFuzzer target with clang
# (-fsanitize=fuzzer,address,undefined) in a build directory of its own and
# runs it for SECONDS (default 60) from its seed corpus.
#
#   TARGET   decoder   the image decoder (tests/encoder; seeds: generated
#                      images of every format)
#            manifest  the manifest reader       (seeds: corpus/manifest)
#            listing   the MLSD/LIST parser      (seeds: corpus/listing)
#            url       URLs and reel's name helpers (seeds: corpus/url)
#            reply     FTP control reply capture (seeds: corpus/reply)
#            safetext  the renderer of untrusted text (seeds: corpus/safetext)
#            links     where reel cat may follow a manifest's link (corpus/links)
#            labels    ANSI labels, the label scan, the saveset probe (corpus/labels)
#
# Exits 0 when the fuzzer found nothing, 77 when clang is missing (skip),
# non-zero with the crashing input saved as BUILD/TARGET-crash-... otherwise;
# copy that file into tests/fuzz/corpus/TARGET/ as a regression test once
# the parser is fixed (the fuzz-replay-TARGET unit test replays it).
# New inputs the fuzzer finds go to BUILD/corpus-TARGET (kept between runs),
# never into the source tree.
# Build dir: $REELFS_FUZZ_BUILD, default ${TMPDIR:-/tmp}/reelfs-fuzz-build.
set -eu
usage="usage: run-fuzz.sh decoder|manifest|listing|url|reply|safetext|links|labels [SECONDS]"
target=${1:?$usage}
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${REELFS_FUZZ_BUILD:-${TMPDIR:-/tmp}/reelfs-fuzz-build}

case $target in
decoder)
	exe=tests/encoder/fuzz_decoder seeds= maxlen=70000 ;;
manifest|listing|url|reply|safetext|links|labels)
	exe=tests/fuzz/fuzz_$target seeds=$here/corpus/$target maxlen=8192 ;;
*)
	echo "$usage" >&2
	exit 2 ;;
esac

if ! command -v clang >/dev/null 2>&1; then
	echo "run-fuzz.sh: clang is missing, so the fuzzer cannot be built; skipped" >&2
	exit 77
fi
# A build directory set up from another checkout (an earlier clone at the
# same temporary path, say) builds that checkout's targets, not these:
# start it again. Only a meson build directory is ever removed.
if [ -f "$build/build.ninja" ] && [ -d "$build/meson-private" ] &&
   [ "$(cat "$build/reelfs-source" 2>/dev/null)" != "$src" ]; then
	rm -rf "$build"
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" -Dfuzz=true -Dbench=false >/dev/null
	printf '%s\n' "$src" > "$build/reelfs-source"
else
	meson configure "$build" -Dfuzz=true
fi
ninja -C "$build" "$exe" >/dev/null

corpus=$build/corpus-$target
mkdir -p "$corpus"
if [ "$target" = decoder ]; then
	ninja -C "$build" tests/encoder/test_fuzz_replay >/dev/null
	"$build/tests/encoder/test_fuzz_replay" --write-corpus "$corpus"
fi

# UBSan stops at the first report, so undefined behaviour counts as a crash.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS
echo "run-fuzz.sh: fuzzing $target for $secs s (corpus $corpus${seeds:+, seeds $seeds})" >&2
# The first folder receives new inputs; the seed folder is only read.
exec "$build/$exe" -max_total_time="$secs" -max_len="$maxlen" \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$build/$target-" "$corpus" ${seeds:+"$seeds"}
