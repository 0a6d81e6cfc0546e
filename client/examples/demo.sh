#!/bin/bash
# demo.sh BUILD_DIR - mount a qvlmemfs whose RAM budget is smaller than the
# model, write Qwen3-VL-shaped tensors through libqvlmem, look at them with
# ls, getfattr and qvlctl, remount (the store keeps them), then stream the
# model through the tiers with numpy while the tier table changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/rel}
py=/usr/bin/python3
layers=${QVL_DEMO_LAYERS:-4}

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
mount_it() { show "$build/qvlmemfs" -o ram=192M,store="$tmp/store" "$mnt"; }

mount_it
step "$build/examples/qwen_demo $mnt/model $layers   # ${layers} decoder layers (~96 MiB each), a vision patch embedding, a session KV block"
"$build/examples/qwen_demo" "$mnt/model" "$layers"

show ls -l "$mnt/model"
show getfattr -d -m user.qvl "$mnt/model/layers.0.mlp.up_proj.weight"
step "setfattr -n user.qvl.shape -v 6144,2047 ...up_proj.weight   # a shape that does not fit: refused"
setfattr -n user.qvl.shape -v 6144,2047 "$mnt/model/layers.0.mlp.up_proj.weight" 2>&1 || true
show "$build/qvlctl" stat "$mnt"

step "fusermount3 -u $mnt; mount again: the model is in the store, the session KV block is gone"
fusermount3 -u "$mnt"
mount_it
ls "$mnt/model" | head -3
echo "... $(ls "$mnt/model" | wc -l) tensors; kv block: $(ls "$mnt/model" | grep -c '^kv' || true)"

step "stream the model layer by layer with numpy.memmap (dtype and shape from the xattrs)"
PYTHONPATH=client/python "$py" - "$mnt" "$build/qvlctl" <<'PY'
import os, subprocess, sys, numpy as np, qvlmem
mnt, qvlctl = sys.argv[1], sys.argv[2]
d = os.path.join(mnt, "model")
def tiers():
    t = qvlmem.stats(mnt)["tiers"]
    return "ram %4.0f MiB  nvme %5.0f MiB" % (t["ram"]["used"] / 2**20, t["nvme"]["used"] / 2**20)
print("  %-38s %-16s %-10s %s" % ("tensor", "tier before", "std", "tiers after"))
for name in sorted(os.listdir(d), key=lambda n: (n.split(".")[0] != "visual", n)):
    p = os.path.join(d, name)
    before = qvlmem.tier(p)
    a = qvlmem.open(p)
    f = (a.astype(np.uint32) << 16).view(np.float32)   # bf16 bits -> f32
    print("  %-38s %-16s %-10.5f %s" % (name, before, f.std(), tiers()))
PY

show "$build/qvlctl" stat "$mnt"
show cat "$mnt/.qvl/stats"
show fusermount3 -u "$mnt"
echo
echo "demo: done"
