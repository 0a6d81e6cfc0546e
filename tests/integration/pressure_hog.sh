#!/bin/bash
# pressure_hog.sh - real memory pressure from a memory hog shrinks the RAM
# tier and relief grows it back (fs/pressure.c), with nothing lost.  No
# stand-ins here (pressure.sh has those): the daemon watches the kernel's
# /proc/pressure/memory with its own trigger, and the pressure is four
# readers thrashing the page cache in a cgroup v1 memory limit of 16 MiB
# (memory reclaim in a cgroup is a memory stall the kernel counts for the
# whole machine: measured here 15% "some" over 10 s, the trigger wants
# 7.5%).  The daemon is not in that cgroup.  Skips where there is no PSI
# or no cgroup v1 memory controller, or where the hog makes no pressure.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
# Half a minute of four hogs: once per suite (the release build's run), the
# daemon's build changes nothing the kernel measures.
ldd "$QVL_BUILD/qvlmemfs" | grep -q libasan && qvl_skip "release build only"
[ -r /proc/pressure/memory ] || qvl_skip "no /proc/pressure/memory"
CGROOT=/sys/fs/cgroup/memory
[ -w "$CGROOT" ] || qvl_skip "no cgroup v1 memory controller"
CG=$CGROOT/qvl-hog.$$
MiB=$((1 << 20))
HOGPIDS=
stop_hog() {
	for p in $HOGPIDS; do kill "$p" 2>/dev/null; done
	for p in $HOGPIDS; do wait "$p" 2>/dev/null; done
	HOGPIDS=
}
trap 'stop_hog; rmdir "$CG" 2>/dev/null' EXIT
mkdir "$CG" || qvl_skip "cannot make a cgroup"
echo $((16 * MiB)) >"$CG/memory.limit_in_bytes"
head -c $((64 * MiB)) /dev/urandom >"$QVL_TMP/hog"

qvl_mount ram=64M,ram_min=16M
for i in 1 2 3 4 5; do
	head -c $((8 * MiB)) /dev/urandom >"$QVL_TMP/f$i"
	cp "$QVL_TMP/f$i" "$QVL_MNT/f$i"
done
target() { qvl_json 'j["pressure"]["ram_target"]'; }
eq "$(target)" $((64 * MiB)) "target before the hog"
psi_total() { sed -n 's/^some .*total=\([0-9]*\)/\1/p' /proc/pressure/memory; }
before=$(psi_total)
# The hog: its file's pages leave the page cache first (written back, then
# dropped), so the cgroup is charged for reading them; pages cached
# already are charged elsewhere, and dirty ones cannot be dropped.
"$QVL_PYTHON" -c "import os; fd = os.open('$QVL_TMP/hog', os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)"
for k in 1 2 3 4; do
	sh -c "echo \$\$ >$CG/cgroup.procs; while :; do cat $QVL_TMP/hog >/dev/null; done" &
	HOGPIDS="$HOGPIDS $!"
done
shrunk=0
qvl_wait_json 'j["pressure"]["ram_target"] <= 48 << 20' 25 && shrunk=1
low=$(target)
qvl_wait_json 'j["pressure"]["ram_target"] == 16 << 20' 10
lowest=$(target)
stop_hog
stalled=$((($(psi_total) - before) / 1000))
echo "memory stall while the hog ran: ${stalled} ms; RAM target under it: $((low / MiB)) MiB, then $((lowest / MiB)) MiB"
if [ "$shrunk" = 0 ]; then
	[ "$stalled" -lt 3000 ] && qvl_skip "the hog made too little pressure here (${stalled} ms stalled)"
	fail "target did not fall under ${stalled} ms of memory stall: $(target)"
fi
used=$(qvl_json 'j["tiers"]["ram"]["used"]')
echo "RAM used at the lowest target: $((used / MiB)) MiB"
qvl_wait_json 'j["pressure"]["ram_target"] == 64 << 20' 40 ||
	fail "target after the hog: $(target), want 64 MiB"
echo "shrinks $(qvl_json 'j["pressure"]["shrinks"]'), grows $(qvl_json 'j["pressure"]["grows"]'), seconds under pressure $(qvl_json 'j["pressure"]["seconds"]')"
[ "$(qvl_json 'j["pressure"]["shrinks"]')" -ge 1 ] || fail "no shrink counted"
[ "$(qvl_json 'j["pressure"]["grows"]')" -ge 1 ] || fail "no grow counted"
qvl_same_files "after the pressure" f1 f2 f3 f4 f5
qvl_umount
qvl_mount ram=64M
qvl_same_files "after a remount" f1 f2 f3 f4 f5
qvl_umount
qvl_done
