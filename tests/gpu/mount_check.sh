#!/bin/bash
# tests/gpu/mount_check.sh BUILD [RESULTS] - the GPU tier on a real mount
# and a real device: tier=gpu uploads byte-exact (read back by a second
# process through libqvlmem_cuda and CUDA IPC), a write refreshes a pinned
# copy, a small gpu= evicts the oldest unpinned copy.  Run by
# tests/gpu/run; needs root and /dev/fuse.
set -u
B=${1:-build/rel}
OUT=${2:-/dev/stdout}
W=$(mktemp -d /tmp/qvl-gpu.XXXXXX)
M=$W/mnt
mkdir -p "$M" "$W/store"
fails=0
say() { echo "$*" | tee -a "$OUT"; }
bad() { say "FAIL: $*"; fails=$((fails + 1)); }
cleanup() { fusermount3 -u "$M" 2>/dev/null; wait; rm -rf "$W"; }
trap cleanup EXIT
"$B/qvlmemfs" -f -o "store=$W/store,ram=512M,gpu=64M" "$M" 2>"$W/log" &
for _ in $(seq 100); do mountpoint -q "$M" && break; sleep 0.05; done
mountpoint -q "$M" || { cat "$W/log"; bad "mount"; exit 1; }
grep -q "GPU tier:" "$W/log" || { cat "$W/log"; bad "no GPU tier"; exit 1; }
say "$(grep 'GPU tier:' "$W/log")"
head -c 20000000 /dev/urandom >"$M/a"
t0=$(date +%s.%N)
setfattr -n user.qvl.tier -v gpu "$M/a" || bad "tier=gpu"
t1=$(date +%s.%N)
say "tier=gpu of 20 MB (in RAM): $(echo "$t0 $t1" | awk '{printf "%.1f ms", ($2-$1)*1e3}')"
[ "$(getfattr --only-values -n user.qvl.tier "$M/a")" = gpu ] || bad "tier reads"
"$B/tests/gpu_map_check" "$M/a" >>"$OUT" || bad "a: second process"
head -c 10000000 /dev/urandom >"$M/b"
setfattr -n user.qvl.pin -v gpu "$M/b" || bad "pin=gpu"
head -c 65536 /dev/urandom | dd of="$M/b" bs=4k seek=100 conv=notrunc status=none
"$B/tests/gpu_map_check" "$M/b" >>"$OUT" || bad "b: not refreshed after a write"
truncate -s 20000000 "$M/b" # past its 16 MiB block
"$B/tests/gpu_map_check" "$M/b" >>"$OUT" || bad "b: after growing past its block"
# 64 MiB: a (32 MiB block) and b (32) fill it; c needs a's room.
head -c 20000000 /dev/urandom >"$M/c"
setfattr -n user.qvl.tier -v gpu "$M/c" || bad "tier=gpu c (evicting a)"
[ "$(getfattr --only-values -n user.qvl.tier "$M/a")" != gpu ] || bad "a not evicted"
"$B/tests/gpu_map_check" "$M/c" >>"$OUT" || bad "c"
# Every codec, placed from its frames in the store.
head -c 1200000 /dev/urandom >"$W/g16" # any bits: the device must hold what a read returns
for c in auto none zstd shuffle-zstd q8_0 f8e4m3; do
	f=$M/c_$c
	: >"$f"; setfattr -n user.qvl.dtype -v bf16 "$f"; setfattr -n user.qvl.codec -v "$c" "$f"
	cat "$W/g16" >"$f"
	setfattr -n user.qvl.tier -v nvme "$f" && setfattr -n user.qvl.tier -v gpu "$f" ||
		bad "codec $c: placement"
	"$B/tests/gpu_map_check" "$f" >>"$OUT" || bad "codec $c: device bytes differ from a read"
	rm -f "$f"
done
grep -A3 '^gpu:' "$M/.qvl/stats" | tee -a "$OUT"
fusermount3 -u "$M"
wait
[ $fails = 0 ] && say "mount check: ok" || say "mount check: $fails failed"
exit $((fails > 0))
