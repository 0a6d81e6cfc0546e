#!/bin/bash
# metrics.sh - .qvl/metrics on a real mount: the Prometheus text format
# 0.0.4 as a strict parser reads it (helpers/promparse.py), agreeing with
# stats.json, with READ latency histograms for each place data comes from.
# Reads bypass the page cache (O_DIRECT) so each one reaches the daemon:
# a file read while in RAM is raw_ram; files sent to the store with
# user.qvl.tier=nvme and read back are store; compressible ones read again
# under a 16 MiB budget, without readahead, find some frames still in the
# compressed RAM tier.
# The parser must also refuse broken variants of the same text.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
P="$QVL_PYTHON tests/integration/helpers/promparse.py"
M=$QVL_TMP/metrics
for i in 0 1 2; do
	head -c 6000000 /dev/urandom | base64 -w 0 | head -c $((8 << 20)) >"$QVL_TMP/l$i"
done
qvl_mount ram=16M
test -r "$QVL_MNT/.qvl/metrics" || fail "no .qvl/metrics"
ls "$QVL_MNT/.qvl" | grep -qx metrics || fail "metrics not listed in .qvl"
expect_errno "Permission denied" sh -c "echo x >'$QVL_MNT/.qvl/metrics'"
head -c $((2 << 20)) /dev/urandom >"$QVL_MNT/hot"
dd if="$QVL_MNT/hot" of=/dev/null bs=128k iflag=direct status=none ||
	fail "reading hot"
for i in 0 1 2; do cat "$QVL_TMP/l$i" >"$QVL_MNT/l$i"; done
# Without readahead (advice random) each READ fetches its own chunk: the
# frames it leaves in RAM are what the next pass can decode from RAM.
for i in 0 1 2; do
	setfattr -n user.qvl.tier -v nvme "$QVL_MNT/l$i"
	setfattr -n user.qvl.advice -v random "$QVL_MNT/l$i"
done
for pass in 1 2 3; do
	for i in 0 1 2; do
		dd if="$QVL_MNT/l$i" of=/dev/null bs=1M iflag=direct status=none ||
			fail "reading l$i"
	done
done
for i in 0 1 2; do cmp -s "$QVL_TMP/l$i" "$QVL_MNT/l$i" || fail "l$i differs"; done
cp "$QVL_MNT/.qvl/metrics" "$M"
zhits=$(qvl_json 'j["ram_split"]["compressed_hits"]')
fetched=$(qvl_json 'j["tiering"]["fetched"]')
reads=$(qvl_json 'j["ops"]["read"]')
$P "$M" >/dev/null || fail "the strict parser refused .qvl/metrics"
read -r raw z store total zh ft mt fn rd <<<"$($P "$M" \
	'qvlmemfs_read_seconds_count{source="raw_ram"}' \
	'qvlmemfs_read_seconds_count{source="compressed_ram"}' \
	'qvlmemfs_read_seconds_count{source="store"}' \
	'qvlmemfs_ops_total{op="read"}' \
	qvlmemfs_compressed_hits_total qvlmemfs_chunks_fetched_total \
	'qvlmemfs_tier_budget_bytes{tier="ram"}' 'qvlmemfs_nodes{type="file"}' \
	'qvlmemfs_read_seconds_bucket{source="store",le="+Inf"}' | tr '\n' ' ')"
echo "READs by source: raw_ram $raw compressed_ram $z store $store (READ ops $total)"
[ "$raw" -gt 0 ] 2>/dev/null || fail "no raw_ram READs: $raw"
[ "$z" -gt 0 ] 2>/dev/null || fail "no compressed_ram READs: $z (compressed hits $zh)"
[ "$store" -gt 0 ] 2>/dev/null || fail "no store READs: $store (fetched $ft)"
eq "$rd" "$store" "store +Inf bucket vs _count"
# Counters only grow: what the file said cannot exceed stats.json after it.
[ "$zh" -le "$zhits" ] && [ "$ft" -le "$fetched" ] && [ $((raw + z + store)) -le "$reads" ] ||
	fail "metrics ahead of stats.json: z $zh/$zhits fetched $ft/$fetched reads $((raw + z + store))/$reads"
eq "$mt" $((16 << 20)) "ram budget"
eq "$fn" 4 "files"
grep -q '^qvlmemfs_errors_total{kind="io"} ' "$M" || fail "no errors_total{kind=io}"
grep -q '^qvlmemfs_codec_files{codec="auto"} 4$' "$M" || fail "no codec_files{codec=auto} 4"
# Broken variants the parser must refuse.
bad() {
	printf '%s' "$2" >"$QVL_TMP/bad"
	$P "$QVL_TMP/bad" 2>/dev/null && fail "parser accepted: $1"
}
bad "no trailing newline" "$(cat "$M")"
bad "a duplicate series" "$(cat "$M"; grep -m1 '^qvlmemfs_inodes ' "$M")
"
bad "TYPE twice" "$(cat "$M")
# TYPE qvlmemfs_inodes gauge
"
bad "a sample without TYPE" "$(cat "$M")
qvlmemfs_new 1
"
bad "a bad escape" "$(sed 's/version="/version="\\q/' "$M")
"
bad "a counter without _total" "$(sed 's/qvlmemfs_commits_total/qvlmemfs_commits/' "$M")
"
bad "buckets not cumulative" "$(sed '0,/source="raw_ram",le="+Inf"} [0-9]*/s//source="raw_ram",le="+Inf"} 0/' "$M")
"
bad "no +Inf bucket" "$(grep -v 'le="+Inf"' "$M")
"
qvl_umount
qvl_done
