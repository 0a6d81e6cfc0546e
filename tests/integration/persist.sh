#!/bin/bash
# persist.sh - the store across mounts: remount round trips, spill beyond
# the RAM budget, lifetimes, damaged backing files, a full store, refusal of
# foreign or newer catalogs, orphans and repair.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
M=$QVL_MNT
J() { "$QVL_PYTHON" -c "import json,sys; j=json.load(open('$M/.qvl/stats.json')); print($1)"; }

# --- remount round trip: bytes, xattrs, times, links, holes, modes --------
qvl_mount ram=16M
mkdir -p "$M/d/sub"
head -c 40000000 /dev/urandom >"$QVL_TMP/big"
cp "$QVL_TMP/big" "$M/d/big"                       # 2.5x the RAM budget
printf 'hello' >"$M/d/small"
truncate -s 5000000 "$M/d/sparse"
printf 'tail' | dd of="$M/d/sparse" bs=1 seek=4000000 conv=notrunc status=none
ln "$M/d/small" "$M/d/hard"
ln -s small "$M/d/link"
chmod 640 "$M/d/small"
touch -d '2001-02-03 04:05:06' "$M/d/small"
setfattr -n user.qvl.dtype -v u8 "$M/d/small"
setfattr -n user.qvl.shape -v 5 "$M/d/small"
setfattr -n user.note -v "a verbatim value" "$M/d/small"
setfattr -n user.qvl.priority -v 7 "$M/d"
printf 'x' >"$M/d/inherits"
# Past what 64 bits of nanoseconds hold (year 2262): stored saturated, not
# overflowed (undefined behaviour the sanitizer build stops on).
printf 'far' >"$M/d/future"
touch -d @99999999999 "$M/d/future" || fail "touch far future"
printf 'gone' >"$M/d/sess"
setfattr -n user.qvl.lifetime -v session "$M/d/sess"
before=$(cd "$M/d" && stat -c '%n %s %a %Y %h %F' big small sparse hard link inherits)
sum_big=$(getfattr --only-values -n user.qvl.checksum "$M/d/big")
[ "$(J 'j["tiering"]["evicted"] > 0')" = True ] || fail "nothing spilled past a 16M budget"
qvl_umount

qvl_mount ram=16M
after=$(cd "$M/d" && stat -c '%n %s %a %Y %h %F' big small sparse hard link inherits)
[ "$before" = "$after" ] || fail "attributes changed across a remount: $before / $after"
check cmp "$QVL_TMP/big" "$M/d/big"
[ "$(stat -c %Y "$M/d/future")" -ge 9223372036 ] || fail "far-future mtime: $(stat -c %Y "$M/d/future")"
[ "$(getfattr --only-values -n user.qvl.checksum "$M/d/big")" = "$sum_big" ] || fail "checksum changed"
[ "$(cat "$M/d/hard")" = hello ] || fail "hard link content"
[ "$(readlink "$M/d/link")" = small ] || fail "symlink target"
[ "$(getfattr --only-values -n user.qvl.shape "$M/d/small")" = 5 ] || fail "shape lost"
[ "$(getfattr --only-values -n user.note "$M/d/small")" = "a verbatim value" ] || fail "user xattr lost"
[ "$(getfattr --only-values -n user.qvl.priority "$M/d/inherits")" = 7 ] || fail "inherited hint lost"
[ ! -e "$M/d/sess" ] || fail "a session file survived the unmount"
[ "$(dd if="$M/d/sparse" bs=1 skip=4000000 count=4 status=none)" = tail ] || fail "sparse tail"
[ "$(head -c 4000000 "$M/d/sparse" | tr -d '\0' | wc -c)" = 0 ] || fail "a hole is not zeros"
t=$(getfattr --only-values -n user.qvl.tier "$M/d/big")
case $t in nvme|ram:*%,nvme:*%) ;; *) fail "tier of a spilled file: '$t'" ;; esac
setfattr -n user.qvl.tier -v nvme "$M/d/big"
[ "$(getfattr --only-values -n user.qvl.tier "$M/d/big")" = nvme ] || fail "tier=nvme did not move it"
stored=$(getfattr --only-values -n user.qvl.stored "$M/d/big")
case $stored in ram:0,nvme:*) ;; *) fail "stored after tier=nvme: $stored" ;; esac

# --- volatile: dropped under pressure, then ESTALE ------------------------
head -c 12000000 /dev/urandom >"$M/vol"
setfattr -n user.qvl.lifetime -v volatile "$M/vol"
cat "$QVL_TMP/big" >/dev/null; cat "$M/d/big" >/dev/null   # pressure
if [ "$(J 'j["tiering"]["dropped"]')" != 0 ]; then
	expect_errno "Stale file handle" dd if="$M/vol" of=/dev/null bs=1M iflag=direct
fi
qvl_umount

# --- damage: bit flips and truncation give EIO, counted, never wrong bytes
qvl_mount ram=4M
[ ! -e "$M/vol" ] || fail "a volatile file survived the unmount"
ino=$(stat -c %i "$M/d/big")
qvl_umount
bf=$(printf '%s/data/%02x/%x' "$QVL_STORE" $((ino % 256)) "$ino")
[ -f "$bf" ] || fail "no backing file at $bf"
"$QVL_PYTHON" - "$bf" <<'PY'
import sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0x10]))
PY
qvl_mount ram=4M
expect_errno "Input/output error" dd if="$M/d/big" of=/dev/null bs=1M count=1 iflag=direct
check dd if="$M/d/big" of=/dev/null bs=1M skip=8 count=8 iflag=direct status=none
[ "$(J 'j["errors"]["io"] > 0')" = True ] || fail "io error not counted"
grep -q "inode $ino chunk 0" "$QVL_TMP/daemon.log" || fail "no log line for the bad frame"
qvl_umount
truncate -s 4096 "$bf"
qvl_mount ram=4M
expect_errno "Input/output error" dd if="$M/d/big" of=/dev/null bs=1M skip=20 count=1 iflag=direct
[ "$(cat "$M/d/hard")" = hello ] || fail "another file hurt by a damaged one"
qvl_umount

# --- orphans and repair -----------------------------------------------------
mkdir -p "$QVL_STORE/data/ff"
printf 'junk' >"$QVL_STORE/data/ff/fff"
qvl_mount ram=4M
[ "$(J 'j["errors"]["orphans"] >= 1')" = True ] || fail "orphan backing file not reported"
qvl_umount
[ -e "$QVL_STORE/data/ff/fff" ] || fail "orphan deleted without repair"
qvl_mount ram=4M,repair
qvl_umount
[ ! -e "$QVL_STORE/data/ff/fff" ] || fail "repair left the orphan"

# --- refusal: a newer, a foreign and a damaged catalog ----------------------
cp "$QVL_STORE/catalog.db" "$QVL_TMP/good.db"
"$QVL_PYTHON" -c "import sqlite3; c=sqlite3.connect('$QVL_STORE/catalog.db'); c.execute('PRAGMA user_version=99'); c.commit()"
if "$QVL_BUILD/qvlmemfs" -f -o store="$QVL_STORE" "$M" 2>"$QVL_TMP/refuse.log"; then
	fail "a newer catalog was mounted"
fi
grep -qi "newer\|version" "$QVL_TMP/refuse.log" || fail "no clear message for a newer store: $(cat "$QVL_TMP/refuse.log")"
mountpoint -q "$M" && fail "half-mounted"
head -c 8192 /dev/urandom >"$QVL_STORE/catalog.db"
rm -f "$QVL_STORE/catalog.db-wal" "$QVL_STORE/catalog.db-shm"
"$QVL_BUILD/qvlmemfs" -f -o store="$QVL_STORE" "$M" 2>"$QVL_TMP/refuse.log" && fail "a garbage catalog was mounted"
[ -s "$QVL_TMP/refuse.log" ] || fail "no message for a garbage catalog"
cp "$QVL_TMP/good.db" "$QVL_STORE/catalog.db"

# --- a full store: ENOSPC, nothing lost -------------------------------------
small=$QVL_TMP/small
mkdir -p "$small"
mount -t tmpfs -o size=24m tmpfs "$small"
QVL_STORE=$small/store
mkdir -p "$QVL_STORE"
qvl_mount ram=8M
head -c 6000000 /dev/urandom >"$QVL_TMP/keep"
# sync(1) does not reach a FUSE daemon on libfuse 3.14 (no syncfs): fsync.
dd if="$QVL_TMP/keep" of="$M/keep" bs=1M conv=fsync status=none
expect_errno "No space left on device" dd if=/dev/urandom of="$M/fill" bs=1M count=64 conv=fsync
check cmp "$QVL_TMP/keep" "$M/keep"
rm -f "$M/fill"
qvl_umount
qvl_mount ram=8M
check cmp "$QVL_TMP/keep" "$M/keep"
qvl_umount
umount "$small"
qvl_done
