#!/bin/bash
# private_store.sh - a store is its owner's alone: a new one is created
# 0700 with its catalog 0600 under a permissive umask; a store made loose
# (by an older version, or by hand) is tightened at mount with a log line;
# a second local user can read neither the catalog nor the backing files.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
umask 022
rmdir "$QVL_STORE" # let the daemon create it
qvl_mount ram=16M
printf 'secret bytes' >"$QVL_MNT/secret"
chmod 600 "$QVL_MNT/secret"
setfattr -n user.note -v "private value" "$QVL_MNT/secret"
sync "$QVL_MNT/secret"
loose() { find "$QVL_STORE" -perm /077 ! -type l; }
[ -z "$(loose)" ] || fail "new store has entries others can reach: $(loose)"
[ "$(stat -c %a "$QVL_STORE")" = 700 ] || fail "store is $(stat -c %a "$QVL_STORE"), not 700"
qvl_umount

# A store left loose: every entry becomes private at the next mount.
chmod 755 "$QVL_STORE" "$QVL_STORE/data"
chmod 644 "$QVL_STORE/catalog.db"
qvl_mount ram=16M
[ -z "$(loose)" ] || fail "loose store not tightened: $(loose)"
grep -q "catalog.db was mode 0644, now 0600" "$QVL_TMP/daemon.log" ||
	fail "no log line for the tightened catalog"
grep -q "secret bytes" "$QVL_MNT/secret" || fail "data lost over the remount"
[ "$(getfattr --absolute-names --only-values -n user.note "$QVL_MNT/secret")" = "private value" ] ||
	fail "xattr lost over the remount"

# A second user sees nothing of the store.
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	chmod 755 "$QVL_TMP" # so that only the store's own modes stop it
	as_nobody cat "$QVL_STORE/catalog.db" >/dev/null 2>&1 &&
		fail "a second user can read the catalog"
	as_nobody ls "$QVL_STORE/data" >/dev/null 2>&1 &&
		fail "a second user can list the backing files"
	as_nobody cat "$QVL_MNT/secret" >/dev/null 2>&1 &&
		fail "a second user can read a 0600 file through the mount"
fi
qvl_umount
qvl_done
