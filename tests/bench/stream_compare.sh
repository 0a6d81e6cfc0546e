#!/bin/bash
# stream_compare.sh - setup B of stream_bench.sh (the daemon and a numpy
# reader in one cgroup v1 memory limit, a bf16 model twice the limit read
# layer by layer), with every pass timed on its own, for two or more builds
# interleaved: how a change moves the cold pass, the pass after it and the
# steady passes.  A benchmark, not a test.  Needs root, /dev/fuse, cgroup
# v1 memory, /usr/bin/python3 with numpy.
#
#   tests/bench/stream_compare.sh [-d DIR] [-L LIMIT] [-p PASSES] [-r REPS]
#                                 BUILD...
#
#   -d DIR     scratch directory for the store (default /var/tmp)
#   -L LIMIT   the memory limit in MiB; ram = LIMIT - 160 (default 1024)
#   -p PASSES  passes over the model per run (default 4)
#   -r REPS    runs per build, interleaved (default 3)
#
# Prints one line per run: the build, each pass's logical GB/s, the daemon's
# CPU seconds (user+sys), the cgroup's peak, and the READs that waited for
# the store with their mean time in the daemon; then per build the median
# of each pass.  The store is written once with the first build, and each run
# starts from a copy of it.
set -u
DIR=/var/tmp LIMIT=1024 PASSES=4 REPS=3
while getopts d:L:p:r:h o; do
	case $o in
	d) DIR=$OPTARG ;;
	L) LIMIT=$OPTARG ;;
	p) PASSES=$OPTARG ;;
	r) REPS=$OPTARG ;;
	*) sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "stream_compare.sh: name at least one build" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "stream_compare.sh: needs root" >&2; exit 1; }
PY=/usr/bin/python3
CG=/sys/fs/cgroup/memory/qvlcompare
W=$(mktemp -d "$DIR/qvl-streamcmp.XXXXXX")
MNT=$W/mnt STORE=$W/store
mkdir -p "$MNT" "$STORE" "$W/plain"
DPID=
cleanup() {
	mountpoint -q "$MNT" && { fusermount3 -u "$MNT" || umount -l "$MNT"; }
	[ -n "$DPID" ] && { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	[ -d $CG ] && rmdir $CG 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
up() { # build opts: mount, wait for it
	"$1/qvlmemfs" -f -o "store=$STORE,$2" "$MNT" 2>>"$W/daemon.log" &
	DPID=$!
	for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
}
down() { fusermount3 -u "$MNT"; wait "$DPID"; DPID=; }

# The model, as stream_bench.sh makes it, written with its dtype set first.
$PY "$(dirname "$0")/stream_model.py" "$W/plain" $((2 * LIMIT))
up "$1" "ram=${LIMIT}M"
for f in "$W"/plain/*; do
	t=$MNT/$(basename "$f")
	: >"$t"
	setfattr -n user.qvl.dtype -v bf16 "$t"
	cat "$f" >"$t"
done
sync "$MNT"/*
down
rm -rf "$W/plain"
# Every run starts from this copy of the store: a build may change the
# store's format on its way (catalog format 2 came that way), and an
# older build refuses a newer store.
cp -a "$STORE" "$W/store.orig"

cat >"$W/reader.py" <<'EOF'
import numpy as np, os, sys, time
d, passes = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith("layers."))
out = []
for p in range(passes):
    t0, total = time.perf_counter(), 0
    for f in files:
        m = np.memmap(f, dtype=np.uint16, mode="r")
        m.sum(dtype=np.uint64)
        total += m.nbytes
        del m
    out.append("%.3f" % (total / (time.perf_counter() - t0) / 1e9))
print(" ".join(out))
EOF

: >"$W/runs"
for r in $(seq "$REPS"); do
	for b in "$@"; do
		rm -rf "$STORE" && cp -a "$W/store.orig" "$STORE"
		sync
		echo 3 >/proc/sys/vm/drop_caches
		[ -d $CG ] && rmdir $CG
		mkdir $CG
		echo $((LIMIT << 20)) >$CG/memory.limit_in_bytes
		sh -c "echo \$\$ >$CG/cgroup.procs; exec $b/qvlmemfs -f -o store=$STORE,ram=$((LIMIT - 160))M $MNT" 2>>"$W/daemon.log" &
		DPID=$!
		for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
		gbs=$(sh -c "echo \$\$ >$CG/cgroup.procs; exec $PY $W/reader.py $MNT $PASSES")
		cpu=$(awk '{printf "%.2f", ($14 + $15) / 100}' /proc/$DPID/stat)
		# READs that waited for the store: how many, and their mean time
		# in the daemon (.qvl/metrics, source "store")
		waits=$(awk -F'[ }]' '/^qvlmemfs_read_seconds_sum\{source="store"/ {s = $NF}
			/^qvlmemfs_read_seconds_count\{source="store"/ {n = $NF}
			END {printf "%d READs from the store, %.2f ms each", n, n ? s * 1000 / n : 0}' \
			"$MNT/.qvl/metrics" 2>/dev/null)
		down
		peak=$(($(cat $CG/memory.max_usage_in_bytes) >> 20))
		echo 0 >$CG/memory.force_empty 2>/dev/null
		rmdir $CG
		echo "$b | $gbs | daemon cpu $cpu s | peak $peak MiB | $waits" | tee -a "$W/runs"
	done
done
echo "medians per pass (GB/s):"
for b in "$@"; do
	grep "^$b |" "$W/runs" | cut -d'|' -f2 | $PY -c '
import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
print(sys.argv[1], " ".join("%.3f" % statistics.median(c) for c in zip(*rows)))' "$b"
done
