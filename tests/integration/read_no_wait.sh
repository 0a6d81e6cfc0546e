#!/bin/bash
# read_no_wait.sh - a READ of data in RAM never waits for another READ's
# store I/O.  With every store read made 200 ms late (QVL_FAULT=read:1:slow:0,
# a busy disk), one reader streams a file from the store (advice random:
# each READ fetches its own chunk) while another
# reads a file that is in RAM, both with O_DIRECT (every READ reaches the
# daemon).  The second reader's slowest READ must take far less than one
# store read: the first reader's chunks are read and decoded without the
# filesystem's lock (tiers/ahead.c).  When fetches ran under the lock, each
# of its READs could wait out a whole store read.  Both files must read
# back exactly.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
QVL_FAULT=read:1:slow:0 qvl_mount ram=64M
head -c $((16 << 20)) /dev/urandom >"$QVL_MNT/cold"
head -c $((4 << 20)) /dev/urandom >"$QVL_MNT/hot"
sums=$(cd "$QVL_MNT" && md5sum cold hot)
setfattr -n user.qvl.tier -v nvme "$QVL_MNT/cold" || fail "tier=nvme cold"
# No readahead for it: each of its READs fetches its own chunk (with
# readahead, its READs mostly wait for a batch already in flight).
setfattr -n user.qvl.advice -v random "$QVL_MNT/cold" || fail "advice random"
eq "$(getfattr --absolute-names --only-values -n user.qvl.tier "$QVL_MNT/hot")" ram "hot file's tier"

dd if="$QVL_MNT/cold" of=/dev/null bs=1M iflag=direct status=none &
streamer=$!
sleep 0.3 # the stream's first store read is under way
worst=$("$QVL_PYTHON" - "$QVL_MNT/hot" <<'PY'
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 64 << 10)
worst, end = 0.0, time.monotonic() + 2.0
while time.monotonic() < end:
    for off in range(0, 4 << 20, 64 << 10):
        t = time.monotonic()
        os.preadv(fd, [buf], off)
        worst = max(worst, time.monotonic() - t)
print(int(worst * 1000))
PY
)
waited=$(qvl_json 'j["prefetch"]["reads_waited"]')
wait "$streamer" || fail "streaming the cold file"
echo "slowest READ of the file in RAM: $worst ms, while the other reader's" \
	"READs waited for the store $waited times (200 ms each)"
[ "$waited" -ge 3 ] || fail "the streaming reader hardly waited: $waited"
[ "$worst" -lt 100 ] || fail "a READ of data in RAM took $worst ms"
[ "$(cd "$QVL_MNT" && md5sum cold hot)" = "$sums" ] || fail "content"
qvl_umount
qvl_done
