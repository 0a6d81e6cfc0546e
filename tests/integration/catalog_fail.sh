#!/bin/bash
# catalog_fail.sh - a catalog that cannot commit turns the mount read-only.
# The store sits on a 24 MiB tmpfs that another file then fills; metadata
# written afterwards (64 KiB xattrs) needs catalog room that is not there.
# From the first failed commit on: changes are EROFS, reads still work,
# stats.json says read_only, the daemon exits 3 at unmount; the store keeps
# its last committed state, and mounts again once there is room.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_small_store 24m
small=$QVL_SMALL
head -c $((2 << 20)) /dev/urandom >"$QVL_TMP/keep"
qvl_mount ram=8M
dd if="$QVL_TMP/keep" of="$QVL_MNT/keep" bs=1M conv=fsync status=none || fail "keep"
dd if=/dev/zero of="$small/filler" bs=1M status=none 2>/dev/null # fill it up
"$QVL_PYTHON" - "$QVL_MNT" <<'PY'
import os, sys
m = sys.argv[1]
v = os.urandom(60000)
for i in range(200):
    p = os.path.join(m, "meta%d" % i)
    try:
        open(p, "w").close()
        os.setxattr(p, "user.big", v)
        fd = os.open(p, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    except OSError:
        break
PY
json() { "$QVL_PYTHON" -c "import json; print(json.load(open('$QVL_MNT/.qvl/stats.json'))$1)"; }
[ "$(json '["errors"]["read_only"]')" = True ] || fail "not read-only after the catalog filled: $(grep errors "$QVL_MNT/.qvl/stats")"
expect_errno "Read-only file system" touch "$QVL_MNT/after"
expect_errno "Read-only file system" setfattr -n user.x -v 1 "$QVL_MNT/keep"
cmp -s "$QVL_TMP/keep" "$QVL_MNT/keep" || fail "reads after the catalog failed"
fusermount3 -u "$QVL_MNT"
rc=0
wait "$QVL_PID" || rc=$?
QVL_PID=
[ "$rc" = 3 ] || fail "daemon exit status $rc, not 3"
grep -q "read-only" "$QVL_TMP/daemon.log" || fail "no log line: $(tail -3 "$QVL_TMP/daemon.log")"
rm -f "$small/filler"
qvl_mount ram=8M
cmp -s "$QVL_TMP/keep" "$QVL_MNT/keep" || fail "keep after the remount"
touch "$QVL_MNT/again" || fail "not writable again with room"
qvl_umount
qvl_done
