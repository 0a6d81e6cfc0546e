#!/usr/bin/python3
"""sqlite_fsync.py [--prefill N] DIR_A DIR_B - 300 autocommit inserts
(journal_mode=delete, synchronous=full) in a fresh database in DIR_A (the
store's own filesystem) and in DIR_B (the mount); prints both times and the
ratio.  --prefill N first fills the table with N rows of 120 random hex
characters in one transaction (untimed): N=20000 makes a 2.7 MB database,
whose inserts change pages spread over three 1 MiB chunks."""
import sqlite3, sys, time, os
def run(d, prefill, n=300):
    p = os.path.join(d, "bench.db")
    for f in (p, p + "-journal"):
        if os.path.exists(f): os.unlink(f)
    c = sqlite3.connect(p, isolation_level=None)
    c.execute("pragma journal_mode=delete"); c.execute("pragma synchronous=full")
    c.execute("create table t (k integer primary key, v text)")
    if prefill:
        c.execute("begin")
        for i in range(prefill):
            c.execute("insert into t (v) values (?)", (os.urandom(60).hex(),))
        c.execute("commit")
    t = time.time()
    for i in range(n):
        c.execute("insert into t (v) values (?)", ("x" * 100,))
    dt = time.time() - t
    c.close()
    return dt, os.path.getsize(p)
args = sys.argv[1:]
prefill = 0
if args[:1] == ["--prefill"]:
    prefill = int(args[1]); args = args[2:]
(a, _), (b, size) = run(args[0], prefill), run(args[1], prefill)
print("store fs %.3f s, mount %.3f s, ratio %.2f (database %d bytes)"
      % (a, b, b / a, size))
