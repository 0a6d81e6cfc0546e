#!/bin/bash
# spill_writes.sh - ENOSPC only when RAM and store are both full.  With a
# store, preallocation larger than the RAM budget succeeds (the room is the
# store's), a write touching more chunks than the budget holds goes
# through chunk by chunk (0.2: ENOSPC, 0 bytes written), and a budget too
# small to work with is refused at mount with the minimum in the message.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_mount ram=32M
check fallocate -l 33M "$QVL_MNT/f33"
check fallocate -l 200M "$QVL_MNT/f200"
[ "$(stat -c %s "$QVL_MNT/f200")" = $((200 << 20)) ] || fail "fallocate size"
cmp -s <(head -c $((1 << 20)) "$QVL_MNT/f200") <(head -c $((1 << 20)) /dev/zero) ||
	fail "preallocated bytes are not zeros"
# The preallocated file takes data, all of it spilled through 32M.
head -c $((96 << 20)) /dev/urandom >"$QVL_TMP/src"
dd if="$QVL_TMP/src" of="$QVL_MNT/f200" bs=4M conv=notrunc status=none || fail "dd into f200"
cmp -s "$QVL_TMP/src" <(head -c $((96 << 20)) "$QVL_MNT/f200") || fail "f200 data"
qvl_umount

# One chunk of budget per 16 chunks a write touches (max_write is 1 MiB).
QVL_STORE=$QVL_TMP/store2
qvl_mount ram=1M,chunk=64K
"$QVL_PYTHON" - "$QVL_MNT/u" "$QVL_TMP/u" <<'PY' || fail "unaligned O_DIRECT write of 1 MiB on ram=1M"
import mmap, os, sys
buf = mmap.mmap(-1, 1 << 20)
buf.write(os.urandom(1 << 20))
for path, flags in ((sys.argv[1], os.O_DIRECT), (sys.argv[2], 0)):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | flags, 0o644)
    os.lseek(fd, 4096, 0)
    n = os.write(fd, buf)
    os.close(fd)
    if n != len(buf):
        sys.exit("wrote %d of %d" % (n, len(buf)))
PY
cmp -s "$QVL_MNT/u" "$QVL_TMP/u" || fail "O_DIRECT data differs"
cp "$QVL_TMP/src" "$QVL_MNT/big" || fail "cp 96M through ram=1M"
cmp -s "$QVL_TMP/src" "$QVL_MNT/big" || fail "big differs"
qvl_umount

mkdir -p "$QVL_TMP/m2"
"$QVL_BUILD/qvlmemfs" -f -o "store=$QVL_TMP/s3,ram=1M" "$QVL_TMP/m2" >"$QVL_TMP/small.log" 2>&1 &&
	{ fail "ram=1M with 1M chunks mounted"; fusermount3 -u "$QVL_TMP/m2"; }
grep -q "minimum of two chunks, 2048 KiB" "$QVL_TMP/small.log" ||
	fail "no minimum in the message: $(cat "$QVL_TMP/small.log")"
qvl_done
