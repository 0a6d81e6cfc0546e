#!/bin/bash
# fault_sweep.sh - the store's reads, writes and fsyncs fail on purpose
# (QVL_FAULT, tiers/qvl_fault.h), the Nth one for N swept, with EIO, ENOSPC
# and short transfers, and a disk that dies for good.  For each fault:
#   - under it, every failing call says EIO or ENOSPC and no read returns a
#     wrong byte (helpers/faultload.py work);
#   - the daemon exits 0 having written everything back (a one-time fault is
#     retried), or 3 when it could not (a dead disk), never 0 with data lost;
#   - the .qvl stats counted it (injected, write or io errors);
#   - a remount without faults loads a consistent catalog (no orphans, no
#     dangling rows), every fsync'ed byte is there, every file reads without
#     error and holds only its own bytes or zeros.
# QVL_FAULT_SWEEP=long sweeps every N; the default is a spread of N.
. "$(dirname "$0")/lib.sh"
qvl_require_fuse
PY=$QVL_PYTHON
LOAD=$(dirname "$0")/helpers/faultload.py
OPTS=ram=1M,chunk=64K,flush=0.2
runs=0 injected_total=0

# One run: prep in a clean mount, work under $1 (a QVL_FAULT spec), verify.
sweep_one() {
	local spec=$1 state=$QVL_TMP/state.json rc=0 inj
	rm -rf "$QVL_STORE" && mkdir -p "$QVL_STORE"
	: >"$QVL_TMP/daemon.log"
	qvl_mount "$OPTS"
	"$PY" "$LOAD" prep "$QVL_MNT" "$state" || fail "$spec: prep"
	qvl_umount
	QVL_FAULT=$spec qvl_mount "$OPTS"
	"$PY" "$LOAD" work "$QVL_MNT" "$state" || fail "$spec: work"
	inj=$(qvl_json 'j["errors"]["injected"]')
	local werr ioerr
	werr=$(qvl_json 'j["errors"]["write"]')
	ioerr=$(qvl_json 'j["errors"]["io"]')
	fusermount3 -u "$QVL_MNT" || fail "$spec: unmount"
	wait "$QVL_PID" || rc=$?
	QVL_PID=
	case $rc in
	0) strict=--all ;;
	3) strict=
	   grep -q "writing data back" "$QVL_TMP/daemon.log" ||
		fail "$spec: exit 3 without saying why" ;;
	*) fail "$spec: daemon exited $rc"; cat "$QVL_TMP/daemon.log"; strict= ;;
	esac
	# A fault that came must show in the counters before the unmount
	# (faults in the unmount's own write-back show in its exit status).
	if [ "$inj" -gt 0 ] && [ "$((werr + ioerr))" = 0 ] &&
	   [[ $spec != *short* ]]; then
		fail "$spec: $inj injected but no write or io error counted"
	fi
	qvl_mount "$OPTS"
	"$PY" "$LOAD" verify "$QVL_MNT" "$state" $strict || fail "$spec: verify"
	eq "$(qvl_json 'j["errors"]["dangling"]'),$(qvl_json 'j["errors"]["orphans"]')" \
		"0,0" "$spec: remount found damage"
	eq "$(qvl_json 'j["errors"]["io"]')" 0 "$spec: io errors after remount"
	qvl_umount
	runs=$((runs + 1))
	injected_total=$((injected_total + inj))
	echo "$spec: exit $rc, injected $inj before unmount, write errors $werr, io errors $ioerr"
}

if [ "${QVL_FAULT_SWEEP:-}" = long ]; then
	ns=$(seq 1 120)
elif [[ $QVL_BUILD == *san* ]]; then
	ns="1" # the sanitizers see each error path; rel sweeps wider
else
	ns="1 3 12 60"
fi
for n in $ns; do
	for kind in eio enospc short; do
		sweep_one "write:$n:$kind"
	done
	sweep_one "read:$n:eio"
	sweep_one "read:$n:short"
done
for n in 1 2 3; do
	sweep_one "fsync:$n:eio"
done
# A disk that dies: every write (or read) from some point on fails.
sweep_one "write:20:eio:0"
sweep_one "fsync:3:eio:0"
sweep_one "read:5:eio:0"
echo "fault sweep: $runs runs, $injected_total faults injected while serving"
[ "$injected_total" -gt 0 ] || fail "no fault was ever injected"
qvl_done
