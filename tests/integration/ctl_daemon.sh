#!/bin/bash
# ctl_daemon.sh - the .qvl control tree (stats, stats.json: numbers that
# match what was written, op counters that move; read-only even for root),
# qvlctl stat/info on a mount; and the daemon: one per store, --help and
# --version, bad options refused before mounting, read_ahead_kb raised,
# clean exits on SIGTERM, SIGINT and fusermount3 -u.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
D=$QVL_BUILD/qvlmemfs
qvl_mount ram=64M
M=$QVL_MNT

# Control tree.
eq "$(ls "$M/.qvl" | tr '\n' ' ')" "metrics stats stats.json tiers " "ls .qvl"
grep -q "^ram " "$M/.qvl/stats" || fail ".qvl/stats has no ram line"
w0=$(qvl_json 'j["ops"]["write"]')
head -c $(((1 << 20) + 1)) /dev/urandom >"$M/a"
head -c 4096 /dev/urandom >"$M/b"
: >"$M/c"
mkdir "$M/d"; ln -s a "$M/s"
eq "$(qvl_json 'j["files"]'):$(qvl_json 'j["dirs"]'):$(qvl_json 'j["symlinks"]')" "3:2:1" "files:dirs:symlinks"
# tiers.ram.files counts files with bytes in RAM: c is empty.
eq "$(qvl_json 'j["tiers"]["ram"]["files"]')" 2 "ram files (with bytes in RAM)"
eq "$(qvl_json 'j["tiers"]["nvme"]["present"]')" True "nvme tier present"
for k in evicted fetched; do
	[ "$(qvl_json "j['tiering']['$k']")" -ge 0 ] || fail "tiering.$k"
done
eq "$(qvl_json 'j["errors"]["io"]'):$(qvl_json 'j["errors"]["catalog"]')" 0:0 "no errors"
eq "$(qvl_json 'j["bytes"]')" $(((1 << 20) + 1 + 4096)) "bytes"
stored=0
for f in a b c; do
	v=$(getfattr --absolute-names --only-values -n user.qvl.stored "$M/$f")
	[[ $v =~ ^ram:[0-9]+,nvme:[0-9]+$ ]] || fail "stored of $f: '$v'"
	v=${v%,nvme:*}
	stored=$((stored + ${v#ram:}))
done
eq "$(qvl_json 'j["tiers"]["ram"]["used"]')" "$stored" "ram used = sum of stored"
eq "$(qvl_json 'j["tiers"]["ram"]["budget"]')" $((64 << 20)) "ram budget"
[ "$(qvl_json 'j["ops"]["write"]')" -gt "$w0" ] || fail "write counter did not move"
l0=$(qvl_json 'j["ops"]["lookup"]')
stat "$M/nonexistent-$RANDOM" >/dev/null 2>&1
[ "$(qvl_json 'j["ops"]["lookup"]')" -gt "$l0" ] || fail "lookup counter did not move"
grep -q "files 3 " "$M/.qvl/stats" || fail ".qvl/stats files: $(grep files "$M/.qvl/stats")"
# Read-only, root included.
expect_errno "" sh -c "echo x >'$M/.qvl/stats'"
expect_errno "" sh -c "echo x >>'$M/.qvl/stats.json'"
expect_errno "" touch "$M/.qvl/new"
expect_errno "" mkdir "$M/.qvl/dir"
expect_errno "" rm -f "$M/.qvl/stats"
expect_errno "" rmdir "$M/.qvl"
expect_errno "" mv "$M/.qvl/stats" "$M/x"
expect_errno "" mv "$M/a" "$M/.qvl/a"
expect_errno "" mv "$M/.qvl" "$M/q"
expect_errno "" mv "$M/d" "$M/.qvl"
expect_errno "" ln "$M/a" "$M/.qvl/a"
expect_errno "" ln "$M/.qvl/stats" "$M/st"
expect_errno "" ln -s a "$M/.qvl/s"
expect_errno "" chmod 777 "$M/.qvl/stats"
expect_errno "" chmod 777 "$M/.qvl"
expect_errno "" chown 1 "$M/.qvl/stats"
expect_errno "" touch -d 2001-01-01 "$M/.qvl/stats"
expect_errno "" truncate -s 0 "$M/.qvl/stats"
expect_errno "" setfattr -n user.x -v 1 "$M/.qvl/stats"
expect_errno "" mkdir "$M/.qvl"
grep -q "^ram " "$M/.qvl/stats" || fail ".qvl/stats emptied"
eq "$(ls "$M/.qvl" | tr '\n' ' ')" "metrics stats stats.json tiers " "ls .qvl after all that"
# qvlctl.
out=$("$QVL_BUILD/qvlctl" stat "$M") || fail "qvlctl stat: $out"
grep -q "^ram" <<<"$out" || fail "qvlctl stat says: $out"
setfattr -n user.qvl.dtype -v u8 "$M/b"
out=$("$QVL_BUILD/qvlctl" info "$M/b") || fail "qvlctl info: $out"
grep -q "u8" <<<"$out" && grep -q "user.qvl.tier *ram" <<<"$out" || fail "qvlctl info says: $out"

# read_ahead_kb raised, and reported.
dev=$(mountpoint -d "$M")
ra=$(cat "/sys/class/bdi/$dev/read_ahead_kb")
[ "$ra" -ge 1024 ] || fail "read_ahead_kb $ra"
eq "$(qvl_json 'j["read_ahead_kb"]')" "$ra" "stats.json read_ahead_kb"

# One daemon per store: the second says why and exits non-zero.
mkdir "$QVL_TMP/m2"
out=$(timeout 10 "$D" -f -o "store=$QVL_STORE" "$QVL_TMP/m2" 2>&1) &&
	fail "second daemon on one store started"
grep -q "in use" <<<"$out" || fail "second daemon said: $out"
mountpoint -q "$QVL_TMP/m2" && { fail "second daemon mounted"; fusermount3 -u "$QVL_TMP/m2"; }
eq "$(head -c 4096 "$M/b" | wc -c)" 4096 "first daemon still serves"
qvl_umount

# Options.
check "$D" --help >/dev/null
check "$D" --version >/dev/null
"$D" --version | grep -q qvlmemfs || fail "--version output"
for opt in ram=banana chunk=3M chunk=32k chunk=128M ram=12Q ram=101%; do
	out=$(timeout 10 "$D" -f -o "store=$QVL_TMP/s2,$opt" "$QVL_TMP/m2" 2>&1) &&
		fail "$opt accepted"
	grep -q "${opt%%=*}=" <<<"$out" || fail "$opt: message '$out'"
	mountpoint -q "$QVL_TMP/m2" && { fail "$opt mounted"; fusermount3 -u "$QVL_TMP/m2"; }
done
out=$(timeout 10 "$D" -f -o "store=$QVL_TMP/s2,nosuchopt" "$QVL_TMP/m2" 2>&1) &&
	fail "unknown option accepted"
mountpoint -q "$QVL_TMP/m2" && { fail "unknown option mounted"; fusermount3 -u "$QVL_TMP/m2"; }

# Without -f the daemon forks after setting up; it must still use its
# worker threads (started in the child) and exit after the unmount.
mkdir -p "$QVL_TMP/m3"
"$D" -o "store=$QVL_TMP/s3,ram=16M" "$QVL_TMP/m3" || fail "daemon mode mount"
head -c $((8 << 20)) /dev/urandom >"$QVL_TMP/m3/f"
sum=$(md5sum <"$QVL_TMP/m3/f")
setfattr -n user.qvl.tier -v nvme "$QVL_TMP/m3/f" || fail "tier=nvme in daemon mode"
[ "$(md5sum <"$QVL_TMP/m3/f")" = "$sum" ] || fail "daemon mode: data differs"
dpid=$(pgrep -f "store=$QVL_TMP/s3,") || fail "no daemon process"
fusermount3 -u "$QVL_TMP/m3" || fail "daemon mode unmount"
for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dpid" 2>/dev/null && { fail "daemon still running 10 s after unmount"; kill -9 "$dpid"; }

# Signals: mount gone, exit 0 (under ASan: no leaks either).  Job control
# on, or bash starts background jobs with SIGINT ignored.
set -m
# A store keeps its chunk size: each of these gets its own.
for sig in TERM INT; do
	QVL_STORE=$QVL_TMP/store-$sig
	qvl_mount ram=16M,chunk=64k
	echo data >"$M/f"
	kill -$sig "$QVL_PID"
	rc=0
	wait "$QVL_PID" || rc=$?
	QVL_PID=
	eq "$rc" 0 "exit status after SIG$sig"
	mountpoint -q "$M" && { fail "mounted after SIG$sig"; fusermount3 -u "$M"; }
	# A clean exit on a signal wrote everything back.
	qvl_mount ram=16M,chunk=64k
	eq "$(cat "$M/f" 2>&1)" data "file after SIG$sig and a remount"
	qvl_umount
done
set +m
QVL_STORE=$QVL_TMP/store-64M
qvl_mount chunk=64M
eq "$(qvl_json 'j["chunk_size"]')" $((64 << 20)) "chunk=64M"
qvl_umount
mountpoint -q "$M" && fail "mounted after fusermount3 -u"
qvl_done
