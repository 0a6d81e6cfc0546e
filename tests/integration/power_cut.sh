#!/bin/bash
# power_cut.sh - simulated power cuts (tests/integration/helpers/powercut.py):
# the daemon logs every change it makes to its store (QVL_RECORD: backing
# files through tiers/nvme*.c, the catalog through an SQLite VFS shim)
# while a mixed workload runs and marks what it fsync'ed; crash states are
# built from the log (every window between syncs: all, only the durable,
# random mixes, a torn write), each mounted in-process and checked: it
# mounts, every promise reads back, no file holds bytes never written to
# it.  QVL_POWERCUT_STATES (default 300, 60 under the sanitizers; 0 = every
# state) and QVL_POWERCUT_STEPS (workload steps, default 90).  The long
# mode: QVL_POWERCUT_STATES=0 QVL_POWERCUT_STEPS=300 (about 2,000 states).
. "$(dirname "$0")/lib.sh"
qvl_require_fuse
[ -x "$QVL_BUILD/tests/crash_check" ] || qvl_skip "no $QVL_BUILD/tests/crash_check"
nstates=${QVL_POWERCUT_STATES:-300}
[[ $QVL_BUILD == *san* ]] && nstates=${QVL_POWERCUT_STATES:-60}
# A copy: a rebuild while the states run must not pull it from under us.
cp "$QVL_BUILD/tests/crash_check" "$QVL_TMP/crash_check"
OPTS=ram=1M,chunk=64K,flush=0.3
qvl_mount "$OPTS"
qvl_umount
cp -a "$QVL_STORE" "$QVL_TMP/initial"
log=$QVL_TMP/store.log
: >"$log"
QVL_RECORD=$log qvl_mount "$OPTS"
check "$QVL_PYTHON" "$(dirname "$0")/helpers/powercut.py" work "$QVL_MNT" "$log" "${QVL_POWERCUT_SEED:-7}" "${QVL_POWERCUT_STEPS:-90}"
qvl_umount
mkdir -p "$QVL_TMP/sim"
check "$QVL_PYTHON" "$(dirname "$0")/helpers/powercut.py" sim "$QVL_TMP/initial" "$log" \
	"$QVL_TMP/crash_check" "$QVL_TMP/sim" --states "$nstates"
qvl_done
