#!/bin/bash
# remote_cluster.sh - the remote tier on a Redis Cluster of three masters
# (loopback ports): a push from a plain directory spreads its frames over
# every node, a mount attached through one node pulls the snapshot and
# reads every byte back, following the slot map to the other two.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
	qvl_skip "no redis-server/redis-cli (apt-get install redis-server)"
CTL=$QVL_BUILD/qvlctl
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; qvl_cleanup' EXIT

# Three free loopback ports whose cluster bus ports (+10000) are free too
# (an ephemeral port above 55535 has none).
read -r P1 P2 P3 < <("$QVL_PYTHON" - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
got = []
while len(got) < 3:
    p = random.randrange(20000, 40000)
    if p not in got and free(p) and free(p + 10000):
        got.append(p)
print(*got)
PY
)
for p in $P1 $P2 $P3; do
	d=$QVL_TMP/node$p
	mkdir -p "$d"
	redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
		--cluster-config-file "$d/nodes.conf" --dir "$d" --save '' \
		--appendonly no --maxmemory-policy noeviction >"$d/log" 2>&1 &
	PIDS+=($!)
	disown $!
done
for p in $P1 $P2 $P3; do
	for _ in $(seq 100); do
		redis-cli -p "$p" ping 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
done
redis-cli --cluster create 127.0.0.1:$P1 127.0.0.1:$P2 127.0.0.1:$P3 \
	--cluster-yes >"$QVL_TMP/create.log" 2>&1 || { cat "$QVL_TMP/create.log"; qvl_skip "cannot create a cluster"; }
for _ in $(seq 100); do
	n=0
	for p in $P1 $P2 $P3; do
		redis-cli -p "$p" cluster info | grep -q cluster_state:ok && n=$((n + 1))
	done
	[ $n = 3 ] && break
	sleep 0.1
done
[ $n = 3 ] || fail "the cluster never came up"

# A push from outside any mount: the chunk size is given.
SRC=$QVL_TMP/src
mkdir -p "$SRC/l"
# Fixed bytes, so fixed keys: 12 random ones left a node without a frame
# about once in a hundred runs.  These spread over all three nodes (the
# slot ranges of --cluster create are fixed too).
"$QVL_PYTHON" - "$SRC/l" <<'PY' || fail "writing the files"
import random, sys
for i in range(4):
    open("%s/w%d" % (sys.argv[1], i), "wb").write(random.Random(i).randbytes(3 << 20))
PY
# Commands among a plain file's xattrs travel as values; a pull must not
# act on them (move data, or pull again).
setfattr -n user.qvl.tier -v ram "$SRC/l/w0" 2>/dev/null &&
	setfattr -n user.qvl.advice -v willneed "$SRC/l/w0" && CMDS=1 || CMDS=0
out=$("$CTL" push -q -r "redis://127.0.0.1:$P2" -c 1M "$SRC" csnap 2>&1) || fail "push: $out"
total=0
for p in $P1 $P2 $P3; do
	k=$(redis-cli -p "$p" dbsize)
	[ "$k" -gt 0 ] || fail "node $p holds no key"
	total=$((total + k))
done
# 12 frames, the manifest and the index.
eq "$total" 14 "keys over the cluster"

qvl_mount "ram=64M,remote=redis://127.0.0.1:$P1"
out=$("$CTL" pull csnap "$QVL_MNT/m" 2>&1) || fail "pull: $out"
if [ $CMDS = 1 ]; then
	eq "$(getfattr --absolute-names --only-values -n user.qvl.tier "$QVL_MNT/m/l/w0")" remote \
		"tier of a file whose snapshot carried tier=ram and advice=willneed"
	grep -q "user.qvl.tier left out" "$QVL_TMP/daemon.log" || fail "no log line for a command xattr left out"
fi
for i in 0 1 2 3; do
	cmp -s "$SRC/l/w$i" "$QVL_MNT/m/l/w$i" || fail "w$i read through the cluster differs"
done
eq "$(qvl_json 'j["remote"]["nodes"]')" 3 "masters the mount knows"
[ "$(qvl_json 'j["remote"]["fetched"]')" -ge 12 ] || fail "fetched $(qvl_json 'j["remote"]["fetched"]') frames, want 12"
qvl_umount
qvl_done
