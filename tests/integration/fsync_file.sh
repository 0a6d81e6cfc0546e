#!/bin/bash
# fsync_file.sh - fsync(2) of one file makes that file durable without
# writing back everything else that is dirty: with 64 MiB of another file
# dirty in RAM, fsync of a small file leaves those chunks dirty, and after
# a crash right then the small file is whole and the other file's recorded
# size covers only data that reached the store.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
head -c $((64 << 20)) /dev/urandom >"$QVL_TMP/big"
head -c $((1 << 20)) /dev/urandom >"$QVL_TMP/small"
qvl_mount ram=256M,flush=3600
cp "$QVL_TMP/big" "$QVL_MNT/big"
dd if="$QVL_TMP/small" of="$QVL_MNT/small" bs=1M conv=fsync status=none || fail "fsync small"
dirty=$("$QVL_PYTHON" -c "import json; print(json.load(open('$QVL_MNT/.qvl/stats.json'))['tiering']['dirty'])")
echo "dirty chunks after fsync of the small file: $dirty"
[ "$dirty" -ge 60 ] || fail "fsync of one file wrote back the others ($dirty dirty chunks left)"
kill -9 "$QVL_PID"
wait "$QVL_PID" 2>/dev/null
QVL_PID=
fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT"

qvl_mount ram=256M
cmp -s "$QVL_TMP/small" "$QVL_MNT/small" || fail "the fsynced file is not whole after a crash"
if [ -e "$QVL_MNT/big" ]; then
	size=$(stat -c %s "$QVL_MNT/big")
	echo "big: $size bytes recorded"
	cmp -s <(head -c "$size" "$QVL_TMP/big") "$QVL_MNT/big" || fail "big: bytes within its size differ"
fi
qvl_umount
qvl_done
