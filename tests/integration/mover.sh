#!/bin/bash
# mover.sh - the mover writes dirty chunks back ahead of need, without the
# filesystem's lock (tiers/mover.c), and never at the cost of a byte:
#   - a copy four times the budget: the mover writes most frames, the
#     copy reads back whole, and again after a remount;
#   - rewrites racing the mover (random overwrites of a file twice the
#     budget, the shadow in the checker): every byte as last written, in
#     the mount and after a remount;
#   - files truncated, punched and unlinked while their chunks are being
#     written back: nothing leaks or crashes (the sanitizer build checks
#     memory), the store passes a remount with the files as they ended.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
jq_() { qvl_json "$1"; }

qvl_mount ram=16M,chunk=64K
M=$QVL_MNT
head -c $((64 << 20)) /dev/urandom >"$QVL_TMP/src"
cp "$QVL_TMP/src" "$M/copy" || fail "cp"
sync "$M/copy" || fail "sync"
frames=$(jq_ 'j["mover"]["frames"]')
written=$(jq_ 'j["tiering"]["frames_written"]')
echo "copy of 64 MiB into ram=16M: $frames of $written frames written by the mover"
[ "$frames" -gt $((written / 4)) ] || fail "the mover wrote $frames of $written frames"
cmp -s "$QVL_TMP/src" "$M/copy" || fail "the copy differs"

# Rewrites racing the mover.
"$QVL_PYTHON" - "$M/race" "$QVL_TMP/race.shadow" <<'PY' || fail "racing rewrites"
import os, random, sys
path, shadow_path = sys.argv[1], sys.argv[2]
size = 32 << 20
rng = random.Random(7)
shadow = bytearray(os.urandom(size))
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, shadow, 0)
for i in range(3000):
    off = rng.randrange(size - 300000)
    n = rng.randrange(1, 300000)
    data = rng.randbytes(n)
    os.pwrite(fd, data, off)
    shadow[off:off + n] = data
    if i % 500 == 0:
        os.fsync(fd)
os.close(fd)
open(shadow_path, "wb").write(shadow)
PY
cmp -s "$QVL_TMP/race.shadow" "$M/race" || fail "race differs from its shadow"

# Truncates, punches and unlinks while chunks are written back.
"$QVL_PYTHON" - "$M" <<'PY' || fail "drop while writing back"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def punch(fd, off, n): # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    if libc.fallocate(fd, 3, ctypes.c_long(off), ctypes.c_long(n)):
        raise OSError(ctypes.get_errno(), "fallocate")
d = sys.argv[1]
blk = os.urandom(1 << 20)
for i in range(40):
    p = os.path.join(d, "t%d" % (i % 4))
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    for k in range(24):
        os.pwrite(fd, blk, k << 20)
    if i % 3 == 0:
        os.truncate(p, (i % 7) << 18)
    elif i % 3 == 1:
        punch(fd, 1 << 20, 8 << 20)
    os.close(fd)
    if i % 4 == 3:
        os.unlink(p)
PY
ls -l "$M" >"$QVL_TMP/ls.before"
for f in "$M"/t*; do [ -e "$f" ] && sha256sum "$f"; done >"$QVL_TMP/sums.before" 2>/dev/null
echo "mover: $(jq_ 'j["mover"]')"
qvl_umount

qvl_mount ram=16M,chunk=64K
cmp -s "$QVL_TMP/src" "$M/copy" || fail "the copy differs after a remount"
cmp -s "$QVL_TMP/race.shadow" "$M/race" || fail "race differs after a remount"
for f in "$M"/t*; do [ -e "$f" ] && sha256sum "$f"; done >"$QVL_TMP/sums.after" 2>/dev/null
cmp -s "$QVL_TMP/sums.before" "$QVL_TMP/sums.after" || fail "dropped files differ after a remount"
eq "$(jq_ '(j["errors"]["io"], j["errors"]["orphans"], j["errors"]["dangling"])')" "(0, 0, 0)" "io errors, orphans, dangling"
qvl_umount
qvl_done
