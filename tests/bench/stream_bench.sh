#!/bin/bash
# stream_bench.sh - the main job: a bf16 model about twice the memory it is
# given, read layer by layer with numpy.memmap(...).sum(), three passes,
# passes 2-3 timed.  A benchmark, not a test: it prints a markdown table and
# never fails on numbers.  Needs root (mounts, cgroup v1 memory,
# drop_caches), /dev/fuse, fio, /usr/bin/python3 with numpy.
#
#   tests/bench/stream_bench.sh [-d DIR] [-L LIMIT] [-M MODEL] [-r REPS]
#                               [-B BUILD] [--write-doc]
#
#   -d DIR     scratch directory for the plain model, the store and the fio
#              file, all on one filesystem (default /var/tmp)
#   -L LIMIT   the memory limit in MiB (default 1024)
#   -M MODEL   model size in MiB (default 2 x LIMIT)
#   -r REPS    repetitions, interleaved A B C; the table holds medians
#              (default 3)
#   -B BUILD   build directory holding qvlmemfs (default build/rel)
#   -S FILE    append the mount's .qvl/stats after each B run to FILE
#   --write-doc  also replace the "## Streaming a model larger than memory"
#              section of docs/BENCHMARKS.md with the table
#
# Setups, each repetition in this order, drop_caches before each:
#   A  plain files on DIR's filesystem, the reader in a cgroup v1 memory
#      limit of LIMIT (its page cache is charged there)
#   B  qvlmemfs, the daemon and the reader together in one cgroup of LIMIT,
#      ram = LIMIT - 160 MiB (the reader's python and the daemon's own
#      buffers take the rest); B's OOM kills and peak usage are reported
#   C  fio, O_DIRECT sequential read of a MODEL-sized file, 1 MiB blocks,
#      iodepth 16, io_uring: the disk's own bandwidth
# Logical GB/s = bytes of the model read in passes 2-3 / their time.
set -u
set -o pipefail

DIR=/var/tmp LIMIT=1024 MODEL= REPS=3 BUILD=build/rel WRITE_DOC=0 STATS=
ARGS=("$@")
usage() { sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	-d) DIR=$2; shift ;;
	-L) LIMIT=$2; shift ;;
	-M) MODEL=$2; shift ;;
	-r) REPS=$2; shift ;;
	-B) BUILD=$2; shift ;;
	-S) STATS=$2; shift ;;
	--write-doc) WRITE_DOC=1 ;;
	-h|--help) usage 0 ;;
	*) echo "stream_bench.sh: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done
: "${MODEL:=$((2 * LIMIT))}"
PY=/usr/bin/python3
CG=/sys/fs/cgroup/memory
[ "$(id -u)" = 0 ] || { echo "stream_bench.sh: needs root" >&2; exit 1; }
[ -d $CG ] || { echo "stream_bench.sh: no cgroup v1 memory controller" >&2; exit 1; }
command -v fio >/dev/null || { echo "stream_bench.sh: needs fio" >&2; exit 1; }
[ -x "$BUILD/qvlmemfs" ] || { echo "stream_bench.sh: build $BUILD first" >&2; exit 1; }

W=$(mktemp -d "$DIR/qvl-streambench.XXXXXX")
PLAIN=$W/plain STORE=$W/store MNT=$W/mnt
mkdir -p "$PLAIN" "$STORE" "$MNT"
DPID=
cleanup() {
	mountpoint -q "$MNT" && { fusermount3 -u "$MNT" || umount -l "$MNT"; }
	[ -n "$DPID" ] && { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	for g in A B; do
		[ -d $CG/qvlbench_$g ] && rmdir $CG/qvlbench_$g 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

cg_new() { # name: a fresh cgroup limited to LIMIT MiB
	local g=$CG/qvlbench_$1
	[ -d "$g" ] && rmdir "$g"
	mkdir "$g"
	echo $((LIMIT << 20)) >"$g/memory.limit_in_bytes"
	echo "$g"
}
cg_done() { # name: empty and remove it
	local g=$CG/qvlbench_$1
	echo 0 >"$g/memory.force_empty" 2>/dev/null
	rmdir "$g" 2>/dev/null
}
oom_kills() { sed -n 's/^oom_kill //p' "$1/memory.oom_control"; }

# ---- the model: layers of Qwen-like tensors, Gaussian bf16 (std 0.02) ----
$PY "$(dirname "$0")/stream_model.py" "$PLAIN" "$MODEL"
MODEL_BYTES=$(du -cb "$PLAIN"/* | tail -n 1 | cut -f1)
NFILES=$(ls "$PLAIN" | wc -l)

# ---- the same model into a store (dtype first, so chunks are coded bf16) --
"$BUILD/qvlmemfs" -f -o "store=$STORE,ram=${LIMIT}M" "$MNT" 2>"$W/daemon-load.log" &
DPID=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
for f in "$PLAIN"/*; do
	t=$MNT/$(basename "$f")
	: >"$t"
	setfattr -n user.qvl.dtype -v bf16 "$t"
	cat "$f" >"$t"
done
sync "$MNT"/* 2>/dev/null
fusermount3 -u "$MNT"
wait "$DPID"
DPID=
fio --name=lay --filename="$W/fio.dat" --size="$MODEL_BYTES" --rw=write \
	--bs=1M --direct=1 --ioengine=io_uring --iodepth=16 >/dev/null

# The reader: three passes, prints the logical GB/s of passes 2-3.
cat >"$W/reader.py" <<'EOF'
import numpy as np, os, sys, time
d = sys.argv[1]
files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith("layers."))
total, t = 0, []
for p in range(3):
    t0 = time.perf_counter()
    for f in files:
        m = np.memmap(f, dtype=np.uint16, mode="r")
        m.sum(dtype=np.uint64)
        if p == 0:
            total += m.nbytes
        del m
    t.append(time.perf_counter() - t0)
print("%.4f" % (2 * total / (t[1] + t[2]) / 1e9))
EOF

run_A() {
	drop
	local g; g=$(cg_new A)
	sh -c "echo \$\$ >$g/cgroup.procs; exec $PY $W/reader.py $PLAIN" || echo 0
	cg_done A
}

B_PEAK=() B_OOM=() B_ZHITS=() B_FETCH=()
run_B() {
	drop
	local g; g=$(cg_new B)
	sh -c "echo \$\$ >$g/cgroup.procs; exec $BUILD/qvlmemfs -f -o store=$STORE,ram=$((LIMIT - 160))M $MNT" \
		2>>"$W/daemon.log" &
	DPID=$!
	for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
	sh -c "echo \$\$ >$g/cgroup.procs; exec $PY $W/reader.py $MNT" >"$W/b.out" ||
		echo 0 >"$W/b.out"
	local js; js=$(cat "$MNT/.qvl/stats.json")
	[ -n "$STATS" ] && cat "$MNT/.qvl/stats" >>"$STATS"
	B_ZHITS+=("$(echo "$js" | $PY -c 'import json,sys; print(json.load(sys.stdin)["ram_split"]["compressed_hits"])')")
	B_FETCH+=("$(echo "$js" | $PY -c 'import json,sys; print(json.load(sys.stdin)["tiering"]["fetched"])')")
	fusermount3 -u "$MNT"
	wait "$DPID"
	DPID=
	B_PEAK+=("$(($(cat "$g/memory.max_usage_in_bytes") >> 20))")
	B_OOM+=("$(oom_kills "$g")")
	cg_done B
}

run_C() {
	drop
	fio --name=seq --filename="$W/fio.dat" --rw=read --bs=1M --direct=1 \
		--ioengine=io_uring --iodepth=16 --output-format=json 2>/dev/null |
		$PY -c 'import json,sys; j=json.load(sys.stdin); print("%.4f" % (j["jobs"][0]["read"]["bw_bytes"]/1e9))'
}

A=() B=() C=()
for r in $(seq "$REPS"); do
	A+=("$(run_A)")
	run_B
	B+=("$(cat "$W/b.out")")
	C+=("$(run_C)")
	echo "rep $r: A ${A[-1]}  B ${B[-1]} (peak ${B_PEAK[-1]} MiB, oom ${B_OOM[-1]}, compressed hits ${B_ZHITS[-1]}, fetched ${B_FETCH[-1]})  C ${C[-1]} GB/s" >&2
done

med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
mA=$(med "${A[@]}") mB=$(med "${B[@]}") mC=$(med "${C[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
TABLE=$(cat <<EOF
Model $((MODEL_BYTES >> 20)) MiB in $NFILES bf16 tensor files (Gaussian, std 0.02), limit $LIMIT MiB, $REPS repetitions, medians ($(date -u +%Y-%m-%d), $(nproc) cores):

| setup | logical GB/s | runs |
|---|---:|---|
| A plain files + numpy.memmap, reader in a ${LIMIT} MiB cgroup | $mA | ${A[*]} |
| B qvlmemfs ram=$((LIMIT - 160))M, daemon + reader in one ${LIMIT} MiB cgroup | $mB | ${B[*]} |
| C fio O_DIRECT 1 MiB QD16 io_uring, same disk | $mC | ${C[*]} |

B / A = $(ratio "$mB" "$mA"), B / C = $(ratio "$mB" "$mC"); B's cgroup peak (MiB): ${B_PEAK[*]}; OOM kills: ${B_OOM[*]}; B's reads decoded from compressed RAM per run: ${B_ZHITS[*]}, fetched from disk: ${B_FETCH[*]} (chunks, all three passes).

Command: \`tests/bench/stream_bench.sh ${ARGS[*]}\`
EOF
)
echo "$TABLE"
if [ "$WRITE_DOC" = 1 ]; then
	$PY tests/bench/doc_section.py docs/BENCHMARKS.md \
		"## Streaming a model larger than memory" <(echo "$TABLE") || exit 1
fi
