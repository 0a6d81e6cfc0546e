#!/bin/bash
# demo.sh BUILD_DIR - mount a qvlmemfs, write Qwen3-VL-shaped tensors through
# libqvlmem, look at them with ls, getfattr, numpy and qvlctl, unmount.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/rel}
py=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
	echo "demo: mounting needs root here (run: sudo make demo)" >&2
	exit 1
fi
tmp=$(mktemp -d /tmp/qvl-demo.XXXXXX)
mnt=$tmp/mnt
mkdir -p "$mnt"
cleanup() {
	mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
show() { step "$*"; "$@"; }

show "$build/qvlmemfs" -o ram=1G,store="$tmp/store" "$mnt"

step "$build/examples/qwen_demo $mnt/model 2    # two decoder layers, a vision patch embedding, a KV block"
"$build/examples/qwen_demo" "$mnt/model" 2

show ls -l "$mnt/model"
show getfattr -d -m user.qvl "$mnt/model/layers.0.mlp.up_proj.weight"

step "setfattr -n user.qvl.shape -v 6144,2047 ...up_proj.weight   # a shape that does not fit: refused"
setfattr -n user.qvl.shape -v 6144,2047 "$mnt/model/layers.0.mlp.up_proj.weight" 2>&1 || true

step "numpy.memmap of every tensor, dtype and shape from its xattrs"
PYTHONPATH=client/python "$py" - "$mnt/model" <<'PY'
import os, sys, numpy as np, qvlmem
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    a = qvlmem.open(os.path.join(d, name))
    # bf16 comes back as raw uint16 bits; widen to float32 to do arithmetic.
    f = (a.astype(np.uint32) << 16).view(np.float32) if a.dtype == np.uint16 else a
    print(f"  {name:38s} {str(a.shape):22s} mean {f.mean():+.5f} std {f.std():.5f}")
PY

show "$build/qvlctl" info "$mnt/model/kv.layers.0.k.block0"
show "$build/qvlctl" stat "$mnt"
show cat "$mnt/.qvl/stats"
show fusermount3 -u "$mnt"
echo
echo "demo: done (the RAM tier keeps nothing across mounts yet: the store comes with the NVMe tier)"
