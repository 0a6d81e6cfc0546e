#!/bin/bash
# pressure.sh - the machine's memory pressure (fs/pressure.c) shrinks the
# RAM tier's target down to ram_min=, pushing data out to the store, and
# relief grows it back; nothing is lost on the way.  The pressure is a
# stand-in: QVL_PSI_FILE names a file this test writes PSI lines to (the
# daemon then polls it; /proc/pressure/memory is the whole machine's and
# is not pushed into pressure here), and QVL_MEMINFO_FILE a comfortable
# /proc/meminfo.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
MiB=$((1 << 20))
psi() { printf 'some avg10=%s avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' "$1" >"$QVL_TMP/psi.new"; mv "$QVL_TMP/psi.new" "$QVL_TMP/psi"; }
printf 'MemTotal: 16000000 kB\nMemAvailable: 8000000 kB\n' >"$QVL_TMP/meminfo"
psi 0.00
export QVL_PSI_FILE=$QVL_TMP/psi QVL_MEMINFO_FILE=$QVL_TMP/meminfo
qvl_mount ram=64M,ram_min=16M
for i in 1 2 3 4 5; do
	head -c $((8 * MiB)) /dev/urandom >"$QVL_TMP/f$i"
	cp "$QVL_TMP/f$i" "$QVL_MNT/f$i"
	cat "$QVL_MNT/f$i" >/dev/null
done
target() { qvl_json 'j["pressure"]["ram_target"]'; }
eq "$(target)" $((64 * MiB)) "target before pressure"
used_before=$(qvl_json 'j["tiers"]["ram"]["used"]')
psi 60.00
qvl_wait_json 'j["pressure"]["ram_target"] == 16 << 20' 8 ||
	fail "target under pressure: $(target), want 16 MiB"
used=$(qvl_json 'j["tiers"]["ram"]["used"]')
[ "$used" -le $((16 * MiB)) ] || fail "RAM used under pressure: $used (was $used_before)"
shrinks=$(qvl_json 'j["pressure"]["shrinks"]')
[ "$shrinks" -ge 4 ] || fail "shrinks: $shrinks"
psi 0.00
qvl_wait_json 'j["pressure"]["ram_target"] == 64 << 20' 12 ||
	fail "target after relief: $(target), want 64 MiB"
[ "$(qvl_json 'j["pressure"]["grows"]')" -ge 6 ] || fail "grows: $(qvl_json 'j["pressure"]["grows"]')"
[ "$(qvl_json 'j["pressure"]["seconds"] > 3')" = True ] || fail "seconds under pressure: $(qvl_json 'j["pressure"]["seconds"]')"
grep -q "^pressure: target" "$QVL_MNT/.qvl/stats" || fail "no pressure line in .qvl/stats"
qvl_same_files "after pressure" f1 f2 f3 f4 f5
qvl_umount
qvl_mount ram=64M
qvl_same_files "after a remount" f1 f2 f3 f4 f5
qvl_umount
# The default floor (ram/4) is never below two chunks, the least the
# tiers work with (an explicit ram_min= below it is refused).
qvl_mount ram=4M
eq "$(qvl_json 'j["pressure"]["ram_min"]')" $((2 << 20)) "ram_min below two chunks"
qvl_umount
qvl_done
