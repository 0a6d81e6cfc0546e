#!/bin/bash
# tiers_dir.sh - .qvl/tiers/{gpu,ram,nvme}: ls lists the files with bytes
# in each tier as links INO:NAME -> ../../../PATH whose size is the bytes
# there, following the data as it moves (written: ram; user.qvl.tier=nvme:
# nvme and out of ram; read back: both), summing to what user.qvl.stored
# says; renames show at once; nothing in there can be changed.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
T=$QVL_MNT/.qvl/tiers
qvl_mount ram=32M
mkdir -p "$QVL_MNT/model/sub"
head -c $((3 << 20)) /dev/urandom >"$QVL_MNT/model/a"
head -c 100000 /dev/urandom >"$QVL_MNT/model/sub/b"
: >"$QVL_MNT/empty"
ln "$QVL_MNT/model/a" "$QVL_MNT/alias"
ino() { stat -c %i "$1"; }
ia=$(ino "$QVL_MNT/model/a") ib=$(ino "$QVL_MNT/model/sub/b")
stored() { getfattr --absolute-names --only-values -n user.qvl.stored "$1"; }
# size TIER NAME: the link's st_size, or - when it is not listed.
size() { [ -L "$T/$1/$2" ] && stat -c %s "$T/$1/$2" || echo -; }
listing() { ls "$T/$1" | tr '\n' ' '; }

eq "$(ls "$T" | tr '\n' ' ')" "gpu nvme ram " "ls .qvl/tiers"
eq "$(listing ram)" "$ia:a $ib:b " "ram after writing"
eq "$(listing nvme)" "" "nvme after writing"
eq "$(listing gpu)" "" "gpu"
eq "$(readlink "$T/ram/$ia:a")" "../../../model/a" "a's link"
eq "$(readlink "$T/ram/$ib:b")" "../../../model/sub/b" "b's link"
cmp -s "$T/ram/$ia:a" "$QVL_MNT/model/a" || fail "a's link does not lead to a"
eq "$(readlink -f "$T/ram/$ib:b")" "$(readlink -f "$QVL_MNT/model/sub/b")" "b resolves"
eq "ram:$(size ram "$ia:a"),nvme:0" "$(stored "$QVL_MNT/model/a")" "a's ram bytes"
ls -l "$T/ram" | grep -q " $ia:a -> ../../../model/a$" || fail "ls -l ram: $(ls -l "$T/ram")"

setfattr -n user.qvl.tier -v nvme "$QVL_MNT/model/a"
st=$(stored "$QVL_MNT/model/a")
eq "$(listing nvme)" "$ia:a " "nvme after tier=nvme"
eq "$(size ram "$ia:a")" - "a in ram after tier=nvme ($st)"
eq "ram:0,nvme:$(size nvme "$ia:a")" "$st" "a's nvme bytes"
cmp -s "$T/nvme/$ia:a" "$QVL_MNT/model/a" || fail "nvme link does not lead to a"
stat "$T/ram/$ia:a" >/dev/null 2>&1 && fail "a's ram entry still resolves"

dd if="$QVL_MNT/model/a" of=/dev/null bs=1M iflag=direct status=none
st=$(stored "$QVL_MNT/model/a")
eq "ram:$(size ram "$ia:a"),nvme:$(size nvme "$ia:a")" "$st" "a read back"
[ "$(size ram "$ia:a")" != - ] || fail "a not in ram after reading it ($st)"
# du -b over a tier adds up the links' sizes: the tier's bytes of its files.
sum=0
for f in "$QVL_MNT/model/a" "$QVL_MNT/model/sub/b"; do
	r=$(stored "$f"); r=${r#ram:}; sum=$((sum + ${r%%,*}))
done
eq "$(find "$T/ram" -type l -printf '%s\n' | awk '{s += $1} END {print s + 0}')" "$sum" "sizes in ram vs user.qvl.stored"

mv "$QVL_MNT/model/sub/b" "$QVL_MNT/model/c"
eq "$(listing ram)" "$ia:a $ib:c " "ram after a rename"
eq "$(readlink "$T/ram/$ib:c")" "../../../model/c" "c's link"
[ -e "$T/ram/$ib:b" ] && fail "the old name still resolves"
[ -e "$T/ram/$ib:zzz" ] && fail "a wrong hint resolves"
[ -e "$T/ram/$ib" ] && fail "a bare number resolves"
rm "$QVL_MNT/model/c"
eq "$(listing ram)" "$ia:a " "ram after rm"

expect_errno "Read-only" mkdir "$T/ram/x"
expect_errno "Read-only" rm "$T/ram/$ia:a"
expect_errno "Read-only" ln "$QVL_MNT/empty" "$T/ram/y"
expect_errno "Read-only" ln -s /tmp "$T/ram/z"
expect_errno "Read-only" touch "$T/nvme/new"
expect_errno "Read-only" mkdir "$T/cpu"
expect_errno "Read-only" rmdir "$T/gpu"
expect_errno "busy" mv "$T/ram/$ia:a" "$QVL_MNT/x"
qvl_umount
qvl_done
