#!/bin/bash
# client_python.sh - client/python/qvlmem.py and qvlctl on tmpfs (user.*
# xattrs, no daemon): numpy round trips, validation before any write,
# empty tensors, block types, and that C and Python agree on the format.
set -eu
cd "$(dirname "$0")/../.."
PY=${QVL_PYTHON:-/usr/bin/python3}
B=${QVL_BUILD:-build/rel}
"$PY" -c 'import numpy' 2>/dev/null || { echo "skip: no numpy for $PY"; exit 77; }
d=$(mktemp -d /tmp/qvl-client-py.XXXXXX)
trap 'umount "$d" 2>/dev/null; rm -rf "$d"' EXIT
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=32m tmpfs "$d"; then :
elif setfattr -n user.probe -v 1 "$d" 2>/dev/null; then :
else echo "skip: no tmpfs mount and no user xattrs in /tmp"; exit 77; fi

PYTHONPATH=client/python "$PY" - "$d" <<'PYEOF'
import os, sys, errno
import numpy as np
import qvlmem
d = sys.argv[1]
p = os.path.join(d, "a.f32")
a = qvlmem.create(p, "f32", (3, 4), pin="ram", priority=7, ttl=0)
a[:] = np.arange(12, dtype=np.float32).reshape(3, 4)
a.flush(); del a
assert os.getxattr(p, "user.qvl.dtype") == b"f32"
assert os.getxattr(p, "user.qvl.shape") == b"3,4"
b = qvlmem.open(p)
assert b.shape == (3, 4) and b.dtype == np.float32 and float(b.sum()) == 66.0
assert not b.flags.writeable
assert qvlmem.get_hints(p) == {"pin": "ram", "ttl": 0, "priority": 7}, qvlmem.get_hints(p)
# Validation before writing anything.
for bad in (dict(pin="vram"), dict(priority=10), dict(ttl=-1), dict(codec="lz4"),
            dict(pin="gpu", priority=11)):
    try:
        qvlmem.set_hints(p, **bad); raise SystemExit("accepted %r" % bad)
    except ValueError:
        pass
assert qvlmem.get_hints(p)["pin"] == "ram"
for dt, shape in (("f33", (2,)), ("f32", (-1,)), ("q8_0", (31,)), ("f32", (1,) * 9)):
    try:
        qvlmem.create(os.path.join(d, "bad"), dt, shape); raise SystemExit("accepted")
    except ValueError:
        pass
assert not os.path.exists(os.path.join(d, "bad"))
try:
    qvlmem.create(p, "f32", (1,)); raise SystemExit("overwrote")
except FileExistsError:
    pass
# Empty tensor, block type, untyped file, mismatch.
e = qvlmem.create(os.path.join(d, "e"), "bf16", (0, 5))
assert e.shape == (0, 5) and qvlmem.open(os.path.join(d, "e")).size == 0
q = qvlmem.create(os.path.join(d, "q"), "q4_0", (64,))
assert q.shape == (2, 18)
with open(os.path.join(d, "raw"), "wb") as f:
    f.write(b"abcdef")
r = qvlmem.open(os.path.join(d, "raw"))
assert r.dtype == np.uint8 and r.shape == (6,) and bytes(r) == b"abcdef"
os.setxattr(os.path.join(d, "raw"), "user.qvl.shape", b"7")
try:
    qvlmem.open(os.path.join(d, "raw")); raise SystemExit("accepted mismatch")
except ValueError:
    pass
os.setxattr(p, "user.qvl.tier", b"ram:25%,nvme:75%")
assert qvlmem.residency(p) == {"ram": 25, "nvme": 75}
qvlmem.move(p, "nvme"); assert qvlmem.tier(p) == "nvme"
qvlmem.advise(p, "willneed")
print("python ok")
PYEOF

# The C example's tensor opens in Python, and Python's in qvlctl.
if [ -x "$B/examples/tensor_example" ]; then
	"$B/examples/tensor_example" "$d/c.f32" 8 16 >/dev/null
	PYTHONPATH=client/python "$PY" -c "
import qvlmem, sys; a = qvlmem.open(sys.argv[1])
assert a.shape == (8, 16) and a.dtype.name == 'float32', a.shape" "$d/c.f32"
fi
if [ -x "$B/qvlctl" ]; then
	out=$("$B/qvlctl" info "$d/a.f32")
	echo "$out" | grep -q "matches the size"
	echo "$out" | grep -q "user.qvl.priority *7"
	"$B/qvlctl" stat "$d" 2>&1 | grep -q "not a qvlmemfs mount"
	rc=0; "$B/qvlctl" bogus 2>/dev/null || rc=$?; [ $rc = 2 ]
	mkdir -p "$d/m/.qvl"
	echo '{"tiers":{"ram":{"present":true,"budget":1024,"used":512,"files":1}},"files":1}' \
		>"$d/m/.qvl/stats.json"
	"$B/qvlctl" stat "$d/m" | grep -Eq "^ram +yes +1.0 KiB +512 B +50.0%"
fi
echo "client ok"
