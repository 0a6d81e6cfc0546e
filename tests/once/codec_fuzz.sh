#!/bin/bash
# codec_fuzz.sh - build the frame-decoder fuzzer (clang + libFuzzer) and
# run it for QVL_FUZZ_SECONDS (default 30) on one core.  Skips (77) when
# clang or libFuzzer is missing.  Any crash, leak or sanitizer report fails.
set -u
cd "$(dirname "$0")/../.."
secs=${QVL_FUZZ_SECONDS:-30}
. tests/fuzz/need_libfuzzer.sh
need_libfuzzer "codec fuzzing"
probe=$(mktemp -d /tmp/qvl-fuzzprobe.XXXXXX)
trap 'rm -rf "$probe"' EXIT
make -s build/fuzz/fuzz_codec_decode || exit 1 # its own target, not all four
corpus="$probe/corpus"
mkdir -p "$corpus"
# The target also encodes each input and decodes a corrupted copy, so
# plain seeds reach every codec.
head -c 4096 /dev/urandom >"$corpus/random"
head -c 4096 /dev/zero >"$corpus/zeros"
build/fuzz/fuzz_codec_decode -max_total_time="$secs" -rss_limit_mb=2048 \
	-max_len=70000 -print_final_stats=1 "$corpus"
