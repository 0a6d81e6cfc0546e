#!/bin/bash
# ahead_race.sh - readahead off the lock (tiers/ahead.c) under things that
# change chunks while a batch is in flight, on a real mount with a budget
# smaller than the files.  Part 1: two streaming readers and an mmap reader
# go through a 48 MiB file on the store while a writer rewrites random
# ranges, punches holes and sends the file to the store (advice dontneed);
# at the end the file must equal the writer's shadow copy.  Part 2: readers
# stream files that another process deletes and recreates, truncates and
# regrows, and sends to the store.  The daemon must exit 0 (under the
# sanitizer build: no use after free, no leak).
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_mount ram=24M
"$QVL_PYTHON" - "$QVL_MNT" <<'PY' || fail "part 1"
import mmap, os, random, subprocess, sys, threading
f = os.path.join(sys.argv[1], "t")
N = 48 << 20
shadow = bytearray(os.urandom(N))
with open(f, "wb") as o:
    o.write(shadow)
subprocess.run(["setfattr", "-n", "user.qvl.tier", "-v", "nvme", f], check=True)
stop, errs = False, []
def reader():
    while not stop:
        try:
            with open(f, "rb") as i:
                while i.read(1 << 20):
                    pass
        except OSError as e:
            errs.append(e)
def mreader():
    while not stop:
        try:
            fd = os.open(f, os.O_RDONLY)
            mm = mmap.mmap(fd, N, prot=mmap.PROT_READ)
            sum(mm[off] for off in range(0, N, 4096))
            mm.close()
            os.close(fd)
        except OSError as e:
            errs.append(e)
ts = [threading.Thread(target=x) for x in (reader, reader, mreader)]
for t in ts:
    t.start()
rnd = random.Random(1)
fd = os.open(f, os.O_WRONLY)
for k in range(150):
    off = rnd.randrange(0, N - 8192)
    n = min(rnd.randrange(1, 3 << 20), N - off)
    data = os.urandom(n)
    os.pwrite(fd, data, off)
    shadow[off:off + n] = data
    if k % 20 == 0:
        at, ln = rnd.randrange(0, N - (4 << 20)), rnd.randrange(1, 4 << 20)
        subprocess.run(["fallocate", "-p", "-o", str(at), "-l", str(ln), f],
                       check=True)
        shadow[at:at + ln] = bytes(ln)
    if k % 25 == 0:
        subprocess.run(["setfattr", "-n", "user.qvl.advice", "-v", "dontneed",
                        f], check=True)
os.close(fd)
stop = True
for t in ts:
    t.join()
with open(f, "rb") as i:
    same = i.read() == bytes(shadow)
print("readers' errors:", errs[:3], "content matches the shadow:", same)
sys.exit(0 if same and not errs else 1)
PY

for i in 0 1 2 3; do
	head -c 12M /dev/urandom >"$QVL_MNT/f$i" || fail "writing f$i"
	setfattr -n user.qvl.tier -v nvme "$QVL_MNT/f$i"
done
(for _ in $(seq 25); do for i in 0 1 2 3; do
	cat "$QVL_MNT/f$i" >/dev/null 2>&1
done; done) &
R1=$!
(for _ in $(seq 25); do for i in 3 2 1 0; do
	dd if="$QVL_MNT/f$i" of=/dev/null bs=256k status=none 2>/dev/null
done; done) &
R2=$!
for r in $(seq 30); do
	i=$((r % 4))
	case $((r % 3)) in
	0) rm -f "$QVL_MNT/f$i"; head -c 12M /dev/urandom >"$QVL_MNT/f$i" ;;
	1) truncate -s 3M "$QVL_MNT/f$i"; truncate -s 12M "$QVL_MNT/f$i" ;;
	2) setfattr -n user.qvl.tier -v nvme "$QVL_MNT/f$i" ;;
	esac
	sleep 0.05
done
wait $R1 $R2
grep "readahead:" "$QVL_MNT/.qvl/stats"
qvl_umount
qvl_done
