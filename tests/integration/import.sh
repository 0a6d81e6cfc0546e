#!/bin/bash
# import.sh - qvlctl import and export on a real mount: synthetic
# safetensors (every dtype kind, a scalar, an empty tensor, metadata, a '/'
# in a name), tensors of several chunks, a sharded set, GGUF v3 and v2
# (q8_0, q4_0, q4_K, f16, f32, bf16, string and array key/values,
# alignment 64), and models from the
# real weights in ../shared/data/real-weights when present.  Every tensor
# must arrive with its bytes, dtype and shape; an unchanged import must
# export to the same bytes; a changed one to a file an independent reader
# (helpers/mkmodel.py, written from the format specs) accepts.  Malformed
# and hostile files must fail with exit 1, an offset in the message, and
# nothing written.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
"$QVL_PYTHON" -c 'import numpy' 2>/dev/null || qvl_skip "no numpy for $QVL_PYTHON"
Q=$QVL_BUILD/qvlctl
[ -x "$Q" ] || qvl_skip "no $Q (build first)"
MK="$QVL_PYTHON tests/integration/helpers/mkmodel.py"
W=$QVL_TMP/models
REAL=../shared/data/real-weights
$MK synth "$W" || fail "mkmodel synth"
$MK bad "$W/bad" || fail "mkmodel bad"
qvl_mount ram=32M
M=$QVL_MNT

attr() { getfattr --absolute-names --only-values -n "user.qvl.$1" "$2" 2>/dev/null; }

# round_trip MODEL NAME EXT [REFERENCE]: import, compare every tensor with
# the reference's (the model itself, or for an index the single file), then
# export and compare the bytes (identical unless a reference is given).
round_trip() {
	local model=$1 d=$M/$2 out=$QVL_TMP/$2.$3 ref=${4:-$1}
	check "$Q" import -q "$model" "$d"
	eq "$($MK dumpdir "$d")" "$($MK dump "$ref")" "$2: imported tensors"
	[ -z "$(find "$d" -name '.qvl-tmp*')" ] || fail "$2: temporary files left"
	check "$Q" export -q "$d" "$out"
	if [ -n "${4:-}" ]; then
		eq "$($MK dump "$out")" "$($MK dump "$ref")" "$2: exported tensors"
	else
		cmp -s "$model" "$out" || fail "$2: export is not byte-identical"
	fi
}

round_trip "$W/st.safetensors" st safetensors
round_trip "$W/big.st" big safetensors
round_trip "$W/model.safetensors.index.json" sharded safetensors "$W/st.safetensors"
eq "$($MK meta "$QVL_TMP/sharded.safetensors")" '{"format": "pt"}' "sharded: metadata"
round_trip "$W/v3.gguf" v3 gguf
round_trip "$W/v2.gguf" v2 gguf

# dtype and shape as the mount has them; a scalar has the empty shape.
eq "$(attr dtype "$M/st/model.embed.weight")" bf16 "bf16 dtype"
eq "$(attr shape "$M/st/model.embed.weight")" 16,24 "bf16 shape"
eq "$(attr shape "$M/st/scale")" "" "scalar shape"
eq "$(attr dtype "$M/st/model.layers.0/attn.q")" f16 "tensor in a subdirectory"
eq "$(attr dtype "$M/v3/token_embd.weight")" q8_0 "q8_0 dtype"
eq "$(attr shape "$M/v3/token_embd.weight")" 4,64 "GGUF dims reversed"
eq "$(attr dtype "$M/v3/blk.0.ffn_down.weight")" q4_K "q4_K dtype"
eq "$(attr dtype "$M/v2/blk.0.ffn_up.weight")" q4_0 "q4_0 dtype"
"$Q" info "$M/v3/blk.0.ffn_down.weight" | grep -q "matches the size" ||
	fail "qvlctl info: q4_K size"

# A changed tensor, same shape: the original header, the new bytes.
head -c 4 /dev/urandom >"$QVL_TMP/s4"
cp "$QVL_TMP/s4" "$M/st/scale"
check "$Q" export -q "$M/st" "$QVL_TMP/st2.safetensors"
$MK dump "$QVL_TMP/st2.safetensors" | grep -q "^scale f32  $(sha256sum <"$QVL_TMP/s4" | cut -c1-64)" ||
	fail "changed bytes not exported"
# A new shape: a new header the reader accepts, metadata kept.
setfattr -n user.qvl.shape -v 4,6 "$M/st/model.norm.weight"
check "$Q" export -q "$M/st" "$QVL_TMP/st3.safetensors"
$MK dump "$QVL_TMP/st3.safetensors" | grep -q "^model.norm.weight f32 4,6 " ||
	fail "new shape not exported"
$MK meta "$QVL_TMP/st3.safetensors" | grep -q '"note": "qvl \\"test\\" \\u00e9"' ||
	fail "metadata lost on a new header: $($MK meta "$QVL_TMP/st3.safetensors")"
# A tensor added to the directory joins the export.
cp "$M/st/f64" "$M/st/extra" && setfattr -n user.qvl.dtype -v f64 "$M/st/extra"
check "$Q" export -q "$M/st" "$QVL_TMP/st4.safetensors"
$MK dump "$QVL_TMP/st4.safetensors" | grep -q "^extra f64 2 " || fail "added tensor not exported"
# A GGUF tensor with a new shape: a new header, the key/values kept.
check setfattr -n user.qvl.shape -v 8,8 "$M/v3/blk.0.attn_norm.weight"
check "$Q" export -q "$M/v3" "$QVL_TMP/v3b.gguf"
$MK dump "$QVL_TMP/v3b.gguf" | grep -q "^blk.0.attn_norm.weight f32 8,8 " ||
	fail "GGUF new shape"
$MK meta "$QVL_TMP/v3b.gguf" | grep -q '"general.name": "qvl synthetic"' ||
	fail "GGUF key/values lost"
# Without a sidecar: every file with a dtype, by name, in OUT's format.
rm "$M/v2/.qvl-model.gguf"
check "$Q" export -q "$M/v2" "$QVL_TMP/v2b.gguf"
eq "$($MK dump "$QVL_TMP/v2b.gguf")" "$($MK dump "$W/v2.gguf")" "export without a sidecar"
# Formats that cannot hold a dtype: exit 1, nothing written.
expect_errno "no safetensors type" "$Q" export -q "$M/v3" "$QVL_TMP/x.safetensors"
expect_errno "no GGUF type" "$Q" export -q "$M/st" "$QVL_TMP/x.gguf"
[ -z "$(ls "$QVL_TMP" | grep -E '^x\.|qvl-tmp')" ] || fail "failed export left a file"

# Malformed and hostile files: exit 1, an offset named, nothing written.
for f in "$W"/bad/*; do
	rc=0
	out=$("$Q" import -q "$f" "$M/bad" 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "$(basename "$f"): exit $rc, want 1 ($out)"
	grep -q "offset [0-9]" <<<"$out" || fail "$(basename "$f"): no offset in '$out'"
	[ "$(wc -l <<<"$out")" = 1 ] || fail "$(basename "$f"): more than one line: $out"
	[ -z "$(find "$M/bad" -type f 2>/dev/null)" ] || fail "$(basename "$f"): files written"
done
# Usage errors are exit 2.
rc=0; "$Q" import "$W/st.safetensors" 2>/dev/null || rc=$?
eq "$rc" 2 "import without DIR"

if [ -r "$REAL/stories260K_bf16.bin" ] && [ -r "$REAL/tensors.txt" ]; then
	$MK real "$REAL" "$W/real" || fail "mkmodel real"
	round_trip "$W/real/real.safetensors" real_st safetensors
	round_trip "$W/real/real.gguf" real_gguf gguf
	eq "$(attr shape "$M/real_st/layers.4.feed_forward.w1.weight")" 172,64 "real shape"
	# A format change: bf16 safetensors to GGUF and back.
	check "$Q" export -q "$M/real_st" "$QVL_TMP/real.gguf"
	eq "$($MK dump "$QVL_TMP/real.gguf")" "$($MK dump "$W/real/real.safetensors")" \
		"safetensors to GGUF"
else
	echo "no real weights at $REAL: that part skipped"
fi

qvl_umount
qvl_done
