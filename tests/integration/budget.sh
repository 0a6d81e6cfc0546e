#!/bin/bash
# budget.sh - RAM budget plus store: past the RAM budget (ram=32M) chunks
# spill to the store, which sits on a small tmpfs here, so RAM and store
# fill together.  Then writes fail with ENOSPC, everything written before
# stays intact (also after a remount), a write that would need one more
# chunk changes nothing past the chunks already there (size, bytes, RAM
# use), holes still cost nothing,
# and deleting makes the space usable again.  statfs reports what the
# mount stores (Used) and what RAM and the store have left (Avail).
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
SMALL=$QVL_TMP/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=40m tmpfs "$SMALL" || qvl_skip "cannot mount a tmpfs"
umount_small() { umount "$SMALL" 2>/dev/null || umount -l "$SMALL" 2>/dev/null; }
trap 'qvl_cleanup_small' EXIT
qvl_cleanup_small() {
	if [ -n "$QVL_PID" ] && kill -0 "$QVL_PID" 2>/dev/null; then
		fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT" 2>/dev/null
		sleep 0.2
		kill -9 "$QVL_PID" 2>/dev/null
	fi
	umount_small
	rm -rf "$QVL_TMP"
}
QVL_STORE=$SMALL/store
mkdir -p "$QVL_STORE"
qvl_mount ram=32M,flush=0.2
M=$QVL_MNT
L=$QVL_TMP/local
mkdir "$L"
MiB=$((1 << 20))
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
used() { qvl_json 'j["tiers"]["ram"]["used"]'; }
stored_ram() {
	local v
	v=$(getfattr --absolute-names --only-values -n user.qvl.stored "$1")
	v=${v%,nvme:*}
	echo "${v#ram:}"
}

eq "$(qvl_json 'j["tiers"]["ram"]["budget"]')" $((32 * MiB)) "budget in stats.json"
eq "$(qvl_json 'j["tiers"]["nvme"]["present"]')" True "nvme tier present"
head -c $((24 * MiB)) /dev/urandom >"$L/a"
head -c $((64 * MiB)) /dev/urandom >"$L/b"
head -c $((8 * MiB)) /dev/urandom >"$L/c"
# a is durable (on the store) and may stay in RAM as a clean copy.
check dd if="$L/a" of="$M/a" bs=1M conv=fsync status=none
sum_a=$(md5sum <"$L/a")

# Past RAM and store together: dd says ENOSPC; what was written is intact.
out=$(dd if="$L/b" of="$M/b" bs=1M status=none 2>&1) && fail "dd past RAM and store succeeded"
grep -q "No space left on device" <<<"$out" || fail "dd said '$out'"
bsize=$(stat -c %s "$M/b")
[ "$bsize" -gt $((8 * MiB)) ] && [ "$bsize" -lt $((64 * MiB)) ] || fail "b has $bsize bytes"
[ $((bsize % MiB)) = 0 ] || fail "a failed 1 MiB write left part of itself: $bsize"
# More than the RAM budget went in: the store took its share.
[ $((24 * MiB + bsize)) -gt $((40 * MiB)) ] || fail "only $((24 * MiB + bsize)) bytes fit in RAM + store"
[ "$(qvl_json 'j["enospc"]')" -ge 1 ] || fail "enospc counter"
[ "$(qvl_json 'j["tiering"]["evicted"]')" -gt 0 ] || fail "nothing was evicted"
[ "$(used)" -le $((32 * MiB)) ] || fail "ram used $(used) over the budget"
drop_caches
eq "$(md5sum <"$M/a")" "$sum_a" "a after ENOSPC"
check cmp -n "$bsize" "$L/b" "$M/b"
eq "$(stat -c %s "$M/a")" $((24 * MiB)) "a's size"
expect_errno "No space left on device" cp "$L/c" "$M/c"
expect_errno "No space left on device" fallocate -l $((16 * MiB)) "$M/fa"
[ "$(stat -c %s "$M/fa" 2>/dev/null || echo 0)" = 0 ] || fail "refused fallocate changed the size"

# One write that needs a new chunk when none is left: the part that lands in
# the chunk already there may be written (a short write, as on a full
# disk), nothing past it, and the size does not change.
u0=$(used)
"$QVL_PYTHON" - "$M/b" "$bsize" <<'PY' || fail "write across the end"
import errno, os, sys
p, size = sys.argv[1], int(sys.argv[2])
before = open(p, "rb").read()
fd = os.open(p, os.O_WRONLY)
try:
    n = os.pwrite(fd, b"\xaa" * 8192, size - 4096)
    if n > 4096:
        raise SystemExit("write across the end wrote %d bytes" % n)
except OSError as e:
    assert e.errno == errno.ENOSPC, e
    n = 0
assert os.stat(p).st_size == size, os.stat(p).st_size
os.posix_fadvise(os.open(p, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)
want = before[:size - 4096] + b"\xaa" * n + before[size - 4096 + n:]
assert open(p, "rb").read() == want, "bytes past a short write changed"
os.pwrite(fd, before[size - 4096:], size - 4096) # as it was
os.close(fd)
PY
[ "$(used)" -le "$u0" ] || fail "ram used grew after a refused write: $u0 -> $(used)"
# Holes cost nothing, even when full.
check truncate -s 1G "$M/hole"
eq "$(stored_ram "$M/hole")" 0 "stored of a hole"
[ "$(used)" -le "$u0" ] || fail "ram used grew with a hole"

# statfs: Size is Used (what the mount stores: RAM for data + the store's
# bytes) + Avail, at most the RAM budget plus the store's 40 MiB; full,
# almost nothing free.
size=$(stat -f -c '%b*%S' "$M" | bc)
free=$(stat -f -c '%a*%S' "$M" | bc)
u=$(used)
[ "$size" -le $(((32 + 40) * MiB)) ] || fail "statfs size $size"
[ $((size - free)) -ge $((u)) ] || fail "statfs used $((size - free)) below ram used $u"
[ "$free" -le $((32 * MiB)) ] && [ "$free" -ge 0 ] || fail "statfs free $free"
[ $((u)) -le $((32 * MiB)) ] || fail "ram used $u over the budget"

# Deleting gives the space back (RAM at once, store at the next commit).
check rm "$M/a" "$M/hole"
ok=0
for _ in $(seq 50); do
	if cp "$L/c" "$M/c" 2>/dev/null; then ok=1; break; fi
	rm -f "$M/c"
	sleep 0.2
done
[ "$ok" = 1 ] || fail "no space after deleting a 24 MiB file"
check cmp "$L/c" "$M/c"
check cmp -n "$bsize" "$L/b" "$M/b"
# Cut b so that everything fits the store: fsync succeeds once the commit
# gave the cut frames' space back, and all of it survives a remount.
check truncate -s $((16 * MiB)) "$M/b"
ok=0
for _ in $(seq 50); do
	if "$QVL_PYTHON" -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); os.fsync(fd)' "$M/c" 2>/dev/null; then ok=1; break; fi
	sleep 0.2
done
[ "$ok" = 1 ] || fail "fsync still fails after cutting b"
eq "$(qvl_json 'j["errors"]["catalog"]')" 0 "catalog errors (a full store is not one)"
[ "$QVL_FAILS" = 0 ] || tail -20 "$QVL_TMP/daemon.log"
qvl_umount
qvl_mount ram=32M
check cmp "$L/c" "$M/c"
check cmp -n $((16 * MiB)) "$L/b" "$M/b"
eq "$(stat -c %s "$M/b")" $((16 * MiB)) "b's size after a remount"
[ -e "$M/a" ] && fail "a deleted file came back"
qvl_umount
umount_small
qvl_done
