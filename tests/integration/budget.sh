#!/bin/bash
# budget.sh - the RAM budget (ram=32M): writing past it fails with ENOSPC,
# everything written before stays intact, a write that would cross the
# budget changes nothing (size, bytes, usage), holes still cost nothing
# when full, and deleting makes the space usable again.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_mount ram=32M
M=$QVL_MNT
L=$QVL_TMP/local
mkdir "$L"
MiB=$((1 << 20))
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
used() { qvl_json 'j["tiers"]["ram"]["used"]'; }

eq "$(qvl_json 'j["tiers"]["ram"]["budget"]')" $((32 * MiB)) "budget in stats.json"
head -c $((20 * MiB)) /dev/urandom >"$L/a"
head -c $((20 * MiB)) /dev/urandom >"$L/b"
check cp "$L/a" "$M/a"
sum_a=$(md5sum <"$L/a")

# Past the budget: dd says ENOSPC; what was written is intact.
out=$(dd if="$L/b" of="$M/b" bs=1M status=none 2>&1) && fail "dd past the budget succeeded"
grep -q "No space left on device" <<<"$out" || fail "dd said '$out'"
bsize=$(stat -c %s "$M/b")
[ "$bsize" -gt 0 ] && [ "$bsize" -lt $((20 * MiB)) ] || fail "b has $bsize bytes"
[ $((bsize % MiB)) = 0 ] || fail "a failed 1 MiB write left part of itself: $bsize"
[ "$(qvl_json 'j["enospc"]')" -ge 1 ] || fail "enospc counter"
drop_caches
eq "$(md5sum <"$M/a")" "$sum_a" "a after ENOSPC"
check cmp -n "$bsize" "$L/b" "$M/b"
eq "$(stat -c %s "$M/a")" $((20 * MiB)) "a's size"
expect_errno "No space left on device" cp "$L/b" "$M/c"
expect_errno "No space left on device" fallocate -l $((4 * MiB)) "$M/fa"
[ "$(stat -c %s "$M/fa" 2>/dev/null || echo 0)" = 0 ] || fail "refused fallocate changed the size"

# One write that needs a new chunk when none is left: nothing changes, not
# even the bytes that would have landed in a chunk already there.
u0=$(used)
"$QVL_PYTHON" - "$M/b" "$bsize" <<'PY' || fail "write across the budget"
import errno, hashlib, os, sys
p, size = sys.argv[1], int(sys.argv[2])
before = open(p, "rb").read()
fd = os.open(p, os.O_WRONLY)
try:
    os.pwrite(fd, b"\xaa" * 8192, size - 4096)
    raise SystemExit("write across the budget succeeded")
except OSError as e:
    assert e.errno == errno.ENOSPC, e
os.close(fd)
assert os.stat(p).st_size == size, os.stat(p).st_size
os.posix_fadvise(os.open(p, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)
assert open(p, "rb").read() == before, "bytes changed by a refused write"
PY
eq "$(used)" "$u0" "ram used after a refused write"
# Rewriting resident chunks needs no new memory, and holes cost nothing.
check dd if=/dev/zero of="$M/a" bs=1M count=1 seek=3 conv=notrunc status=none
check truncate -s 1G "$M/hole"
eq "$(used)" "$u0" "ram used after overwrite and a hole"

# Deleting gives the space back.
check rm "$M/a" "$M/hole"
eq "$(used)" $((bsize)) "ram used after rm"
check cp "$L/b" "$M/c"
check cmp "$L/b" "$M/c"
free=$(stat -f -c '%a*%S' "$M" | bc)
eq "$free" $((32 * MiB - bsize - 20 * MiB)) "statfs free"
qvl_umount
qvl_done
