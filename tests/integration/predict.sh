#!/bin/bash
# predict.sh - eviction by predicted next use (tiers/predict.c) on a real
# mount: 8 files of 4 MiB read whole, one after another, five times, with
# O_DIRECT (every READ reaches the daemon, nothing is kept by the page
# cache) through ram=16M.  Once the order is learned, the file read last
# is needed furthest away and leaves RAM first, so part of the loop stays
# for the next pass; CLOCK (like LRU) would keep exactly the wrong part
# and fetch the whole loop from the store every pass.  The bytes read must
# be the bytes written, and stay so after a remount.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
OPTS=ram=16M,chunk=256K
qvl_mount "$OPTS"
qvl_layers 8 4
sums=$QVL_LAYER_SUMS
fetched() { qvl_json 'j["tiering"]["fetched"]'; }
loop=$((8 * 4 * 4)) # chunks
per_pass=""
for pass in 1 2 3 4 5; do
	f0=$(fetched)
	for f in "$QVL_MNT"/layer*; do
		dd if="$f" of=/dev/null bs=1M iflag=direct status=none || fail "dd $f"
	done
	per_pass="$per_pass $(($(fetched) - f0))"
done
chain=$(qvl_json 'j["prefetch"]["chain_files"]')
early=$(qvl_json 'j["prefetch"]["evicted_as_predicted"]')
echo "a loop of $loop chunks in ram=16M: chunks fetched per pass:$per_pass" \
	"(chain of $chain files, $early chunks left RAM as predicted)"
eq "$chain" 8 "files in the predicted chain"
[ "$early" -gt 0 ] || fail "no chunk left RAM as predicted"
# Passes 3-5: at most 80% of the loop from the store (CLOCK: all of it).
set -- $per_pass
for n in $3 $4 $5; do
	[ "$((n * 10))" -le "$((loop * 8))" ] ||
		fail "fetched $n of $loop chunks in a pass after the order was learned"
done
[ "$(cd "$QVL_MNT" && md5sum layer*)" = "$sums" ] || fail "content"
qvl_umount
qvl_mount "$OPTS"
[ "$(cd "$QVL_MNT" && md5sum layer*)" = "$sums" ] || fail "content after a remount"
qvl_umount
qvl_done
