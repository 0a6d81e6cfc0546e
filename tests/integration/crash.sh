#!/bin/bash
# crash.sh - kill -9 the daemon in the middle of writes, in a loop.
#
# Each round mounts the same store over a small RAM budget (so chunks spill
# to disk while the writer runs), starts a writer that creates files with
# contents derived from their names and fsyncs some of them, kills the
# daemon at a random moment, and mounts again.  Then:
#   - the store mounts (catalog and backing files consistent),
#   - every file whose fsync returned before the kill reads back exactly,
#   - every other file holds a prefix of what was written to it (never bytes
#     that were not written: no garbage, no zeros in the middle).
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
# 20 rounds in the plain build; the sanitizer build is slower, 5 there.
case $QVL_BUILD in *san*) ROUNDS=${QVL_CRASH_ROUNDS:-5} ;; *) ROUNDS=${QVL_CRASH_ROUNDS:-20} ;; esac
LOG=$QVL_TMP/fsynced
: >"$LOG"

writer() { # round
	"$QVL_PYTHON" - "$QVL_MNT" "$1" "$LOG" <<'PY'
import os, sys, hashlib
mnt, rnd, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def content(name, n):
    seed = hashlib.sha256(name.encode()).digest()
    out = bytearray()
    while len(out) < n:
        seed = hashlib.sha256(seed).digest()
        out += seed * 64          # compressible in blocks, never zero
    return bytes(out[:n])
d = os.path.join(mnt, "r%d" % rnd)
os.makedirs(d, exist_ok=True)
for i in range(40):
    name = "r%d/f%d" % (rnd, i)
    n = (i % 7 + 1) * 700_000 + i * 4099
    data = content(name, n)
    fd = os.open(os.path.join(mnt, name), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    for off in range(0, n, 1 << 20):
        os.write(fd, data[off:off + (1 << 20)])
    if i % 3 == 0:
        os.fsync(fd)
        with open(log, "a") as f:
            f.write("%s %d\n" % (name, n))
            f.flush(); os.fsync(f.fileno())
    os.close(fd)
PY
}

verify() {
	"$QVL_PYTHON" - "$QVL_MNT" "$LOG" <<'PY'
import os, sys, hashlib
mnt, log = sys.argv[1], sys.argv[2]
def content(name, n):
    seed = hashlib.sha256(name.encode()).digest()
    out = bytearray()
    while len(out) < n:
        seed = hashlib.sha256(seed).digest()
        out += seed * 64
    return bytes(out[:n])
bad = 0
synced = {}
for line in open(log):
    name, n = line.split()
    synced[name] = int(n)
for name, n in synced.items():
    p = os.path.join(mnt, name)
    try:
        got = open(p, "rb").read()
    except OSError as e:
        print("fsynced file unreadable:", name, e); bad += 1; continue
    if got != content(name, n):
        print("fsynced file differs:", name, len(got), n); bad += 1
for r in sorted(os.listdir(mnt)):
    if not r.startswith("r"):
        continue
    for f in os.listdir(os.path.join(mnt, r)):
        name = r + "/" + f
        if name in synced:
            continue
        got = open(os.path.join(mnt, name), "rb").read()
        if got != content(name, len(got)):
            print("unsynced file holds bytes never written:", name, len(got)); bad += 1
sys.exit(1 if bad else 0)
PY
}

for r in $(seq "$ROUNDS"); do
	qvl_mount ram=8M,flush=0.3
	verify || fail "round $r: verify after remount"
	writer "$r" >/dev/null 2>&1 &
	wpid=$!
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 "$QVL_PID"
	wait "$QVL_PID" 2>/dev/null
	QVL_PID=
	wait "$wpid" 2>/dev/null
	fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT"
done
qvl_mount ram=8M
verify || fail "final verify"
grep -q '"dangling":0' <(cat "$QVL_MNT/.qvl/stats.json") ||
	fail "dangling rows after crashes: $(grep -o '"errors":{[^}]*}' "$QVL_MNT/.qvl/stats.json")"
echo "$(wc -l <"$LOG") fsynced files checked over $ROUNDS kills"
qvl_umount
qvl_done
