#!/bin/bash
# repair_live.sh - no false alarm, no dangerous repair.  A file moved to
# the store, truncated to 0 and extended (all holes: its backing file has
# no frames) used to be reported as an orphan after a clean unmount, and
# -o repair removed its backing file.  After that sequence a remount
# reports nothing, and a mount with -o repair keeps every file whole; a
# backing file whose inode really is gone is still reported and removed.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_mount ram=16M
head -c $((3 << 20)) /dev/urandom >"$QVL_MNT/holes"
setfattr -n user.qvl.tier -v nvme "$QVL_MNT/holes" || fail "tier=nvme"
truncate -s 0 "$QVL_MNT/holes"
truncate -s $((2 << 20)) "$QVL_MNT/holes"
head -c $((2 << 20)) /dev/urandom >"$QVL_MNT/data"
setfattr -n user.qvl.tier -v nvme "$QVL_MNT/data" || fail "tier=nvme"
sum=$(md5sum <"$QVL_MNT/data")
qvl_umount

qvl_mount ram=16M
grep -q "orphaned" "$QVL_TMP/daemon.log" && fail "false alarm: $(grep orphaned "$QVL_TMP/daemon.log")"
qvl_umount

# A backing file nobody owns: the report and the repair are for it alone.
stray=$QVL_STORE/data/99/999999 # data/<first two digits>/<ino>
mkdir -p "$(dirname "$stray")"
cp "$(ls "$QVL_STORE/data"/*/* | head -n 1)" "$stray"
qvl_mount ram=16M,repair
grep -q "1 orphaned" "$QVL_TMP/daemon.log" || fail "stray backing file not reported: $(grep orphaned "$QVL_TMP/daemon.log")"
[ -e "$stray" ] && fail "repair left the stray backing file"
[ "$(md5sum <"$QVL_MNT/data")" = "$sum" ] || fail "repair damaged a live file"
[ "$(stat -c %s "$QVL_MNT/holes")" = $((2 << 20)) ] || fail "holes: size"
cmp -s "$QVL_MNT/holes" <(head -c $((2 << 20)) /dev/zero) || fail "holes: not zeros"
qvl_umount
qvl_done
