#!/usr/bin/python3
"""fsync_latency.py DIR - median and p90 latency of small-file operations in
DIR (a mount, or a plain directory to compare): a 4 KiB pwrite, the same
followed by fdatasync, fdatasync with nothing dirty, a journal-like create +
write + fdatasync + unlink, fsync of the directory, stat.  200 of each."""
import os, sys, time
d = sys.argv[1]
def t(label, fn, n=200):
    ts = []
    for i in range(n):
        t0 = time.perf_counter(); fn(i); ts.append(time.perf_counter() - t0)
    ts.sort(); print("%-28s median %7.1f us  p90 %7.1f us" % (label, ts[n//2]*1e6, ts[n*9//10]*1e6))
p = os.path.join(d, "f.db"); fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b"x" * 65536, 0); os.fsync(fd)
t("pwrite 4K", lambda i: os.pwrite(fd, b"y" * 4096, (i % 16) * 4096))
t("pwrite 4K + fdatasync", lambda i: (os.pwrite(fd, b"z" * 4096, (i % 16) * 4096), os.fdatasync(fd)))
t("fdatasync clean", lambda i: os.fdatasync(fd))
def jr(i):
    j = os.path.join(d, "f.db-journal"); f = os.open(j, os.O_RDWR | os.O_CREAT, 0o644)
    os.pwrite(f, b"j" * 512, 0); os.pwrite(f, b"k" * 4096, 512); os.fdatasync(f); os.close(f); os.unlink(j)
t("journal create+write+sync+unlink", jr)
dfd = os.open(d, os.O_RDONLY)
t("fsync dir", lambda i: os.fsync(dfd))
t("stat", lambda i: os.stat(p))
