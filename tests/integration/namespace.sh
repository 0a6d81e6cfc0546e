#!/bin/bash
# namespace.sh - names on a real mount: files, directories, symlinks, hard
# links and their link counts; rename with RENAME_NOREPLACE/RENAME_EXCHANGE
# and its errors (own subtree, non-empty target); rmdir of a non-empty
# directory; chmod/chown/utimens and the ctime/mtime rules; statfs against
# the RAM budget; permission checks for a non-root user (allow_other).
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_helper
qvl_mount ram=64M,allow_other
M=$QVL_MNT

# Files, directories, symlinks.
check mkdir -p "$M/d/sub"
echo hello >"$M/d/f" || fail "create d/f"
eq "$(cat "$M/d/f")" hello "read back"
check ln -s f "$M/d/ln"
eq "$(readlink "$M/d/ln")" f "readlink"
eq "$(cat "$M/d/ln")" hello "read through symlink"
eq "$(stat -c %F "$M/d/ln")" "symbolic link" "symlink type"
eq "$(stat -c %s "$M/d/ln")" 1 "symlink size is its target's length"
eq "$(stat -c %h "$M/d")" 3 "dir nlink (., .., sub)"
eq "$(stat -c %h "$M")" 3 "root nlink (., .., d)"
expect_errno "File exists" mkdir "$M/d/sub"
expect_errno "No such file" cat "$M/d/nope"
expect_errno "Is a directory" rm "$M/d/sub"
expect_errno "Not a directory" rmdir "$M/d/f"
expect_errno "File name too long" touch "$M/$(printf 'n%.0s' {1..256})"
check touch "$M/$(printf 'n%.0s' {1..255})"

# Hard links: nlink counts and shared data.
check ln "$M/d/f" "$M/d/f2"
check ln "$M/d/f" "$M/f3"
eq "$(stat -c %h "$M/d/f")" 3 "nlink after two links"
eq "$(stat -c %i "$M/d/f")" "$(stat -c %i "$M/f3")" "same inode"
echo more >>"$M/f3"
eq "$(cat "$M/d/f2")" "hello
more" "data shared by links"
check rm "$M/d/f2"
eq "$(stat -c %h "$M/d/f")" 2 "nlink after unlink"
expect_errno "Operation not permitted" "$QVL_PYTHON" -c 'import os, sys; os.link(sys.argv[1], sys.argv[2])' "$M/d/sub" "$M/dlink"

# rename: plain, over a file, NOREPLACE, EXCHANGE.
echo a >"$M/a"; echo b >"$M/b"
check mv "$M/a" "$M/a2"
[ -e "$M/a" ] && fail "old name still there after rename"
eq "$(cat "$M/a2")" a "content after rename"
expect_errno "File exists" "$QVLT" rename2 noreplace "$M/a2" "$M/b"
eq "$(cat "$M/a2"):$(cat "$M/b")" "a:b" "NOREPLACE changed nothing"
check "$QVLT" rename2 exchange "$M/a2" "$M/b"
eq "$(cat "$M/a2"):$(cat "$M/b")" "b:a" "EXCHANGE swapped"
expect_errno "No such file" "$QVLT" rename2 exchange "$M/a2" "$M/missing"
check "$QVLT" rename2 noreplace "$M/a2" "$M/c"
eq "$(cat "$M/c")" b "NOREPLACE onto a free name"
check "$QVLT" rename2 none "$M/c" "$M/b"
eq "$(cat "$M/b")" b "rename over a file replaces it"
# Exchange a file with a directory across directories: ".." follows.
mkdir -p "$M/x/inner"; echo x >"$M/d/sub/xf"
check "$QVLT" rename2 exchange "$M/x" "$M/d/sub"
[ -d "$M/d/sub/inner" ] && [ -f "$M/x/xf" ] || fail "EXCHANGE of two dirs"
eq "$(stat -c %i "$M/d/sub/..")" "$(stat -c %i "$M/d")" ".. after exchange"
# Directories: into own subtree, over non-empty, over empty.
expect_errno "Invalid argument" "$QVLT" rename2 none "$M/d" "$M/d/sub/inner/d"
expect_errno "Invalid argument" "$QVLT" rename2 exchange "$M/d" "$M/d/sub/inner"
mkdir -p "$M/e1" "$M/e2/full"; touch "$M/e2/full/z"
expect_errno "Directory not empty" "$QVLT" rename2 none "$M/e1" "$M/e2/full"
expect_errno "Directory not empty" rmdir "$M/e2/full"
mkdir "$M/e2/empty"
n0=$(stat -c %h "$M/e2")
check "$QVLT" rename2 none "$M/e1" "$M/e2/empty"
eq "$(stat -c %h "$M/e2")" "$n0" "parent nlink after dir over empty dir"
eq "$(stat -c %h "$M")" "$(( $(find "$M" -mindepth 1 -maxdepth 1 -type d ! -name .qvl | wc -l) + 2 ))" \
	"root nlink counts subdirs"
expect_errno "Not a directory" "$QVLT" rename2 none "$M/e2/empty" "$M/b"
expect_errno "Is a directory" "$QVLT" rename2 none "$M/b" "$M/e2/empty"
check rm -rf "$M/e2/full"
check rmdir "$M/e2/empty" "$M/e2"

# Attributes and times.
"$QVL_PYTHON" - "$M" <<'PY' || fail "attributes and times"
import os, sys, time
m = sys.argv[1]
p = os.path.join(m, "t")
open(p, "w").write("abc")
os.chmod(p, 0o640)
os.chown(p, 1234, 5678)
st = os.stat(p)
assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o640, 1234, 5678), st
os.utime(p, ns=(1_000_000_123, 2_000_000_456))
st = os.stat(p)
assert (st.st_atime_ns, st.st_mtime_ns) == (1_000_000_123, 2_000_000_456), st
c0 = st.st_ctime_ns
time.sleep(0.02)
os.chmod(p, 0o600)
st = os.stat(p)
assert st.st_ctime_ns > c0, "ctime unchanged by chmod"
assert st.st_mtime_ns == 2_000_000_456, "chmod moved mtime"
c1 = st.st_ctime_ns
time.sleep(0.02)
with open(p, "r+b") as f:
    f.write(b"x")
st = os.stat(p)
assert st.st_mtime_ns > 2_000_000_456 and st.st_ctime_ns > c1, "write times"
m1 = st.st_mtime_ns
time.sleep(0.02)
os.truncate(p, 1)
st = os.stat(p)
assert st.st_mtime_ns > m1 and st.st_size == 1, "truncate times"
# A directory's mtime moves when names come and go.
d0 = os.stat(m).st_mtime_ns
time.sleep(0.02)
open(os.path.join(m, "t2"), "w").close()
assert os.stat(m).st_mtime_ns > d0, "dir mtime on create"
PY
check touch -d "2001-02-03 04:05:06 UTC" "$M/t"
eq "$(stat -c %Y "$M/t")" 981173106 "touch -d mtime"
[ "$(stat -c %Z "$M/t")" -ge "$(date +%s -d '-60 sec')" ] || fail "touch -d set ctime"

# statfs: Used (size - free) is what the mount stores, small here; free is
# what RAM has left plus the store's free space less 4 MiB for the catalog.
size=$(stat -f -c '%b*%S' "$M" | bc)
free=$(stat -f -c '%a*%S' "$M" | bc)
[ $((size - free)) -lt $((8 << 20)) ] || fail "statfs used $((size - free)) before the 8 MiB"
[ "$(df -B1 --output=used "$M" | tail -1 | tr -d ' ')" -lt $((8 << 20)) ] || fail "df used"
dd if=/dev/urandom of="$M/big" bs=1M count=8 status=none
free=$(stat -f -c '%a*%S' "$M" | bc)
store_free=$(stat -f -c '%a*%S' "$QVL_STORE" | bc)
ram_free=$((free - store_free + (4 << 20)))
# The store's free space moves with everything else on its disk: a margin.
[ "$ram_free" -le $(((56 << 20) + (8 << 20))) ] && [ "$ram_free" -ge $(((50 << 20) - (8 << 20))) ] ||
	fail "statfs free after 8 MiB: RAM part $ram_free"
rm "$M/big"

# Permissions as nobody (the kernel checks them: default_permissions).
chmod 755 "$QVL_TMP" # nobody must reach the mount
NB="setpriv --reuid=65534 --regid=65534 --clear-groups"
mkdir "$M/priv" "$M/pub"; chmod 700 "$M/priv"; chmod 1777 "$M/pub"
echo secret >"$M/secret"; chmod 600 "$M/secret"
echo open >"$M/world"; chmod 644 "$M/world"
eq "$($NB cat "$M/world")" open "nobody reads a 644 file"
expect_errno "Permission denied" $NB cat "$M/secret"
expect_errno "Permission denied" $NB sh -c "echo x >>'$M/world'"
expect_errno "Permission denied" $NB touch "$M/newfile"
expect_errno "Permission denied" $NB ls "$M/priv"
expect_errno "Operation not permitted" $NB chmod 777 "$M/world"
expect_errno "Operation not permitted" $NB chown 65534 "$M/world"
check $NB sh -c "echo mine >'$M/pub/n'"
eq "$(stat -c %u:%g "$M/pub/n")" 65534:65534 "owner of nobody's file"
touch "$M/pub/rootfile"
# sticky directory: not nobody's file to remove
expect_errno "Operation not permitted" $NB rm -f "$M/pub/rootfile"
check $NB rm "$M/pub/n"
# setgid directory: new entries take its group.
mkdir "$M/sg"; chgrp 4321 "$M/sg"; chmod 2775 "$M/sg"
touch "$M/sg/f"; mkdir "$M/sg/d"
eq "$(stat -c %g "$M/sg/f")" 4321 "setgid dir group inherited"
eq "$(stat -c %a "$M/sg/d")" 2755 "setgid passed to subdirectories"

qvl_umount
qvl_done
