#!/usr/bin/python3
"""sqlite_fsync.py DIR_A DIR_B - 300 autocommit inserts (journal_mode=delete,
synchronous=full) in a fresh database in DIR_A (the store's own filesystem)
and in DIR_B (the mount); prints both times and the ratio."""
import sqlite3, sys, time, os
def run(d, n=300):
    p = os.path.join(d, "bench.db")
    for f in (p, p + "-journal"):
        if os.path.exists(f): os.unlink(f)
    c = sqlite3.connect(p, isolation_level=None)
    c.execute("pragma journal_mode=delete"); c.execute("pragma synchronous=full")
    c.execute("create table t (k integer primary key, v text)")
    t = time.time()
    for i in range(n):
        c.execute("insert into t (v) values (?)", ("x" * 100,))
    dt = time.time() - t
    c.close()
    return dt
a = run(sys.argv[1]); b = run(sys.argv[2])
print("store fs %.3f s, mount %.3f s, ratio %.2f" % (a, b, b / a))
