#!/bin/bash
# stream_loop.sh - the main job on a small scale: a bf16 model 2.5x the RAM
# budget (ram=128M, 320 MiB in 20 tensors), written with its dtype set
# first, remounted, then read in a loop with numpy.memmap, three passes.
# Checks: every byte comes back (checksums against the source files); RAM
# serves part of the loop in the passes after the first (chunks the page
# cache keeps in loop order, or frames in the compressed tier: fewer than
# the 160 chunks of a pass come from the disk; 0.2's CLOCK kept nothing);
# and what the mount costs stays within its budget: the daemon's RSS plus
# the page cache of the mount's files (fincore), sampled through the
# passes, <= budget + the pool's slack (2 x (budget/32 + 8 MiB)) + 32 MiB
# + the daemon's resident size right after mounting (its code and
# libraries).  At this small budget the fixed part dominates; the issue's
# 1.05 x budget + 32 MiB is for its 864M budget (stream_bench.sh: the
# daemon, the reader and the page cache stay in one 1 GiB cgroup).
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
for i in range(20):
    x = rng.standard_normal((2048, 4096), dtype=np.float32) * 0.02
    (x.view(np.uint32) >> 16).astype(np.uint16).tofile("%s/layers.%02d" % (sys.argv[1], i))
PY
qvl_mount ram=128M
for f in "$SRC"/*; do
	t=$QVL_MNT/$(basename "$f")
	: >"$t"
	setfattr -n user.qvl.dtype -v bf16 "$t"
	cat "$f" >"$t"
done
qvl_umount
echo 3 >/proc/sys/vm/drop_caches

qvl_mount ram=128M
base=$(awk '/VmRSS/ {print $2}' /proc/$QVL_PID/status)
json() { "$QVL_PYTHON" -c "import json; j=json.load(open('$QVL_MNT/.qvl/stats.json')); print($1)"; }
# What the mount costs now, in KiB, every 50 ms while the passes run.
( while :; do
	rss=$(awk '/VmRSS/ {print $2}' /proc/$QVL_PID/status 2>/dev/null) || break
	pc=$(fincore -b -n -o RES "$QVL_MNT"/layers.* 2>/dev/null | awk '{s += $1} END {print int(s / 1024)}')
	echo $((rss + pc))
	sleep 0.05
done ) >"$QVL_TMP/cost" &
SAMPLER=$!
fetched=()
for pass in 1 2 3; do
	"$QVL_PYTHON" - "$QVL_MNT" "$SRC" <<'PY' || fail "pass $pass: data differs"
import hashlib, numpy as np, os, sys
m, s = sys.argv[1], sys.argv[2]
# Each tensor read once per pass, as a layer loop does: its digest through
# a memmap of the mount against the source file's.
for f in sorted(os.listdir(s)):
    a = np.memmap(os.path.join(m, f), dtype=np.uint16, mode="r")
    with open(os.path.join(s, f), "rb") as src:
        want = hashlib.sha1(src.read()).digest()
    if hashlib.sha1(memoryview(a)).digest() != want:
        sys.exit(1)
PY
	fetched+=("$(json 'j["tiering"]["fetched"]')")
done
kill $SAMPLER 2>/dev/null
wait $SAMPLER 2>/dev/null
cmp -s <(cat "$SRC"/*) <(cat "$QVL_MNT"/layers.*) || fail "content differs"
echo "chunks fetched from the store, total after each pass: ${fetched[*]}"
for p in 1 2; do
	got=$((fetched[p] - fetched[p - 1]))
	[ "$got" -le 288 ] || fail "pass $((p + 1)) fetched $got of 320 chunks: RAM kept (almost) nothing of the loop"
done
cost=$(sort -n "$QVL_TMP/cost" | tail -n 1)
# The budget, the pool's slack of freed pages it keeps for reuse (budget/32
# + 8 MiB, for chunks and again for frames: tiers/pool.c), 32 MiB of fixed
# buffers (FUSE requests, a batch of frames, codec scratch), and what the
# daemon held at mount.
limit=$(( 128 * 1024 + 2 * (128 * 1024 / 32 + 8 * 1024) + 32 * 1024 + base ))
echo "daemon RSS + page cache at most ${cost} KiB (daemon at mount ${base}); limit ${limit} KiB"
# A sanitizer build pays shadow memory and a free quarantine on top of the
# daemon's own bytes: the bound is the release build's to keep.
if ldd "$QVL_BUILD/qvlmemfs" | grep -q libasan; then
	echo "sanitizer build: memory bound not checked (shadow memory, quarantine)"
else
	[ -n "$cost" ] || fail "no memory samples"
	[ "${cost:-0}" -le "$limit" ] || fail "the mount cost $cost KiB, over $limit KiB"
fi
grep -E "^(ram split|compressed tier|page cache order|readahead|replies|tiering):" "$QVL_MNT/.qvl/stats"
grep -q "ram split:" "$QVL_MNT/.qvl/stats" || fail "no ram split in .qvl/stats"
# READs replied from the chunks themselves (tiers/reply.c), no copy first.
pinned=$(json 'j["replies"]["from_chunks_bytes"]')
[ "$pinned" -gt $((320 << 20)) ] || fail "bytes replied from chunk memory: $pinned"
qvl_umount
qvl_done
