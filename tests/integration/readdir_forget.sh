#!/bin/bash
# readdir_forget.sh - readdir while entries come and go (no name twice,
# every untouched name always there), and lookup/forget without leaks:
# thousands of files created, looked up and deleted; after the kernel
# drops its dentries the inode count is back at its baseline, and the
# (ASan) daemon exits 0 at unmount.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_mount ram=64M
M=$QVL_MNT

"$QVL_PYTHON" - "$M" <<'PY' || fail "readdir while entries come and go"
import os, sys, time
d = os.path.join(sys.argv[1], "dir")
os.mkdir(d)
stable = {"s%04d" % i for i in range(400)}
for n in stable:
    open(os.path.join(d, n), "w").close()
pid = os.fork()
if pid == 0:                         # churn: create and delete other names
    end = time.time() + 4
    i = 0
    while time.time() < end:
        for k in range(20):
            open(os.path.join(d, "c%d_%d" % (i, k)), "w").close()
        for k in range(20):
            os.unlink(os.path.join(d, "c%d_%d" % (i, k)))
        i += 1
    os._exit(0)
rounds = 0
end = time.time() + 4
while time.time() < end:
    names = [e.name for e in os.scandir(d)]
    assert len(names) == len(set(names)), "a name listed twice"
    missing = stable - set(names)
    assert not missing, "stable names missing: %r" % sorted(missing)[:5]
    rounds += 1
_, st = os.waitpid(pid, 0)
assert st == 0
assert rounds >= 3, rounds
assert sorted(os.listdir(d)) == sorted(stable)
PY

# Lookup/forget: the inode count returns to its baseline.
sync; echo 2 >/proc/sys/vm/drop_caches
base=$(qvl_json 'j["inodes"]')
"$QVL_PYTHON" - "$M" <<'PY' || fail "create, stat and delete many files"
import os, sys
d = os.path.join(sys.argv[1], "many")
os.mkdir(d)
for i in range(3000):
    with open(os.path.join(d, "f%d" % i), "w") as f:
        if i % 100 == 0:    # (a small file still takes a whole chunk)
            f.write("x" * (i % 7 + 1))
for i in range(3000):
    os.stat(os.path.join(d, "f%d" % i))
    os.link(os.path.join(d, "f%d" % i), os.path.join(d, "h%d" % i)) if i % 10 == 0 else None
for n in os.listdir(d):
    os.unlink(os.path.join(d, n))
os.rmdir(d)
PY
eq "$(qvl_json 'j["files"]')" 400 "files after deleting the many"
for _ in $(seq 30); do
	sync; echo 2 >/proc/sys/vm/drop_caches
	[ "$(qvl_json 'j["inodes"]')" = "$base" ] && break
	sleep 0.2
done
eq "$(qvl_json 'j["inodes"]')" "$base" "inodes after drop_caches"
rm -rf "$M/dir"
sync; echo 2 >/proc/sys/vm/drop_caches
eq "$(qvl_json 'j["inodes"]')" 1 "only the root is left"
qvl_umount
qvl_done
