#!/usr/bin/env python3
"""mkmodel.py - model files for tests/integration/import.sh, and an
independent reader to check what qvlctl export writes.

The reference readers (the `safetensors` and `gguf` Python packages) cannot
be installed here (no network), so this file carries its own minimal
writer and reader, written from the public format descriptions
(huggingface/safetensors README "Format", ggml docs/gguf.md), not from
qvlctl's C code: the two are meant to disagree if either is wrong.  The
reader applies upstream's checks (safetensors: header <= 100 MB, JSON
object, data ranges that tile the data section; GGUF: magic, version 2/3,
aligned offsets inside the file).

  mkmodel.py synth OUT          synthetic models (see synth())
  mkmodel.py real DATA OUT      models from ../shared/data/real-weights
  mkmodel.py bad OUT            malformed and hostile files, one per case
  mkmodel.py dump FILE          "name dtype shape sha256" per tensor, sorted
  mkmodel.py dumpdir DIR        the same from an imported directory (xattrs)
"""
import hashlib
import json
import os
import signal
import struct
import sys

import numpy as np

# safetensors dtype -> (qvl dtype, numpy dtype for synthetic data)
ST_DTYPES = {"BF16": "bf16", "F16": "f16", "F32": "f32", "F64": "f64",
             "I8": "i8", "U8": "u8", "I16": "i16", "U16": "u16",
             "I32": "i32", "U32": "u32", "I64": "i64", "U64": "u64",
             "BOOL": "bool", "F8_E4M3": "f8e4m3", "F8_E5M2": "f8e5m2"}
ST_SIZE = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8, "I8": 1, "U8": 1,
           "I16": 2, "U16": 2, "I32": 4, "U32": 4, "I64": 8, "U64": 8,
           "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
# ggml type id -> (qvl dtype, block elements, block bytes) (ggml.h, ggml-common.h)
GGML = {0: ("f32", 1, 4), 1: ("f16", 1, 2), 2: ("q4_0", 32, 18),
        3: ("q4_1", 32, 20), 6: ("q5_0", 32, 22), 7: ("q5_1", 32, 24),
        8: ("q8_0", 32, 34), 9: ("q8_1", 32, 36), 10: ("q2_K", 256, 84),
        11: ("q3_K", 256, 110), 12: ("q4_K", 256, 144), 13: ("q5_K", 256, 176),
        14: ("q6_K", 256, 210), 15: ("q8_K", 256, 292), 16: ("iq2_xxs", 256, 66),
        17: ("iq2_xs", 256, 74), 18: ("iq3_xxs", 256, 98), 19: ("iq1_s", 256, 50),
        20: ("iq4_nl", 32, 18), 21: ("iq3_s", 256, 110), 22: ("iq2_s", 256, 82),
        23: ("iq4_xs", 256, 136), 24: ("i8", 1, 1), 25: ("i16", 1, 2),
        26: ("i32", 1, 4), 27: ("i64", 1, 8), 28: ("f64", 1, 8),
        29: ("iq1_m", 256, 56), 30: ("bf16", 1, 2), 34: ("tq1_0", 256, 54),
        35: ("tq2_0", 256, 66), 39: ("mxfp4", 32, 17)}
QVL_BLOCK = {v[0]: (v[1], v[2]) for v in GGML.values()}
QVL_BLOCK.update({"u8": (1, 1), "u16": (1, 2), "u32": (1, 4), "u64": (1, 8),
                  "bool": (1, 1), "f8e4m3": (1, 1), "f8e5m2": (1, 1)})

rng = np.random.default_rng(1234)


# ---- safetensors ----

def st_bytes(tensors, metadata=None, pad=True):
    """tensors: list of (name, st_dtype, shape, raw bytes), in data order."""
    hdr, off = {}, 0
    if metadata is not None:
        hdr["__metadata__"] = metadata
    for name, dt, shape, raw in tensors:
        hdr[name] = {"dtype": dt, "shape": list(shape),
                     "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(t[3] for t in tensors)


def st_read(path):
    data = open(path, "rb").read()
    if len(data) < 8:
        raise ValueError("short")
    n = struct.unpack_from("<Q", data)[0]
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError("bad header length")
    hdr = json.loads(data[8:8 + n])
    if not isinstance(hdr, dict):
        raise ValueError("header not an object")
    meta = hdr.pop("__metadata__", None)
    if meta is not None and not all(isinstance(v, str) for v in meta.values()):
        raise ValueError("metadata values must be strings")
    body = data[8 + n:]
    out, spans = [], []
    for name, t in hdr.items():
        b, e = t["data_offsets"]
        nel = int(np.prod(t["shape"], dtype=np.uint64)) if t["shape"] else 1
        if nel * ST_SIZE[t["dtype"]] != e - b:
            raise ValueError("size mismatch for " + name)
        spans.append((b, e))
        out.append((name, ST_DTYPES[t["dtype"]], tuple(t["shape"]), body[b:e]))
    pos = 0
    for b, e in sorted(spans):
        if b != pos:
            raise ValueError("data ranges do not tile")
        pos = e
    if pos != len(body):
        raise ValueError("data section length mismatch")
    return out, meta


# ---- GGUF ----

def gg_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gg_kv(key, vtype, value):
    out = gg_str(key) + struct.pack("<I", vtype)
    if vtype == 8:
        return out + gg_str(value)
    if vtype == 9:
        et, items = value
        out += struct.pack("<IQ", et, len(items))
        for it in items:
            out += gg_str(it) if et == 8 else struct.pack(
                {0: "<B", 4: "<I", 5: "<i", 6: "<f", 10: "<Q"}[et], it)
        return out
    return out + struct.pack({0: "<B", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                              10: "<Q", 12: "<d"}[vtype], value)


def gguf_bytes(tensors, kvs, version=3, align=32):
    """tensors: list of (name, ggml type, ne (innermost first), raw)."""
    h = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    h += b"".join(gg_kv(*kv) for kv in kvs)
    off, infos, data = 0, b"", b""
    for name, typ, ne, raw in tensors:
        infos += gg_str(name) + struct.pack("<I", len(ne))
        infos += b"".join(struct.pack("<Q", d) for d in ne)
        infos += struct.pack("<IQ", typ, off)
        pad = (align - len(raw) % align) % align
        data += raw + b"\0" * pad
        off += len(raw) + pad
    h += infos
    h += b"\0" * ((align - len(h) % align) % align)
    return h + data


class Cur:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def string(self):
        n = self.take("<Q")
        if self.p + n > len(self.d):
            raise ValueError("string past the end")
        s = self.d[self.p:self.p + n]
        self.p += n
        return s


GG_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
          7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def gguf_read(path):
    d = open(path, "rb").read()
    c = Cur(d)
    if d[:4] != b"GGUF":
        raise ValueError("magic")
    c.p = 4
    ver, nt, nkv = c.take("<I"), c.take("<Q"), c.take("<Q")
    if ver not in (2, 3):
        raise ValueError("version")
    kv, align = {}, 32
    for _ in range(nkv):
        k = c.string().decode()
        t = c.take("<I")
        if t == 8:
            v = c.string()
        elif t == 9:
            et, n = c.take("<I"), c.take("<Q")
            v = [c.string() if et == 8 else c.take(GG_FMT[et]) for _ in range(n)]
        else:
            v = c.take(GG_FMT[t])
        kv[k] = v
        if k == "general.alignment":
            align = v
    infos = []
    for _ in range(nt):
        name = c.string().decode()
        nd = c.take("<I")
        ne = [c.take("<Q") for _ in range(nd)]
        typ, off = c.take("<I"), c.take("<Q")
        infos.append((name, typ, ne, off))
    start = (c.p + align - 1) // align * align
    out = []
    for name, typ, ne, off in infos:
        dt, be, bb = GGML[typ]
        if off % align:
            raise ValueError("unaligned offset")
        nel = int(np.prod(ne, dtype=np.uint64)) if ne else 1
        size = nel // be * bb
        if start + off + size > len(d):
            raise ValueError("tensor past the end")
        out.append((name, dt, tuple(reversed(ne)), d[start + off:start + off + size]))
    return out, kv


def read_any(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    return gguf_read(path) if magic == b"GGUF" else st_read(path)


def listing(tensors):
    return sorted("%s %s %s %s" % (n, dt, ",".join(map(str, sh)),
                                   hashlib.sha256(raw).hexdigest())
                  for n, dt, sh, raw in tensors)


# ---- models ----

def bf16(a):
    """float32 -> bfloat16 bits (round to nearest even), as uint16."""
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def q8_0(a):
    """ggml's reference q8_0: per 32 values an f16 scale amax/127, int8s."""
    a = np.asarray(a, dtype=np.float32).reshape(-1, 32)
    d = np.abs(a).max(axis=1) / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0)
    q = np.round(a * inv[:, None]).astype(np.int8)
    out = np.zeros((a.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def q4_0(a):
    """ggml's reference q4_0: scale max/-8, nibbles of x/d + 8.5."""
    a = np.asarray(a, dtype=np.float32).reshape(-1, 32)
    idx = np.abs(a).argmax(axis=1)
    mx = a[np.arange(a.shape[0]), idx]
    d = mx / -8.0
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)
    q = np.clip((a * inv[:, None] + 8.5).astype(np.int8), 0, 15).astype(np.uint8)
    out = np.zeros((a.shape[0], 18), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def synth_st():
    f = rng.standard_normal((16, 24)).astype(np.float32)
    return [
        ("model.embed.weight", "BF16", (16, 24), bf16(f).tobytes()),
        ("model.norm.weight", "F32", (24,), f[0].tobytes()),
        ("model.layers.0/attn.q", "F16", (8, 8),
         rng.standard_normal(64).astype(np.float16).tobytes()),
        ("ids", "I64", (5,), np.arange(5, dtype=np.int64).tobytes()),
        ("mask", "BOOL", (3, 2), bytes([1, 0, 1, 1, 0, 0])),
        ("scale", "F32", (), np.float32(0.5).tobytes()),
        ("empty", "F32", (0, 4), b""),
        ("u16s", "U16", (4,), np.arange(4, dtype=np.uint16).tobytes()),
        ("fp8", "F8_E4M3", (8,), bytes(range(8))),
        ("f64", "F64", (2,), np.array([1.5, -2], dtype=np.float64).tobytes()),
    ]


def synth(out):
    os.makedirs(out, exist_ok=True)
    ts = synth_st()
    meta = {"format": "pt", "note": "qvl \"test\" \u00e9"}
    open(os.path.join(out, "st.safetensors"), "wb").write(st_bytes(ts, meta))
    # Tensors of several chunks (named .st so the fuzz seeds skip it).
    big = [("big.bf16", "BF16", (1024, 1536),
            bf16(rng.standard_normal(1024 * 1536)).tobytes()),
           ("big.f32", "F32", (512, 1024),
            rng.standard_normal(512 * 1024).astype(np.float32).tobytes())]
    open(os.path.join(out, "big.st"), "wb").write(st_bytes(big, {}))
    # Sharded: two files and an index.
    shards = [ts[:4], ts[4:]]
    wm = {}
    for i, part in enumerate(shards):
        fn = "model-%05d-of-00002.safetensors" % (i + 1)
        open(os.path.join(out, fn), "wb").write(st_bytes(part, {"format": "pt"}))
        for t in part:
            wm[t[0]] = fn
    json.dump({"metadata": {"total_size": sum(len(t[3]) for t in ts)},
               "weight_map": wm},
              open(os.path.join(out, "model.safetensors.index.json"), "w"))
    # GGUF v3 and v2.
    w = rng.standard_normal(64 * 4).astype(np.float32)
    gts = [
        ("token_embd.weight", 8, [64, 4], q8_0(w)),
        ("blk.0.ffn_up.weight", 2, [64, 4], q4_0(w)),
        ("blk.0.attn_norm.weight", 0, [64], w[:64].tobytes()),
        ("blk.0.attn_k.weight", 1, [32, 2], w[:64].astype(np.float16).tobytes()),
        ("blk.0.ffn_down.weight", 12, [256, 2], rng.bytes(2 * 144)),
        ("output.weight", 30, [8, 3], bf16(w[:24]).tobytes()),
    ]
    kvs = [("general.architecture", 8, "llama"),
           ("general.name", 8, "qvl synthetic"),
           ("llama.context_length", 4, 128),
           ("llama.rope.freq_base", 6, 10000.0),
           ("tokenizer.ggml.tokens", 9, (8, ["<s>", "</s>", "a", "b\u00e9"])),
           ("tokenizer.ggml.scores", 9, (6, [0.0, 0.5, -1.0, 2.0])),
           ("general.flag", 7, True)]
    open(os.path.join(out, "v3.gguf"), "wb").write(gguf_bytes(gts, kvs, 3))
    open(os.path.join(out, "v2.gguf"), "wb").write(
        gguf_bytes(gts, kvs + [("general.alignment", 4, 64)], 2, 64))


def llama2c_layout(dim, hidden, layers, heads, kv_heads, vocab, seq):
    """Tensors of a llama2.c checkpoint in file order (run.c's
    memory_map_weights), shared classifier."""
    hs = dim // heads
    kv = kv_heads * hs
    per_layer = [("attention_norm.weight", (dim,)), ("attention.wq.weight", (dim, dim)),
                 ("attention.wk.weight", (kv, dim)), ("attention.wv.weight", (kv, dim)),
                 ("attention.wo.weight", (dim, dim)), ("ffn_norm.weight", (dim,)),
                 ("feed_forward.w1.weight", (hidden, dim)),
                 ("feed_forward.w2.weight", (dim, hidden)),
                 ("feed_forward.w3.weight", (hidden, dim))]
    out = [("tok_embeddings.weight", (vocab, dim))]
    # run.c stores each kind for all layers together.
    for name, shape in per_layer:
        for l in range(layers):
            out.append(("layers.%d.%s" % (l, name), shape))
    out += [("norm.weight", (dim,)), ("freq_cis_real", (seq, hs // 2)),
            ("freq_cis_imag", (seq, hs // 2))]
    return out


def real(data, out):
    os.makedirs(out, exist_ok=True)
    first = open(os.path.join(data, "tensors.txt")).readline().split()
    # "stories260K header (64, 172, 5, 8, 4, 512, 512) floats 264128"
    hdr = tuple(int(x.strip("(),")) for x in first[2:9])
    layout = llama2c_layout(*hdr)
    f32 = np.fromfile(os.path.join(data, "stories260K_fp32.bin"), dtype=np.float32)
    b16 = np.fromfile(os.path.join(data, "stories260K_bf16.bin"), dtype=np.uint16)
    assert sum(int(np.prod(s)) for _, s in layout) == f32.size == b16.size
    st, gg, pos = [], [], 0
    for name, shape in layout:
        n = int(np.prod(shape))
        st.append((name, "BF16", shape, b16[pos:pos + n].tobytes()))
        v = f32[pos:pos + n]
        if shape[-1] % 32 == 0 and len(shape) == 2:
            gg.append((name, 8, list(reversed(shape)), q8_0(v)))
        else:
            gg.append((name, 0, list(reversed(shape)), v.tobytes()))
        pos += n
    open(os.path.join(out, "real.safetensors"), "wb").write(
        st_bytes(st, {"source": "stories260K", "format": "pt"}))
    open(os.path.join(out, "real.gguf"), "wb").write(
        gguf_bytes(gg, [("general.architecture", 8, "llama"),
                        ("llama.embedding_length", 4, hdr[0])]))


def bad(out):
    """Each case: a file whose import must fail (exit 1, an offset named)."""
    os.makedirs(out, exist_ok=True)
    ts = synth_st()[:3]
    good = st_bytes(ts, {"format": "pt"})
    cases = {}
    for cut in (0, 4, 8, 20, len(good) - 1 - len(ts[2][3]), len(good) - 1):
        cases["trunc%d.safetensors" % cut] = good[:cut]
    cases["hdrlen.safetensors"] = struct.pack("<Q", 1 << 20) + good[8:]
    cases["hugehdr.safetensors"] = struct.pack("<Q", 1 << 62) + good[8:]
    cases["notjson.safetensors"] = struct.pack("<Q", 8) + b"[1,2,3] " + b"x"

    def st_raw(hdr, body):
        h = json.dumps(hdr).encode()
        return struct.pack("<Q", len(h)) + h + body

    t = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    cases["overlap.safetensors"] = st_raw(
        {"a": t, "b": dict(t, data_offsets=[4, 12])}, b"\0" * 12)
    cases["range.safetensors"] = st_raw({"a": dict(t, data_offsets=[0, 8 << 40])},
                                        b"\0" * 8)
    cases["gap.safetensors"] = st_raw({"a": dict(t, data_offsets=[8, 16])}, b"\0" * 16)
    cases["dtype.safetensors"] = st_raw({"a": dict(t, dtype="F13")}, b"\0" * 8)
    cases["shape.safetensors"] = st_raw({"a": dict(t, shape=[3])}, b"\0" * 8)
    for i, name in enumerate(["", "/etc/passwd", "../up", "a/../../b", "a/./b",
                              "x\u0000y", "tab\tname", "a" * 300, "a//b",
                              ".qvl-model.gguf"]):
        cases["name%d.safetensors" % i] = st_raw({name: t}, b"\0" * 8)
    cases["dup.safetensors"] = (
        lambda h: struct.pack("<Q", len(h)) + h + b"\0" * 16)(
        b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
        b'"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}')
    w = np.zeros(64, dtype=np.float32)
    g = gguf_bytes([("w", 0, [64], w.tobytes()), ("q", 8, [32], q8_0(w[:32]))],
                   [("general.name", 8, "x"), ("a", 9, (8, ["p", "q"]))])
    # The last cut takes a byte of the last tensor (34 bytes, then padding).
    for cut in (3, 12, 30, 60, len(g) - 100, len(g) - 31):
        cases["trunc%d.gguf" % cut] = g[:cut]
    cases["count.gguf"] = g[:8] + struct.pack("<Q", 1 << 60) + g[16:]
    cases["kvcount.gguf"] = g[:16] + struct.pack("<Q", (1 << 64) - 1) + g[24:]
    cases["v1.gguf"] = g[:4] + struct.pack("<I", 1) + g[8:]
    cases["strlen.gguf"] = gguf_bytes([], [("k", 8, "v")])[:24] + \
        struct.pack("<Q", 1 << 40) + b"k" * 40
    cases["type.gguf"] = gguf_bytes([("w", 99, [64], w.tobytes())], [])
    cases["block.gguf"] = gguf_bytes([("q", 8, [33], b"\0" * 34)], [])
    cases["gname.gguf"] = gguf_bytes([("../../x", 0, [64], w.tobytes())], [])
    o = gguf_bytes([("a", 0, [64], w.tobytes()), ("b", 0, [64], w.tobytes())], [])
    # Point b at a's offset: the two overlap.
    i = o.index(b"\x01\x00\x00\x00\x00\x00\x00\x00b") + 9
    cases["overlap.gguf"] = o[:i + 4 + 8 + 4] + struct.pack("<Q", 0) + o[i + 24:]
    cases["range.gguf"] = gguf_bytes([("a", 0, [1 << 40], b"")], [])
    cases["align.gguf"] = gguf_bytes([("a", 0, [64], w.tobytes())],
                                     [("general.alignment", 4, 24)])
    cases["nest.gguf"] = gguf_bytes([], [("a", 9, (9, []))])
    for name, data in cases.items():
        open(os.path.join(out, name), "wb").write(data)


def dumpdir(d):
    out = []
    for root, dirs, files in os.walk(d):
        for fn in files:
            p = os.path.join(root, fn)
            if fn.startswith(".qvl-"):
                continue
            dt = os.getxattr(p, "user.qvl.dtype").decode()
            sh = os.getxattr(p, "user.qvl.shape").decode()
            shape = tuple(int(x) for x in sh.split(",")) if sh else ()
            out.append((os.path.relpath(p, d), dt, shape, open(p, "rb").read()))
    return out


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| grep -q` is fine
    cmd = sys.argv[1]
    if cmd == "synth":
        synth(sys.argv[2])
    elif cmd == "real":
        real(sys.argv[2], sys.argv[3])
    elif cmd == "bad":
        bad(sys.argv[2])
    elif cmd == "dump":
        ts, _ = read_any(sys.argv[2])
        print("\n".join(listing(ts)))
    elif cmd == "meta":
        _, meta = read_any(sys.argv[2])
        print(json.dumps({k: (v.decode() if isinstance(v, bytes) else v)
                          for k, v in (meta or {}).items()}, sort_keys=True,
                         default=lambda x: x.decode() if isinstance(x, bytes) else x))
    elif cmd == "dumpdir":
        print("\n".join(listing(dumpdir(sys.argv[2]))))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
