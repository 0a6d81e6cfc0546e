#!/bin/bash
# clients.sh - the clients handle every tensor, on a real mount: scalars
# (shape "") through libqvlmem, qvlmem.py and qvlctl info; bf16 in numpy
# (uint16 bits) and torch (bfloat16, no copy; a stand-in module when torch
# is not installed); one-line errors from qvlmem.py; qvlctl ls [-l];
# qvlctl estimate taking the file's dtype; df's Used is what the mount
# stores (about 0 when fresh, growing as data comes).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
qvl_require_fuse
B=$QVL_BUILD
M=$QVL_MNT
PY=$QVL_PYTHON
export PYTHONPATH=$PWD/client/python
"$PY" -c 'import numpy' 2>/dev/null || qvl_skip "no numpy for $PY"
command -v cc >/dev/null || qvl_skip "no cc for the scalar helper"
san=
nm "$B/libqvlmem.a" 2>/dev/null | grep -q __asan_init && san=-fsanitize=address,undefined
cc -std=c17 $san -Iclient -o "$QVL_TMP/scalar" tests/integration/helpers/scalar.c \
	"$B/libqvlmem.a" >"$QVL_TMP/cc.log" 2>&1 ||
	{ cat "$QVL_TMP/cc.log"; fail "build the scalar helper"; qvl_done; }

qvl_mount ram=64M

# df on a fresh mount: Used is what it stores (nothing yet), not the store
# filesystem's use.
used0=$(df -B1 --output=used "$M" | tail -n 1 | tr -d ' ')
[ "$used0" -lt $((1 << 20)) ] || fail "df Used on a fresh mount is $used0 bytes"
pct0=$(df --output=pcent "$M" | tail -n 1 | tr -d ' %')
[ "$pct0" -le 1 ] || fail "df Use% on a fresh mount is $pct0%"

# ---- scalars ----
check "$QVL_TMP/scalar" create "$M/s.f32" 3.5
eq "$(getfattr --only-values -n user.qvl.shape "$M/s.f32" 2>/dev/null)" "" "a scalar's shape"
eq "$("$QVL_TMP/scalar" read "$M/s.f32")" "f32 ndims=0 nelems=1 size=4 value=3.5" \
	"libqvlmem opens a scalar"
out=$("$B/qvlctl" info "$M/s.f32")
grep -q 'shape *"" (a scalar)  (1 element, matches the size)' <<<"$out" ||
	fail "qvlctl info on a scalar: $out"
# A scalar shape set while the file was empty (pending), then 8 bytes.
touch "$M/bad"
setfattr -n user.qvl.dtype -v f32 "$M/bad"
setfattr -n user.qvl.shape -v "" "$M/bad" || fail "pending scalar shape"
printf 'abcdefgh' >"$M/bad"
out=$("$QVL_TMP/scalar" read "$M/bad" 2>&1) && fail "a scalar of 8 bytes opened: $out"
grep -q "qvlmem_open: " <<<"$out" || fail "scalar of 8 bytes: $out"
out=$("$B/qvlctl" info "$M/bad")
grep -q "MISMATCH: needs 4 bytes" <<<"$out" || fail "qvlctl info on a bad scalar: $out"

"$PY" - "$M" <<'PYEOF' || fail "python clients"
import os, sys
import numpy as np
import qvlmem
m = sys.argv[1]
s = qvlmem.open(m + "/s.f32")
assert s.shape == () and s.dtype == np.float32 and float(s) == 3.5, (s.shape, s)
assert qvlmem.meta(m + "/s.f32") == ("f32", ())
i = qvlmem.create(m + "/s.i64", "i64", ())
i[()] = -7; i.flush(); del i
assert os.getxattr(m + "/s.i64", "user.qvl.shape") == b""
assert int(qvlmem.open(m + "/s.i64")) == -7
# bf16 without ml_dtypes: the raw bits as uint16, and bf16_to_f32 for values.
# Weights-like values (normal), so the store compresses them.
v = np.array([1.0, -2.5, 0.15625, 3e38], dtype=np.float32)
r = np.random.default_rng(1).standard_normal(256 * 1024).astype(np.float32)
r[:4] = v
a = qvlmem.create(m + "/w.bf16", "bf16", (256, 1024))
a[:] = (r.view(np.uint32) >> 16).astype(np.uint16).reshape(256, 1024)
a.flush(); del a
b = qvlmem.open(m + "/w.bf16")
if "bf16" not in qvlmem._ML:
    assert b.dtype == np.uint16, b.dtype
    f = qvlmem.bf16_to_f32(b)
else:
    f = b.astype(np.float32)
want = (v.view(np.uint32) >> 16 << 16).view(np.float32)
assert f.shape == (256, 1024) and np.array_equal(f[0, :4], want), f[0]
print("python ok")
PYEOF

# torch: the real one when installed, else a stand-in module that gives
# numpy views for torch.frombuffer, to check dtypes, shapes and that the
# tensor is the file's memory (no copy).
cat >"$QVL_TMP/torch_check.py" <<'PYEOF'
import os, sys
import numpy as np
import qvlmem
import torch
m = sys.argv[1]
t = qvlmem.torch(m + "/w.bf16", "r+")
assert t.dtype == torch.bfloat16 and tuple(t.shape) == (256, 1024), (t.dtype, t.shape)
assert float(t[0, 1]) == -2.5, float(t[0, 1])
s = qvlmem.torch(m + "/s.f32")
assert s.dtype == torch.float32 and tuple(s.shape) == () and float(s) == 3.5
q = qvlmem.torch(m + "/s.i64")
assert q.dtype == torch.int64 and int(q) == -7
# The same memory: a write through the file shows in the tensor, and one
# through the tensor ("r+") in the file.
with open(m + "/w.bf16", "r+b") as f:
    f.write(np.array([0x4040], dtype="<u2").tobytes())  # bf16 3.0
assert float(t[0, 0]) == 3.0, float(t[0, 0])
t[0, 2] = 1.0
with open(m + "/w.bf16", "rb") as f:
    assert f.read()[4:6] == np.array([0x3f80], dtype="<u2").tobytes()
print("torch ok")
PYEOF
if "$PY" -c 'import torch' 2>/dev/null; then
	check "$PY" "$QVL_TMP/torch_check.py" "$M"
else
	echo "torch is not installed: qvlmem.torch() checked with a stand-in"
	mkdir -p "$QVL_TMP/fake"
	cat >"$QVL_TMP/fake/torch.py" <<'PYEOF'
# A stand-in for torch's few calls qvlmem.torch() makes, over numpy.
import numpy as np
__version__ = "stand-in"
class dtype:
    def __init__(self, name, np_dtype):
        self.name, self.np = name, np.dtype(np_dtype)
    def __repr__(self):
        return "torch." + self.name
for _n, _d in (("bfloat16", "<u2"), ("float16", "<f2"), ("float32", "<f4"),
               ("float64", "<f8"), ("int8", "i1"), ("uint8", "u1"),
               ("int16", "<i2"), ("int32", "<i4"), ("int64", "<i8"),
               ("bool", "?")):
    globals()[_n] = dtype(_n, _d)
class Tensor:
    def __init__(self, a, dt):
        self.a, self.dtype, self.shape = a, dt, a.shape
    def view(self, dt):
        return Tensor(self.a.view(dt.np), dt)
    def reshape(self, shape):
        r = self.a.reshape(shape)
        assert np.shares_memory(r, self.a)
        return Tensor(r, self.dtype)
    def _val(self, v):
        if self.dtype is bfloat16:
            return float((np.array([v], dtype=np.uint32) << 16).view(np.float32)[0])
        return v.item() if hasattr(v, "item") else v
    def __getitem__(self, k):
        return Tensor(np.asarray(self.a[k]), self.dtype)
    def __setitem__(self, k, v):
        if self.dtype is bfloat16:
            v = np.array(v, dtype=np.float32).view(np.uint32) >> 16
        self.a[k] = v
    def __float__(self):
        return float(self._val(self.a[()]))
    def __int__(self):
        return int(self.a[()])
def frombuffer(buf, dtype):
    return Tensor(np.frombuffer(buf, dtype=dtype.np), dtype)
def empty(shape, dtype):
    return Tensor(np.empty(shape, dtype=dtype.np), dtype)
PYEOF
	PYTHONPATH=$QVL_TMP/fake:$PYTHONPATH check "$PY" "$QVL_TMP/torch_check.py" "$M"
	# Without torch, one clear error.
	out=$("$PY" -c 'import qvlmem, sys; qvlmem.torch(sys.argv[1])' "$M/s.f32" 2>&1)
	grep -q "ImportError: qvlmem.torch() needs torch" <<<"$out" || fail "torch missing: $out"
fi

# ---- one-line errors from qvlmem.py ----
rc=0; out=$("$PY" client/python/qvlmem.py info "$M/missing" 2>&1) || rc=$?
eq "$rc" 1 "qvlmem.py info MISSING exit status"
eq "$out" "qvlmem.py: $M/missing: No such file or directory" "qvlmem.py info MISSING"
rc=0; out=$("$PY" client/python/qvlmem.py info "$M/s.f32" "$M/bad" 2>&1) || rc=$?
eq "$rc" 1 "qvlmem.py info with one bad file"
eq "$(grep -c . <<<"$out")" 2 "qvlmem.py info: one line per file ($out)"
grep -q "^$M/s.f32: f32 scalar" <<<"$out" || fail "qvlmem.py info scalar: $out"
grep -q Traceback <<<"$out" && fail "qvlmem.py printed a traceback: $out"

# ---- qvlctl ls ----
setfattr -n user.qvl.tier -v nvme "$M/w.bf16" || fail "move w.bf16 to nvme"
out=$("$B/qvlctl" ls "$M")
echo "$out"
head -n 1 <<<"$out" | grep -Eq '^DTYPE +SHAPE +SIZE +TIER +CODEC +RATIO +NAME$' ||
	fail "ls header"
grep -Eq '^f32 +scalar +4 +ram +auto +[0-9.]+ +s\.f32$' <<<"$out" || fail "ls: the scalar"
grep -Eq '^bf16 +256,1024 +512\.0K +nvme +auto +0\.[0-9]+ +w\.bf16$' <<<"$out" || fail "ls: the bf16 tensor"
grep -Eq '^f32 +scalar +8 +ram +auto +[0-9.]+ +bad$' <<<"$out" || fail "ls: the bad scalar"
out=$("$B/qvlctl" ls -l "$M")
grep -Eq '^bf16 +256,1024 +524288 +nvme +auto +0\.[0-9]+ +ram:0,nvme:[0-9]+ +w\.bf16$' <<<"$out" ||
	fail "ls -l: the bf16 tensor: $out"
mkdir "$M/sub"
"$B/qvlctl" ls "$M" | grep -Eq '^dir .* sub/$' || fail "ls: a directory"
rc=0; "$B/qvlctl" ls "$M/nope" 2>/dev/null || rc=$?
eq "$rc" 1 "ls of a missing path"

# ---- qvlctl estimate takes the file's dtype ----
"$PY" -c '
import numpy as np, sys
r = np.random.default_rng(1).standard_normal(1 << 18).astype(np.float32)
(r.view(np.uint32) >> 16).astype(np.uint16).tofile(sys.argv[1])' "$QVL_TMP/w.raw"
touch "$M/e.bf16"
setfattr -n user.qvl.dtype -v bf16 "$M/e.bf16"
cp "$QVL_TMP/w.raw" "$M/e.bf16"
out=$("$B/qvlctl" estimate "$M/e.bf16" 2>&1) || fail "estimate without --dtype: $out"
grep -q "^$M/e.bf16 dtype=bf16 bytes=524288 " <<<"$out" || fail "estimate used: $out"
r_own=$(sed -n 's/.* dtype=bf16 .*ratio=\([0-9.]*\) .*/\1/p' <<<"$out")
cp "$QVL_TMP/w.raw" "$M/plain"
out=$("$B/qvlctl" estimate "$M/plain" 2>&1) || fail "estimate of an untyped file: $out"
grep -q "no user.qvl.dtype, estimated as bytes (u8)" <<<"$out" || fail "estimate note: $out"
r_u8=$(sed -n 's/.* dtype=u8 .*ratio=\([0-9.]*\) .*/\1/p' <<<"$out")
awk -v a="$r_own" -v b="$r_u8" 'BEGIN { exit !(a > 0 && a < b) }' ||
	fail "bf16 ratio $r_own not below the byte codec's $r_u8"
"$B/qvlctl" estimate --dtype u8 "$M/e.bf16" | grep -q " dtype=u8 " || fail "--dtype overrides"

# df's Used grows with what is stored.
head -c $((8 << 20)) /dev/urandom >"$M/big"
used1=$(df -B1 --output=used "$M" | tail -n 1 | tr -d ' ')
[ "$used1" -ge $((8 << 20)) ] || fail "df Used after writing 8 MiB: $used1"

qvl_umount
qvl_done
