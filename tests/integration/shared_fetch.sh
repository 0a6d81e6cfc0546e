#!/bin/bash
# shared_fetch.sh - many readers, each streaming its own file, in RAM that
# holds a fraction of what they read: the store must not be read many
# times over.  64 processes read 64 files of 16 MiB (incompressible, so
# frames are as large as the data and nothing stays compressed in RAM) at
# once on ram=64M: the issue's case.  Checks every byte, and that the
# store served less than 1.25 x the bytes the processes read (the issue
# asks 1.2 x; a margin for how the 64 streams interleave): 0.2 read 6.6 x
# here (readahead for one stream evicted the others' before they used
# them); 0.3 read 1.22-1.76 x while a chunk a stream was part way through
# could leave RAM between two READs (tiers/tm_room.c: it now leaves after
# the page cache), 1.09-1.17 x since.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
N=64 MIB=16
SRC=$QVL_TMP/src
mkdir -p "$SRC"
head -c $((N * MIB << 20)) /dev/urandom >"$SRC/all"
qvl_mount ram=64M
for i in $(seq 0 $((N - 1))); do
	dd if="$SRC/all" of="$QVL_MNT/f$i" bs=1M skip=$((i * MIB)) count=$MIB status=none ||
		fail "writing f$i"
done
qvl_umount
echo 3 >/proc/sys/vm/drop_caches

qvl_mount ram=64M
json() { "$QVL_PYTHON" -c "import json; j=json.load(open('$QVL_MNT/.qvl/stats.json')); print($1)"; }
before=$(json 'j["tiering"]["frame_bytes_read"]')
pids=()
for i in $(seq 0 $((N - 1))); do
	cat "$QVL_MNT/f$i" >"$QVL_TMP/out$i" &
	pids+=($!)
done
wait "${pids[@]}" # not the daemon, also our child
after=$(json 'j["tiering"]["frame_bytes_read"]')
for i in $(seq 0 $((N - 1))); do
	cmp -s "$QVL_TMP/out$i" <(dd if="$SRC/all" bs=1M skip=$((i * MIB)) count=$MIB status=none) ||
		fail "f$i read back wrong"
done
read_mib=$((N * MIB))
store_mib=$(((after - before) >> 20))
echo "processes read $read_mib MiB; the store served $store_mib MiB"
grep "readahead:" "$QVL_MNT/.qvl/stats"
[ $((store_mib * 100)) -lt $((read_mib * 125)) ] ||
	fail "store read $store_mib MiB for $read_mib MiB read (>= 1.25 x)"
qvl_umount
qvl_done
