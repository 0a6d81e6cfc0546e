#!/bin/bash
# copy_tools.sh - the tools people copy with keep tensor metadata, in and
# out of the mount: rsync -aX, cp -a --preserve=xattr (0.2: exit 23 and 1,
# on listed attributes that cannot be set) and tar --xattrs (0.2: exit 0
# but the shape dropped, set before the data arrived); every copy keeps
# its bytes, dtype, shape, priority and plain user xattrs.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
command -v rsync >/dev/null || qvl_skip "no rsync"
qvl_mount ram=32M
M=$QVL_MNT
mkdir "$M/model"
head -c 64 /dev/urandom >"$M/model/a"
setfattr -n user.qvl.dtype -v bf16 "$M/model/a"
setfattr -n user.qvl.shape -v 4,8 "$M/model/a"
head -c $((3 << 20)) /dev/urandom >"$M/model/b"
setfattr -n user.qvl.dtype -v f32 "$M/model/b"
setfattr -n user.qvl.shape -v 768,1024 "$M/model/b"
setfattr -n user.qvl.priority -v 7 "$M/model/b"
setfattr -n user.note -v "kept" "$M/model/b"
meta() { # DIR: what must survive a copy, one line per file
	for f in a b; do
		echo "$f $(md5sum <"$1/$f") $(getfattr --absolute-names --only-values -n user.qvl.dtype "$1/$f")" \
			"$(getfattr --absolute-names --only-values -n user.qvl.shape "$1/$f")"
	done
	getfattr --absolute-names --only-values -n user.qvl.priority "$1/b"; echo
	getfattr --absolute-names --only-values -n user.note "$1/b"; echo
}
want=$(meta "$M/model")
out=$QVL_TMP/out
check rsync -aX "$M/model/" "$out/"
eq "$(meta "$out")" "$want" "rsync -aX out of the mount"
check rsync -aX "$out/" "$M/rsynced/"
eq "$(meta "$M/rsynced")" "$want" "rsync -aX into the mount"
check cp -a --preserve=xattr "$M/model" "$M/copied"
eq "$(meta "$M/copied")" "$want" "cp -a --preserve=xattr"
check tar --xattrs --xattrs-include='user.*' -cf "$QVL_TMP/m.tar" -C "$M" model
mkdir "$M/untarred"
check tar --xattrs --xattrs-include='user.*' -xf "$QVL_TMP/m.tar" -C "$M/untarred"
eq "$(meta "$M/untarred/model")" "$want" "tar --xattrs into the mount"
qvl_umount
qvl_done
