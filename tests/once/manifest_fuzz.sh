#!/bin/bash
# manifest_fuzz.sh - build the snapshot-manifest fuzzer (clang + libFuzzer)
# and run it for QVL_FUZZ_SECONDS (default 15).  Skips (77) when clang or
# libFuzzer is missing.  Any crash, leak or sanitizer report fails.
set -u
cd "$(dirname "$0")/../.."
secs=${QVL_FUZZ_SECONDS:-15}
. tests/fuzz/need_libfuzzer.sh
need_libfuzzer "manifest fuzzing"
probe=$(mktemp -d /tmp/qvl-fuzzprobe.XXXXXX)
trap 'rm -rf "$probe"' EXIT
make -s build/fuzz/fuzz_manifest || exit 1
corpus="$probe/corpus"
mkdir -p "$corpus"
head -c 64 /dev/urandom >"$corpus/random"
printf 'QVLMAN01' >"$corpus/magic"
build/fuzz/fuzz_manifest -max_total_time="$secs" -rss_limit_mb=2048 \
	-max_len=4096 -print_final_stats=1 "$corpus"
