#!/bin/bash
# sparse.sh - a sparse file costs its data, not its size:
#   - lseek SEEK_DATA / SEEK_HOLE report the chunks that exist, at chunk
#     granularity, and ENXIO past the data and at the end;
#   - user.qvl.checksum of a 1 TiB file with three written ranges answers
#     at once (0.2 hashed a terabyte of zeros), equal to qvlctl checksum on
#     the mount, on a sparse copy outside it (cp), and to the test helper's
#     own sum; the same after the data went to the store and a remount;
#   - cp --sparse=always of it out of the mount reads only the data.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_helper
Q=$QVL_BUILD/qvlctl
C=65536 # chunk=64K: chunk and sum block are the same size here
qvl_mount ram=16M,chunk=64K
M=$QVL_MNT
get_sum() { getfattr --absolute-names --only-values -n user.qvl.checksum "$1"; }
ctl_sum() { "$Q" checksum "$1" | cut -d' ' -f1; }

# A small sparse file: data in chunks 1 and 4, holes elsewhere.
f=$M/small
truncate -s $((6 * C + 100)) "$f"
printf 'one' | dd of="$f" bs=1 seek=$((C + 10)) conv=notrunc status=none
printf 'four' | dd of="$f" bs=1 seek=$((4 * C + 5)) conv=notrunc status=none
"$QVL_PYTHON" - "$f" $C <<'PY' || fail "lseek data/hole"
import errno, os, sys
f, C = sys.argv[1], int(sys.argv[2])
fd = os.open(f, os.O_RDONLY)
size = os.fstat(fd).st_size
def seek(off, how):
    try:
        return os.lseek(fd, off, how)
    except OSError as e:
        return "ENXIO" if e.errno == errno.ENXIO else repr(e)
D, H = os.SEEK_DATA, os.SEEK_HOLE
want = [
    (0, D, C), (C + 7, D, C + 7), (2 * C, D, 4 * C), (5 * C, D, "ENXIO"),
    (0, H, 0), (C, H, 2 * C), (4 * C + 1, H, 5 * C), (6 * C, H, 6 * C),
    (size, D, "ENXIO"), (size, H, "ENXIO"), (size + 5, H, "ENXIO"),
]
bad = [(o, h, seek(o, h), w) for o, h, w in want if seek(o, h) != w]
for b in bad:
    print("lseek(%d, %s) = %s, want %s" % (b[0], "DATA" if b[1] == D else "HOLE", b[2], b[3]))
sys.exit(1 if bad else 0)
PY
eq "$(get_sum "$f")" "$("$QVLT" sum "$f")" "sum of a small sparse file"
eq "$(ctl_sum "$f")" "$("$QVLT" sum "$f")" "qvlctl checksum of a small sparse file"
# Zeros written where a hole was: the same content, the same sum.
s0=$(get_sum "$f")
head -c 1000 /dev/zero | dd of="$f" bs=1000 seek=$((3 * C / 1000 + 1)) conv=notrunc status=none
eq "$(get_sum "$f")" "$s0" "zeros written in a hole change the sum"

# 1 TiB with three written ranges.
g=$M/huge
truncate -s 1T "$g"
head -c 300000 /dev/urandom >"$QVL_TMP/r"
dd if="$QVL_TMP/r" of="$g" bs=100000 count=1 conv=notrunc status=none
dd if="$QVL_TMP/r" of="$g" bs=100000 skip=1 seek=$((5 << 20)) count=1 conv=notrunc status=none
dd if="$QVL_TMP/r" of="$g" bs=1 skip=200000 seek=$(((1 << 40) - 70000)) count=70000 conv=notrunc status=none
t0=$(date +%s%N)
sg=$(timeout 20 getfattr --absolute-names --only-values -n user.qvl.checksum "$g") || fail "checksum of 1 TiB timed out"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "checksum of a 1 TiB sparse file: ${ms} ms"
[ "$ms" -lt 5000 ] || fail "checksum of a sparse 1 TiB file took ${ms} ms"
eq "$(timeout 20 "$Q" checksum "$g" | cut -d' ' -f1)" "$sg" "qvlctl checksum on the mount"
timeout 60 cp --sparse=always "$g" "$QVL_TMP/huge" || fail "cp --sparse of 1 TiB"
eq "$(stat -c %s "$QVL_TMP/huge")" $((1 << 40)) "size of the copy"
[ "$(du -k "$QVL_TMP/huge" | cut -f1)" -lt 10000 ] || fail "the copy is not sparse: $(du -k "$QVL_TMP/huge")"
eq "$(timeout 20 "$Q" checksum "$QVL_TMP/huge" | cut -d' ' -f1)" "$sg" "qvlctl checksum of the copy outside"
cmp -s <(tail -c 70000 "$QVL_TMP/huge") <(tail -c 100000 "$QVL_TMP/r" | head -c 70000) || fail "the copy's last range"
rm -f "$QVL_TMP/huge"

# From the store, after a remount: the same sums.
setfattr -n user.qvl.tier -v nvme "$g" "$f" || fail "tier=nvme"
eq "$(get_sum "$g")" "$sg" "sum of the 1 TiB file from the store"
qvl_umount
qvl_mount ram=16M,chunk=64K
eq "$(timeout 20 getfattr --absolute-names --only-values -n user.qvl.checksum "$g")" "$sg" "sum after a remount"
eq "$(get_sum "$f")" "$("$QVLT" sum "$f")" "small file's sum after a remount"
qvl_umount
qvl_done
