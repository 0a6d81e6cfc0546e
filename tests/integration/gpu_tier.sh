#!/bin/bash
# gpu_tier.sh - the GPU tier on a real mount, driven on the test device
# (QVL_GPU_FAKE=FILE: the daemon's arena is that file, its copies made by
# threads), so every step a GPU would see is checked byte for byte where
# user.qvl.cuda_ipc says the file is:
#  - without gpu=, or with gpu= and no GPU: tier=gpu and pin=gpu are
#    ENODEV, cuda_ipc ENODATA, the daemon says why; bad gpu= is refused;
#  - tier=gpu uploads; tier, stored, .qvl/tiers/gpu and stats report it;
#  - a write drops an unheld replica, refreshes a pinned one (bytes, holes,
#    growth within and past its block, punch, shrink);
#  - a full arena evicts what is neither pinned nor mapped, else ENOSPC;
#  - libqvlmem_cuda (through qvlmem.py): a mapping sees the bytes and
#    their refresh, holds the replica (no eviction, a size past its block
#    EBUSY), and a mapper killed with SIGKILL is forgotten.
. "$(dirname "$0")/lib.sh"
qvl_require_fuse
command -v setfattr >/dev/null || qvl_skip "no setfattr (attr)"
"$QVL_PYTHON" -c 'import numpy' 2>/dev/null || qvl_skip "no numpy for $QVL_PYTHON"

PY="$QVL_PYTHON"
export PYTHONPATH=$PWD/client/python
export QVLMEM_CUDA_LIB=$(realpath "$QVL_BUILD")/libqvlmem_cuda.so
M=$QVL_MNT
ARENA=$QVL_TMP/arena
# A sanitizer build's libqvlmem_cuda needs its runtimes loaded first.
PYC=("$PY")
if ldd "$QVLMEM_CUDA_LIB" 2>/dev/null | grep -q libasan; then
	PYC=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
	     ASAN_OPTIONS=detect_leaks=0 "$PY")
fi

gx() { getfattr --only-values -n "user.qvl.$2" "$1" 2>/dev/null; }

# arena_same FILE: the bytes where cuda_ipc points equal the file's.
arena_same() {
	"$PY" - "$1" "$ARENA" <<'EOF'
import os, re, sys
v = os.getxattr(sys.argv[1], "user.qvl.cuda_ipc").decode()
off = int(re.search(r"offset=(\d+)", v).group(1))
size = int(re.search(r"size=(\d+)", v).group(1))
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "rb") as f:
    f.seek(off)
    dev = f.read(size)
sys.exit(0 if size == len(data) and dev == data else 1)
EOF
}

json() { # json EXPR: a value from .qvl/stats.json
	"$PY" -c "import json,sys; s=json.load(open('$M/.qvl/stats.json')); print($1)"
}

# --- no GPU tier -----------------------------------------------------------
qvl_mount "ram=64M"
head -c 100000 /dev/urandom >"$M/x"
expect_errno "No such device" setfattr -n user.qvl.tier -v gpu "$M/x"
expect_errno "No such device" setfattr -n user.qvl.pin -v gpu "$M/x"
expect_errno "No such attribute" getfattr -n user.qvl.cuda_ipc "$M/x"
grep -q "^gpu   absent" "$M/.qvl/stats" || fail "stats: gpu not absent"
[ "$(json 's["tiers"]["gpu"]["present"]')" = False ] || fail "stats.json: gpu present"
qvl_umount

if ! command -v nvidia-smi >/dev/null; then
	unset QVL_GPU_FAKE
	qvl_mount "ram=64M,gpu=16M"
	grep -q "no GPU tier" "$QVL_TMP/daemon.log" || fail "no log line for gpu= without a GPU"
	grep -q "^gpu   absent.*(gpu=: " "$M/.qvl/stats" || fail "stats does not say why there is no GPU"
	expect_errno "No such device" setfattr -n user.qvl.tier -v gpu "$M/x"
	qvl_umount
fi
for bad in gpu=abc gpu=0 gpu=150% gpu=1G,gpu_dev=x gpu_dev=1; do
	if "$QVL_BUILD/qvlmemfs" -f -o "store=$QVL_STORE,$bad" "$M" 2>"$QVL_TMP/bad.log"; then
		fail "mounted with $bad"
		fusermount3 -u "$M"
	fi
	grep -q "bad gpu=" "$QVL_TMP/bad.log" || fail "$bad: no clear error"
done

# --- the test device -------------------------------------------------------
export QVL_GPU_FAKE=$ARENA QVL_GPU_FAKE_DELAY_US=100
export QVL_GPU_FAKE_FAIL_IF=$QVL_TMP/gpu_fail
qvl_mount "ram=64M,gpu=16M"
grep -q "GPU tier: test device" "$QVL_TMP/daemon.log" || fail "no GPU tier line"
head -c 3000000 /dev/urandom >"$M/a"
check setfattr -n user.qvl.tier -v gpu "$M/a"
[ "$(gx "$M/a" tier)" = gpu ] || fail "tier after tier=gpu: $(gx "$M/a" tier)"
case $(gx "$M/a" stored) in gpu:3000000,ram:*) ;; *) fail "stored: $(gx "$M/a" stored)" ;; esac
arena_same "$M/a" || fail "a: arena bytes differ after upload"
ls "$M/.qvl/tiers/gpu" | grep -q ':a$' || fail ".qvl/tiers/gpu does not list a"
[ "$(json 's["tiers"]["gpu"]["files"]')" = 1 ] || fail "stats.json gpu files"
# A write to an unheld replica drops it.
printf 'zz' | dd of="$M/a" bs=1 seek=10 conv=notrunc status=none
expect_errno "No such attribute" getfattr -n user.qvl.cuda_ipc "$M/a"
[ "$(gx "$M/a" tier)" != gpu ] || fail "a still on the GPU after a write"
# tier=ram on a GPU file takes it off the GPU.
check setfattr -n user.qvl.tier -v gpu "$M/a"
check setfattr -n user.qvl.tier -v ram "$M/a"
[ "$(gx "$M/a" tier)" = ram ] || fail "tier=ram left it on the GPU"

# A pinned replica is refreshed by every change.
head -c 5000000 /dev/urandom >"$M/b"
check setfattr -n user.qvl.pin -v gpu "$M/b"
[ "$(gx "$M/b" tier)" = gpu ] || fail "pin=gpu did not place b"
expect_errno "Device or resource busy" setfattr -n user.qvl.tier -v nvme "$M/b"
head -c 70000 /dev/urandom | dd of="$M/b" bs=1k seek=1000 conv=notrunc status=none
arena_same "$M/b" || fail "b: not refreshed after a write"
truncate -s 6000000 "$M/b"
arena_same "$M/b" || fail "b: growth within its block not zeros"
head -c 1000 /dev/urandom | dd of="$M/b" bs=1 seek=7000000 conv=notrunc status=none
arena_same "$M/b" || fail "b: write past the end (a hole) not refreshed"
truncate -s 9000000 "$M/b" # past its 8 MiB block: a new block
arena_same "$M/b" || fail "b: not moved to a larger block"
fallocate -p -o 4096 -l 100000 "$M/b"
arena_same "$M/b" || fail "b: punched range not zero on the device"
truncate -s 1000000 "$M/b"
arena_same "$M/b" || fail "b: shrink"
# pin=gpu outlives a remount (the arena does not): placed again.
qvl_umount
qvl_mount "ram=64M,gpu=16M"
for _ in $(seq 100); do [ "$(gx "$M/b" tier)" = gpu ] && break; sleep 0.1; done
[ "$(gx "$M/b" tier)" = gpu ] || fail "a pinned file not placed again after a remount"
arena_same "$M/b" || fail "b after a remount: arena bytes differ"
grep -q "1 pinned files placed" "$QVL_TMP/daemon.log" || fail "no log line for the pinned files placed"
rm "$M/b"

# Every codec: a bf16 file coded into the store (tier=nvme), then placed
# on the GPU from its frames: the device holds what a read returns
# (dequantized values for the lossy ones).
"$PY" - "$QVL_TMP/g16" <<'EOF'
import sys, numpy as np
v = (np.random.default_rng(3).normal(0, 0.02, 600000)).astype(np.float32)
open(sys.argv[1], "wb").write((v.view(np.uint32) >> 16).astype(np.uint16).tobytes())
EOF
for c in auto none zstd shuffle-zstd q8_0 f8e4m3; do
	: >"$M/c_$c"
	setfattr -n user.qvl.dtype -v bf16 "$M/c_$c"
	setfattr -n user.qvl.codec -v "$c" "$M/c_$c"
	cat "$QVL_TMP/g16" >"$M/c_$c"
	check setfattr -n user.qvl.tier -v nvme "$M/c_$c"
	check setfattr -n user.qvl.tier -v gpu "$M/c_$c"
	arena_same "$M/c_$c" || fail "codec $c: arena bytes differ from a read"
	rm "$M/c_$c"
done

# Full: the unheld replica goes, the pinned one stays; then ENOSPC.
head -c 2000000 /dev/urandom >"$M/c"
head -c 5000000 /dev/urandom >"$M/d"
check setfattr -n user.qvl.tier -v gpu "$M/c"   # 2 MiB block
check setfattr -n user.qvl.pin -v gpu "$M/d"    # 8 MiB block
head -c 9000000 /dev/urandom >"$M/e"            # 16 MiB block: no room
expect_errno "No space left" setfattr -n user.qvl.tier -v gpu "$M/e"
head -c 5000000 /dev/urandom >"$M/f"
check setfattr -n user.qvl.tier -v gpu "$M/f"   # the other 8 MiB: c goes
[ "$(gx "$M/c" tier)" != gpu ] || fail "c not evicted"
[ "$(gx "$M/d" tier)" = gpu ] || fail "a pinned replica was evicted"
[ "$(json 's["tiers"]["gpu"]["evicted"]')" -ge 1 ] || fail "stats: evicted"
check setfattr -n user.qvl.pin -v none "$M/d"

# Mapped through libqvlmem_cuda: held, refreshed, forgotten at a crash.
check setfattr -n user.qvl.tier -v gpu "$M/d"
"${PYC[@]}" - "$M" <<'EOF' || fail "cuda_map checks"
import ctypes, errno, os, subprocess, sys
import qvlmem
m = sys.argv[1]
d = m + "/d"
info = qvlmem.cuda_info(d)
assert info and info["size"] == 5000000, info
with qvlmem.cuda_map(d) as mp:
    dev = lambda: ctypes.string_at(mp.ptr, mp.size)
    assert mp.size == 5000000 and dev() == open(d, "rb").read()
    assert mp.__cuda_array_interface__["data"][0] == mp.ptr
    st = qvlmem.stats(m)["tiers"]["gpu"]
    assert st["mapped"] == 1, st
    with open(d, "r+b") as f:
        f.seek(123456)
        f.write(b"mapped write")
    assert dev()[123456:123468] == b"mapped write", "not refreshed"
    try:
        os.truncate(d, 9000000)
        raise AssertionError("grew past a mapped block")
    except OSError as e:
        assert e.errno == errno.EBUSY, e
    # All of the arena asked for: f may go, d (mapped) may not.
    open(m + "/g", "wb").write(os.urandom(9000000))
    try:
        os.setxattr(m + "/g", "user.qvl.tier", b"gpu")
        raise AssertionError("evicted a mapped replica")
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
assert qvlmem.stats(m)["tiers"]["gpu"]["mapped"] == 0
try:
    qvlmem.cuda_map(m + "/c")
    raise AssertionError("mapped a file not on the GPU")
except OSError as e:
    assert e.errno == errno.ENODATA, e
EOF
# A mapper that dies without unmapping.
"${PYC[@]}" -c "
import os, sys, time, qvlmem
mp = qvlmem.cuda_map('$M/d'); print('mapped', flush=True)
time.sleep(60)" >"$QVL_TMP/mapper.out" &
MAPPER=$!
for _ in $(seq 100); do grep -q mapped "$QVL_TMP/mapper.out" && break; sleep 0.1; done
[ "$(json 's["tiers"]["gpu"]["mapped"]')" = 1 ] || fail "mapper not counted"
kill -9 $MAPPER; wait $MAPPER 2>/dev/null
n=1
for _ in $(seq 50); do n=$(json 's["tiers"]["gpu"]["mapped"]'); [ "$n" = 0 ] && break; sleep 0.1; done
[ "$n" = 0 ] || fail "a killed mapper is still counted"
check setfattr -n user.qvl.tier -v gpu "$M/g"   # d may go now

# A mapped copy that cannot be refreshed (the device fails its copies)
# stops being the file's, but its block stays taken until it is
# unmapped: no other file's bytes under the mapper's pointer.
check setfattr -n user.qvl.tier -v ram "$M/g"
head -c 1000000 /dev/urandom >"$M/h"
check setfattr -n user.qvl.tier -v gpu "$M/h"
"${PYC[@]}" - "$M" "$QVL_GPU_FAKE_FAIL_IF" <<'EOF' || fail "stale mapped copy"
import errno, json, os, sys
import qvlmem
m, failf = sys.argv[1], sys.argv[2]
used = lambda: qvlmem.stats(m)["tiers"]["gpu"]["used"]
mp = qvlmem.cuda_map(m + "/h")
before = used()
open(failf, "w").close()
with open(m + "/h", "r+b") as f:
    f.write(b"new bytes")          # the file changes; its copy cannot
os.unlink(failf)
assert qvlmem.cuda_info(m + "/h") is None, "a stale copy still offered"
assert qvlmem.tier(m + "/h") != "gpu"
assert used() == before, "the mapped block was freed"
assert qvlmem.stats(m)["tiers"]["gpu"]["mapped"] == 1
mp.close()
assert used() == before - (1 << 20), (used(), before)
qvlmem.move(m + "/h", "gpu")       # placed again, fresh
assert qvlmem.cuda_info(m + "/h")["size"] == 1000000
EOF
arena_same "$M/h" || fail "h placed again: arena bytes differ"
# What CudaMapping.torch() makes of the device bytes (the view, on CPU
# bytes here: no CUDA): the file's dtype and shape, as qvlmem.torch().
if "$PY" -c 'import torch' 2>/dev/null; then
	head -c 8192 /dev/urandom >"$M/t16"
	setfattr -n user.qvl.dtype -v bf16 "$M/t16"
	setfattr -n user.qvl.shape -v 64,64 "$M/t16"
	"$PY" - "$M/t16" <<'EOF' || fail "the CUDA tensor's view"
import sys, torch, qvlmem
p = sys.argv[1]
t = qvlmem._typed(torch.frombuffer(bytearray(open(p, "rb").read()),
                                   dtype=torch.uint8), p)
ref = qvlmem.torch(p)
assert t.dtype == ref.dtype and t.shape == ref.shape, (t.dtype, t.shape)
assert torch.equal(t.view(torch.int16), ref.view(torch.int16))
EOF
fi
qvl_umount

# A second user on an allow_other mount may read a file on the GPU, but
# not have the arena's handle, which opens every file on the GPU.
qvl_mount "ram=64M,gpu=16M,allow_other"
chmod 755 "$QVL_TMP" "$M"
head -c 100000 /dev/urandom >"$M/pub" && chmod 644 "$M/pub"
check setfattr -n user.qvl.tier -v gpu "$M/pub"
NB="setpriv --reuid=65534 --regid=65534 --clear-groups"
check $NB cat "$M/pub" >/dev/null
expect_errno "Permission denied" $NB getfattr -n user.qvl.cuda_ipc "$M/pub"
$NB "${PYC[@]}" -c "
import errno, qvlmem
try:
    qvlmem.cuda_map('$M/pub'); raise SystemExit('mapped as nobody')
except OSError as e:
    assert e.errno == errno.EACCES, e" || fail "cuda_map as a second user"
check getfattr -n user.qvl.cuda_ipc "$M/pub" >/dev/null
rm -f "$M/pub"
[ "$(json 's["tiers"]["gpu"]["used"]')" = 0 ] || fail "arena not empty after rm"
qvl_umount

# A placement lets the filesystem's lock go between its pieces: with
# copies made slow (0.3 s each), other requests answer meanwhile.
QVL_GPU_FAKE_DELAY_US=300000 qvl_mount "ram=64M,gpu=16M"
head -c 12000000 /dev/urandom >"$M/big"
echo other >"$M/other"
(s=$(date +%s%N); setfattr -n user.qvl.tier -v gpu "$M/big"
 echo $((($(date +%s%N) - s) / 1000000)) >"$QVL_TMP/place_ms") &
PP=$!
sleep 0.2
t0=$(date +%s%N)
[ "$(cat "$M/other")" = other ] || fail "read during a placement"
ls "$M" >/dev/null || fail "ls during a placement"
t1=$(date +%s%N)
wait $PP
[ "$(cat "$QVL_TMP/place_ms")" -ge 500 ] || fail "the placement was not slow ($(cat "$QVL_TMP/place_ms") ms): the check proves nothing"
[ $(((t1 - t0) / 1000000)) -lt 300 ] ||
	fail "other requests waited $(((t1 - t0) / 1000000)) ms for a placement"
arena_same "$M/big" || fail "big: arena bytes differ"
qvl_umount

# A daemon that forks into the background opens the device after the
# fork (CUDA's context, like the test device's threads, does not cross
# one): placement works there too.
"$QVL_BUILD/qvlmemfs" -o "store=$QVL_STORE,ram=64M,gpu=16M" "$M" 2>"$QVL_TMP/bg.log" ||
	fail "background mount"
head -c 200000 /dev/urandom >"$M/bgf"
timeout 20 setfattr -n user.qvl.tier -v gpu "$M/bgf" || fail "tier=gpu in a background daemon"
arena_same "$M/bgf" || fail "background daemon: arena bytes differ"
fusermount3 -u "$M"
for _ in $(seq 100); do pgrep -f "qvlmemfs -o store=$QVL_STORE" >/dev/null || break; sleep 0.1; done
unset QVL_GPU_FAKE QVL_GPU_FAKE_DELAY_US QVL_GPU_FAKE_FAIL_IF

[ $QVL_FAILS = 0 ] || exit 1
echo "gpu_tier: all checks passed"
