#!/bin/sh
# run-fuzz.sh [SECONDS] - fuzzes the decoder for SECONDS (default 60); kept
# for habit: tests/fuzz/run-fuzz.sh TARGET SECONDS runs any fuzz target
# (decoder, manifest, listing, url, reply) and says more.
exec "$(dirname "$0")/../fuzz/run-fuzz.sh" decoder "${1:-60}"
