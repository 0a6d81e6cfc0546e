#!/bin/bash
# priority.sh - user.qvl.priority in eviction: a file of priority 9, and
# one of the default 5, keep their RAM through a scan of priority-0 files
# four times the budget (the scan's own chunks leave first), where the same
# file at the scan's priority 0 is pushed out to the store.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
head -c $((8 << 20)) /dev/urandom >"$QVL_TMP/p"
ram_of() { getfattr --absolute-names --only-values -n user.qvl.stored "$1" | sed 's/^ram:\([0-9]*\),.*/\1/'; }
run() { # priority of the kept file -> its bytes in RAM after the scan
	qvl_mount ram=32M
	: >"$QVL_MNT/p"
	setfattr -n user.qvl.priority -v "$1" "$QVL_MNT/p"
	cat "$QVL_TMP/p" >"$QVL_MNT/p"
	cat "$QVL_MNT/p" >/dev/null
	mkdir "$QVL_MNT/scan"
	setfattr -n user.qvl.priority -v 0 "$QVL_MNT/scan"
	for i in $(seq 16); do
		head -c $((8 << 20)) /dev/urandom >"$QVL_MNT/scan/$i"
		cat "$QVL_MNT/scan/$i" >/dev/null
	done
	ram_of "$QVL_MNT/p"
	cmp -s "$QVL_TMP/p" "$QVL_MNT/p" || fail "p differs (priority $1)"
	qvl_umount
	rm -rf "$QVL_STORE"/*
}
kept=$(run 9)
dflt=$(run 5)
plain=$(run 0)
echo "bytes of the 8 MiB file in RAM after the scan: priority 9: $kept, default (5): $dflt, the scan's (0): $plain"
[ "$kept" -ge $((8 << 20)) ] || fail "priority 9 did not keep its RAM: $kept bytes"
[ "$dflt" -ge $((8 << 20)) ] || fail "priority 5 did not keep its RAM through a priority-0 scan: $dflt bytes"
[ "$plain" -lt $((8 << 20)) ] || fail "the scan evicted nothing of a file at its own priority ($plain): the test proves nothing"
qvl_done
