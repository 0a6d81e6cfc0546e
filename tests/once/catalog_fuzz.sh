#!/bin/bash
# catalog_fuzz.sh - make a small valid store with a real mount (files of
# one and several chunks, a sparse file, an empty one, a directory tree,
# a symbolic and a hard link, xattrs and hints, a file in RAM only), then
# fuzz the loader with it (tests/fuzz/fuzz_catalog.c: damaged rows and
# bytes, each mounted in-process) for QVL_FUZZ_SECONDS (default 20).
# Skips (77) without root/FUSE or without clang's libFuzzer.
set -u
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
secs=${QVL_FUZZ_SECONDS:-20}
. tests/fuzz/need_libfuzzer.sh
need_libfuzzer "catalog fuzzing"
make -s build/fuzz/fuzz_catalog || exit 1

qvl_mount ram=2M,chunk=64K
m=$QVL_MNT
head -c 200000 /dev/urandom >"$m/multi"
head -c 1000 /dev/urandom >"$m/small"
: >"$m/empty"
truncate -s 3M "$m/sparse"
printf 'tail' | dd of="$m/sparse" bs=1 seek=$((2 << 20)) conv=notrunc status=none
mkdir -p "$m/d/e"
head -c 70000 /dev/zero >"$m/d/e/zeros"
ln -s ../multi "$m/d/link"
ln "$m/small" "$m/d/hard"
setfattr -n user.qvl.dtype -v bf16 "$m/multi"
setfattr -n user.qvl.shape -v 100000 "$m/multi"
setfattr -n user.note -v hello "$m/small"
setfattr -n user.qvl.priority -v 8 "$m/small"
setfattr -n user.qvl.tier -v nvme "$m/multi" "$m/small"
qvl_umount
[ "$QVL_FAILS" = 0 ] || exit 1
corpus=$QVL_TMP/corpus
mkdir -p "$corpus"
printf '\0' >"$corpus/none"
# Seeds long enough for a few changes of each kind.
for i in 0 1 2 3; do
	{ printf '\0'; head -c 64 /dev/urandom; } >"$corpus/rows$i"
	{ printf '\1'; head -c 40 /dev/urandom; } >"$corpus/bytes$i"
done
QVL_FUZZ_SEED=$QVL_STORE build/fuzz/fuzz_catalog -max_total_time="$secs" \
	-timeout=20 -rss_limit_mb=2048 -max_len=256 -len_control=0 -print_final_stats=1 \
	-artifact_prefix="$QVL_TMP/" \
	"$corpus" 2>&1 | grep -v "^#[0-9].*\(NEW\|REDUCE\|pulse\)"
rc=${PIPESTATUS[0]}
rm -rf /tmp/qvl-fuzzcat.*
# A finding: keep the input where a user can replay it.
for f in "$QVL_TMP"/crash-* "$QVL_TMP"/timeout-* "$QVL_TMP"/leak-*; do
	[ -e "$f" ] || continue
	rm -rf /tmp/qvl-fuzzcat-seed && cp -a "$QVL_STORE" /tmp/qvl-fuzzcat-seed
	cp "$f" /tmp/
	echo "replay: QVL_FUZZ_SEED=/tmp/qvl-fuzzcat-seed build/fuzz/fuzz_catalog /tmp/$(basename "$f")"
done
exit "$rc"
