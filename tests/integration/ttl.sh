#!/bin/bash
# ttl.sh - user.qvl.ttl acts (fs/ttl.c): a file unused for its ttl goes,
# with its space; a use (open, read) starts its clock again; an open file
# loses its name but reads on until closed; at 80% of its ttl a
# persistent file's RAM goes to the store.  And a file unlinked while its
# bytes are only in RAM never writes them to the store.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
MiB=$((1 << 20))
head -c $((4 * MiB)) /dev/urandom >"$QVL_TMP/src"
ram_of() { getfattr --absolute-names --only-values -n user.qvl.stored "$1" | sed 's/^ram:\([0-9]*\),.*/\1/'; }
# A file with a ttl, written after the ttl is set (so the data is its own).
mk() { : >"$QVL_MNT/$1"; setfattr -n user.qvl.ttl -v "$2" "$QVL_MNT/$1"; cat "$QVL_TMP/src" >"$QVL_MNT/$1"; }
fsync_all() { "$QVL_PYTHON" -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)' "$QVL_MNT"; }

# A minute between flushes: only an fsync writes, and the test says when.
qvl_mount ram=64M,flush=60

# Writes avoided: 4 MiB written, still open, unlinked, then everything
# flushed: not one frame goes to the store for it.
cat "$QVL_TMP/src" >"$QVL_MNT/w"
exec 4<"$QVL_MNT/w"
rm "$QVL_MNT/w"
fsync_all
eq "$(qvl_json 'j["tiering"]["frames_written"]')" 0 "frames written for an unlinked file"
avoided=$(qvl_json 'j["collect"]["writes_avoided_bytes"]')
[ "$avoided" -ge $((4 * MiB)) ] || fail "writes avoided: $avoided bytes, want 4 MiB"
cmp -s "$QVL_TMP/src" /dev/fd/4 || fail "the unlinked open file reads wrong"
exec 4<&-

mk d 10         # demoted at 8 s (seen by 9 s), expires at 10 s
mk e 2          # expires: nothing touches it
mk g 2          # stays: opened and read every second
mk h 2          # expires while open
exec 3<"$QVL_MNT/h"
for _ in 1 2 3 4; do
	sleep 1
	cat "$QVL_MNT/g" >/dev/null
done
# 4.5 s: e and h are past their ttl of 2 s, g was used a second ago.
[ -e "$QVL_MNT/e" ] && fail "e is still there 4 s into a ttl of 2 s"
[ -e "$QVL_MNT/h" ] && fail "h (open) is still there 4 s into a ttl of 2 s"
ls "$QVL_MNT" | grep -qx e && fail "ls still lists e"
[ -e "$QVL_MNT/g" ] || fail "g, read every second, expired"
cmp -s "$QVL_TMP/src" /dev/fd/3 || fail "the open file lost its data before close"
exec 3<&-
eq "$(qvl_json 'j["collect"]["files_expired"]')" 2 "files expired"
sleep 5
# 9.5 s: d unused for 9.5 s of its 10: out of RAM, still there.
[ -e "$QVL_MNT/d" ] || fail "d expired early"
eq "$(ram_of "$QVL_MNT/d")" 0 "RAM of d at 95% of its ttl"
sleep 2
# 11.5 s: g (2 s) and d (10 s) are gone too; their space with them.
[ -e "$QVL_MNT/g" ] && fail "g is still there after its reads stopped"
[ -e "$QVL_MNT/d" ] && fail "d is still there past its ttl"
eq "$(qvl_json 'j["collect"]["files_expired"]')" 4 "files expired"
eq "$(qvl_json 'j["collect"]["bytes_collected"]')" $((16 * MiB)) "bytes collected"
eq "$(qvl_json 'j["bytes"]')" 0 "logical bytes left"
eq "$(qvl_json 'j["tiers"]["ram"]["used"]')" 0 "RAM used after expiry"
# Times past what 64 bits of milliseconds hold (FUSE takes any time): the
# collector's arithmetic saturates (the sanitizer build stops on an
# overflow), and a file last used in the far future does not expire.
printf far >"$QVL_MNT/far"
setfattr -n user.qvl.ttl -v 1 "$QVL_MNT/far"
touch -d @9300000000000000 "$QVL_MNT/far" || fail "touch far future"
sleep 2
[ -e "$QVL_MNT/far" ] || fail "a file used in the far future expired"
qvl_umount
qvl_done
