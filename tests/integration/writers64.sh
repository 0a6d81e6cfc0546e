#!/bin/bash
# writers64.sh - what the daemon really uses under many clients: 64
# processes write a 16 MiB file each at once on ram=32M, then 64 read them
# back.  Every byte comes back, and the daemon's peak RSS stays within the
# budget + 32 MiB (0.2 ran 1.8 x the budget here: per-request buffers,
# io_uring buffers and thread stacks were outside it).
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
N=64
head -c $((16 << 20)) /dev/urandom >"$QVL_TMP/src"
qvl_mount ram=32M
pids=()
for i in $(seq $N); do
	dd if="$QVL_TMP/src" of="$QVL_MNT/f$i" bs=1M status=none &
	pids+=($!)
done
wait "${pids[@]}" || fail "a writer failed"
sum=$(md5sum <"$QVL_TMP/src")
pids=()
for i in $(seq $N); do
	md5sum <"$QVL_MNT/f$i" >"$QVL_TMP/sum$i" &
	pids+=($!)
done
wait "${pids[@]}" || fail "a reader failed"
for i in $(seq $N); do
	[ "$(cat "$QVL_TMP/sum$i")" = "$sum" ] || fail "f$i differs"
done
hwm=$(awk '/VmHWM/ {print $2}' /proc/$QVL_PID/status)
limit=$(((32 + 32) * 1024))
echo "daemon VmHWM $hwm KiB, limit $limit KiB"
if ldd "$QVL_BUILD/qvlmemfs" | grep -q libasan; then
	echo "sanitizer build: memory bound not checked"
else
	[ "$hwm" -le "$limit" ] || fail "daemon peak RSS $hwm KiB over $limit KiB"
fi
qvl_umount
qvl_done
