#!/bin/bash
# prefetch.sh - the daemon learns which file is read after which, keeps it
# in the catalog, and on the first pass after a remount brings in the next
# file's head (into free RAM) while the reader is still in the one before.
# A layer-by-layer loop over 12 files on the store (36 MiB, ram=96M: the file bytes and their page cache both fit): the
# share of READs that wait for the store, on the first pass after a
# remount, with the learned table and with the table deleted (as on a
# store that never saw the loop): at least halved.  Also: advice random
# reads no chunk ahead, advice sequential the most.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
OPTS=ram=96M
qvl_mount "$OPTS"
qvl_layers 12 3
sums=$QVL_LAYER_SUMS
# A layer loop computes between layers: 20 ms after each file here.  The
# next file's head is read ahead meanwhile (off the lock); without the
# table nothing is, and its first READ waits.  (With no pause, cat's next
# READ races the readahead in flight: on the sanitizer build it lost about
# half the time, and a READ that waits for a readahead of its own bytes
# counts as one that waited.)
pass() { for f in "$QVL_MNT"/layer*; do cat "$f" >/dev/null; sleep 0.02; done; }
# The pass that teaches the order, with O_DIRECT: every READ reaches the
# daemon (pages of the files just written may still be cached).
for f in "$QVL_MNT"/layer*; do
	dd if="$f" of=/dev/null bs=1M iflag=direct status=none || fail "dd $f"
done
eq "$(qvl_json 'j["prefetch"]["files_known"] >= 11')" True "files with a successor"
qvl_umount

cp -a "$QVL_STORE" "$QVL_TMP/forgot"
"$QVL_PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM successors"); c.commit()' \
	"$QVL_TMP/forgot/catalog.db" || fail "deleting the table"

# share WAITED READS: the first pass after a remount.
first_pass() {
	echo 3 >/proc/sys/vm/drop_caches
	qvl_mount "$OPTS"
	pass
	qvl_json '"%d %d %d %d" % (j["prefetch"]["reads_waited"], j["prefetch"]["reads"], j["prefetch"]["used"], j["prefetch"]["late"])'
	[ "$(cd "$QVL_MNT" && md5sum layer*)" = "$sums" ] || fail "content"
	qvl_umount
}
read -r w_with r_with used_with late_with <<<"$(first_pass)"
QVL_STORE=$QVL_TMP/forgot
read -r w_without r_without used_without late_without <<<"$(first_pass)"
echo "first pass after a remount: $w_with of $r_with READs waited for the store with the table" \
	"($used_with prefetched chunks used, $late_with READs found one still in flight)," \
	"$w_without of $r_without without it"
[ "$late_without" = 0 ] || fail "late prefetches with no table: $late_without"
[ "$late_with" -le "$w_with" ] || fail "more late prefetches ($late_with) than waits ($w_with)"
[ "$used_with" -gt 0 ] || fail "no prefetched chunk was used"
[ "$((w_with * 2 * r_without))" -le "$((w_without * r_with))" ] ||
	fail "waits not halved: $w_with/$r_with with the table, $w_without/$r_without without"

# Advice: random reads nothing ahead; sequential reads ahead at once.
qvl_mount "$OPTS"
ra() { qvl_json 'j["readahead"]["chunks"]'; }
setfattr -n user.qvl.advice -v random "$QVL_MNT/layer05"
r0=$(ra); cat "$QVL_MNT/layer05" >/dev/null; r1=$(ra)
eq "$r1" "$r0" "readahead chunks for a file advised random"
setfattr -n user.qvl.advice -v sequential "$QVL_MNT/layer07"
dd if="$QVL_MNT/layer07" of=/dev/null bs=4k count=1 status=none
r2=$(ra)
[ "$((r2 - r1))" -ge 2 ] || fail "advice sequential read $((r2 - r1)) chunks ahead, want the whole file's rest"
qvl_umount
qvl_done
