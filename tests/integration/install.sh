#!/bin/bash
# install.sh - `make install` lays the program out as a system package and
# what it installs runs: into a temporary PREFIX (and with DESTDIR), the
# installed qvlctl, daemon and Python helper run from PATH, a program built
# with the installed qvlmem.pc runs without LD_LIBRARY_PATH, the man pages
# render without warnings, and `mount -t fuse.qvlmemfs` (and an fstab
# line) mounts through mount.fuse3 (skipped without root, /dev/fuse or
# mount.fuse3).
set -u
cd "$(dirname "$0")/../.."
B=${QVL_BUILD:-build/rel}
PY=${QVL_PYTHON:-/usr/bin/python3}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
T=$(mktemp -d /tmp/qvl-install.XXXXXX)
P=$T/prefix
cleanup() {
	local pid
	pid=$(cat "$T/store/lock" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		umount -l "$T/mnt" 2>/dev/null
		kill -9 "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
[ -x "$B/qvlmemfs" ] && [ -x "$B/qvlctl" ] || { echo "skip: build $B first"; exit 77; }

# The build's own flags: the sanitizer build installs with SAN=1, so make
# finds its objects up to date instead of rebuilding them without it.
san= mk=(BUILD="$B")
if nm "$B/libqvlmem.a" 2>/dev/null | grep -q __asan_init; then
	san=-fsanitize=address,undefined
	mk+=(SAN=1)
fi
make -s "${mk[@]}" install PREFIX="$P" >"$T/make.log" 2>&1 ||
	{ cat "$T/make.log"; echo "FAIL: make install"; exit 1; }

for f in bin/qvlmemfs bin/qvlctl lib/libqvlmem.a lib/libqvlmem.so.0.3.0 \
	lib/libqvlmem.so.0 lib/libqvlmem.so include/qvlmem.h include/qvl_abi.h \
	lib/pkgconfig/qvlmem.pc share/man/man1/qvlctl.1 \
	share/man/man3/libqvlmem.3 share/man/man8/qvlmemfs.8 \
	lib/python3/dist-packages/qvlmem.py; do
	[ -e "$P/$f" ] || fail "not installed: $f"
done
readelf -d "$P/lib/libqvlmem.so.0.3.0" | grep -q 'SONAME.*\[libqvlmem.so.0\]' ||
	fail "libqvlmem.so has no soname libqvlmem.so.0"

# The installed programs run from PATH, with nothing of the build tree.
export PATH=$P/bin:$PATH
unset LD_LIBRARY_PATH
out=$(qvlctl --version 2>&1) || fail "installed qvlctl: $out"
grep -q "^qvlctl 0.3.0" <<<"$out" || fail "qvlctl --version: $out"
[ "$(command -v qvlctl)" = "$P/bin/qvlctl" ] || fail "qvlctl on PATH is $(command -v qvlctl)"
out=$(qvlmemfs --version 2>&1) || fail "installed qvlmemfs: $out"
grep -q "^qvlmemfs 0.3.0" <<<"$out" || fail "qvlmemfs --version: $out"

# A program built against the installed library (shared: the .pc's rpath
# finds it).
export PKG_CONFIG_PATH=$P/lib/pkgconfig
if command -v cc >/dev/null && command -v pkg-config >/dev/null; then
	# shellcheck disable=SC2046
	cc -std=c17 $san -o "$T/scalar" tests/integration/helpers/scalar.c \
		$(pkg-config --cflags --libs qvlmem) >"$T/cc.log" 2>&1 ||
		{ cat "$T/cc.log"; fail "build against the installed qvlmem.pc"; }
	ldd "$T/scalar" | grep -q "libqvlmem.so.0 => $P/lib/" ||
		fail "not linked to the installed libqvlmem.so.0: $(ldd "$T/scalar")"
	printf 'abcd' >"$T/plain"
	out=$("$T/scalar" read "$T/plain" 2>&1)
	[ "$out" = "u8 ndims=1 nelems=4 size=4" ] || fail "program on the installed library: $out"
fi
out=$(PYTHONPATH=$P/lib/python3/dist-packages "$PY" -c \
	'import qvlmem; print(qvlmem.__file__)' 2>&1)
[ "$out" = "$P/lib/python3/dist-packages/qvlmem.py" ] || fail "installed qvlmem.py: $out"

# The man pages: found by man, rendered without a warning.
for page in 1/qvlctl 3/libqvlmem 8/qvlmemfs; do
	f=$P/share/man/man${page%/*}/${page#*/}.${page%/*}
	w=$(groff -man -ww -z "$f" 2>&1)
	[ -z "$w" ] || fail "groff warns on $f: $w"
	if command -v man >/dev/null; then
		w=$(MANWIDTH=80 man -l "$f" 2>&1 >"$T/page.txt") || fail "man -l $f"
		[ -z "$w" ] || fail "man -l $f warns: $w"
		grep -q "^NAME" "$T/page.txt" || fail "man -l $f: no NAME section"
		MANPATH=$P/share/man man -w "${page%/*}" "${page#*/}" >/dev/null 2>&1 ||
			fail "man does not find ${page#*/}(${page%/*}) under $P/share/man"
	fi
done

# DESTDIR: a staged install for a package, PREFIX=/usr (no rpath there).
make -s "${mk[@]}" install PREFIX=/usr DESTDIR="$T/stage" >"$T/make2.log" 2>&1 ||
	{ cat "$T/make2.log"; fail "make install DESTDIR"; }
[ -x "$T/stage/usr/bin/qvlmemfs" ] && [ -f "$T/stage/usr/share/man/man8/qvlmemfs.8" ] ||
	fail "DESTDIR install incomplete"
grep -q '^prefix=/usr$' "$T/stage/usr/lib/pkgconfig/qvlmem.pc" || fail "DESTDIR .pc prefix"
grep -q rpath "$T/stage/usr/lib/pkgconfig/qvlmem.pc" && fail "rpath in the .pc for /usr"

# mount -t fuse.qvlmemfs, through mount.fuse3.  mount(8) drops PATH and
# mount.fuse3 runs the daemon by name through /bin/sh's default PATH, so in
# a private mount namespace the installed bin/ is bound over
# /usr/local/sbin, where that PATH looks first.  The fstab line goes
# through `mount -T FILE`, and the PREFIX/bin/qvlmemfs#none form of -t fuse
# needs no PATH at all.
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v mount.fuse3 >/dev/null ||
	! command -v unshare >/dev/null; then
	echo "skip the mount part: needs root, /dev/fuse, mount.fuse3 and unshare"
else
	mkdir -p "$T/mnt"
	echo "none $T/mnt fuse.qvlmemfs store=$T/store,ram=64M,nofail 0 0" >"$T/fstab"
	cat >"$T/mount.sh" <<'EOF'
set -u
T=$1 P=$2
bad=0
no() { echo "FAIL: $*" >&2; bad=1; }
gone() { # the daemon of $T/store has exited (it detached from mount)
	local pid
	pid=$(cat "$T/store/lock" 2>/dev/null)
	for _ in $(seq 100); do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	no "daemon $pid still running after unmount"
}
mount --bind "$P/bin" /usr/local/sbin || { echo "skip: cannot bind $P/bin"; exit 77; }
mount -t fuse.qvlmemfs none "$T/mnt" -o "store=$T/store,ram=64M" || no "mount -t fuse.qvlmemfs"
grep -q " $T/mnt fuse.qvlmemfs " /proc/self/mounts || no "not mounted as fuse.qvlmemfs"
head -c 100000 /dev/urandom >"$T/mnt/x" || no "write into the mount"
setfattr -n user.qvl.dtype -v u8 "$T/mnt/x" || no "setfattr in the mount"
qvlctl info "$T/mnt/x" | grep -q "dtype       u8" || no "qvlctl info in the mount"
fusermount3 -u "$T/mnt" || no "fusermount3 -u"
gone
mount -T "$T/fstab" "$T/mnt" || no "mount of the fstab line"
[ "$(stat -c %s "$T/mnt/x" 2>/dev/null)" = 100000 ] || no "the file after a remount from fstab"
umount "$T/mnt" || no "umount"
gone
umount /usr/local/sbin
mount -t fuse "$P/bin/qvlmemfs#none" "$T/mnt" -o "store=$T/store,ram=64M" ||
	no "mount -t fuse PREFIX/bin/qvlmemfs#none"
[ -f "$T/mnt/x" ] || no "the file through -t fuse prog#none"
fusermount3 -u "$T/mnt"
gone
exit $bad
EOF
	rc=0
	PATH=$PATH unshare -m --propagation private bash "$T/mount.sh" "$T" "$P" || rc=$?
	case $rc in
	0) ;;
	77) echo "skip the mount part: cannot bind-mount in a private namespace" ;;
	*) fail "mount through mount.fuse3" ;;
	esac
fi

[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "install ok"
