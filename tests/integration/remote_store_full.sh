#!/bin/bash
# remote_store_full.sh - the store as a cache of the remote tier, on a
# store that fills: frames read from Redis are copied to the store; when
# local writes fill it, those copies leave first (they can be fetched
# again) and local data never does.  A 24 MiB store, chunks of 64 KiB:
# 12 MiB pulled and read (cached), then 10 MiB written locally.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
command -v redis-server >/dev/null || qvl_skip "no redis-server (apt-get install redis-server)"
CTL=$QVL_BUILD/qvlctl
RDIR=$QVL_TMP/redis SOCK=$QVL_TMP/redis/r.sock RPID=
mkdir -p "$RDIR"
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$RDIR" \
	--save '' --appendonly no --maxmemory-policy noeviction >"$RDIR/log" 2>&1 &
RPID=$!
disown "$RPID"
for _ in $(seq 100); do
	redis-cli -s "$SOCK" ping 2>/dev/null | grep -q PONG && break
	sleep 0.05
done
qvl_small_store 24m
trap 'fusermount3 -u "$QVL_MNT" 2>/dev/null; umount -l "$QVL_SMALL" 2>/dev/null;
      kill -9 "$RPID" 2>/dev/null; qvl_cleanup' EXIT

SRC=$QVL_TMP/src
mkdir -p "$SRC"
for i in 0 1 2; do head -c $((4 << 20)) /dev/urandom >"$SRC/w$i"; done
out=$("$CTL" push -q -r "unix:$SOCK" -c 64K "$SRC" snap 2>&1) || fail "push: $out"

OPTS="ram=64M,chunk=64K,flush=0.3,remote=unix:$SOCK"
qvl_mount "$OPTS"
out=$("$CTL" pull snap "$QVL_MNT/m" 2>&1) || fail "pull: $out"
for i in 0 1 2; do
	cmp -s "$SRC/w$i" "$QVL_MNT/m/w$i" || fail "w$i read through the pull differs"
done
qvl_wait_json 'j["tiers"]["nvme"]["used"] > 10 << 20' 20 ||
	fail "the fetched frames were not copied to the store: $(qvl_json 'j["tiers"]["nvme"]')"

qvl_umount

# Local data: more than the store has left beside the copies, written
# through 1 MiB of RAM with no flusher to help: the writes themselves hit
# the full store, and the copies must make room for them at once.
qvl_mount "ram=1M,chunk=64K,flush=60,remote=unix:$SOCK"
head -c $((10 << 20)) /dev/urandom >"$QVL_TMP/local"
cp "$QVL_TMP/local" "$QVL_MNT/local" || fail "writing local data"
"$QVL_PYTHON" -c "import os; fd = os.open('$QVL_MNT/local', os.O_RDONLY); os.fsync(fd)" ||
	fail "fsync of the local file"
[ "$(qvl_json 'j["remote"]["copies_dropped"]')" -gt 0 ] ||
	fail "no copy of a remote frame left the store"
qvl_umount

# After a remount: the local file from the store (Redis stopped: it cannot
# come from there), the pulled ones whole (what left, from Redis again).
qvl_mount "$OPTS"
kill -STOP "$RPID"
cmp -s "$QVL_TMP/local" "$QVL_MNT/local" || fail "local data differs after the store filled"
kill -CONT "$RPID"
for i in 0 1 2; do
	cmp -s "$SRC/w$i" "$QVL_MNT/m/w$i" || fail "w$i differs after its copies left the store"
done
qvl_umount
qvl_done
