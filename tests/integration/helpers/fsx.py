#!/usr/bin/python3
"""fsx.py - a random-operation checker, in the spirit of fsx.

    fsx.py DIR WORKERS OPS SEED [MAXLEN]

WORKERS processes each own one file in DIR and a shadow copy of it in
memory.  Each does OPS random operations: write, read, mmap write, mmap
read, truncate up and down, punch a hole, fallocate, close and reopen,
fsync; every read (and every few operations, the whole file) is compared
with the shadow.  A mover process flips the files between tiers meanwhile
(user.qvl.tier nvme/ram, advice dontneed/willneed).  On a mismatch a worker
prints its seed, the offset and the last operations, so the run can be
replayed with the same SEED.  With a FILE of saved shadows (state mode) the
shadows are written out (--save) or checked against the files (--check), for
a remount in the middle.  Exit status 0: no mismatch.
"""
import ctypes
import mmap
import os
import random
import sys
import time

FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def punch(fd, off, n):
    if libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, n):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Worker:
    def __init__(self, path, seed, maxlen):
        self.path, self.rng, self.maxlen = path, random.Random(seed), maxlen
        self.seed = seed
        self.shadow = bytearray()
        self.log = []
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self.fd).st_size:
            self.shadow = bytearray(os.pread(self.fd, os.fstat(self.fd).st_size, 0))

    def fail(self, what):
        print("MISMATCH seed=%d file=%s: %s" % (self.seed, self.path, what))
        print("last operations:")
        for op in self.log[-12:]:
            print("   ", op)
        sys.exit(1)

    def pick(self):
        size = len(self.shadow)
        off = self.rng.randrange(0, max(1, min(self.maxlen, size + 65536)))
        n = self.rng.choice((1, 17, 512, 4096, 65536 - 3, 65536, 200000, 1 << 20))
        return off, min(n, self.maxlen - off) if off < self.maxlen else 1

    def check_range(self, off, n, got, how):
        want = bytes(self.shadow[off:off + n])
        if got != want:
            i = next(i for i in range(min(len(got), len(want)) + 1)
                     if i >= len(got) or i >= len(want) or got[i] != want[i])
            self.fail("%s at %d+%d: differs at byte %d (got %d bytes, want %d)"
                      % (how, off, n, off + i, len(got), len(want)))

    def step(self):
        r = self.rng.random()
        size = len(self.shadow)
        off, n = self.pick()
        if r < 0.30:
            data = self.rng.randbytes(n) if self.rng.random() < 0.7 else bytes(n)
            self.log.append(("write", off, n))
            os.pwrite(self.fd, data, off)
            if off > size:
                self.shadow.extend(bytes(off - size))
            self.shadow[off:off + n] = data
        elif r < 0.50:
            self.log.append(("read", off, n))
            self.check_range(off, n, os.pread(self.fd, n, off), "read")
        elif r < 0.58 and size:
            off %= size
            n = min(n, size - off)
            self.log.append(("mmap write", off, n))
            data = self.rng.randbytes(n)
            with mmap.mmap(self.fd, size) as m:
                m[off:off + n] = data
            self.shadow[off:off + n] = data
        elif r < 0.66 and size:
            off %= size
            n = min(n, size - off)
            self.log.append(("mmap read", off, n))
            with mmap.mmap(self.fd, size, prot=mmap.PROT_READ) as m:
                got = m[off:off + n]
            self.check_range(off, n, got, "mmap read")
        elif r < 0.74:
            new = self.rng.randrange(0, self.maxlen)
            self.log.append(("truncate", new))
            os.ftruncate(self.fd, new)
            if new < size:
                del self.shadow[new:]
            else:
                self.shadow.extend(bytes(new - size))
        elif r < 0.80 and size:
            off %= size
            n = min(n, size - off)
            self.log.append(("punch", off, n))
            punch(self.fd, off, n)
            self.shadow[off:off + n] = bytes(n)
        elif r < 0.84:
            self.log.append(("fallocate", off, n))
            try:
                os.posix_fallocate(self.fd, off, n)
            except OSError:
                return  # no room: nothing changed
            if off + n > size:
                self.shadow.extend(bytes(off + n - size))
        elif r < 0.90:
            self.log.append(("reopen",))
            os.close(self.fd)
            self.fd = os.open(self.path, os.O_RDWR)
        elif r < 0.93:
            self.log.append(("fsync",))
            os.fsync(self.fd)
        else:
            self.log.append(("check whole",))
            st = os.fstat(self.fd).st_size
            if st != len(self.shadow):
                self.fail("size %d, want %d" % (st, len(self.shadow)))
            self.check_range(0, st, os.pread(self.fd, st, 0), "whole read")

    def whole(self):
        st = os.fstat(self.fd).st_size
        if st != len(self.shadow):
            self.fail("size %d, want %d" % (st, len(self.shadow)))
        self.check_range(0, st, os.pread(self.fd, st, 0), "final read")


def mover(paths, seed, stop_at):
    rng = random.Random(seed)
    while time.time() < stop_at:
        p = rng.choice(paths)
        try:
            if rng.random() < 0.5:
                os.setxattr(p, "user.qvl.tier", rng.choice((b"nvme", b"ram")))
            else:
                os.setxattr(p, "user.qvl.advice", rng.choice((b"dontneed", b"willneed")))
        except OSError:
            pass  # ENOSPC for tier=ram on a tiny budget: a hint
        time.sleep(0.01)


def main():
    d, workers, ops, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    maxlen = int(sys.argv[5]) if len(sys.argv) > 5 else 4 << 20
    paths = [os.path.join(d, "fsx.%d" % i) for i in range(workers)]
    for p in paths:
        open(p, "ab").close()
    mpid = os.fork()
    if mpid == 0:
        mover(paths, seed + 1000, time.time() + 3600)
        os._exit(0)
    pids = []
    for i, p in enumerate(paths):
        pid = os.fork()
        if pid == 0:
            w = Worker(p, seed + i, maxlen)
            try:
                for _ in range(ops):
                    w.step()
                w.whole()
            except SystemExit as e:
                os._exit(e.code or 0)
            except Exception as e:  # an unexpected errno is a failure too
                print("seed=%d file=%s: %r after %s" % (w.seed, p, e, w.log[-3:]))
                os._exit(1)
            os._exit(0)
        pids.append(pid)
    bad = 0
    for pid in pids:
        _, st = os.waitpid(pid, 0)
        bad |= st != 0
    os.kill(mpid, 9)
    os.waitpid(mpid, 0)
    print("%d workers x %d operations, seed %d: %s"
          % (workers, ops, seed, "MISMATCH" if bad else "all reads matched"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
