#!/bin/bash
# mmap_numpy.sh - shared mappings: two processes map one file MAP_SHARED at
# once and see each other's stores and each other's read()/write(), and the
# stores reach the daemon (read back after the page cache is dropped);
# numpy.memmap of a tensor libqvlmem made, and libqvlmem/qvlctl reading a
# tensor numpy made.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
"$QVL_PYTHON" -c 'import numpy' 2>/dev/null || qvl_skip "no numpy for $QVL_PYTHON"
qvl_mount ram=128M
M=$QVL_MNT

"$QVL_PYTHON" - "$M" <<'PY' || fail "MAP_SHARED from two processes"
import mmap, os, sys
m = sys.argv[1]
p = os.path.join(m, "shared")
N = 3 << 20                      # three chunks
with open(p, "wb") as f:
    f.truncate(N)
r1, w1 = os.pipe(); r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:                     # the child: maps, answers, checks
    os.close(w1); os.close(r2)
    try:
        fd = os.open(p, os.O_RDWR)
        mm = mmap.mmap(fd, N, mmap.MAP_SHARED)
        os.write(w2, b"r")
        assert os.read(r1, 1) == b"1"
        assert mm[(1 << 20) - 2:(1 << 20) + 2] == b"ABCD", mm[(1 << 20) - 2:(1 << 20) + 2]
        assert mm[N - 1] == 0x5a and mm[6:12] == b"pwrite"
        mm[(2 << 20) + 123:(2 << 20) + 128] = b"child"
        os.pwrite(fd, b"viawrite", 4096)
        os.write(w2, b"2")
        assert os.read(r1, 1) == b"3"
        mm.close(); os.close(fd)
        os._exit(0)
    except BaseException as e:
        print("child:", repr(e), file=sys.stderr)
        os._exit(1)
os.close(w2); os.close(r1)     # a dead child reads as EOF, not a hang
assert os.read(r2, 1) == b"r"
fd = os.open(p, os.O_RDWR)
mm = mmap.mmap(fd, N, mmap.MAP_SHARED)
mm[(1 << 20) - 2:(1 << 20) + 2] = b"ABCD"    # across the chunk boundary
mm[N - 1] = 0x5a
os.pwrite(fd, b"pwrite", 6)                  # write() seen by the mapping
os.write(w1, b"1")
assert os.read(r2, 1) == b"2"
assert mm[(2 << 20) + 123:(2 << 20) + 128] == b"child"
assert mm[4096:4104] == b"viawrite"
assert os.pread(fd, 5, (2 << 20) + 123) == b"child"
os.write(w1, b"3")
_, st = os.waitpid(pid, 0)
assert st == 0, "child failed"
mm.flush(); mm.close(); os.close(fd)
PY
sync; echo 3 >/proc/sys/vm/drop_caches
"$QVL_PYTHON" - "$M/shared" <<'PY' || fail "mapped stores reached the daemon"
import sys
d = open(sys.argv[1], "rb").read()
assert d[(1 << 20) - 2:(1 << 20) + 2] == b"ABCD"
assert d[(2 << 20) + 123:(2 << 20) + 128] == b"child"
assert d[4096:4104] == b"viawrite" and d[6:12] == b"pwrite"
assert d[-1] == 0x5a and d.count(0) == len(d) - 4 - 5 - 8 - 6 - 1
PY

# libqvlmem -> numpy.
B=$QVL_BUILD
if [ -x "$B/examples/tensor_example" ]; then
	check "$B/examples/tensor_example" "$M/c.f32" 300 1000 >/dev/null
	"$QVL_PYTHON" - "$M/c.f32" <<'PY' || fail "numpy.memmap of a libqvlmem tensor"
import os, sys
import numpy as np
p = sys.argv[1]
dt = os.getxattr(p, "user.qvl.dtype").decode()
shape = tuple(int(x) for x in os.getxattr(p, "user.qvl.shape").split(b","))
assert (dt, shape) == ("f32", (300, 1000)), (dt, shape)
a = np.memmap(p, dtype=np.float32, mode="r", shape=shape)
want = (np.arange(300 * 1000) % 1000).astype(np.float32).reshape(shape) * 0.25
assert np.array_equal(a, want)
assert os.getxattr(p, "user.qvl.priority") == b"7"
PY
else
	fail "no $B/examples/tensor_example (make $B/examples/tensor_example)"
fi

# numpy -> libqvlmem and qvlctl.
"$QVL_PYTHON" - "$M/n.f32" <<'PY' || fail "numpy writes a tensor"
import os, sys
import numpy as np
p = sys.argv[1]
shape = (7, 11, 513)
a = np.memmap(p, dtype=np.float32, mode="w+", shape=shape)
a[:] = np.arange(a.size, dtype=np.float32).reshape(shape) % 97
a.flush(); del a
os.setxattr(p, "user.qvl.dtype", b"f32")
os.setxattr(p, "user.qvl.shape", b"7,11,513")
PY
want=$("$QVL_PYTHON" -c 'import numpy as np; print("%.1f" % float((np.arange(7*11*513) % 97).sum()))')
if [ -f "$B/libqvlmem.a" ] && command -v cc >/dev/null; then
	san=
	nm "$B/libqvlmem.a" 2>/dev/null | grep -q __asan_init && san=-fsanitize=address,undefined
	cc -std=c17 $san -Iclient -o "$QVL_TMP/tensor_read" tests/integration/helpers/tensor_read.c \
		"$B/libqvlmem.a" -lm >"$QVL_TMP/cc.log" 2>&1 ||
		{ tail -5 "$QVL_TMP/cc.log"; fail "build tensor_read"; }
	sync; echo 3 >/proc/sys/vm/drop_caches
	eq "$("$QVL_TMP/tensor_read" "$M/n.f32")" "f32 7,11,513 $want" "libqvlmem reads numpy's tensor"
	setfattr -n user.qvl.shape -v 7,11,512 "$M/n.f32" 2>/dev/null &&
		fail "shape not matching the size accepted"
fi
out=$("$B/qvlctl" info "$M/n.f32") || fail "qvlctl info"
grep -q "f32" <<<"$out" && grep -q "7, *11, *513\|7,11,513\|7 x 11 x 513" <<<"$out" ||
	fail "qvlctl info says: $out"
grep -q "matches the size" <<<"$out" || fail "qvlctl info: size check: $out"
qvl_umount
qvl_done
