#!/bin/bash
# data.sh - file contents: cp/cmp/dd of random data at odd offsets and sizes
# across the 1 MiB chunk boundary (checked again after the page cache is
# dropped, so the bytes come from the daemon); sparse files whose holes cost
# nothing; truncate both ways; fallocate mode 0, PUNCH_HOLE|KEEP_SIZE and
# the modes we refuse; unlinked files that stay usable while open;
# O_APPEND/O_EXCL/O_TRUNC; fsync.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
qvl_require_fuse
qvl_mount ram=256M
M=$QVL_MNT
L=$QVL_TMP/local
mkdir "$L"
MiB=$((1 << 20))

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
# user.qvl.stored is "ram:N,nvme:M"; the nvme part moves with the flusher,
# so the checks below look at the RAM part (and the format).
stored() {
	local v
	v=$(getfattr --absolute-names --only-values -n user.qvl.stored "$1")
	[[ $v =~ ^ram:[0-9]+,nvme:[0-9]+$ ]] || fail "stored of $1: '$v'"
	echo "${v%,nvme:*}"
}

# Random files of awkward sizes, copied in and compared.
for size in 0 1 4095 4097 $((MiB - 1)) $MiB $((MiB + 1)) $((3 * MiB + 12345)); do
	head -c "$size" /dev/urandom >"$L/r$size"
	check cp "$L/r$size" "$M/r$size"
	eq "$(stat -c %s "$M/r$size")" "$size" "size of r$size"
done
# Overwrite at odd offsets straddling chunk boundaries, both copies alike.
f=r$((3 * MiB + 12345))
for spec in "$((MiB - 7)):13" "$((2 * MiB - 4096)):8193" "1:1" \
	    "$((3 * MiB + 12000)):1000" "$((MiB + 333)):$((MiB + 777))"; do
	off=${spec%:*} len=${spec#*:}
	head -c "$len" /dev/urandom >"$L/patch"
	for dst in "$L/$f" "$M/$f"; do
		dd if="$L/patch" of="$dst" bs=1 seek="$off" conv=notrunc \
			iflag=count_bytes oflag=seek_bytes bs=64k status=none ||
			fail "dd to $dst at $off"
	done
done
check cmp "$L/$f" "$M/$f"
# Odd-offset reads match.
for spec in "$((MiB - 1)):2" "12345:$((2 * MiB))" "$((3 * MiB)):99999"; do
	off=${spec%:*} len=${spec#*:}
	a=$(dd if="$L/$f" bs=64k iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none | md5sum)
	b=$(dd if="$M/$f" bs=64k iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none | md5sum)
	eq "$b" "$a" "read at $off+$len"
done
drop_caches
for x in "$L"/r*; do
	check cmp "$x" "$M/$(basename "$x")"
done
eq "$(qvl_json 'j["bytes"]')" "$(du -cb "$L"/r* | tail -1 | cut -f1)" "stats bytes"
eq "$(qvl_json 'j["files"]')" 8 "stats files"

# Sparse files: holes cost nothing.
check truncate -s 100M "$M/sparse"
eq "$(stat -c %b "$M/sparse")" 0 "blocks of a 100 MiB hole"
eq "$(du -k "$M/sparse" | cut -f1)" 0 "du of a hole"
eq "$(stored "$M/sparse")" "ram:0" "stored of a hole"
printf x | dd of="$M/sparse" bs=1 seek=$((50 * MiB + 5)) conv=notrunc status=none
eq "$(stored "$M/sparse")" "ram:$MiB" "one written byte costs one chunk"
eq "$(stat -c %b "$M/sparse")" $((MiB / 512)) "blocks after one byte"
eq "$(dd if="$M/sparse" bs=1 skip=$((50 * MiB + 4)) count=3 status=none | od -An -c | tr -d ' ')" '\0x\0' "byte in a hole"
eq "$(cmp -n $((50 * MiB)) "$M/sparse" /dev/zero 2>&1)" "" "hole reads zeros"

# truncate: shrink inside a chunk, extend again: the cut tail reads zeros.
head -c $((2 * MiB)) /dev/urandom >"$L/t"
cp "$L/t" "$M/t"
check truncate -s $((MiB + 100)) "$M/t"
check truncate -s $((3 * MiB)) "$M/t"
head -c $((MiB + 100)) "$L/t" >"$L/t2"; truncate -s $((3 * MiB)) "$L/t2"
drop_caches
check cmp "$L/t2" "$M/t"
eq "$(stored "$M/t")" "ram:$((2 * MiB))" "stored after shrink+extend"
check truncate -s 0 "$M/t"
eq "$(stored "$M/t"):$(stat -c %s "$M/t")" "ram:0:0" "truncate to 0 frees"

# fallocate: mode 0 reserves and extends; punch keeps the size.
check fallocate -l $((3 * MiB)) "$M/fa"
eq "$(stat -c %s "$M/fa")" $((3 * MiB)) "fallocate size"
eq "$(stored "$M/fa")" "ram:$((3 * MiB))" "fallocate reserves"
check cmp "$M/fa" <(head -c $((3 * MiB)) /dev/zero)
head -c $((3 * MiB)) /dev/urandom >"$L/fa"
cp "$L/fa" "$M/fa"
check fallocate -p -o $((MiB - 10)) -l $((MiB + 20)) "$M/fa"
eq "$(stat -c %s "$M/fa")" $((3 * MiB)) "size kept by punch"
dd if=/dev/zero of="$L/fa" bs=1 seek=$((MiB - 10)) count=$((MiB + 20)) \
	conv=notrunc iflag=count_bytes oflag=seek_bytes bs=64k status=none
drop_caches
check cmp "$L/fa" "$M/fa"
check fallocate -p -o $MiB -l $((2 * MiB)) "$M/fa"
eq "$(stored "$M/fa")" "ram:$MiB" "punched whole chunks are freed"
check fallocate -n -o $((5 * MiB)) -l $MiB "$M/fa"
eq "$(stat -c %s "$M/fa")" $((3 * MiB)) "KEEP_SIZE keeps the size"
expect_errno "Operation not supported" fallocate -z -o 0 -l 4096 "$M/fa"
expect_errno "Operation not supported" fallocate -c -o 0 -l $MiB "$M/fa"
expect_errno "Operation not supported" fallocate -i -o 0 -l $MiB "$M/fa"
eq "$(stat -c %s "$M/fa")" $((3 * MiB)) "refused modes change nothing"

# Unlinked while open: usable through the descriptor, then gone.
f0=$(qvl_json 'j["files"]')
u0=$(qvl_json 'j["tiers"]["ram"]["used"]')
"$QVL_PYTHON" - "$M" <<'PY' || fail "unlink of an open file"
import os, sys
p = os.path.join(sys.argv[1], "ul")
fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
data = os.urandom(3 << 20)
os.write(fd, data)
os.unlink(p)
assert not os.path.exists(p)
assert os.pread(fd, len(data), 0) == data
os.pwrite(fd, b"late", (3 << 20) + 5)
assert os.fstat(fd).st_size == (3 << 20) + 9 and os.fstat(fd).st_nlink == 0
assert os.pread(fd, 9, 3 << 20) == b"\0" * 5 + b"late"
os.close(fd)
PY
for _ in $(seq 50); do
	[ "$(qvl_json 'j["files"]')" = "$f0" ] && break
	sleep 0.1
done
eq "$(qvl_json 'j["files"]')" "$f0" "files after closing an unlinked file"
eq "$(qvl_json 'j["tiers"]["ram"]["used"]')" "$u0" "ram used after closing it"

# Open flags and fsync.
"$QVL_PYTHON" - "$M" <<'PY' || fail "open flags"
import errno, os, sys, time
m = sys.argv[1]
p = os.path.join(m, "of")
fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
os.write(fd, b"0123456789")
try:
    os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    raise SystemExit("O_EXCL on an existing file succeeded")
except FileExistsError:
    pass
a = os.open(p, os.O_WRONLY | os.O_APPEND)
os.lseek(a, 0, os.SEEK_SET)
os.write(a, b"AB")
os.pwrite(fd, b"z", 0)
os.write(a, b"CD")
assert open(p, "rb").read() == b"z123456789ABCD", open(p, "rb").read()
os.fsync(fd); os.fdatasync(a)
dfd = os.open(m, os.O_RDONLY | os.O_DIRECTORY)
os.fsync(dfd); os.close(dfd)
os.close(a); os.close(fd)
m0 = os.stat(p).st_mtime_ns
time.sleep(0.02)
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
st = os.fstat(fd)
assert st.st_size == 0 and st.st_mtime_ns > m0, st
os.close(fd)
assert open(p, "rb").read() == b""
PY

qvl_umount
qvl_done
