#!/bin/bash
# crash_full.sh - a crash while the store is full never leaves a size the
# data does not back.  A file is written until the store (a 24 MiB tmpfs)
# refuses more; its last chunks stay in RAM, dirty.  An fsync then commits
# the catalog (and says ENOSPC); the daemon is killed.  After a remount
# every byte within the recorded size is the file's own: 0.2 recorded the
# whole size, and the chunks that never reached the disk read as zeros.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_small_store 24m
head -c $((64 << 20)) /dev/urandom >"$QVL_TMP/src"
head -c $((2 << 20)) /dev/urandom >"$QVL_TMP/keep"
qvl_mount ram=8M
dd if="$QVL_TMP/keep" of="$QVL_MNT/keep" bs=1M conv=fsync status=none || fail "keep"
dd if="$QVL_TMP/src" of="$QVL_MNT/fill" bs=1M status=none 2>/dev/null &&
	fail "64 MiB fitted in a 24 MiB store"
"$QVL_PYTHON" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.fsync(fd)
except OSError:
    pass
' "$QVL_MNT/fill"
written=$(stat -c %s "$QVL_MNT/fill")
kill -9 "$QVL_PID"
wait "$QVL_PID" 2>/dev/null
QVL_PID=
fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT"

qvl_mount ram=8M
size=$(stat -c %s "$QVL_MNT/fill")
echo "written $written bytes before the crash; $size recorded"
[ "$size" -le "$written" ] || fail "recorded size $size past what was written ($written)"
cmp -s <(head -c "$size" "$QVL_TMP/src") "$QVL_MNT/fill" ||
	fail "bytes within the recorded size differ (zeros where data never reached the disk)"
cmp -s "$QVL_TMP/keep" "$QVL_MNT/keep" || fail "the fsynced file differs"
rm -f "$QVL_MNT/fill"
qvl_umount
qvl_done
