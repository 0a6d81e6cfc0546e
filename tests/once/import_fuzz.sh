#!/bin/bash
# import_fuzz.sh - build the safetensors and GGUF header fuzzers (clang +
# libFuzzer) and run each for QVL_FUZZ_SECONDS (default 10) on one core,
# seeded with the models tests/integration/helpers/mkmodel.py writes (good
# and malformed) when numpy is there.  Skips (77) when clang or libFuzzer
# is missing.  Any crash, leak or sanitizer report fails.
set -u
cd "$(dirname "$0")/../.."
secs=${QVL_FUZZ_SECONDS:-10}
PY=${QVL_PYTHON:-/usr/bin/python3}
. tests/fuzz/need_libfuzzer.sh
need_libfuzzer "import fuzzing"
tmp=$(mktemp -d /tmp/qvl-importfuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
make -s build/fuzz/fuzz_safetensors build/fuzz/fuzz_gguf || exit 1
mkdir -p "$tmp/st" "$tmp/gguf" "$tmp/m"
# Seeds: the smallest valid files by hand, then mkmodel's when it can run.
h='{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}'
{ printf "$(printf '\\x%02x' ${#h})\0\0\0\0\0\0\0"; printf '%s' "$h"; printf 'xy'; } >"$tmp/st/min"
printf 'GGUF\3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >"$tmp/gguf/empty"
if "$PY" -c 'import numpy' 2>/dev/null &&
	"$PY" tests/integration/helpers/mkmodel.py synth "$tmp/m" &&
	"$PY" tests/integration/helpers/mkmodel.py bad "$tmp/m/bad"; then
	cp "$tmp"/m/*.safetensors "$tmp"/m/*.json "$tmp"/m/bad/*.safetensors "$tmp/st/"
	cp "$tmp"/m/*.gguf "$tmp"/m/bad/*.gguf "$tmp/gguf/"
fi
rc=0
for t in safetensors:st gguf:gguf; do
	build/fuzz/fuzz_${t%%:*} -max_total_time="$secs" -rss_limit_mb=2048 \
		-max_len=16384 -print_final_stats=1 "$tmp/${t#*:}" 2>&1 | tail -n 12
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
done
exit $rc
