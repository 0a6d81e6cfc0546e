#!/bin/bash
# fio_spill.sh - fio writes and verifies (crc32c) a data set four times the
# RAM budget (ram=32M, 128M of files) with the psync and mmap engines and a
# few jobs at once, so most chunks are evicted to the store and fetched
# back while fio checks them; then a remount and a verify-only pass, so the
# bytes checked come from the store.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
command -v fio >/dev/null || qvl_skip "no fio"
qvl_mount ram=32M
M=$QVL_MNT

common=(--directory="$M" --verify=crc32c --verify_fatal=1 --do_verify=1
	--randrepeat=1 --output-format=terse --minimal --verify_state_save=0)
run_fio() { # name args...
	local name=$1
	shift
	fio --name="$name" "${common[@]}" "$@" >"$QVL_TMP/fio-$name.log" 2>&1 ||
		{ fail "fio $name $*"; tail -20 "$QVL_TMP/fio-$name.log"; }
}
# 64M sequential in 2 jobs, 32M random in 2 jobs, 32M through mmap: 128M.
seq=(--ioengine=psync --rw=write --bs=1000k --numjobs=2 --size=32M)
rnd=(--ioengine=psync --rw=randwrite --bsrange=4k-256k --numjobs=2 --size=16M)
mm=(--ioengine=mmap --rw=randwrite --bs=64k --size=32M --filename=mm)
run_fio seq "${seq[@]}"
run_fio rnd "${rnd[@]}"
run_fio mm "${mm[@]}"
[ "$(qvl_json 'j["tiering"]["evicted"] > 0 and j["tiering"]["fetched"] > 0')" = True ] ||
	fail "no spill: $(qvl_json 'j["tiering"]')"
[ "$(qvl_json 'j["tiers"]["ram"]["used"] <= j["tiers"]["ram"]["budget"]')" = True ] ||
	fail "ram over budget: $(qvl_json 'j["tiers"]["ram"]')"
eq "$(qvl_json 'j["bytes"]')" $((128 << 20)) "bytes written"
qvl_umount

# After a remount every byte comes from the store.
qvl_mount ram=32M
run_fio seq "${seq[@]}" --verify_only
run_fio rnd "${rnd[@]}" --verify_only
run_fio mm "${mm[@]}" --verify_only
eq "$(qvl_json 'j["errors"]["io"]')" 0 "io errors"
[ "$(qvl_json 'j["tiering"]["fetched"]')" -ge 100 ] || fail "verify did not read from the store"
qvl_umount
qvl_done
