#!/bin/bash
# damaged_store.sh - a damaged store never costs more than the damage.
# Each case damages a good store by hand, mounts it, and checks the daemon
# neither crashes nor hangs nor hides data:
#   - a file row with nlink=0 that a directory still names (0.2 freed it at
#     load and then used it: the daemon died on ls);
#   - a size of 2^63 in a row (0.2's checksum spun forever): the file is as
#     long as its frames;
#   - such damaged rows make the mount read-only until -o repair;
#   - a backing file replaced by a FIFO (0.2 blocked on it): EIO for that
#     file, the rest served;
#   - catalog.db deleted with the data files still there (0.2 mounted an
#     empty filesystem, and -o repair would delete every data file):
#     refused with a message, nothing deleted;
#   - an immutable catalog.db (0.2 mounted, lost every change, exited 0):
#     read-only from the first change, exit status 3;
#   - an fsync's frame kept in the catalog (inline_frames) that fails its
#     checks, or belongs to no file: counted as damage, read-only, the
#     file reads what the store has, and a repair drops the rows;
#   - catalog.db-wal deleted after a crash (0.2 mounted the older catalog,
#     losing fsync'ed files without a word): refused, naming the WAL.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
sql() { "$QVL_PYTHON" -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit(); c.close()
' "$QVL_STORE/catalog.db" "$1"; }
sql_get() { "$QVL_PYTHON" -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])
' "$QVL_STORE/catalog.db" "$1"; }
ino() { stat -c %i "$QVL_MNT/$1"; }
head -c $((3 << 20)) /dev/urandom >"$QVL_TMP/a"
head -c $((2 << 20)) /dev/urandom >"$QVL_TMP/b"
qvl_mount ram=16M
cp "$QVL_TMP/a" "$QVL_MNT/a"
cp "$QVL_TMP/b" "$QVL_MNT/b"
setfattr -n user.qvl.tier -v nvme "$QVL_MNT/a" "$QVL_MNT/b" || fail "tier=nvme"
ia=$(ino a) ib=$(ino b)
qvl_umount

# nlink 0, still named.
sql "UPDATE inodes SET nlink = 0 WHERE ino = $ia"
[ "$(sql_get "SELECT nlink FROM inodes WHERE ino = $ia")" = 0 ] || fail "the damage did not take"
qvl_mount ram=16M
timeout 20 ls -l "$QVL_MNT" >/dev/null || fail "ls on nlink=0"
timeout 20 cmp -s "$QVL_TMP/a" "$QVL_MNT/a" || fail "a after nlink=0"
[ "$(stat -c %h "$QVL_MNT/a")" = 1 ] || fail "a's link count not repaired"
qvl_umount

# A size of 2^63.
sql "UPDATE inodes SET size = 9223372036854775807 WHERE ino = $ib"
[ "$(sql_get "SELECT size FROM inodes WHERE ino = $ib")" = 9223372036854775807 ] || fail "the damage did not take"
qvl_mount ram=16M
[ "$(stat -c %s "$QVL_MNT/b")" = $((2 << 20)) ] || fail "b's size: $(stat -c %s "$QVL_MNT/b")"
timeout 20 getfattr --absolute-names -n user.qvl.checksum "$QVL_MNT/b" >/dev/null || fail "checksum of b"
timeout 20 cmp -s "$QVL_TMP/b" "$QVL_MNT/b" || fail "b after a huge size"
qvl_umount

# A FIFO in place of a backing file.
bf=$(ls "$QVL_STORE"/data/*/"$(printf %x "$ia")") # named in hex
rm "$bf" && mkfifo "$bf"
qvl_mount ram=16M
timeout 20 cat "$QVL_MNT/a" >/dev/null 2>"$QVL_TMP/err" && fail "a read through a FIFO"
[ $? = 124 ] && fail "reading a hung on a FIFO"
grep -q "Input/output error" "$QVL_TMP/err" || fail "a: $(cat "$QVL_TMP/err")"
timeout 20 cmp -s "$QVL_TMP/b" "$QVL_MNT/b" || fail "b while a is damaged"
qvl_umount
[ -p "$bf" ] || fail "the FIFO was removed"

# Damaged rows (the two above) make the mount read-only, saying so; a
# repair sets them right, and the next mount is read-write and clean.
qvl_mount ram=16M
grep -q "mounted read-only" "$QVL_TMP/daemon.log" || fail "no read-only message: $(cat "$QVL_TMP/daemon.log")"
expect_errno "Read-only file system" touch "$QVL_MNT/new"
timeout 20 cmp -s "$QVL_TMP/a" "$QVL_MNT/a" && fail "a readable through its FIFO"
fusermount3 -u "$QVL_MNT"
rc=0
wait "$QVL_PID" || rc=$?
QVL_PID=
[ "$rc" = 0 ] || fail "exit status $rc of a mount read-only from the start (nothing lost), not 0"
qvl_mount ram=16M,repair
check touch "$QVL_MNT/new"
qvl_umount
qvl_mount ram=16M
eq "$(qvl_json 'j["errors"]["dangling"]'),$(qvl_json 'j["errors"]["read_only"]')" "0,False" "after the repair"
check rm "$QVL_MNT/new"
timeout 20 cmp -s "$QVL_TMP/b" "$QVL_MNT/b" || fail "b after the repair"
qvl_umount

# Inline rows (tiers/catalog_inline.c) that are damage: a frame of garbage
# for b's chunk 0, and a row of a file that does not exist.
sql "INSERT INTO inline_frames VALUES($ib, 0, x'00112233445566778899')"
sql "INSERT INTO inline_frames VALUES(987654, 0, x'0011')"
qvl_mount ram=16M
eq "$(qvl_json 'j["errors"]["dangling"]'),$(qvl_json 'j["errors"]["read_only"]')" "2,True" "bad inline rows"
timeout 20 cmp -s "$QVL_TMP/b" "$QVL_MNT/b" || fail "b with a bad inline row"
qvl_umount
qvl_mount ram=16M,repair
qvl_umount
[ "$(sql_get "SELECT count(*) FROM inline_frames")" = 0 ] || fail "repair left inline rows"

# An immutable catalog (where chattr works): the first change fails, the
# mount turns read-only, and the daemon's exit status says so.
if chattr +i "$QVL_STORE/catalog.db" 2>/dev/null; then
	qvl_mount ram=16M
	touch "$QVL_MNT/new" 2>/dev/null && fail "a change with an immutable catalog"
	expect_errno "Read-only file system" mkdir "$QVL_MNT/d"
	timeout 20 cmp -s "$QVL_TMP/b" "$QVL_MNT/b" || fail "b with an immutable catalog"
	fusermount3 -u "$QVL_MNT"
	rc=0
	wait "$QVL_PID" || rc=$?
	QVL_PID=
	[ "$rc" = 3 ] || fail "exit status $rc with an immutable catalog, not 3"
	chattr -i "$QVL_STORE/catalog.db"
fi

# A deleted WAL after a crash (0.2 mounted the older catalog and silently
# lost fsync'ed files): refused, naming the WAL; with the WAL back, all there.
qvl_mount ram=16M
head -c $((1 << 20)) /dev/urandom >"$QVL_TMP/c"
cp "$QVL_TMP/c" "$QVL_MNT/c"
check "$QVL_PYTHON" -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)' "$QVL_MNT/c"
kill -9 "$QVL_PID"; wait "$QVL_PID" 2>/dev/null; QVL_PID=
fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT"
if [ -s "$QVL_STORE/catalog.db-wal" ]; then
	mv "$QVL_STORE/catalog.db-wal" "$QVL_TMP/wal"
	rm -f "$QVL_STORE/catalog.db-shm"
	"$QVL_BUILD/qvlmemfs" -f -o "store=$QVL_STORE,ram=16M" "$QVL_MNT" >"$QVL_TMP/nowal.log" 2>&1 &&
		{ fail "mounted a catalog that lost its WAL"; fusermount3 -u "$QVL_MNT"; }
	grep -q "catalog.db-wal deleted" "$QVL_TMP/nowal.log" || fail "message: $(cat "$QVL_TMP/nowal.log")"
	mv "$QVL_TMP/wal" "$QVL_STORE/catalog.db-wal"
	qvl_mount ram=16M
	check cmp "$QVL_TMP/c" "$QVL_MNT/c"
	check cmp "$QVL_TMP/b" "$QVL_MNT/b"
	qvl_umount
else
	fail "no WAL after a kill -9 (the case cannot be made)"
fi

# No catalog, data files there.
rm -f "$QVL_STORE"/catalog.db*
nfiles=$(find "$QVL_STORE/data" -type f | wc -l)
for opt in "" ",repair"; do
	"$QVL_BUILD/qvlmemfs" -f -o "store=$QVL_STORE,ram=16M$opt" "$QVL_MNT" >"$QVL_TMP/nocat.log" 2>&1 &&
		{ fail "mounted without a catalog ($opt)"; fusermount3 -u "$QVL_MNT"; }
	grep -q "catalog.db is missing" "$QVL_TMP/nocat.log" || fail "message: $(cat "$QVL_TMP/nocat.log")"
done
[ "$(find "$QVL_STORE/data" -type f | wc -l)" = "$nfiles" ] || fail "data files deleted"
qvl_done
