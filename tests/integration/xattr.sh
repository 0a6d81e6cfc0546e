#!/bin/bash
# xattr.sh - the user.qvl.* contract and plain xattrs on a real mount:
# dtype/shape validated against the file size (EINVAL changes nothing);
# tier, pin, lifetime, ttl, priority, advice, codec accepted, validated and
# stored; stored and checksum (the content sum) read-only; other
# user.* stored verbatim; XATTR_CREATE/REPLACE; the kernel's size limits;
# ERANGE for a short buffer; hints inherited from directories; tier=nvme
# and tier=ram move the bytes; after a remount persistent files keep bytes
# and xattrs, session files are gone.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_helper
qvl_mount ram=64M
M=$QVL_MNT

get() { getfattr --absolute-names --only-values -n "user.qvl.$2" "$1" 2>&1; }
set_() { setfattr -n "user.qvl.$2" -v "$3" "$1"; }
# bad FILE NAME VALUE TEXT: setting must fail with TEXT and keep the old value.
bad() {
	local before after
	before=$(get "$1" "$2")
	expect_errno "$4" set_ "$1" "$2" "$3"
	after=$(get "$1" "$2")
	eq "$after" "$before" "user.qvl.$2 after refused '$3'"
}

# dtype and shape against the size.
head -c 24 /dev/urandom >"$M/t"
check set_ "$M/t" dtype f32
check set_ "$M/t" shape 2,3
eq "$(get "$M/t" dtype):$(get "$M/t" shape)" "f32:2,3" "dtype and shape"
bad "$M/t" shape 2,4 "Invalid argument"
bad "$M/t" shape 2,3, "Invalid argument"
bad "$M/t" shape -6 "Invalid argument"
bad "$M/t" shape 1,1,1,1,1,1,1,1,6 "Invalid argument"
bad "$M/t" dtype f64 "Invalid argument"
bad "$M/t" dtype float32 "Invalid argument"
# The longest shape there is (no dtype yet, so nothing to check it against)
# reads back whole: eight 20-digit dims.
: >"$M/longshape"
long=18446744073709551615,18446744073709551615,18446744073709551615,18446744073709551615,18446744073709551615,18446744073709551615,18446744073709551615,0
check set_ "$M/longshape" shape "$long"
eq "$(get "$M/longshape" shape)" "$long" "an eight-dim shape of 20-digit dims"
rm -f "$M/longshape"
check set_ "$M/t" dtype i32
check set_ "$M/t" shape 1,1,1,1,1,1,2,3
bad "$M/t" dtype u8 "Invalid argument"
check setfattr -x user.qvl.shape "$M/t"
check set_ "$M/t" dtype u8
check set_ "$M/t" shape 24
head -c 20 /dev/urandom >"$M/s"
check set_ "$M/s" shape 5
expect_errno "Invalid argument" set_ "$M/s" dtype f64
expect_errno "No such attribute" get "$M/s" dtype
check set_ "$M/s" dtype f32
head -c 34 /dev/zero >"$M/q"
check set_ "$M/q" dtype q8_0
bad "$M/q" shape 16 "Invalid argument"
check set_ "$M/q" shape 32
eq "$(get "$M/q" shape)" 32 "q8_0 shape"
# A size change keeps the shape (qvlctl info and the clients say when it
# no longer matches); a shape on an empty file is pending.
printf x >>"$M/s"
eq "$(get "$M/s" shape)" 5 "shape kept through a size change"
eq "$(get "$M/s" dtype)" f32 "dtype survives a size change"
: >"$M/pending"
check set_ "$M/pending" dtype f32
check set_ "$M/pending" shape 2,3
head -c 24 /dev/urandom >>"$M/pending"
eq "$(get "$M/pending" shape)" 2,3 "pending shape after the data came"
rm -f "$M/pending"
# Scalar: empty shape is one element.
head -c 8 /dev/zero >"$M/scalar"
check set_ "$M/scalar" dtype f64
check setfattr -n user.qvl.shape -v '""' "$M/scalar"
eq "$(get "$M/scalar" shape)" "" "scalar shape"
check setfattr -x user.qvl.shape "$M/scalar"
expect_errno "No such attribute" get "$M/scalar" shape

# tier: writing moves the bytes now; reading says where they are.
eq "$(get "$M/t" tier)" ram "tier"
check set_ "$M/t" tier ram
t_sum=$(md5sum <"$M/t")
check set_ "$M/t" tier nvme
eq "$(get "$M/t" tier)" nvme "tier after tier=nvme"
st=$(get "$M/t" stored)
[[ $st =~ ^ram:0,nvme:[1-9][0-9]*$ ]] || fail "stored after tier=nvme: '$st'"
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
eq "$(md5sum <"$M/t")" "$t_sum" "content after tier=nvme"
check set_ "$M/t" tier nvme
check set_ "$M/t" tier ram
eq "$(get "$M/t" tier)" ram "tier after tier=ram"
st=$(get "$M/t" stored)
r=${st#ram:}; r=${r%%,*}
[[ $st =~ ^ram:[0-9]+,nvme:[1-9][0-9]*$ && $r -ge $((1 << 20)) ]] || fail "stored after tier=ram (raw, and its frame when kept): '$st'"
eq "$(md5sum <"$M/t")" "$t_sum" "content after tier=ram"
expect_errno "No such device" set_ "$M/t" tier gpu
eq "$(get "$M/t" tier)" ram "tier after refused gpu"
expect_errno "Invalid argument" set_ "$M/t" tier disk
# tier=nvme where it cannot go says why: pinned (EBUSY), never stored (EINVAL).
head -c 65536 /dev/urandom >"$M/pinned"
check set_ "$M/pinned" pin ram
expect_errno "Device or resource busy" set_ "$M/pinned" tier nvme
eq "$(get "$M/pinned" tier)" ram "pinned file after refused tier=nvme"
for life in session volatile; do
	head -c 65536 /dev/urandom >"$M/$life"
	check set_ "$M/$life" lifetime $life
	expect_errno "Invalid argument" set_ "$M/$life" tier nvme
done
rm -f "$M/pinned" "$M/session" "$M/volatile"

# Hints: defaults, good values stored, bad ones refused.
eq "$(get "$M/t" pin):$(get "$M/t" lifetime):$(get "$M/t" ttl):$(get "$M/t" priority):$(get "$M/t" codec)" \
	"none:persistent:0:5:auto" "default hints"
for v in ram none; do check set_ "$M/t" pin $v; eq "$(get "$M/t" pin)" $v pin; done
set_ "$M/t" pin ram
bad "$M/t" pin vram "Invalid argument"
bad "$M/t" pin gpu "No such device"
for v in session volatile persistent; do
	check set_ "$M/t" lifetime $v; eq "$(get "$M/t" lifetime)" $v lifetime
done
bad "$M/t" lifetime forever "Invalid argument"
for v in 0 3600 3153600000; do check set_ "$M/t" ttl $v; eq "$(get "$M/t" ttl)" $v ttl; done
bad "$M/t" ttl -1 "Invalid argument"
bad "$M/t" ttl 1h "Invalid argument"
bad "$M/t" ttl 99999999999999999999999 "Invalid argument"
bad "$M/t" ttl 3153600001 "Invalid argument"
for v in 0 9 7; do check set_ "$M/t" priority $v; eq "$(get "$M/t" priority)" $v priority; done
bad "$M/t" priority 10 "Invalid argument"
bad "$M/t" priority " 1" "Invalid argument"
for v in none zstd shuffle-zstd q8_0 f8e4m3 auto; do
	check set_ "$M/t" codec $v; eq "$(get "$M/t" codec)" $v codec
done
bad "$M/t" codec lz4 "Invalid argument"
for v in willneed dontneed sequential random; do check set_ "$M/t" advice $v; done
expect_errno "Invalid argument" set_ "$M/t" advice normal
expect_errno "Invalid argument" set_ "$M/t" advice often
expect_errno "No such attribute" get "$M/t" advice
# A value may end in one NUL (C strings); more is garbage.
check setfattr -n user.qvl.priority -v 0x3300 "$M/t"
eq "$(get "$M/t" priority)" 3 "value with a trailing NUL"
bad "$M/t" priority 0x330000 "Invalid argument"
expect_errno "Operation not supported" set_ "$M/t" bogus 1
# getfattr -d shows the hints that were set, which copy tools can set
# again; computed attributes and defaults answer by name only.
out=$(getfattr --absolute-names -d -m user.qvl "$M/t")
for n in dtype shape pin priority; do
	grep -q "^user.qvl.$n=" <<<"$out" || fail "getfattr -d lacks $n"
done
for n in tier stored checksum cuda_ipc advice; do
	grep -q "^user.qvl.$n=" <<<"$out" && fail "getfattr -d lists $n"
done
: >"$M/fresh"
eq "$(getfattr --absolute-names -d -m user.qvl "$M/fresh")" "" "a new file lists no user.qvl"
eq "$(get "$M/fresh" ttl):$(get "$M/fresh" tier)" "0:ram" "unset and computed answer by name"
rm -f "$M/fresh"

# stored and checksum: read-only, and the checksum is the content sum.
head -c 3000000 /dev/urandom >"$M/c"
eq "$(get "$M/c" checksum)" "$("$QVLT" sum "$M/c")" "checksum of random data"
printf y | dd of="$M/c" bs=1 seek=1500000 conv=notrunc status=none
eq "$(get "$M/c" checksum)" "$("$QVLT" sum "$M/c")" "checksum after a write"
: >"$M/empty"
eq "$(get "$M/empty" checksum)" "$("$QVLT" sum "$M/empty")" "checksum of nothing"
st=$(get "$M/c" stored)
[[ $st =~ ^ram:[0-9]+,nvme:[0-9]+$ ]] || fail "stored format: '$st'"
eq "${st%,nvme:*}" "ram:$((3 << 20))" "stored of 3 chunks (RAM part)"
for n in stored checksum cuda_ipc; do
	expect_errno "Operation not permitted" set_ "$M/c" $n 1
	expect_errno "Operation not permitted" setfattr -x user.qvl.$n "$M/c"
done
eq "$(get "$M/c" checksum)" "$("$QVLT" sum "$M/c")" "checksum after refused sets"

# Other xattrs: verbatim, listed, removable; ENODATA when missing.
"$QVL_PYTHON" - "$M/c" <<'PY' || fail "plain xattrs"
import errno, os, sys
p = sys.argv[1]
v = bytes(range(256)) * 3
os.setxattr(p, "user.bin", v)
os.setxattr(p, "user.empty", b"")
os.setxattr(p, "trusted.t", b"root only")
assert os.getxattr(p, "user.bin") == v
assert os.getxattr(p, "user.empty") == b""
assert os.getxattr(p, "trusted.t") == b"root only"
names = os.listxattr(p)
for n in ("user.bin", "user.empty", "trusted.t"):
    assert n in names, names
assert "user.qvl.checksum" not in names, names
def err(fn, *a):
    try:
        fn(*a)
    except OSError as e:
        return e.errno
    return 0
assert err(os.getxattr, p, "user.missing") == errno.ENODATA
assert err(os.removexattr, p, "user.missing") == errno.ENODATA
assert err(os.setxattr, p, "user.bin", b"x", os.XATTR_CREATE) == errno.EEXIST
assert os.getxattr(p, "user.bin") == v
assert err(os.setxattr, p, "user.new", b"x", os.XATTR_REPLACE) == errno.ENODATA
assert "user.new" not in os.listxattr(p)
os.setxattr(p, "user.new", b"1", os.XATTR_CREATE)
os.setxattr(p, "user.new", b"22", os.XATTR_REPLACE)
assert os.getxattr(p, "user.new") == b"22"
os.removexattr(p, "user.bin")
assert "user.bin" not in os.listxattr(p)
assert err(os.getxattr, p, "user.bin") == errno.ENODATA
# The same flags on qvl hints.
os.setxattr(p, "user.qvl.pin", b"ram", os.XATTR_CREATE)
assert err(os.setxattr, p, "user.qvl.pin", b"none", os.XATTR_CREATE) == errno.EEXIST
assert err(os.setxattr, p, "user.qvl.ttl", b"5", os.XATTR_REPLACE) == errno.ENODATA
os.setxattr(p, "user.qvl.pin", b"none", os.XATTR_REPLACE)
assert os.getxattr(p, "user.qvl.pin") == b"none"
# Unknown namespaces are not ours to store.
assert err(os.setxattr, p, "system.foo", b"1") in (errno.EOPNOTSUPP, errno.EPERM)
PY
# Size limits (the kernel checks them before we see them).
check "$QVLT" setx "$M/c" user.big @65536 none
eq "$("$QVLT" getx "$M/c" user.big 0)" 65536 "64 KiB value size"
expect_errno "Argument list too long" "$QVLT" setx "$M/c" user.big2 @65537 none
expect_errno "Numerical result out of range" \
	"$QVLT" setx "$M/c" "user.$(printf 'n%.0s' {1..251})" 1 none
check "$QVLT" setx "$M/c" "user.$(printf 'n%.0s' {1..250})" 1 none
# Short buffers: ERANGE; size queries.
eq "$("$QVLT" getx "$M/t" user.qvl.lifetime 0)" 10 "size query"
expect_errno "Numerical result out of range" "$QVLT" getx "$M/t" user.qvl.lifetime 4
expect_errno "Numerical result out of range" "$QVLT" getx "$M/c" user.big 1000
expect_errno "Numerical result out of range" "$QVLT" listx "$M/c" 8
eq "$("$QVLT" getx "$M/t" user.qvl.lifetime 10)" persistent "exact buffer"

# Hints on a directory pass to what is created in it.
mkdir "$M/hd"
check set_ "$M/hd" pin ram
check set_ "$M/hd" priority 8
check set_ "$M/hd" lifetime session
check set_ "$M/hd" dtype bf16
check set_ "$M/hd" codec zstd
check set_ "$M/hd" ttl 60
expect_errno "Invalid argument" set_ "$M/hd" shape 2
mkdir "$M/hd/sub"; : >"$M/hd/sub/f"; : >"$M/hd/f"
for f in "$M/hd/f" "$M/hd/sub" "$M/hd/sub/f"; do
	eq "$(get "$f" pin):$(get "$f" priority):$(get "$f" lifetime):$(get "$f" dtype):$(get "$f" codec):$(get "$f" ttl)" \
		"ram:8:session:bf16:zstd:60" "inherited hints of $f"
done
check set_ "$M/hd/sub" priority 2
: >"$M/hd/sub/g"
eq "$(get "$M/hd/sub/g" priority)" 2 "nearest directory wins"

# A remount keeps persistent files (bytes, hints, plain xattrs) and the
# directories; session files (inherited here from hd) are gone.
echo persist >"$M/keep"
check set_ "$M/keep" lifetime persistent
check set_ "$M/hd/sub/g" lifetime session
c_sum=$(get "$M/c" checksum)
t_hints=$(getfattr --absolute-names -d -m user.qvl "$M/t" | grep -v 'stored\|tier')
eq "$(qvl_json 'j["files"]')" 10 "files before the remount"
qvl_umount
qvl_mount ram=64M
eq "$(ls -A "$M" | grep -v '^.qvl$' | tr '\n' ' ')" "c empty hd keep q s scalar t " "names after a remount"
eq "$(cat "$M/keep")" persist "persistent file content"
eq "$(get "$M/keep" lifetime)" persistent "lifetime after a remount"
eq "$(get "$M/c" checksum)" "$c_sum" "checksum after a remount"
eq "$("$QVLT" sum "$M/c")" "$c_sum" "content after a remount"
eq "$(getfattr --absolute-names -d -m user.qvl "$M/t" | grep -v 'stored\|tier')" "$t_hints" "hints after a remount"
eq "$("$QVLT" getx "$M/c" user.big 0)" 65536 "plain xattr after a remount"
eq "$(getfattr --absolute-names --only-values -n user.new "$M/c")" 22 "user.new after a remount"
expect_errno "No such attribute" getfattr -n user.bin "$M/c"
[ -d "$M/hd/sub" ] || fail "directories lost in a remount"
eq "$(get "$M/hd" lifetime)" session "directory hints after a remount"
for f in "$M/hd/f" "$M/hd/sub/f" "$M/hd/sub/g"; do
	[ -e "$f" ] && fail "session file $f survived a remount"
done
eq "$(ls -A "$M/hd/sub")" "" "session files gone from hd/sub"
eq "$(qvl_json 'j["files"]')" 7 "files after the remount"
qvl_umount
qvl_done
