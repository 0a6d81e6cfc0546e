#!/bin/bash
# recode.sh - a dtype set after the data was written: the frames already on
# the store were coded as bytes; the flusher thread writes them again with
# the byte-plane codec in the background.  A bf16 file (8 MiB, Gaussian)
# copied in without a dtype and moved to the store, then given
# user.qvl.dtype=bf16: within 30 s its bytes on the store shrink (0.78 of
# the data coded as bytes, about 0.66 as bf16), and every byte is the same,
# also after a remount.  And a tensor filling part of a chunk is stored
# without the chunk's zero padding.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
"$QVL_PYTHON" -c 'import numpy' 2>/dev/null || qvl_skip "no numpy"
"$QVL_PYTHON" - "$QVL_TMP/w" <<'PY'
import numpy as np, sys
x = np.random.default_rng(3).standard_normal(4 << 20, dtype=np.float32) * 0.02
(x.view(np.uint32) >> 16).astype(np.uint16).tofile(sys.argv[1])
PY
sum=$(md5sum <"$QVL_TMP/w")
qvl_mount ram=16M
F=$QVL_MNT/w
cp "$QVL_TMP/w" "$F"
setfattr -n user.qvl.tier -v nvme "$F" || fail "tier=nvme"
nvme() { getfattr --absolute-names --only-values -n user.qvl.stored "$F" | sed 's/.*nvme://'; }
before=$(nvme)
setfattr -n user.qvl.dtype -v bf16 "$F" || fail "dtype"
after=$before
for _ in $(seq 300); do
	after=$(nvme)
	[ "$after" -lt $((before * 90 / 100)) ] && break
	sleep 0.1
done
echo "on the store: $before bytes coded as bytes, $after after dtype=bf16"
[ "$after" -lt $((before * 90 / 100)) ] || fail "frames not re-encoded: $before -> $after bytes"
[ "$(md5sum <"$F")" = "$sum" ] || fail "content changed by re-encoding"
# A tensor that fills part of a chunk (most biases and norms do) is coded
# without the chunk's zero padding: 0.66 of its data like a whole one, not
# the 0.91 of data and zeros coded together.
H=$QVL_MNT/half
: >"$H"
setfattr -n user.qvl.dtype -v bf16 "$H"
head -c $((384 << 10)) "$QVL_TMP/w" >>"$H"
setfattr -n user.qvl.tier -v nvme "$H" || fail "tier=nvme of half"
half=$(getfattr --absolute-names --only-values -n user.qvl.stored "$H" | sed 's/.*nvme://')
echo "a 384 KiB bf16 tensor in a 1 MiB chunk: $half bytes on the store"
[ "$half" -lt $((384 * 1024 * 72 / 100)) ] || fail "a part-filled chunk stored $half bytes"
qvl_umount
echo 3 >/proc/sys/vm/drop_caches
qvl_mount ram=16M
[ "$(md5sum <"$F")" = "$sum" ] || fail "content after a remount"
cmp -s <(head -c $((384 << 10)) "$QVL_TMP/w") "$QVL_MNT/half" || fail "half after a remount"
truncate -s $((1536 << 10)) "$QVL_MNT/half"
cmp -s <(head -c $((384 << 10)) "$QVL_TMP/w"; head -c $((1152 << 10)) /dev/zero) "$QVL_MNT/half" ||
	fail "half extended: zeros past the old end"
qvl_umount
qvl_done
