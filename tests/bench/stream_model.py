#!/usr/bin/python3
"""stream_model.py DIR MIB - the streaming benchmarks' model: layers of
Qwen-like tensors (hidden 2048, mlp 5632), Gaussian bf16 (std 0.02, the
float32 values truncated), one raw file per tensor named
layers.LLL.NAME, until MIB MiB are written.  Seeded: every run and every
benchmark gets the same bytes."""
import numpy as np, os, sys

out, mib = sys.argv[1], int(sys.argv[2])
h, ff = 2048, 5632
shapes = [("q_proj", (h, h)), ("k_proj", (h // 4, h)), ("v_proj", (h // 4, h)),
          ("o_proj", (h, h)), ("gate_proj", (ff, h)), ("up_proj", (ff, h)),
          ("down_proj", (h, ff))]
rng = np.random.default_rng(1)
total, layer = 0, 0
while total < mib << 20:
    for name, shp in shapes:
        x = rng.standard_normal(shp, dtype=np.float32) * 0.02
        bf = (x.view(np.uint32) >> 16).astype(np.uint16)
        bf.tofile(os.path.join(out, "layers.%03d.%s" % (layer, name)))
        total += bf.nbytes
    layer += 1
