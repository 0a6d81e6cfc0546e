# lib.sh - sourced by integration tests: mount a private qvlmemfs, check,
# unmount.  The daemon runs in the foreground as our child, so its exit
# status (sanitizer reports included) and its log are ours to check.
#
#   qvl_mount [OPTS]     mounts at $QVL_MNT with store $QVL_STORE
#   qvl_umount           unmounts; fails the test if the daemon exits non-zero
#   fail MSG / check CMD... / expect_errno ERRNO CMD...

set -u
QVL_BUILD=${QVL_BUILD:-build/rel}
QVL_PYTHON=${QVL_PYTHON:-/usr/bin/python3}
QVL_FAILS=0
QVL_PID=
QVL_TMP=$(mktemp -d /tmp/qvl-it.XXXXXX)
QVL_MNT=$QVL_TMP/mnt
QVL_STORE=$QVL_TMP/store
mkdir -p "$QVL_MNT" "$QVL_STORE"

qvl_skip() { echo "skip: $*"; exit 77; }

qvl_require_fuse() {
	[ "$(id -u)" = 0 ] || qvl_skip "needs root to mount"
	[ -c /dev/fuse ] || qvl_skip "no /dev/fuse"
	command -v fusermount3 >/dev/null || qvl_skip "no fusermount3"
	[ -x "$QVL_BUILD/qvlmemfs" ] || qvl_skip "no $QVL_BUILD/qvlmemfs (build first)"
}

qvl_cleanup() {
	if [ -n "$QVL_PID" ] && kill -0 "$QVL_PID" 2>/dev/null; then
		fusermount3 -u "$QVL_MNT" 2>/dev/null || umount -l "$QVL_MNT" 2>/dev/null
		sleep 0.2
		kill -9 "$QVL_PID" 2>/dev/null
	fi
	rm -rf "$QVL_TMP"
}
trap qvl_cleanup EXIT

qvl_mount() {
	local opts="store=$QVL_STORE${1:+,$1}"
	"$QVL_BUILD/qvlmemfs" -f -o "$opts" "$QVL_MNT" 2>>"$QVL_TMP/daemon.log" &
	QVL_PID=$!
	for _ in $(seq 100); do
		mountpoint -q "$QVL_MNT" && return 0
		kill -0 "$QVL_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "mount failed:"; cat "$QVL_TMP/daemon.log"
	exit 1
}

qvl_umount() {
	fusermount3 -u "$QVL_MNT" || fail "fusermount3 -u failed"
	local rc=0
	wait "$QVL_PID" || rc=$?
	QVL_PID=
	if [ "$rc" != 0 ]; then
		fail "daemon exited $rc"
		cat "$QVL_TMP/daemon.log"
	fi
}

fail() {
	echo "FAIL: $*" >&2
	QVL_FAILS=$((QVL_FAILS + 1))
}

# check CMD...: CMD must succeed.
check() {
	"$@" || fail "$*"
}

# expect_errno TEXT CMD...: CMD must fail and say TEXT (an strerror).
expect_errno() {
	local want=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "succeeded but should fail with '$want': $*"
	elif ! grep -qi -- "$want" <<<"$out"; then
		fail "'$*' said '$out', wanted '$want'"
	fi
}

qvl_done() {
	[ "$QVL_FAILS" = 0 ] || { echo "$QVL_FAILS failure(s)"; exit 1; }
	exit 0
}

# qvl_helper: build tests/integration/helpers/qvlt.c into $QVL_TMP/qvlt
# (QVLT names it) or skip when there is no compiler.
qvl_helper() {
	local src
	src=$(dirname "${BASH_SOURCE[0]}")/helpers/qvlt.c
	command -v cc >/dev/null || qvl_skip "no cc for the test helper"
	cc -std=c17 -O1 -D_GNU_SOURCE -o "$QVL_TMP/qvlt" "$src" -lxxhash ||
		qvl_skip "cannot build $src"
	QVLT=$QVL_TMP/qvlt
}

# qvl_json EXPR: evaluate a Python expression over the mount's
# .qvl/stats.json (bound to j), e.g. qvl_json 'j["tiers"]["ram"]["used"]'.
qvl_json() {
	"$QVL_PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1] + "/.qvl/stats.json"))
print(eval(sys.argv[2]))' "$QVL_MNT" "$1"
}

# qvl_wait_json EXPR SECONDS: until the Python expression EXPR over
# stats.json (as j) holds; 1 if it never did.
qvl_wait_json() {
	for _ in $(seq $(($2 * 10))); do
		[ "$(qvl_json "$1")" = True ] && return 0
		sleep 0.1
	done
	return 1
}

# qvl_same_files WHEN NAME...: each $QVL_TMP/NAME equals $QVL_MNT/NAME.
qvl_same_files() {
	local when=$1 f
	shift
	for f in "$@"; do
		cmp -s "$QVL_TMP/$f" "$QVL_MNT/$f" || fail "$f differs $when"
	done
}

# eq A B MSG: A and B must be equal strings.
eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# qvl_small_store SIZE: put the store on a tmpfs of SIZE (24m) at
# $QVL_TMP/small, so a test can fill it; unmounted at exit, after the mount.
qvl_small_store() {
	QVL_SMALL=$QVL_TMP/small
	mkdir -p "$QVL_SMALL"
	mount -t tmpfs -o size="$1" tmpfs "$QVL_SMALL" || qvl_skip "cannot mount a tmpfs"
	trap 'fusermount3 -u "$QVL_MNT" 2>/dev/null; umount -l "$QVL_SMALL" 2>/dev/null; qvl_cleanup' EXIT
	QVL_STORE=$QVL_SMALL/store
	mkdir -p "$QVL_STORE"
}

# qvl_layers N MIB: files layer0.. (numbered with seq -w) of MIB MiB of
# random bytes in the mount, moved to the store; their md5sums in
# QVL_LAYER_SUMS.
qvl_layers() {
	local i f
	for i in $(seq -w 0 $(($1 - 1))); do
		head -c $(($2 << 20)) /dev/urandom >"$QVL_MNT/layer$i"
	done
	QVL_LAYER_SUMS=$(cd "$QVL_MNT" && md5sum layer*)
	for f in "$QVL_MNT"/layer*; do
		setfattr -n user.qvl.tier -v nvme "$f" || fail "tier=nvme $f"
	done
}
