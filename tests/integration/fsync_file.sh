#!/bin/bash
# fsync_file.sh - fsync(2) of one file makes that file durable without
# writing back everything else that is dirty: with 64 MiB of another file
# dirty in RAM, fsync of a small file leaves those chunks dirty, and after
# a crash right then the small file is whole and the other file's recorded
# size covers only data that reached the store.
#
# Small fsyncs go into the catalog (tiers/catalog_inline.c): a database's
# autocommits in the mount write no frame to the store, and after a kill -9
# right after them the database has every committed row and passes its
# integrity check; a file changed after its fsync comes back as it was at
# the fsync; one truncated and fsync'ed comes back empty.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
head -c $((64 << 20)) /dev/urandom >"$QVL_TMP/big"
head -c $((1 << 20)) /dev/urandom >"$QVL_TMP/small"
# ram=512M: 64 MiB dirty and its page cache stay below half the budget,
# where the mover (tiers/mover.c) would write them back on its own.
qvl_mount ram=512M,flush=3600
cp "$QVL_TMP/big" "$QVL_MNT/big"
dd if="$QVL_TMP/small" of="$QVL_MNT/small" bs=1M conv=fsync status=none || fail "fsync small"
dirty=$("$QVL_PYTHON" -c "import json; print(json.load(open('$QVL_MNT/.qvl/stats.json'))['tiering']['dirty'])")
echo "dirty chunks after fsync of the small file: $dirty"
[ "$dirty" -ge 60 ] || fail "fsync of one file wrote back the others ($dirty dirty chunks left)"
kill -9 "$QVL_PID"
wait "$QVL_PID" 2>/dev/null
QVL_PID=
fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT"

qvl_mount ram=256M
cmp -s "$QVL_TMP/small" "$QVL_MNT/small" || fail "the fsynced file is not whole after a crash"
if [ -e "$QVL_MNT/big" ]; then
	size=$(stat -c %s "$QVL_MNT/big")
	echo "big: $size bytes recorded"
	cmp -s <(head -c "$size" "$QVL_TMP/big") "$QVL_MNT/big" || fail "big: bytes within its size differ"
fi
qvl_umount

json() { "$QVL_PYTHON" -c "import json; j = json.load(open('$QVL_MNT/.qvl/stats.json')); print($1)"; }
crash() {
	kill -9 "$QVL_PID"
	wait "$QVL_PID" 2>/dev/null
	QVL_PID=
	fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT"
}
qvl_mount ram=256M,flush=3600
"$QVL_PYTHON" - "$QVL_MNT" <<'PY' || fail "sqlite in the mount"
import os, sqlite3, sys
m = sys.argv[1]
c = sqlite3.connect(os.path.join(m, "t.db"), isolation_level=None)
c.execute("pragma journal_mode=delete"); c.execute("pragma synchronous=full")
c.execute("create table t (k integer primary key, v text)")
for i in range(50):
    c.execute("insert into t (v) values (?)", ("row %d " % i * 8,))
c.close()
# v1 fsync'ed, then v2 written over half of it and not: v1 must come back.
with open(os.path.join(m, "keep"), "wb") as f:
    f.write(b"v1" * 6000); f.flush(); os.fsync(f.fileno())
    f.seek(0); f.write(b"v2" * 3000); f.flush()
# fsync'ed, then cut to nothing and fsync'ed again.
with open(os.path.join(m, "cut"), "wb") as f:
    f.write(b"c" * 9000); f.flush(); os.fsync(f.fileno())
    f.truncate(0); os.fsync(f.fileno())
PY
inl=$(json 'j["inline"]["frames"]') written=$(json 'j["tiering"]["frames_written"]')
echo "fsyncs into the catalog: $inl frames; frames written to the store: $written"
[ "$inl" -ge 100 ] || fail "small fsyncs did not go into the catalog ($inl frames)"
[ "$written" -eq 0 ] || fail "small fsyncs wrote $written frames to the store"
crash
qvl_mount ram=256M
"$QVL_PYTHON" - "$QVL_MNT" <<'PY' || fail "after the crash"
import os, sqlite3, sys
m = sys.argv[1]
c = sqlite3.connect(os.path.join(m, "t.db"))
assert c.execute("pragma integrity_check").fetchone()[0] == "ok", "integrity"
n = c.execute("select count(*) from t").fetchone()[0]
assert n == 50, "rows after the crash: %d of 50" % n
c.close()
assert open(os.path.join(m, "keep"), "rb").read() == b"v1" * 6000, "keep: not as fsync'ed"
assert os.path.getsize(os.path.join(m, "cut")) == 0, "cut: not empty"
PY
rep=$(json 'j["inline"]["replayed"]')
echo "frames brought back from the catalog at mount: $rep"
[ "$rep" -ge 2 ] || fail "nothing came back from the catalog ($rep)"
# Written to the store by the unmount, they stay right after a clean one.
qvl_umount
qvl_mount ram=256M
"$QVL_PYTHON" -c "
import sqlite3; c = sqlite3.connect('$QVL_MNT/t.db')
assert c.execute('select count(*) from t').fetchone()[0] == 50" || fail "after a clean remount"
[ "$(json 'j["inline"]["replayed"]')" -eq 0 ] || fail "inline rows left after a clean unmount"
cmp -s <("$QVL_PYTHON" -c "import sys; sys.stdout.buffer.write(b'v1' * 6000)") "$QVL_MNT/keep" || fail "keep after a clean remount"
qvl_umount

# One fsync, two chunks: a full one too big for a row and a small tail
# that would go into a row raw.  Both go to the store, the tail coded by
# its policy again, and come back after a crash.
head -c $(((1 << 20) + 3000)) /dev/urandom >"$QVL_TMP/mixed"
qvl_mount ram=256M,flush=3600
dd if="$QVL_TMP/mixed" of="$QVL_MNT/mixed" bs=64K conv=fsync status=none || fail "fsync mixed"
crash
qvl_mount ram=256M
cmp -s "$QVL_TMP/mixed" "$QVL_MNT/mixed" || fail "a chunk and a small tail fsync'ed together: not whole after a crash"
qvl_umount
qvl_done
