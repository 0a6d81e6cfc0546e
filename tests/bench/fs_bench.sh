#!/bin/bash
# fs_bench.sh - qvlmemfs against tmpfs, in one run, on this machine.
# A benchmark, not a test: it prints a markdown table and never fails on
# numbers.  Needs root (mounts, drop_caches), /dev/fuse, cc; fio optional.
#
#   tests/bench/fs_bench.sh [-s SIZE] [-r REPS] [-n FILES] [-B BUILD]
#                           [--no-peers] [--write-doc]
#
#   -s SIZE      file size for the read tests, k/M/G suffix (default 1G)
#   -r REPS      repetitions; the table holds medians (default 3)
#   -n FILES     files for create/stat/unlink (default 20000)
#   -B BUILD     build directory holding qvlmemfs (default build/rel)
#   --drop-caches  make qvlmemfs cold with `echo 3 > drop_caches` instead of
#                posix_fadvise(DONTNEED) on the file (see below why not)
#   --no-peers   skip the dd and fio rows
#   --write-doc  also replace the "## Filesystem: qvlmemfs vs tmpfs" section
#                of docs/BENCHMARKS.md with the table
#
# What is measured, each repetition, qvlmemfs and tmpfs back to back:
#   read   one read() of 1 MiB after another over the whole file
#   mmap   mmap(MAP_SHARED) of the whole file, sum of every 64-bit word
#   cold   (qvlmemfs only) the data is in the daemon, the kernel's page cache
#          of the file is dropped: posix_fadvise(POSIX_FADV_DONTNEED) on it,
#          checked with mincore.  Not drop_caches by default: on kernel 6.18
#          it leaves tmpfs files mapping one page per fault afterwards (fault-
#          around stops: 16K -> 262K faults per GiB, mmap 1.3 -> 0.22 GB/s),
#          which would spoil the tmpfs reference for the rest of the run.
#   warm   right after a cold pass: served from the page cache (keep_cache)
#   meta   N x open(O_CREAT|O_EXCL)+close, then N x stat, then N x unlink
# tmpfs IS the page cache, so it has no cold state: its one read (mmap)
# number is the reference for both the cold and the warm ratio.
set -u
set -o pipefail

SIZE=1G REPS=3 NFILES=20000 BUILD=build/rel PEERS=1 WRITE_DOC=0 DROPC=0
ARGS=("$@")
usage() { sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	-s) SIZE=$2; shift ;;
	-r) REPS=$2; shift ;;
	-n) NFILES=$2; shift ;;
	-B) BUILD=$2; shift ;;
	--no-peers) PEERS=0 ;;
	--drop-caches) DROPC=1 ;;
	--write-doc) WRITE_DOC=1 ;;
	-h|--help) usage 0 ;;
	*) echo "fs_bench.sh: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
to_bytes() {
	local v=${1%[kKmMgG]} u=${1##*[0-9]}
	case $u in
	k|K) echo $((v << 10)) ;; m|M) echo $((v << 20)) ;;
	g|G) echo $((v << 30)) ;; *) echo "$v" ;;
	esac
}
BYTES=$(to_bytes "$SIZE")
[ "$(id -u)" = 0 ] || { echo "fs_bench.sh: needs root" >&2; exit 1; }
[ -x "$BUILD/qvlmemfs" ] || { echo "fs_bench.sh: no $BUILD/qvlmemfs (make $BUILD/qvlmemfs)" >&2; exit 1; }
command -v fio >/dev/null || { [ "$PEERS" = 1 ] && echo "fs_bench.sh: no fio, skipping its rows" >&2; }

T=$(mktemp -d /tmp/qvl-fsbench.XXXXXX)
QPID=
cleanup() {
	if [ -n "$QPID" ]; then
		if ! fusermount3 -u "$T/qvl" 2>/dev/null; then
			# wedged: abort the connection, then it unmounts
			[ -n "${QDEV:-}" ] && echo 1 >"/sys/fs/fuse/connections/${QDEV#*:}/abort" 2>/dev/null
			umount -l "$T/qvl" 2>/dev/null
			kill "$QPID" 2>/dev/null
		fi
		wait "$QPID" 2>/dev/null
	fi
	mountpoint -q "$T/tmpfs" && umount "$T/tmpfs"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$*" >&2; }

cc -O2 -Wall -o "$T/io" tests/bench/fs_bench_io.c || exit 1
# Every timed step gets a deadline, so a wedged daemon ends the run.
STEP_TIMEOUT=${STEP_TIMEOUT:-600}
IO="timeout $STEP_TIMEOUT $T/io"

# Mounts: the same size for both, room for the file, the metadata files
# and slack.
MB=$(((BYTES >> 20) + 512))
mkdir -p "$T/qvl" "$T/tmpfs" "$T/store"
mount -t tmpfs -o "size=${MB}M" tmpfs "$T/tmpfs" || exit 1
"$BUILD/qvlmemfs" -f -o "ram=${MB}M,store=$T/store" "$T/qvl" 2>"$T/daemon.log" &
QPID=$!
for _ in $(seq 100); do
	mountpoint -q "$T/qvl" && break
	kill -0 "$QPID" 2>/dev/null || break
	sleep 0.05
done
mountpoint -q "$T/qvl" || { cat "$T/daemon.log" >&2; exit 1; }
# maj:min from mountinfo: a stat of a wedged mount would hang.
QDEV=$(awk -v m="$T/qvl" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo)
RA=$(cat "/sys/class/bdi/$QDEV/read_ahead_kb" 2>/dev/null || echo "?")

drop() { # make $QF cold
	if [ "$DROPC" = 1 ]; then
		sync; echo 3 >/proc/sys/vm/drop_caches
	else
		for _ in 1 2 3; do
			[ "$($IO drop "$QF")" = 0.0000 ] && return
			sleep 0.2
		done
		log "  warning: $QF still partly resident after fadvise"
	fi
}
reads() { # the daemon's count of FUSE READ requests
	timeout 10 "${QVL_PYTHON:-/usr/bin/python3}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ops"]["read"])' "$T/qvl/.qvl/stats.json" 2>/dev/null || echo 0
}
now() { date +%s.%N; }
dd_read() { # GB/s of dd bs=1M to /dev/null, timed here
	local t0 t1
	t0=$(now)
	timeout "$STEP_TIMEOUT" dd if="$1" of=/dev/null bs=1M status=none || return 1
	t1=$(now)
	awk -v b="$BYTES" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.3f\n", b / (z - a) / 1e9 }'
}
fio_read() { # GB/s of fio, psync, 1 MiB, one job, page cache as it is
	timeout "$STEP_TIMEOUT" fio --name=seq --filename="$1" --rw=read --bs=1M --ioengine=psync \
	    --invalidate=0 --size="$BYTES" --output-format=json 2>/dev/null |
	"${QVL_PYTHON:-/usr/bin/python3}" -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["jobs"][0]["read"]["bw_bytes"] / 1e9))'
}

# Results: one line "key value" per measurement in $T/res.
put() { echo "$1 $2" >>"$T/res"; log "  $1 $2"; }

QF=$T/qvl/data TF=$T/tmpfs/data
put write.qvl "$($IO fill "$QF" "$BYTES")"
put write.tmpfs "$($IO fill "$TF" "$BYTES")"
for rep in $(seq "$REPS"); do
	log "rep $rep/$REPS"
	drop
	r0=$(reads)
	put read_cold.qvl "$($IO read "$QF")"
	r1=$(reads)
	put read_warm.qvl "$($IO read "$QF")"
	r2=$(reads)
	put read.tmpfs "$($IO read "$TF")"
	put reqs_cold "$((r1 - r0))"
	put reqs_warm "$((r2 - r1))"
	drop
	put mmap_cold.qvl "$($IO mmap "$QF" 2>/dev/null)"
	put mmap_warm.qvl "$($IO mmap "$QF" 2>/dev/null)"
	put mmap.tmpfs "$($IO mmap "$TF" 2>/dev/null)"
	if [ "$PEERS" = 1 ]; then
		drop
		put dd_cold.qvl "$(dd_read "$QF")"
		put dd_warm.qvl "$(dd_read "$QF")"
		put dd.tmpfs "$(dd_read "$TF")"
		if command -v fio >/dev/null; then
			drop
			put fio_cold.qvl "$(fio_read "$QF")"
			put fio_warm.qvl "$(fio_read "$QF")"
			put fio.tmpfs "$(fio_read "$TF")"
		fi
	fi
	for fs in qvl tmpfs; do
		d=$T/$fs/meta
		mkdir "$d"
		$IO meta "$d" "$NFILES" | while read -r k v; do put "$k.$fs" "$v"; done
		rmdir "$d"
	done
done

# Medians; ratios are the median of the per-repetition ratios.
med() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
vals() { awk -v k="$1" '$1 == k { print $2 }' "$T/res"; }
ratio() { paste <(vals "$1") <(vals "$2") | awk '$2 > 0 { printf "%.4f\n", $1 / $2 }' | med; }
fmt() { awk -v v="$1" -v u="$2" 'BEGIN { if (v == "") print "-"; else if (u == "ops") printf "%.0f\n", v; else printf "%.2f\n", v }'; }

TABLE=$T/table.md
row() { # name qkey tkey unit target
	local q t r met="" tgt=${5:-}
	q=$(vals "$2" | med) t=$(vals "$3" | med) r=$(ratio "$2" "$3")
	[ -z "$q" ] && return
	if [ -n "$tgt" ]; then
		met=$(awk -v r="$r" -v g="$tgt" 'BEGIN { print (r >= g) ? "yes" : "**no**" }')
		tgt="≥ $tgt"
	fi
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(fmt "$t" "$4")" \
		"$(fmt "$q" "$4")" "$(fmt "$r" x)" "${tgt:--}" "${met:--}" >>"$TABLE"
}
{
	echo "| measurement | tmpfs | qvlmemfs | ratio | target | met |"
	echo "|---|---:|---:|---:|---:|:---:|"
} >"$TABLE"
row "read 1 MiB, warm (GB/s)" read_warm.qvl read.tmpfs GB 0.9
row "read 1 MiB, cold (GB/s)" read_cold.qvl read.tmpfs GB 0.5
row "mmap sum, warm (GB/s)" mmap_warm.qvl mmap.tmpfs GB 0.9
row "mmap sum, cold (GB/s)" mmap_cold.qvl mmap.tmpfs GB
row "dd bs=1M, warm (GB/s)" dd_warm.qvl dd.tmpfs GB
row "dd bs=1M, cold (GB/s)" dd_cold.qvl dd.tmpfs GB
row "fio psync 1M, warm (GB/s)" fio_warm.qvl fio.tmpfs GB
row "fio psync 1M, cold (GB/s)" fio_cold.qvl fio.tmpfs GB
row "write 1 MiB, once (GB/s)" write.qvl write.tmpfs GB
row "create (files/s)" create.qvl create.tmpfs ops 0.2
row "stat (files/s)" stat.qvl stat.tmpfs ops 0.3
row "unlink (files/s)" unlink.qvl unlink.tmpfs ops

REQ=$(vals reqs_cold | med) REQW=$(vals reqs_warm | med)
CMD="tests/bench/fs_bench.sh${ARGS[*]:+ ${ARGS[*]}}"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
FUSEV=$(pkg-config --modversion fuse3 2>/dev/null || echo "?")
{
	echo
	echo "Command: \`$CMD\` ($(date -u '+%Y-%m-%d %H:%M UTC'), qvlmemfs $(git -C "$BUILD" rev-parse --short HEAD 2>/dev/null || echo '?'))"
	echo "Machine: kernel $(uname -r), $CPU, $(nproc) CPUs, libfuse $FUSEV;"
	echo "file $SIZE, $NFILES files for the metadata rows, medians of $REPS repetitions."
	echo "qvlmemfs read_ahead_kb in force: $RA; a cold 1 MiB read pass took $REQ FUSE"
	echo "READ requests ($(awk -v b="$BYTES" -v n="$REQ" 'BEGIN { if (n > 0) printf "%.0f", b / n / 1024; else print "?" }') KiB each on average), a warm one $REQW;"
	echo "cold made by $([ "$DROPC" = 1 ] && echo 'echo 3 > /proc/sys/vm/drop_caches' || echo 'posix_fadvise(DONTNEED) on the file')."
} >>"$TABLE"

cat "$TABLE"

if [ "$WRITE_DOC" = 1 ]; then
	DOC=docs/BENCHMARKS.md
	if [ ! -f "$DOC" ]; then
		mkdir -p docs
		cat >"$DOC" <<'EOF'
# Benchmarks

Numbers measured on the machines named in each section; every section says
the command that produced it, so it can be rerun. Ratios are taken within
one run, against a reference measured in the same run.
EOF
	fi
	"${QVL_PYTHON:-/usr/bin/python3}" - "$DOC" "$TABLE" "$ROOT/tests/bench/fs_bench.notes.md" <<'EOF'
import os, re, sys
doc, table, notes = sys.argv[1:4]
head = "## Filesystem: qvlmemfs vs tmpfs"
body = open(table).read().rstrip("\n")
intro = (
    "1 MiB sequential reads of one file, mmap reads (sum of every 64-bit word),\n"
    "and create/stat/unlink of many empty files, on qvlmemfs and on a tmpfs of\n"
    "the same size mounted side by side. *Cold* (qvlmemfs only): the data is in\n"
    "the daemon, the kernel page cache of the file has just been dropped\n"
    "(`echo 3 > /proc/sys/vm/drop_caches`). tmpfs is the page cache and has no\n"
    "cold state, so its single number is the reference for both the cold and\n"
    "the warm ratio. The ratio is the median of the per-repetition ratios.\n")
sec = head + "\n\n" + intro + "\n" + body + "\n"
if os.path.exists(notes):
    sec += "\n" + open(notes).read().rstrip("\n") + "\n"
text = open(doc).read()
m = re.search(r"^" + re.escape(head) + r"\n.*?(?=^## |\Z)", text, re.S | re.M)
if m:
    text = text[:m.start()] + sec + ("\n" if text[m.end():] else "") + text[m.end():]
else:
    text = text.rstrip("\n") + "\n\n" + sec
open(doc, "w").write(text)
EOF
	log "wrote $DOC"
fi
