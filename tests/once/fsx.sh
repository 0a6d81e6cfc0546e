#!/bin/bash
# fsx.sh - the random-operation checker (tests/integration/helpers/fsx.py)
# on a tiny budget (ram=4M, 64 KiB chunks: nearly everything spills and
# comes back), with tier flips running beside it and a remount in the
# middle: 4 processes, QVL_FSX_OPS operations each per half (default
# 25000: 200,000 in all).  Every read is compared with a shadow copy; after
# the remount every file must be what it was.  A mismatch prints the seed
# and the last operations; QVL_FSX_SEED replays a run.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
ops=${QVL_FSX_OPS:-25000}
seed=${QVL_FSX_SEED:-$RANDOM}
W=4
echo "seed $seed"
qvl_mount ram=4M,chunk=64K
"$QVL_PYTHON" tests/integration/helpers/fsx.py "$QVL_MNT" $W "$ops" "$seed" $((3 << 19)) ||
	fail "first half (seed $seed)"
sums=$(cd "$QVL_MNT" && md5sum fsx.*)
qvl_umount
echo 3 >/proc/sys/vm/drop_caches
qvl_mount ram=4M,chunk=64K
[ "$(cd "$QVL_MNT" && md5sum fsx.*)" = "$sums" ] || fail "files differ after the remount"
"$QVL_PYTHON" tests/integration/helpers/fsx.py "$QVL_MNT" $W "$ops" $((seed + 7)) $((3 << 19)) ||
	fail "second half (seed $((seed + 7)))"
grep -E "^(tiering|errors):" "$QVL_MNT/.qvl/stats"
qvl_umount
qvl_done
