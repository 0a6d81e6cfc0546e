#!/bin/bash
# remote.sh - two mounts with separate stores sharing one Redis behave like
# two boxes of a fleet: push on one, pull and read on the other, bytes
# checked.  Also: identical chunks stored once (within and across files), a
# second push sends nothing, an interrupted push resumes, a write to a
# pulled file stays local (the snapshot is unchanged), pulled files survive
# a remount, a frame missing from Redis is EIO with a message, Redis killed
# in the middle gives EIO within the timeout while local files keep
# working, and reads resume without a remount once it is back.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
command -v redis-server >/dev/null || qvl_skip "no redis-server (apt-get install redis-server)"
CTL=$QVL_BUILD/qvlctl
RDIR=$QVL_TMP/redis
SOCK=$RDIR/r.sock
mkdir -p "$RDIR"
RPID=
# Redis the way the README asks for it: no eviction, persistent (the AOF,
# so a server killed and started again still has every frame).
redis_start() {
	redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 \
		--dir "$RDIR" --save '' --appendonly yes --appendfsync always \
		--maxmemory-policy noeviction >"$RDIR/log" 2>&1 &
	RPID=$!
	disown "$RPID" # killed on purpose below: no job notice
	for _ in $(seq 100); do
		redis-cli -s "$SOCK" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	cat "$RDIR/log"
	qvl_skip "redis-server did not start"
}
rcli() { redis-cli -s "$SOCK" "$@"; }
gx() { getfattr --absolute-names --only-values -n "$1" "$2"; }

# The second box: its own daemon, store and mountpoint.
MNT2=$QVL_TMP/mnt2 STORE2=$QVL_TMP/store2 PID2=
mkdir -p "$MNT2" "$STORE2"
mount2() {
	"$QVL_BUILD/qvlmemfs" -f -o "store=$STORE2,ram=64M,flush=0.5,remote=unix:$SOCK,remote_timeout=1${1:+,$1}" \
		"$MNT2" 2>>"$QVL_TMP/daemon2.log" &
	PID2=$!
	for _ in $(seq 100); do
		mountpoint -q "$MNT2" && return 0
		sleep 0.05
	done
	cat "$QVL_TMP/daemon2.log"
	exit 1
}
umount2() {
	fusermount3 -u "$MNT2" || fail "unmount of the second box"
	wait "$PID2" || { fail "second daemon exited $?"; cat "$QVL_TMP/daemon2.log"; }
	PID2=
}
trap 'fusermount3 -u "$MNT2" 2>/dev/null; [ -n "$PID2" ] && kill -9 "$PID2" 2>/dev/null;
      [ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null; qvl_cleanup' EXIT

redis_start
qvl_mount "ram=64M,remote=unix:$SOCK"
A=$QVL_MNT/model
mkdir -p "$A/layers" || fail "mkdir"
head -c $((5 << 20)) /dev/urandom >"$QVL_TMP/x"
head -c $((3 << 20 | 12345)) /dev/urandom >"$QVL_TMP/y"
cp "$QVL_TMP/x" "$A/layers/x.bin"
cp "$QVL_TMP/x" "$A/dup.bin"            # the same chunks again
cp "$QVL_TMP/y" "$A/layers/y.bin"       # a partial last chunk
{ head -c $((2 << 20)) /dev/zero; printf 'z'; } >"$A/holes.bin"
ln -s layers/x.bin "$A/link"
setfattr -n user.qvl.dtype -v bf16 "$A/layers/x.bin"
setfattr -n user.qvl.shape -v 1280,2048 "$A/layers/x.bin"
setfattr -n user.note -v hello "$A/layers/y.bin"
chmod 4755 "$A/layers/y.bin" # setuid: not carried over by a pull

out=$("$CTL" push -q "$A" snap1 2>&1) || fail "push: $out"
# x: 5 chunks, dup: the same 5, y: 4, holes: 1 (two holes left out).
eq "$(rcli --scan --pattern 'qvl:f:*' | wc -l)" 10 "frames in Redis after one push"
out=$("$CTL" push "$A" snap1 2>&1) || fail "second push: $out"
grep -q " 0 frames" <<<"$out" || fail "a second push sent frames: $out"

mount2
B=$MNT2/pulled
# A name looked up before the pull is cached as absent by the kernel: the
# pull must drop that.
mkdir "$B"
stat "$B/layers" >/dev/null 2>&1 && fail "layers exists before the pull"
t0=$(date +%s.%N)
out=$("$CTL" pull snap1 "$B" 2>&1) || fail "pull: $out"
t1=$(date +%s.%N)
echo "pull took $(echo "$t1 - $t0" | bc) s"
eq "$(gx user.qvl.tier "$B/layers/x.bin")" remote "tier before any read"
eq "$(gx user.qvl.dtype "$B/layers/x.bin")" bf16 "dtype pulled"
eq "$(gx user.qvl.shape "$B/layers/x.bin")" 1280,2048 "shape pulled"
eq "$(gx user.note "$B/layers/y.bin")" hello "user xattr pulled"
eq "$(readlink "$B/link")" layers/x.bin "symlink pulled"
eq "$(stat -c %s "$B/holes.bin")" $((2 << 20 | 1)) "size pulled"
eq "$(stat -c %a "$B/layers/y.bin")" 755 "mode pulled, setuid left out"
gx user.qvl.stored "$B/layers/y.bin" | grep -q ",remote:" ||
	fail "stored has no remote part"
cmp -s "$QVL_TMP/x" "$B/layers/x.bin" || fail "x read through the pull differs"
cmp -s "$QVL_TMP/x" "$B/dup.bin" || fail "dup read through the pull differs"
cmp -s "$QVL_TMP/y" "$B/layers/y.bin" || fail "y read through the pull differs"
cmp -s "$A/holes.bin" "$B/holes.bin" || fail "holes read through the pull differ"
fetched=$("$QVL_PYTHON" -c "import json; print(json.load(open('$MNT2/.qvl/stats.json'))['remote']['fetched'])")
[ "$fetched" -ge 10 ] || fail "remote fetched $fetched frames, want >= 10"
grep -q "^qvlmemfs_remote_fetched_total [1-9]" "$MNT2/.qvl/metrics" ||
	fail "no remote fetches in .qvl/metrics"
"$QVL_PYTHON" tests/integration/helpers/promparse.py "$MNT2/.qvl/metrics" >/dev/null ||
	fail ".qvl/metrics with a remote tier does not parse"
case $(gx user.qvl.tier "$B/layers/y.bin") in
ram*) ;; *) fail "tier after a read: $(gx user.qvl.tier "$B/layers/y.bin")" ;;
esac

# Copy-on-write: a write to a pulled file is local; the snapshot stays.
printf 'LOCAL' | dd of="$B/layers/x.bin" bs=1 seek=$((1 << 20)) conv=notrunc status=none
cp "$QVL_TMP/x" "$QVL_TMP/x2"
printf 'LOCAL' | dd of="$QVL_TMP/x2" bs=1 seek=$((1 << 20)) conv=notrunc status=none
cmp -s "$QVL_TMP/x2" "$B/layers/x.bin" || fail "the local write did not stick"
out=$("$CTL" pull snap1 "$MNT2/again" 2>&1) || fail "second pull: $out"
cmp -s "$QVL_TMP/x" "$MNT2/again/layers/x.bin" || fail "the snapshot changed under a local write"
expect_errno "not empty" "$CTL" pull snap1 "$B"
expect_errno "no snapshot" "$CTL" pull nosuch "$MNT2/none"
# A dtype set on a pulled file re-codes nothing: its frames are the
# snapshot's (a re-coding would make them local data).
setfattr -n user.qvl.dtype -v u8 "$MNT2/again/holes.bin"
sleep 1.5 # the flusher, which re-codes, runs every 0.5 s
eq "$(gx user.qvl.tier "$MNT2/again/holes.bin")" remote "tier after a dtype change on a pulled file"

# What was read is cached in the store (the mover copies the frames that
# came from Redis): after a remount it reads with Redis gone.
j2() { "$QVL_PYTHON" -c "import json; j = json.load(open('$MNT2/.qvl/stats.json')); print($1)"; }
for _ in $(seq 100); do
	[ "$(j2 'j["tiers"]["nvme"]["used"] > 8 << 20')" = True ] && break
	sleep 0.1
done
[ "$(j2 'j["tiers"]["nvme"]["used"] > 8 << 20')" = True ] ||
	fail "fetched frames not copied to the store: $(j2 'j["tiers"]["nvme"]'), remote $(j2 'j["remote"]["bytes"]')"

# Pulled files are files of the store: they survive a remount.
umount2
mount2
kill -STOP "$RPID"
t0=$SECONDS
cmp -s "$QVL_TMP/y" "$B/layers/y.bin" || fail "y (cached) differs after a remount, Redis stopped"
cmp -s "$QVL_TMP/x2" "$B/layers/x.bin" || fail "x (written) differs after a remount, Redis stopped"
[ $((SECONDS - t0)) -le 1 ] || fail "reading cached files waited for Redis"
kill -CONT "$RPID"
cmp -s "$QVL_TMP/x" "$MNT2/again/dup.bin" || fail "dup differs after a remount"

# An interrupted push resumes: the second one sends only the rest.
head -c $((6 << 20)) /dev/urandom >"$A/big.bin"
QVLCTL_PUSH_STOP_AFTER=2 "$CTL" push -q "$A" snap2 >/dev/null 2>&1 &&
	fail "a push stopped after 2 frames succeeded"
out=$("$CTL" push "$A" snap2 2>&1) || fail "resumed push: $out"
grep -q " 4 frames" <<<"$out" || fail "the resumed push did not send just the 4 left: $out"
"$CTL" ls-remote -r "unix:$SOCK" >"$QVL_TMP/ls" 2>&1 || fail "ls-remote"
grep -q snap1 "$QVL_TMP/ls" && grep -q snap2 "$QVL_TMP/ls" || fail "ls-remote: $(cat "$QVL_TMP/ls")"

# A frame missing from Redis: EIO, and the log says what to do.  (s2's
# bytes were read, so the store has them; s3's never were.)
out=$("$CTL" pull snap2 "$MNT2/s2" 2>&1) || fail "pull snap2: $out"
cmp -s "$A/big.bin" "$MNT2/s2/big.bin" || fail "big read through the pull differs"
out=$("$CTL" pull snap2 "$MNT2/s3" 2>&1) || fail "pull snap2 again: $out"
# Every frame goes away for a while (renamed).
rcli --scan --pattern 'qvl:f:*' | sort >"$QVL_TMP/keys2"
for k in $(cat "$QVL_TMP/keys2"); do
	rcli rename "$k" "gone:$k" >/dev/null
done
expect_errno "Input/output error" cat "$MNT2/s3/big.bin"
grep -q "noeviction" "$QVL_TMP/daemon2.log" || fail "no log line about a missing frame"
for k in $(cat "$QVL_TMP/keys2"); do
	rcli rename "gone:$k" "$k" >/dev/null
done
cmp -s "$A/big.bin" "$MNT2/s3/big.bin" || fail "big after the frames came back"

# Redis killed: remote-only chunks fail within the timeout, local data
# works, and reads resume without a remount once it is back.
umount2
mount2
echo local >"$MNT2/local.txt"
kill -9 "$RPID"
while kill -0 "$RPID" 2>/dev/null; do sleep 0.05; done
RPID=
t0=$SECONDS
expect_errno "Input/output error" cat "$MNT2/again/layers/y.bin"
[ $((SECONDS - t0)) -le 5 ] || fail "EIO took $((SECONDS - t0)) s with remote_timeout=1"
eq "$(cat "$MNT2/local.txt")" local "a local file while Redis is down"
# A cut through a chunk that is only in Redis fails rather than keep
# the old bytes where zeros belong.
expect_errno "Input/output error" truncate -s 100 "$MNT2/again/layers/y.bin"
redis_start
sleep 0.2
ok=0
for _ in $(seq 50); do
	cmp -s "$QVL_TMP/y" "$MNT2/again/layers/y.bin" && { ok=1; break; }
	sleep 0.2
done
[ $ok = 1 ] || fail "reads did not resume after Redis came back"
truncate -s 100 "$MNT2/again/layers/y.bin" || fail "truncate with Redis back"
cmp -s <(head -c 100 "$QVL_TMP/y") "$MNT2/again/layers/y.bin" || fail "truncated y differs"
truncate -s 65536 "$MNT2/again/layers/y.bin"
cmp -s <(head -c 100 "$QVL_TMP/y"; head -c 65436 /dev/zero) "$MNT2/again/layers/y.bin" ||
	fail "old bytes past a truncate came back"

# Whatever needs a chunk only in Redis fetches it without the filesystem's
# lock: with Redis stopped, other requests go on while it waits (and
# fails within the timeout); with Redis back it works.
NPROBE=0
redis_ok() { # until the daemon's connection works again (its backoff)
	for _ in $(seq 50); do
		NPROBE=$((NPROBE + 1))
		"$CTL" pull snap1 "$MNT2/probe$NPROBE" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "Redis did not come back for the daemon"
}
stalled() { # WHAT CMD...: with Redis stopped, CMD waits; others do not
	local what=$1 p t0 t1
	shift
	redis_ok
	kill -STOP "$RPID"
	(s=$(date +%s%N); "$@" >/dev/null 2>&1
	 echo $? >"$QVL_TMP/op_rc"
	 echo $((($(date +%s%N) - s) / 1000000)) >"$QVL_TMP/op_ms") &
	p=$!
	sleep 0.3
	t0=$(date +%s%N)
	eq "$(cat "$MNT2/local.txt")" local "a local file while $what waits for Redis"
	ls "$MNT2/w/layers" >/dev/null || fail "ls while $what waits for Redis"
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -lt 500 ] ||
		fail "other requests waited $(((t1 - t0) / 1000000)) ms for $what"
	wait $p
	kill -CONT "$RPID"
	# It did wait for Redis (remote_timeout=1), or this proved nothing.
	[ "$(cat "$QVL_TMP/op_ms")" -ge 600 ] ||
		fail "$what did not wait for Redis ($(cat "$QVL_TMP/op_ms") ms)"
}
out=$("$CTL" pull snap1 "$MNT2/w" 2>&1) || fail "pull for the write: $out"
stalled "a write" sh -c "printf W | dd of='$MNT2/w/layers/x.bin' bs=1 \
	seek=$((2 << 20 | 7)) conv=notrunc status=none"
[ "$(cat "$QVL_TMP/op_rc")" != 0 ] || fail "a write into a chunk Redis did not answer for succeeded"
ok=0
for _ in $(seq 50); do # the connection backs off a while after the timeout
	cmp -s "$QVL_TMP/x" "$MNT2/w/layers/x.bin" && { ok=1; break; }
	sleep 0.2
done
[ $ok = 1 ] || fail "a failed write changed the file (or reads did not resume)"
printf 'W' | dd of="$MNT2/w/layers/x.bin" bs=1 seek=$((2 << 20 | 7)) conv=notrunc status=none ||
	fail "the write with Redis back"
cp "$QVL_TMP/x" "$QVL_TMP/x3"
printf 'W' | dd of="$QVL_TMP/x3" bs=1 seek=$((2 << 20 | 7)) conv=notrunc status=none
cmp -s "$QVL_TMP/x3" "$MNT2/w/layers/x.bin" || fail "the write into a pulled chunk did not stick"

# The same for everything else that reads chunks only in Redis for a
# change or a load: a truncate or a punch inside one, tier=ram, willneed,
# a checksum.
for d in t p r n c; do
	out=$("$CTL" pull snap1 "$MNT2/$d" 2>&1) || fail "pull $d: $out"
done
stalled "a truncate" truncate -s $((3 << 20 | 5)) "$MNT2/t/layers/x.bin"
stalled "a punch" fallocate -p -o $((2 << 20 | 9)) -l 100 "$MNT2/p/layers/x.bin"
stalled "tier=ram" setfattr -n user.qvl.tier -v ram "$MNT2/r/layers/x.bin"
stalled "willneed" setfattr -n user.qvl.advice -v willneed "$MNT2/n/layers/x.bin"
stalled "a checksum" getfattr -n user.qvl.checksum "$MNT2/c/layers/x.bin"
# With Redis back they all work, and what they did is right.
redis_ok
truncate -s $((3 << 20 | 5)) "$MNT2/t/layers/x.bin" || fail "truncate with Redis back"
cmp -s <(head -c $((3 << 20 | 5)) "$QVL_TMP/x") "$MNT2/t/layers/x.bin" || fail "truncated x differs"
fallocate -p -o $((2 << 20 | 9)) -l 100 "$MNT2/p/layers/x.bin" || fail "punch with Redis back"
cp "$QVL_TMP/x" "$QVL_TMP/x4"
fallocate -p -o $((2 << 20 | 9)) -l 100 "$QVL_TMP/x4"
cmp -s "$QVL_TMP/x4" "$MNT2/p/layers/x.bin" || fail "punched x differs"
setfattr -n user.qvl.tier -v ram "$MNT2/r/layers/x.bin" || fail "tier=ram with Redis back"
eq "$(gx user.qvl.tier "$MNT2/r/layers/x.bin")" ram "tier after tier=ram"
eq "$(gx user.qvl.checksum "$MNT2/c/layers/x.bin")" \
	"$("$CTL" checksum "$QVL_TMP/x" | cut -d' ' -f1)" "checksum of a pulled file"

umount2
qvl_umount
qvl_done
