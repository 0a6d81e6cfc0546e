#!/bin/bash
# store_bench.sh - qvlmemfs's NVMe tier against the raw disk under it, in
# one run, on this machine.  A benchmark, not a test: it prints a markdown
# table and never fails on numbers.  Needs root (mounts, drop_caches),
# /dev/fuse, cc, fio, /usr/bin/python3; strace optional (daemon load row).
#
#   tests/bench/store_bench.sh [-d DIR] [-s SIZE] [-m RAM] [-l LAYERS]
#                              [-n FILES] [-k MOUNTS] [-r REPS] [-B BUILD]
#                              [--keep-100k] [--write-doc]
#
#   -d DIR       scratch directory; the store, the fio file and the cp
#                source/target all go under DIR/qvl-storebench.XXXXXX, so
#                they share one filesystem (default /var/tmp)
#   -s SIZE      fio file size, k/M/G suffix (default 2G)
#   -m RAM       the mount's RAM budget, ram= (default 512M)
#   -l LAYERS    qwen_demo decoder layers, ~96 MiB each (default 16: 1.5 GiB,
#                three times 512M)
#   -n FILES     empty files in the mount-time store (default 100000)
#   -k MOUNTS    mounts of that store timed per repetition (default 3; the
#                first of each repetition after drop_caches)
#   -r REPS      repetitions; the table holds medians (default 3)
#   -B BUILD     build directory holding qvlmemfs and examples/qwen_demo
#                (default build/rel)
#   --write-doc  also replace the "## NVMe tier: qvlmemfs vs the raw disk"
#                section of docs/BENCHMARKS.md with the table
#
# Once per run: lay out the fio file; write the model with qwen_demo through
# a mount (-o ram=RAM), copy it to DIR as one plain file (the cp source),
# unmount; create FILES empty files (100 per directory) through a second
# store and unmount it.  Each repetition, in this order:
#   fio    sync; drop_caches; fio read, O_DIRECT, 1 MiB, iodepth 16,
#          io_uring, one job: the disk's sequential bandwidth (reference)
#   model  drop_caches; mount; read every tensor (sorted names) with 1 MiB
#          read()s; logical = file bytes / time, disk = delta of
#          .qvl/stats.json tiering.frame_bytes_read / time
#   cp     the plain model file (made page-cache warm first) cp'd into the
#          mount, then `sync FILE` (fsync); the same onto DIR; MB/s each
#   mount  unmount the model store; drop_caches; then MOUNTS x: start
#          qvlmemfs -f, time until `mountpoint -q` succeeds, unmount; and
#          once under strace: execve -> mount(2), the daemon's own load
set -u
set -o pipefail

DIR=/var/tmp SIZE=2G RAM=512M LAYERS=16 NFILES=100000 MOUNTS=3 REPS=3
BUILD=build/rel WRITE_DOC=0
ARGS=("$@")
usage() { sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	-d) DIR=$2; shift ;;
	-s) SIZE=$2; shift ;;
	-m) RAM=$2; shift ;;
	-l) LAYERS=$2; shift ;;
	-n) NFILES=$2; shift ;;
	-k) MOUNTS=$2; shift ;;
	-r) REPS=$2; shift ;;
	-B) BUILD=$2; shift ;;
	--write-doc) WRITE_DOC=1 ;;
	-h|--help) usage 0 ;;
	*) echo "store_bench.sh: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PY=${QVL_PYTHON:-/usr/bin/python3}
[ "$(id -u)" = 0 ] || { echo "store_bench.sh: needs root" >&2; exit 1; }
for x in qvlmemfs examples/qwen_demo; do
	[ -x "$BUILD/$x" ] || { echo "store_bench.sh: no $BUILD/$x (make all)" >&2; exit 1; }
done
command -v fio >/dev/null || { echo "store_bench.sh: needs fio" >&2; exit 1; }
ENGINE=io_uring
fio --enghelp 2>/dev/null | grep -qw io_uring || ENGINE=libaio

T=$(mktemp -d "$DIR/qvl-storebench.XXXXXX") || exit 1
M=$T/mnt
mkdir -p "$M" "$T/store" "$T/store100k"
QPID=
qumount() { # unmount $M, wait for the daemon
	[ -n "$QPID" ] || return 0
	if ! fusermount3 -u "$M" 2>/dev/null; then
		umount -l "$M" 2>/dev/null
		kill "$QPID" 2>/dev/null
	fi
	wait "$QPID" 2>/dev/null
	QPID=
}
cleanup() { qumount; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$*" >&2; }
now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
STEP_TIMEOUT=${STEP_TIMEOUT:-900}

# qmount STORE [PREFIX...]: start the daemon on $M; MT = the seconds until
# `mountpoint -q` succeeds.  (Not in $(...): QPID must stay ours.)
qmount() {
	local store=$1 t0 t1
	shift
	t0=$(now)
	"$@" "$BUILD/qvlmemfs" -f -o "ram=$RAM,store=$store" "$M" 2>>"$T/daemon.log" &
	QPID=$!
	until mountpoint -q "$M"; do
		kill -0 "$QPID" 2>/dev/null || { log "mount failed:"; cat "$T/daemon.log" >&2; exit 1; }
		sleep 0.002
	done
	t1=$(now)
	MT=$(awk -v a="$t0" -v z="$t1" 'BEGIN { printf "%.4f\n", z - a }')
}
stat_json() { # EXPR over .qvl/stats.json as j
	timeout 10 "$PY" -c 'import json, sys
j = json.load(open(sys.argv[1] + "/.qvl/stats.json"))
print(eval(sys.argv[2]))' "$M" "$1"
}

# The reader: 1 MiB read()s of each file in turn; prints "bytes seconds".
cat >"$T/rd.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static char buf[1 << 20] __attribute__((aligned(4096)));
	struct timespec a, z;
	long long tot = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		ssize_t n;
		if (fd < 0) { perror(argv[i]); return 1; }
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			tot += n;
		if (n < 0) { perror(argv[i]); return 1; }
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &z);
	printf("%lld %.6f\n", tot, (z.tv_sec - a.tv_sec) + (z.tv_nsec - a.tv_nsec) * 1e-9);
	return 0;
}
EOF
cc -O2 -o "$T/rd" "$T/rd.c" || exit 1

# Results: one line "key value" per measurement in $T/res.
put() { echo "$1 $2" >>"$T/res"; log "  $1 $2"; }
FIO="timeout $STEP_TIMEOUT fio --name=seq --filename=$T/fio.dat --bs=1M --direct=1 --ioengine=$ENGINE --iodepth=16 --size=$SIZE --output-format=json"
fio_bw() { "$PY" -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["jobs"][0]["read"]["bw_bytes"])'; }

log "setup: fio file $SIZE, $ENGINE"
$FIO --rw=write >/dev/null || exit 1

log "setup: qwen_demo $LAYERS layers, ram=$RAM"
qmount "$T/store"
t0=$(now)
timeout "$STEP_TIMEOUT" "$BUILD/examples/qwen_demo" "$M/model" "$LAYERS" >/dev/null || exit 1
t1=$(now)
MODEL_BYTES=$(stat_json 'j["bytes"]')
put write.model "$(awk -v b="$MODEL_BYTES" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f\n", b / (z - a) }')"
# The cp source: the model's tensors as one plain file on DIR.
find "$M/model" -type f | sort | xargs cat >"$T/model.bin" || exit 1
qumount

log "setup: $NFILES files"
qmount "$T/store100k"
t0=$(now)
"$PY" - "$M" "$NFILES" <<'EOF' || exit 1
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    if i % 1000 == 0:
        d = "%s/d%05d" % (root, i // 1000)
        os.mkdir(d)
    os.close(os.open("%s/f%05d" % (d, i % 1000), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
EOF
t1=$(now)
put create.100k "$(awk -v n="$NFILES" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f\n", n / (z - a) }')"
t0=$(now)
qumount
put umount.100k "$(awk -v a="$t0" -v z="$(now)" 'BEGIN { printf "%.3f\n", z - a }')"

for rep in $(seq "$REPS"); do
	log "rep $rep/$REPS"
	drop
	put fio "$($FIO --rw=read --readonly | fio_bw)"

	drop
	qmount "$T/store"
	put mount.model "$MT"
	b0=$(stat_json 'j["tiering"]["frame_bytes_read"]')
	r0=$(stat_json 'j["tiering"]["raw_bytes_read"]')
	read -r nb secs < <(find "$M/model" -type f -print0 | sort -z | xargs -0 timeout "$STEP_TIMEOUT" "$T/rd")
	b1=$(stat_json 'j["tiering"]["frame_bytes_read"]')
	r1=$(stat_json 'j["tiering"]["raw_bytes_read"]')
	put model.logical "$(awk -v b="$nb" -v s="$secs" 'BEGIN { printf "%.0f\n", b / s }')"
	put model.disk "$(awk -v b="$((b1 - b0))" -v s="$secs" 'BEGIN { printf "%.0f\n", b / s }')"
	put model.secs "$secs"
	put model.read_bytes "$nb"
	put model.frame_bytes "$((b1 - b0))"
	put model.raw_bytes "$((r1 - r0))"
	put ratio "$(stat_json '"%.4f" % (j["tiers"]["nvme"]["used"] / j["bytes"])')"

	cat "$T/model.bin" >/dev/null
	t0=$(now)
	timeout "$STEP_TIMEOUT" cp "$T/model.bin" "$M/copy.bin" && sync "$M/copy.bin"
	t1=$(now)
	put cp.qvl "$(awk -v b="$(stat -c %s "$T/model.bin")" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f\n", b / (z - a) }')"
	rm -f "$M/copy.bin"
	qumount
	cat "$T/model.bin" >/dev/null
	t0=$(now)
	timeout "$STEP_TIMEOUT" cp "$T/model.bin" "$T/copy.bin" && sync "$T/copy.bin"
	t1=$(now)
	put cp.disk "$(awk -v b="$(stat -c %s "$T/model.bin")" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f\n", b / (z - a) }')"
	rm -f "$T/copy.bin"

	drop
	for k in $(seq "$MOUNTS"); do
		qmount "$T/store100k"
		if [ "$k" = 1 ]; then
			put mount.cold "$MT"
			put files.100k "$(stat_json 'j["files"]')"
		else
			put mount.warm "$MT"
		fi
		qumount
	done
	if command -v strace >/dev/null; then
		qmount "$T/store100k" strace -f --seccomp-bpf -ttt -e trace=execve,mount -o "$T/strace.txt"
		qumount
		put load "$(awk '/execve\(/ && !a { a = $2 } / mount\(/ && !m { m = $2 } END { if (a && m) printf "%.4f\n", m - a }' "$T/strace.txt")"
	fi
done

# Medians; ratios are the median of the per-repetition ratios.
med() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
vals() { awk -v k="$1" '$1 == k { print $2 }' "$T/res"; }
ratio() { paste <(vals "$1") <(vals "$2") | awk '$2 > 0 { printf "%.4f\n", $1 / $2 }' | med; }
mbs() { awk -v v="$1" 'BEGIN { if (v == "") print "-"; else printf "%.0f\n", v / 1e6 }'; }
met() { awk -v r="$1" -v g="$2" -v op="${3:-}" 'BEGIN { if (r == "") print "-"; else if (op == "<") print (r < g) ? "yes" : "**no**"; else print (r >= g) ? "yes" : "**no**" }'; }

TABLE=$T/table.md
FIOM=$(vals fio | med)
{
	echo "| measurement | qvlmemfs | raw disk | ratio | target | met |"
	echo "|---|---:|---:|---:|---:|:---:|"
	echo "| fio seq read, O_DIRECT 1 MiB QD16 $ENGINE (MB/s) | - | $(mbs "$FIOM") | - | reference | - |"
	r=$(ratio model.disk fio)
	echo "| model read after remount, disk bytes (MB/s) | $(mbs "$(vals model.disk | med)") | $(mbs "$FIOM") | $(printf %.2f "$r") | ≥ 0.8 | $(met "$r" 0.8) |"
	r=$(ratio model.logical fio)
	echo "| model read after remount, logical bytes (MB/s) | $(mbs "$(vals model.logical | med)") | $(mbs "$FIOM") | $(printf %.2f "$r") | ≥ 1.0 | $(met "$r" 1.0) |"
	r=$(ratio cp.qvl cp.disk)
	echo "| cp model file in + fsync (MB/s) | $(mbs "$(vals cp.qvl | med)") | $(mbs "$(vals cp.disk | med)") | $(printf %.2f "$r") | - | - |"
	v=$(vals mount.cold | med)
	echo "| mount, $NFILES files, after drop_caches (s) | $v | - | - | < 1 | $(met "$v" 1 '<') |"
	v=$(vals mount.warm | med)
	echo "| mount, $NFILES files, warm (s) | $v | - | - | < 1 | $(met "$v" 1 '<') |"
	v=$(vals load | med)
	[ -n "$v" ] && echo "| daemon load, execve → mount(2), warm, strace --seccomp-bpf (s) | $v | - | - | - | - |"
	echo "| compression (nvme used / logical bytes) | $(vals ratio | med) | - | - | - | - |"
} >"$TABLE"

CMD="tests/bench/store_bench.sh${ARGS[*]:+ ${ARGS[*]}}"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
FSTYPE=$(findmnt -no FSTYPE -T "$T")
DEV=$(df --output=source "$T" | tail -1)
{
	echo
	echo "Command: \`$CMD\` ($(date -u '+%Y-%m-%d %H:%M UTC'), qvlmemfs $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
	echo "Machine: kernel $(uname -r), $CPU, $(nproc) CPUs, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM;"
	echo "scratch $DIR ($FSTYPE on $DEV), fio file $SIZE, medians of $REPS repetitions."
	echo "Model: qwen_demo $LAYERS layers, $(mbs "$MODEL_BYTES") MB of bf16 in $((LAYERS * 7 + 2)) tensors (the KV block is a session file, gone at remount),"
	echo "mount -o ram=$RAM; read $(mbs "$(vals model.read_bytes | med)") MB in $(vals model.secs | med) s; frames read from disk $(mbs "$(vals model.frame_bytes | med)") MB,"
	echo "decoded $(mbs "$(vals model.raw_bytes | med)") MB (tiering.raw_bytes_read). Written once by qwen_demo at $(mbs "$(vals write.model | med)") MB/s."
	echo "cp: the model as one plain file, page-cache warm, then \`sync FILE\` (fsync) on the copy."
	echo "Mount: $NFILES empty files in $(( (NFILES + 999) / 1000 )) directories (created at $(vals create.100k | med) files/s, unmount $(vals umount.100k | med) s);"
	echo "time from starting \`qvlmemfs -f\` until \`mountpoint -q\` succeeds (2 ms polling), $MOUNTS mounts per repetition."
} >>"$TABLE"

cat "$TABLE"

if [ "$WRITE_DOC" = 1 ]; then
	DOC=docs/BENCHMARKS.md
	"$PY" tests/bench/doc_section.py "$DOC" \
		"## NVMe tier: qvlmemfs vs the raw disk" "$TABLE" \
		"The store on the same filesystem as the raw-disk references. A bf16
model three times the RAM budget is written through the mount, which is
unmounted; after drop_caches and a fresh mount every tensor is read with
1 MiB reads. *Disk* bytes/s counts the compressed frames read from the
store (\`tiering.frame_bytes_read\`), *logical* the file bytes; both are
compared with fio's O_DIRECT sequential read of the same disk. Ratios are
the median of the per-repetition ratios." || exit 1
	log "wrote $DOC"
fi
