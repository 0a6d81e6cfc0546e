#!/bin/bash
# stream_loop.sh - the main job on a small scale: a bf16 model 2.5x the RAM
# budget (ram=64M, 160 MiB in 10 tensors), written with its dtype set
# first, remounted, then read in a loop with numpy.memmap, three passes.
# Checks: every byte comes back (checksums against the source files); the
# compressed tier hits in the passes after the first (LIRS keeps a stable
# part of the loop; 0.2's CLOCK hit nothing); and what the mount costs
# stays within its budget: the daemon's peak RSS plus the page cache of
# the mount's files (fincore) <= budget + the pool's slack (budget/32 +
# 8 MiB) + 32 MiB + the daemon's resident size right after mounting (its
# code and libraries).  At this small budget the fixed part dominates; the
# issue's 1.05 x budget + 32 MiB is for its 864M budget (stream_bench.sh:
# the daemon, the reader and the page cache stay in one 1 GiB cgroup).
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
command -v fincore >/dev/null || qvl_skip "no fincore"
"$QVL_PYTHON" -c 'import numpy' 2>/dev/null || qvl_skip "no numpy"
SRC=$QVL_TMP/src
mkdir -p "$SRC"
"$QVL_PYTHON" - "$SRC" <<'PY'
import numpy as np, sys
rng = np.random.default_rng(7)
for i in range(10):
    x = rng.standard_normal((2048, 4096), dtype=np.float32) * 0.02
    (x.view(np.uint32) >> 16).astype(np.uint16).tofile("%s/layers.%02d" % (sys.argv[1], i))
PY
qvl_mount ram=64M
for f in "$SRC"/*; do
	t=$QVL_MNT/$(basename "$f")
	: >"$t"
	setfattr -n user.qvl.dtype -v bf16 "$t"
	cat "$f" >"$t"
done
qvl_umount
echo 3 >/proc/sys/vm/drop_caches

qvl_mount ram=64M
base=$(awk '/VmRSS/ {print $2}' /proc/$QVL_PID/status)
json() { "$QVL_PYTHON" -c "import json; j=json.load(open('$QVL_MNT/.qvl/stats.json')); print($1)"; }
hits=()
for pass in 1 2 3; do
	"$QVL_PYTHON" - "$QVL_MNT" "$SRC" <<'PY' || fail "pass $pass: data differs"
import numpy as np, os, sys
m, s = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(s)):
    a = np.memmap(os.path.join(m, f), dtype=np.uint16, mode="r")
    b = np.fromfile(os.path.join(s, f), dtype=np.uint16)
    if a.sum(dtype=np.uint64) != b.sum(dtype=np.uint64) or not np.array_equal(a[::4097], b[::4097]):
        sys.exit(1)
PY
	hits+=("$(json 'j["ram_split"]["compressed_hits"]')")
done
cmp -s <(cat "$SRC"/*) <(cat "$QVL_MNT"/layers.*) || fail "content differs"
echo "compressed hits after each pass: ${hits[*]}"
[ "${hits[2]}" -gt "${hits[0]}" ] || fail "no compressed-tier hits on the loop: ${hits[*]}"
hwm=$(awk '/VmHWM/ {print $2}' /proc/$QVL_PID/status)
pc=$(fincore -b -n -o RES "$QVL_MNT"/layers.* | awk '{s += $1} END {print int(s / 1024)}')
# The budget, the pool's slack of freed pages it keeps for reuse (budget/32
# + 8 MiB, README), 32 MiB of fixed buffers (FUSE requests, a batch of
# frames, codec scratch), and what the daemon held at mount.
limit=$(( 64 * 1024 + (64 * 1024 / 32 + 8 * 1024) + 32 * 1024 + base ))
echo "daemon VmHWM ${hwm} KiB (at mount ${base}) + page cache ${pc} KiB; limit ${limit} KiB"
# A sanitizer build pays shadow memory and a free quarantine on top of the
# daemon's own bytes: the bound is the release build's to keep.
if ldd "$QVL_BUILD/qvlmemfs" | grep -q libasan; then
	echo "sanitizer build: memory bound not checked (shadow memory, quarantine)"
else
	[ $((hwm + pc)) -le "$limit" ] || fail "the mount cost $((hwm + pc)) KiB, over $limit KiB"
fi
grep -E "^(ram split|compressed tier|readahead|tiering):" "$QVL_MNT/.qvl/stats"
grep -q "ram split:" "$QVL_MNT/.qvl/stats" || fail "no ram split in .qvl/stats"
qvl_umount
qvl_done
