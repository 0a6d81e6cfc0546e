"""qvlmem.py - qvlmemfs tensors from Python, with numpy and the standard library.

A tensor on qvlmemfs is a file of raw row-major bytes whose dtype and shape
are extended attributes (user.qvl.dtype, user.qvl.shape).  This module maps
such files as numpy.memmap with the right dtype and shape, creates them, and
sets placement hints.  It mirrors libqvlmem (client/qvlmem.h): same rules,
same validation (ValueError before anything is written).

    import qvlmem
    a = qvlmem.create("/mnt/qvl/w.bin", "f32", (1024, 256), pin="ram")
    a[:] = 1.0; a.flush()
    b = qvlmem.open("/mnt/qvl/w.bin")          # read-only memmap, (1024, 256) f32
    qvlmem.set_hints("/mnt/qvl/w.bin", priority=7, lifetime="session")
    qvlmem.tier("/mnt/qvl/w.bin")              # "ram" or "ram:25%,nvme:75%"
    t = qvlmem.torch("/mnt/qvl/w.bin")         # torch.Tensor over the same pages

bf16, f8e4m3 and f8e5m2 map to ml_dtypes' types when that package is
installed, otherwise to unsigned integers of the same width holding the
raw bits (numpy has no bfloat16): bf16 comes back as uint16, and
bf16_to_f32() turns such an array into float32 values (a copy).
q8_0, q4_0 and the other GGUF block types (q4_K, iq2_xs, ...) map to
uint8 of shape (blocks, block_bytes).  A scalar (shape "") is a 0-d
array.  An empty tensor cannot be memory-mapped: open() and create()
return an empty numpy array.

torch() needs torch >= 1.13 (imported only when called): the tensor is
torch.frombuffer() over an mmap of the file, so no byte is copied; bf16 is
torch.bfloat16 (int16 bits viewed as bfloat16), f8 types are torch's
float8 types where torch has them (2.1+), else uint8 bits.  u16/u32/u64
need a torch with those types (2.3+).

`python3 qvlmem.py info FILE...` prints each file's dtype, shape, tier and
hints; errors are one line on stderr (exit 1), usage exit 2.
"""
import builtins
import errno
import json
import mmap
import os
import warnings

import numpy as np

__all__ = ["DTYPES", "open", "torch", "create", "meta", "set_hints",
           "get_hints", "advise", "move", "tier", "residency", "stats",
           "bf16_to_f32", "cuda_info", "cuda_map", "CudaMapping"]

X = "user.qvl."
MAX_DIMS = 8
PRIORITY_MAX = 9

# name: (block_elems, block_bytes, numpy dtype or None for block types)
DTYPES = {
    "bf16": (1, 2, "<u2"), "f16": (1, 2, "<f2"), "f32": (1, 4, "<f4"),
    "f64": (1, 8, "<f8"), "i8": (1, 1, "i1"), "u8": (1, 1, "u1"),
    "i16": (1, 2, "<i2"), "u16": (1, 2, "<u2"), "i32": (1, 4, "<i4"),
    "u32": (1, 4, "<u4"), "i64": (1, 8, "<i8"), "u64": (1, 8, "<u8"),
    "bool": (1, 1, "?"), "f8e4m3": (1, 1, "u1"), "f8e5m2": (1, 1, "u1"),
    "q8_0": (32, 34, None), "q4_0": (32, 18, None),
    # GGUF block types `qvlctl import` keeps as bytes (client/qvl_abi.h)
    "q4_1": (32, 20, None), "q5_0": (32, 22, None), "q5_1": (32, 24, None),
    "q8_1": (32, 36, None), "q2_K": (256, 84, None), "q3_K": (256, 110, None),
    "q4_K": (256, 144, None), "q5_K": (256, 176, None),
    "q6_K": (256, 210, None), "q8_K": (256, 292, None),
    "iq2_xxs": (256, 66, None), "iq2_xs": (256, 74, None),
    "iq3_xxs": (256, 98, None), "iq1_s": (256, 50, None),
    "iq4_nl": (32, 18, None), "iq3_s": (256, 110, None),
    "iq2_s": (256, 82, None), "iq4_xs": (256, 136, None),
    "iq1_m": (256, 56, None), "tq1_0": (256, 54, None),
    "tq2_0": (256, 66, None), "mxfp4": (32, 17, None),
}
try:  # real types when available
    import ml_dtypes
    _ML = {"bf16": ml_dtypes.bfloat16, "f8e4m3": ml_dtypes.float8_e4m3fn,
           "f8e5m2": ml_dtypes.float8_e5m2}
except ImportError:
    _ML = {}

HINTS = {
    "pin": ("gpu", "ram", "none"),
    "lifetime": ("persistent", "session", "volatile"),
    "codec": ("auto", "none", "zstd", "shuffle-zstd", "q8_0", "f8e4m3"),
}
ADVICE = ("willneed", "dontneed", "sequential", "random")
TIERS = ("gpu", "ram", "nvme")


def _np_dtype(name):
    if name in _ML:
        return np.dtype(_ML[name])
    return np.dtype(DTYPES[name][2])


def _get(path, name):
    """The value of user.qvl.NAME as str, or None when it is not set."""
    try:
        v = os.getxattr(path, X + name)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP):
            return None
        raise
    return v.rstrip(b"\0\n").decode("ascii", "replace")


def _set(path, name, value):
    os.setxattr(path, X + name, str(value).encode("ascii"))


def parse_shape(s):
    """"6144,2048" -> (6144, 2048); "" -> () (a scalar); ValueError when
    malformed."""
    if s == "":
        return ()
    parts = s.split(",")
    if not 1 <= len(parts) <= MAX_DIMS or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError("bad shape %r" % s)
    return tuple(int(p) for p in parts)


def nbytes(dtype, shape):
    """Bytes a tensor of DTYPE and SHAPE occupies; ValueError when invalid."""
    if dtype not in DTYPES:
        raise ValueError("unknown dtype %r" % dtype)
    shape = tuple(shape)
    if len(shape) > MAX_DIMS or any(int(d) < 0 for d in shape):
        raise ValueError("shape needs 0..%d non-negative dims" % MAX_DIMS)
    n = 1
    for d in shape:
        n *= int(d)
    be, bb, _ = DTYPES[dtype]
    if n % be:
        raise ValueError("%s needs a multiple of %d elements" % (dtype, be))
    size = n // be * bb
    if size >= 1 << 63:
        raise ValueError("tensor too large")
    return size


def meta(path):
    """(dtype, shape) of the file, by libqvlmem's rules: untyped files are
    u8 with one dim; a dtype without shape gives one dim.  ValueError when
    the attributes are malformed or disagree with the file size."""
    size = os.stat(path).st_size
    dt = _get(path, "dtype") or "u8"
    if dt not in DTYPES:
        raise ValueError("%s: unknown dtype %r" % (path, dt))
    sh = _get(path, "shape")
    be, bb, _ = DTYPES[dt]
    if sh is None:
        if size % bb:
            raise ValueError("%s: size %d is not a whole number of %s" % (path, size, dt))
        return dt, (size // bb * be,)
    shape = parse_shape(sh)
    if nbytes(dt, shape) != size:
        raise ValueError("%s: %s %s does not match size %d" % (path, dt, sh, size))
    return dt, shape


def _array(path, dt, shape, mode):
    be, bb, npname = DTYPES[dt]
    n = 1
    for d in shape:
        n *= d
    if npname is None:  # block-quantized: raw blocks
        npdt, shape = np.dtype("u1"), (n // be, bb)
    else:
        npdt = _np_dtype(dt)
    if n == 0:
        return np.empty(shape, dtype=npdt)  # a 0-byte file cannot be mapped
    return np.memmap(path, dtype=npdt, mode=mode, shape=shape)


def open(path, mode="r"):
    """Map a tensor: mode "r" (read-only) or "r+" (read-write)."""
    if mode not in ("r", "r+"):
        raise ValueError("mode must be 'r' or 'r+'")
    dt, shape = meta(path)
    return _array(path, dt, shape, mode)


def bf16_to_f32(a):
    """bf16 bits (uint16, as open() gives them without ml_dtypes) as float32
    values: a new array, same shape."""
    a = np.asarray(a)
    if a.dtype != np.uint16:
        raise ValueError("bf16_to_f32 takes uint16 bits, got %s" % a.dtype)
    return (a.astype(np.uint32) << 16).view(np.float32)


# dtype -> the torch dtype names to try, best first.  bf16 is loaded as
# int16 and viewed as bfloat16 (frombuffer of bfloat16 is not in every
# version); u8 raw bits stand in for f8 on a torch without float8.
_TORCH = {
    "bf16": ("int16:bfloat16",), "f16": ("float16",), "f32": ("float32",),
    "f64": ("float64",), "i8": ("int8",), "u8": ("uint8",),
    "i16": ("int16",), "u16": ("uint16",), "i32": ("int32",),
    "u32": ("uint32",), "i64": ("int64",), "u64": ("uint64",),
    "bool": ("bool",), "f8e4m3": ("float8_e4m3fn", "uint8"),
    "f8e5m2": ("float8_e5m2", "uint8"),
}


def _torch_dtypes(t, dt):
    """(dtype to load, dtype to view as or None) for qvl dtype DT."""
    if DTYPES[dt][2] is None:  # block types: raw blocks
        return t.uint8, None
    for name in _TORCH[dt]:
        load, _, view = name.partition(":")
        if hasattr(t, load) and (not view or hasattr(t, view)):
            return getattr(t, load), getattr(t, view) if view else None
    raise ValueError("this torch (%s) has no dtype for %s; use qvlmem.open() "
                     "(numpy)" % (getattr(t, "__version__", "?"), dt))


def torch(path, mode="r"):
    """The tensor as a torch.Tensor over the file's pages (no copy), with
    its dtype and shape; mode "r" or "r+" as for open().  The mapping lives
    as long as the tensor.  With "r" the pages are mapped read-only: torch
    has no read-only tensors, and writing to one faults (SIGSEGV)."""
    if mode not in ("r", "r+"):
        raise ValueError("mode must be 'r' or 'r+'")
    try:
        import torch as t
    except ImportError:
        raise ImportError("qvlmem.torch() needs torch (>= 1.13)") from None
    dt, shape = meta(path)
    load, view = _torch_dtypes(t, dt)
    be, bb, _ = DTYPES[dt]
    if DTYPES[dt][2] is None:
        n = 1
        for d in shape:
            n *= d
        shape = (n // be, bb)
    if os.stat(path).st_size == 0:  # a 0-byte file cannot be mapped
        return t.empty(shape, dtype=view or load)
    with builtins.open(path, "rb" if mode == "r" else "r+b") as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ if mode == "r"
                      else mmap.ACCESS_WRITE)
    with warnings.catch_warnings():
        # "The given buffer is not writable": said above, in the docstring.
        warnings.simplefilter("ignore", UserWarning)
        flat = t.frombuffer(m, dtype=load)  # holds a reference to m
    if view is not None:
        flat = flat.view(view)
    return flat.reshape(shape)


def _check_hints(h):
    for k, v in h.items():
        if v is None:
            continue
        if k in HINTS:
            if v not in HINTS[k]:
                raise ValueError("%s must be one of %s" % (k, ", ".join(HINTS[k])))
        elif k == "ttl":
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError("ttl must be a non-negative int (seconds)")
        elif k == "priority":
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= PRIORITY_MAX:
                raise ValueError("priority must be an int in 0..%d" % PRIORITY_MAX)
        else:
            raise ValueError("unknown hint %r" % k)


def set_hints(path, pin=None, lifetime=None, ttl=None, priority=None, codec=None):
    """Set the hints given (None = leave).  All are checked first."""
    h = dict(pin=pin, lifetime=lifetime, ttl=ttl, priority=priority, codec=codec)
    _check_hints(h)
    for k in ("pin", "lifetime", "ttl", "priority", "codec"):
        if h[k] is not None:
            _set(path, k, h[k])


def get_hints(path):
    """The hints that are set, as a dict (absent ones left out)."""
    out = {}
    for k in ("pin", "lifetime", "ttl", "priority", "codec"):
        v = _get(path, k)
        if v is not None:
            out[k] = int(v) if k in ("ttl", "priority") and v.isdigit() else v
    return out


def create(path, dtype, shape, **hints):
    """Create PATH (must not exist) as a zero-filled tensor and map it "r+".
    Hints as for set_hints().  On failure the new file is removed."""
    size = nbytes(dtype, shape)
    shape = tuple(int(d) for d in shape)
    _check_hints(hints)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        os.ftruncate(fd, size)  # size first: the daemon checks shape against it
        os.setxattr(fd, X + "dtype", dtype.encode())
        os.setxattr(fd, X + "shape", ",".join(map(str, shape)).encode())
        set_hints(fd, **hints)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    return _array(path, dtype, shape, "r+")


def advise(path, advice):
    if advice not in ADVICE:
        raise ValueError("advice must be one of %s" % ", ".join(ADVICE))
    _set(path, "advice", advice)


def move(path, to):
    """Move the bytes to tier TO ("gpu", "ram" or "nvme") now."""
    if to not in TIERS:
        raise ValueError("tier must be one of %s" % ", ".join(TIERS))
    _set(path, "tier", to)


def tier(path):
    """Where the bytes are: "ram" or "ram:25%,nvme:75%" (None off qvlmemfs)."""
    return _get(path, "tier")


def residency(path):
    """tier() parsed: {"ram": 25, "nvme": 75} (percent)."""
    s = tier(path)
    if s is None:
        return None
    out = {}
    for part in s.split(","):
        name, _, pct = part.partition(":")
        if name not in TIERS:
            raise ValueError("bad tier value %r" % s)
        out[name] = int(pct.rstrip("%")) if pct else 100
    return out


_CUDA_LIB = None


def _cuda_lib():
    """libqvlmem_cuda through ctypes: QVLMEM_CUDA_LIB, else the loader's."""
    global _CUDA_LIB
    if _CUDA_LIB is None:
        import ctypes
        import ctypes.util
        name = (os.environ.get("QVLMEM_CUDA_LIB")
                or ctypes.util.find_library("qvlmem_cuda")
                or "libqvlmem_cuda.so.0")
        lib = ctypes.CDLL(name)
        lib.qvlmem_cuda_map.argtypes = [ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_void_p),
                                        ctypes.POINTER(ctypes.c_size_t)]
        lib.qvlmem_cuda_unmap.argtypes = [ctypes.c_void_p]
        _CUDA_LIB = lib
    return _CUDA_LIB


def cuda_info(path):
    """user.qvl.cuda_ipc parsed: {"dev", "handle", "offset", "size",
    "arena"}, or None when the file is not on the GPU tier."""
    s = _get(path, "cuda_ipc")
    if s is None:
        return None
    out = dict(kv.split("=", 1) for kv in s.split())
    for k in ("dev", "offset", "size", "arena"):
        out[k] = int(out[k])
    return out


def _typed(t, path):
    """Bytes (a uint8 torch tensor, on any device) as PATH's dtype and
    shape, as torch() gives them; block types stay (blocks, bytes)."""
    import torch as _torch
    dt, shape = meta(path)
    load, view = _torch_dtypes(_torch, dt)
    if DTYPES[dt][2] is None:
        return t.reshape(-1, DTYPES[dt][1])
    t = t.view(load)
    if view is not None:
        t = t.view(view)
    return t.reshape(shape)


class CudaMapping:
    """A device pointer to a file's bytes on the GPU tier (cuda_map()).

    ptr and size are the pointer (an int) and the byte count; the object
    has __cuda_array_interface__ (bytes), so CUDA libraries that take it
    (CuPy, Numba, torch.as_tensor) see the device memory without a copy.
    The daemon keeps the replica on the GPU until close() (or the
    process's exit)."""

    def __init__(self, path, ptr, size):
        self.path, self.ptr, self.size = path, ptr, size

    @property
    def __cuda_array_interface__(self):
        return {"shape": (self.size,), "typestr": "|u1",
                "data": (self.ptr, True), "version": 3}

    def torch(self):
        """A torch CUDA tensor over the same device bytes, with the
        file's dtype and shape (needs torch built with CUDA)."""
        import torch as _torch
        return _typed(_torch.as_tensor(self, device="cuda"), self.path)

    def close(self):
        if self.ptr:
            _cuda_lib().qvlmem_cuda_unmap(self.ptr)
            self.ptr = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def cuda_map(path):
    """Map PATH's GPU replica (set tier or pin to "gpu" first) into this
    process: a CudaMapping.  OSError: ENODATA (not on the GPU), ENODEV (no
    CUDA runtime here, or no GPU tier)."""
    import ctypes
    ptr, size = ctypes.c_void_p(), ctypes.c_size_t()
    rc = _cuda_lib().qvlmem_cuda_map(os.fsencode(path), ctypes.byref(ptr),
                                     ctypes.byref(size))
    if rc:
        raise OSError(-rc, os.strerror(-rc), path)
    return CudaMapping(path, ptr.value, size.value)


def stats(mount):
    """MOUNT/.qvl/stats.json as a dict; FileNotFoundError off qvlmemfs."""
    with builtins.open(os.path.join(mount, ".qvl", "stats.json")) as f:
        return json.load(f)


def _main(argv):
    """The command line: one line per file, errors one line each on
    stderr (a person reads them, not a traceback).  Returns the exit
    status: 0, 1 when a file failed, 2 for usage."""
    import sys
    if len(argv) < 2 or argv[0] != "info":
        print("usage: qvlmem.py info FILE...", file=sys.stderr)
        return 2
    rc = 0
    for p in argv[1:]:
        try:
            dt, shape = meta(p)
            print("%s: %s %s tier=%s hints=%s" % (
                p, dt, "x".join(map(str, shape)) or "scalar", tier(p),
                get_hints(p)))
        except OSError as e:
            print("qvlmem.py: %s: %s" % (p, e.strerror or e), file=sys.stderr)
            rc = 1
        except ValueError as e:
            print("qvlmem.py: %s" % e, file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv[1:]))
