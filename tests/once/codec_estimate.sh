#!/bin/bash
# codec_estimate.sh - `qvlctl estimate` on generated tensors: it must
# verify the round trip, print a line per file and the total line, and
# find bf16 weights compressible and a zero file free.  Skips (77) when
# qvlctl or the generator is not built.
set -u
cd "$(dirname "$0")/../.."
build=${QVL_BUILD:-build/rel}
qvlctl=$build/qvlctl
gen=$build/bench/gen_tensors
[ -x "$qvlctl" ] || { echo "no $qvlctl: estimate test skipped"; exit 77; }
[ -x "$gen" ] || make -s BUILD="$build" "$gen" >/dev/null 2>&1
[ -x "$gen" ] || { echo "no $gen: estimate test skipped"; exit 77; }
"$qvlctl" estimate --help 2>&1 | grep -q "total ratio" || { echo "qvlctl has no estimate: skipped"; exit 77; }
tmp=$(mktemp -d /tmp/qvl-estimate.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$gen" weights bf16 1000003 7 >"$tmp/w.bin" || exit 1
"$gen" zero bf16 300000 >"$tmp/z.bin" || exit 1
out=$("$qvlctl" estimate --dtype bf16 "$tmp/w.bin" "$tmp/z.bin") || {
	echo "estimate failed: $out"; exit 1; }
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 3 ] || { echo "want 3 lines"; exit 1; }
echo "$out" | tail -n 1 | grep -Eq '^total ratio=0\.[0-9]+ encode_MBps=[0-9]+ decode_MBps=[0-9]+$' ||
	{ echo "bad total line"; exit 1; }
w=$(echo "$out" | sed -n 1p | sed 's/.*ratio=\([0-9.]*\).*/\1/')
z=$(echo "$out" | sed -n 2p | sed 's/.*ratio=\([0-9.]*\).*/\1/')
awk -v w="$w" -v z="$z" 'BEGIN { exit !(w < 0.70 && z < 0.01) }' ||
	{ echo "ratios off: weights $w zero $z"; exit 1; }
"$qvlctl" estimate --dtype bf16 --policy q8_0 "$tmp/w.bin" >/dev/null || exit 1
"$qvlctl" estimate --dtype nosuch "$tmp/w.bin" 2>/dev/null && exit 1
"$qvlctl" estimate --dtype bf16 "$tmp/missing" 2>/dev/null && exit 1
exit 0
