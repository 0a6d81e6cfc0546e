#!/bin/bash
# fio.sh - fio writes and verifies (crc32c) with the psync and mmap engines:
# sequential and random, block sizes that straddle the 1 MiB chunks, two
# jobs at once; then the page cache is dropped and fio verifies again, so
# the bytes checked are the daemon's.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
command -v fio >/dev/null || qvl_skip "no fio"
qvl_mount ram=256M
M=$QVL_MNT

common=(--directory="$M" --size=48M --verify=crc32c --verify_fatal=1
	--do_verify=1 --randrepeat=1 --output-format=terse --minimal
	--verify_state_save=0)
run_fio() { # name args...
	local name=$1
	shift
	fio --name="$name" "${common[@]}" "$@" >"$QVL_TMP/fio-$name.log" 2>&1 ||
		{ fail "fio $name"; tail -20 "$QVL_TMP/fio-$name.log"; }
}
run_fio seq-psync --ioengine=psync --rw=write --bs=1000k --filename=seq
run_fio rand-psync --ioengine=psync --rw=randwrite --bsrange=4k-256k \
	--numjobs=2 --size=24M
run_fio mmap --ioengine=mmap --rw=randwrite --bs=64k --filename=mm
sync; echo 3 >/proc/sys/vm/drop_caches
# Verify what is there, without writing: fio's verify_only mode.
run_fio seq-psync --ioengine=psync --rw=write --bs=1000k --filename=seq --verify_only
run_fio mmap --ioengine=mmap --rw=randwrite --bs=64k --filename=mm --verify_only
qvl_umount
qvl_done
