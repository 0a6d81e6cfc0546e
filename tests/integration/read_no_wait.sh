#!/bin/bash
# read_no_wait.sh - a READ of data in RAM never waits for store I/O it
# does not need: another READ's fetch, or the periodic write-back.
#
# Every store read made 200 ms late (QVL_FAULT=read:1:slow:0, a busy
# disk): two readers stream files from the store (advice random: each
# READ fetches its own chunk) while a third reads a file that is in RAM,
# all with O_DIRECT (every READ reaches the daemon).  The third reader's
# slowest READ must take far less than one store read: the streams'
# chunks are read and decoded without the filesystem's lock
# (tiers/ahead.c).  When fetches ran under the lock, its READs waited out
# whole store reads (211 ms).  Then every store write 200 ms late, during
# the flusher's write-back (below).  All files must read back exactly.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
# hot_reader FILE: reads the 4 MiB FILE with O_DIRECT 64 KiB reads for
# 2 s; prints the slowest read in ms.
hot_reader() {
	"$QVL_PYTHON" - "$1" <<'PY'
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
}

QVL_FAULT=read:1:slow:0 qvl_mount ram=64M
for f in cold cold2; do
	head -c $((16 << 20)) /dev/urandom >"$QVL_MNT/$f"
done
head -c $((4 << 20)) /dev/urandom >"$QVL_MNT/hot"
sums=$(cd "$QVL_MNT" && md5sum cold cold2 hot)
for f in cold cold2; do
	setfattr -n user.qvl.tier -v nvme "$QVL_MNT/$f" || fail "tier=nvme $f"
	# No readahead for it: each of its READs fetches its own chunk
	# (with readahead, its READs mostly wait for a batch in flight).
	setfattr -n user.qvl.advice -v random "$QVL_MNT/$f" || fail "random $f"
done
eq "$(getfattr --absolute-names --only-values -n user.qvl.tier "$QVL_MNT/hot")" ram "hot file's tier"

# Two streams: their fetches queue behind each other, the READs of the
# file in RAM behind neither.
pids=()
for f in cold cold2; do
	dd if="$QVL_MNT/$f" of=/dev/null bs=1M iflag=direct status=none &
	pids+=($!)
done
sleep 0.3 # the streams' first store reads are under way
worst=$(hot_reader "$QVL_MNT/hot")
waited=$(qvl_json 'j["prefetch"]["reads_waited"]')
wait "${pids[@]}" || fail "streaming the cold files"
echo "slowest READ of the file in RAM: $worst ms, while the streams'" \
	"READs waited for the store $waited times (200 ms each)"
[ "$waited" -ge 3 ] || fail "the streams hardly waited: $waited"
[ "$worst" -lt 100 ] || fail "a READ of data in RAM took $worst ms"
[ "$(cd "$QVL_MNT" && md5sum cold cold2 hot)" = "$sums" ] || fail "content"
qvl_umount

# The periodic write-back: every store write 200 ms late, 8 MiB of dirty
# data (below the mover's half-budget mark, so only the flusher writes
# it, every 0.5 s) while the file in RAM is read.  The flusher drains
# through the mover, which codes and writes without the lock; its own
# turns under the lock (each could hold a READ for a batch of writes,
# 1.6 s here) find nothing left.
QVL_FAULT=write:1:slow:0 qvl_mount ram=64M,flush=0.5
head -c $((4 << 20)) /dev/urandom >"$QVL_MNT/hot"
sync "$QVL_MNT/hot" # written back once, before the timing
head -c $((8 << 20)) /dev/urandom >"$QVL_MNT/warm"
worst=$(hot_reader "$QVL_MNT/hot")
# The batch of 8 slow writes (1.6 s) may still be landing.
qvl_wait_json 'j["mover"]["frames"] >= 8' 15
frames=$(qvl_json 'j["mover"]["frames"]')
echo "slowest READ of the file in RAM during the write-back: $worst ms" \
	"($frames frames written by the mover)"
[ "$frames" -ge 8 ] || fail "the mover wrote $frames frames, want the 8 of warm"
[ "$worst" -lt 100 ] || fail "a READ of data in RAM took $worst ms during write-back"
sums=$(cd "$QVL_MNT" && md5sum hot warm)
qvl_umount
qvl_mount ram=64M
[ "$(cd "$QVL_MNT" && md5sum hot warm)" = "$sums" ] || fail "content after a remount"
qvl_umount
qvl_done
