#!/bin/bash
# mount_mistakes.sh - the mount command run twice, and a remount right
# after an unmount.  A second qvlmemfs on a mountpoint that is a qvlmemfs
# mount already is refused with a message (it used to stack an empty mount
# on top, exit 0, and hide the files).  A daemon started while the store's
# previous daemon is still writing back after its unmount waits for it,
# saying so, instead of failing.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_mount ram=128M
echo kept >"$QVL_MNT/a"
# Not $(...): a daemon that did mount would keep the pipe open.
if "$QVL_BUILD/qvlmemfs" -o store=$QVL_TMP/other,ram=16M "$QVL_MNT" >"$QVL_TMP/second.log" 2>&1; then
	fail "a second mount on the same mountpoint succeeded"
	fusermount3 -u "$QVL_MNT"
fi
grep -q "is a qvlmemfs mount already" "$QVL_TMP/second.log" ||
	fail "no message for the second mount: $(cat "$QVL_TMP/second.log")"
[ "$(cat "$QVL_MNT/a")" = kept ] || fail "the first mount's file is hidden"

# Unmount with a lot to write back, and mount again at once.
head -c $((96 << 20)) /dev/urandom >"$QVL_MNT/big"
sum=$(md5sum <"$QVL_MNT/big")
old=$QVL_PID
fusermount3 -u "$QVL_MNT" || fail "unmount"
qvl_mount ram=128M
wait "$old" || fail "the first daemon exited non-zero"
[ "$(md5sum <"$QVL_MNT/big")" = "$sum" ] || fail "data differs after the quick remount"
[ "$(cat "$QVL_MNT/a")" = kept ] || fail "small file lost after the quick remount"
qvl_umount
qvl_done
