#!/usr/bin/env python3
"""powercut.py - simulated power cuts from a log of the store's changes.

  powercut.py work MNT LOG SEED [STEPS]
      a mixed workload in the mount: files written and fsync'ed (each then
      promised, with a marker in LOG), scratch files overwritten, cut,
      renamed, unlinked, directories, xattrs.  The daemon logs its store
      changes to the same LOG (QVL_RECORD, tiers/qvl_record.h).
  powercut.py sim INITIAL LOG CHECK WORK [--states N] [--seed S]
      builds crash states from LOG over INITIAL (the store as it was when
      the log began), mounts each with CHECK (tests/tools/crash_check.c,
      in-process) and checks it.

The crash model is that of a journaling filesystem (ext4 data=ordered, as
ALICE models it): a file's written bytes are durable once that file is
synced; creations, deletions and truncations reach the disk in order, each
by the next sync of anything.  A crash between two syncs keeps what was
durable at the first and any part of the rest: the states built for each
window between syncs are
  all      every change before the second sync (a killed process),
  durable  only what was durable (every unsynced write lost),
  mixed    each unsynced write kept or lost at random, namespace changes
           in the window cut at a random point (two per window),
  torn     all, but one unsynced write only partly on the disk.
Each state must mount (a refusal counts as a violation) with no damaged
rows (it would mount read-only), every promise
made before the window closed must read back byte for byte, and every
4 KiB block of every file must be zeros or a block the workload wrote to
that file (its header names file and block), never bytes from elsewhere.
A violation prints the state, the window, and the changes that led to it.
"""
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys

BLK = 4096
HDR = struct.Struct("<4s40sII")


# ---- the workload's blocks ------------------------------------------------

def block(name, version, idx):
    """4 KiB that name themselves: a header, then a compressible pattern."""
    seed = hashlib.sha1(("%s|%d|%d" % (name, version, idx)).encode()).digest()
    h = HDR.pack(b"QVLB", name.encode()[:40], version, idx)
    body = (seed * (BLK // len(seed) + 1))[:BLK - len(h)]
    return h + body


def check_block(data, idx, names):
    """None when @data is zeros or a block written to one of @names at @idx."""
    if data.count(0) == len(data):
        return None
    if len(data) < HDR.size:
        return "a %d-byte tail that is not a block" % len(data)
    magic, name, version, bidx = HDR.unpack_from(data)
    name = name.rstrip(b"\0").decode(errors="replace")
    if magic != b"QVLB":
        return "not a block of the workload"
    if name not in names or bidx != idx:
        return "block %d of %s at block %d of one of %s" % (bidx, name, idx,
                                                            sorted(names))
    if data != block(name, version, idx)[:len(data)]:
        return "a damaged block (%s v%d #%d)" % (name, version, idx)
    return None


def marker(logfd, text):
    t = text.encode()
    os.write(logfd, struct.pack("<B3xIQQ", ord("M"), len(t), 0, 0) + t)


def work(mnt, log, seed, steps):
    rng = random.Random(seed)
    logfd = os.open(log, os.O_WRONLY | os.O_APPEND)
    version = {}
    scratch = []
    os.mkdir(os.path.join(mnt, "d"))
    for step in range(steps):
        r = rng.random()
        if r < 0.35:
            # A promised file: written whole, fsync'ed, never touched again.
            name = ("d/p%d" if rng.random() < 0.3 else "p%d") % step
            nblk = rng.choice([1, 3, 16, 17, 40])
            data = b"".join(block(name, 1, i) for i in range(nblk))
            with open(os.path.join(mnt, name), "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            marker(logfd, "P %s %s %d" % (name, hashlib.sha1(data).hexdigest(),
                                          len(data)))
        elif r < 0.75 or not scratch:
            name = "s%d" % rng.randrange(8)
            v = version.get(name, 0) + 1
            version[name] = v
            if name not in scratch:
                scratch.append(name)
            path = os.path.join(mnt, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            first = rng.randrange(24)
            for i in range(first, first + rng.randrange(1, 24)):
                os.pwrite(fd, block(name, v, i), i * BLK)
            if rng.random() < 0.2:
                os.ftruncate(fd, rng.randrange(30) * BLK)
            if rng.random() < 0.2:
                os.fsync(fd)
            os.close(fd)
        elif r < 0.85:
            old = rng.choice(scratch)
            new = "s%d" % rng.randrange(8)
            os.rename(os.path.join(mnt, old), os.path.join(mnt, new))
            scratch.remove(old)
            if new not in scratch:
                scratch.append(new)
            marker(logfd, "A %s %s" % (new, old))
        elif r < 0.92:
            name = scratch.pop(rng.randrange(len(scratch)))
            os.unlink(os.path.join(mnt, name))
        else:
            name = rng.choice(scratch)
            os.setxattr(os.path.join(mnt, name), "user.step", str(step).encode())
        if rng.random() < 0.05:
            os.sync()  # the flusher's durable commits, and a checkpoint now and then
    os.close(logfd)


# ---- the log and the states -----------------------------------------------

META = set("CDUT")


def read_log(path):
    ops = []
    with open(path, "rb") as f:
        raw = f.read()
    pos = 0
    while pos + 24 <= len(raw):
        kind, plen, a, b = struct.unpack_from("<B3xIQQ", raw, pos)
        pos += 24
        p = raw[pos:pos + plen].decode()
        pos += plen
        data = None
        if kind == ord("W"):
            data = raw[pos:pos + b]
            pos += b
        ops.append((chr(kind), p, a, b, data))
    if pos != len(raw):
        sys.exit("powercut: the log ends in a partial record at %d" % pos)
    return ops


def apply(root, op, torn=None):
    kind, p, a, b, data = op
    path = os.path.join(root, p)
    if kind == "W":
        if not os.path.exists(path):
            return  # its creation never reached the disk
        if torn is not None:
            data = data[:torn]
        with open(path, "r+b") as f:
            f.seek(a)
            f.write(data)
    elif kind == "C":
        if not os.path.exists(path):
            open(path, "wb").close()
    elif kind == "D":
        os.makedirs(path, exist_ok=True)
    elif kind == "U":
        if os.path.exists(path):
            os.unlink(path)
    elif kind == "T":
        if os.path.exists(path):
            os.truncate(path, a)
    elif kind == "P":
        if os.path.exists(path):
            size = os.path.getsize(path)
            end = min(a + b, size)
            if end > a:
                with open(path, "r+b") as f:
                    f.seek(a)
                    f.write(bytes(end - a))


def windows(ops):
    """(start, end): ops[start] is a sync (or -1), ops[end] the next (or len)."""
    syncs = [i for i, op in enumerate(ops) if op[0] == "S"]
    bounds = [-1] + syncs + [len(ops)]
    return list(zip(bounds[:-1], bounds[1:]))


def split(ops, start, end):
    """Indexes of ops before @end: durable at @start, and the rest."""
    last_sync = {}
    for i in range(0, start + 1):
        if ops[i][0] == "S":
            last_sync[ops[i][1]] = i
    durable, pending = [], []
    for i in range(end):
        kind, p = ops[i][0], ops[i][1]
        if kind in "SM":
            continue
        if i <= start and (kind in META or last_sync.get(p, -1) >= i):
            durable.append(i)
        else:
            pending.append(i)
    return durable, pending


def states(ops, rng):
    for w, (start, end) in enumerate(windows(ops)):
        durable, pending = split(ops, start, end)
        yield w, start, end, "all", durable + pending, None
        yield w, start, end, "durable", durable, None
        meta_in_window = [i for i in pending if ops[i][0] in META]
        for k in range(2):
            cut = rng.randint(0, len(meta_in_window))
            keep_meta = set(meta_in_window[:cut])
            chosen = [i for i in pending
                      if ((i in keep_meta) if ops[i][0] in META
                          else rng.random() < 0.5)]
            yield w, start, end, "mixed%d" % k, sorted(durable + chosen), None
        writes = [i for i in pending if ops[i][0] == "W" and ops[i][3] > 512]
        if writes:
            t = rng.choice(writes)
            cut = rng.randrange(1, ops[t][3] // 512) * 512
            yield w, start, end, "torn", durable + pending, (t, cut)


def promises(ops, end):
    out = {}
    for i in range(end):
        if ops[i][0] == "M" and ops[i][1].startswith("P "):
            _, name, sha, size = ops[i][1].split()
            out[name] = (sha, int(size))
    return out


def aliases(ops):
    """Every name whose blocks a path may hold (renames, transitively)."""
    al = {}
    for op in ops:
        if op[0] == "M" and op[1].startswith("A "):
            _, new, old = op[1].split()
            al.setdefault(new, set()).add(old)
    def closure(name):
        seen, todo = {name}, [name]
        while todo:
            for o in al.get(todo.pop(), ()):
                if o not in seen:
                    seen.add(o)
                    todo.append(o)
        return seen
    return closure


def check_state(ops, st, check, work_dir, initial, closure):
    w, start, end, kind, chosen, torn = st
    root = os.path.join(work_dir, "state")
    out = os.path.join(work_dir, "out")
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(initial, root)
    os.mkdir(out)
    for i in sorted(chosen):
        apply(root, ops[i], torn[1] if torn and torn[0] == i else None)
    for f in ("catalog.db-shm", "lock"):
        if os.path.exists(os.path.join(root, f)):
            os.unlink(os.path.join(root, f))
    r = subprocess.run([check, root, "16", out], capture_output=True, text=True)
    bad = []
    if r.returncode == 2:
        return ["refused: " + r.stdout.strip()], 0
    if r.returncode != 0:
        return ["checker failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr)], 0
    files, eio = {}, 0
    for line in r.stdout.splitlines():
        f = line.split()
        if f[0] == "F":
            files[f[1]] = int(f[2])
        elif f[0] == "E":
            files[f[1]] = None
            eio += 1
        elif f[0] == "dangling" and f[1] != "0":
            # A power cut is no damage: a store that mounts read-only
            # after one would ask every user for a repair.
            bad.append("%s damaged rows after the cut" % f[1])
    for name, (sha, size) in promises(ops, end).items():
        got = files.get(name, "missing")
        if got is None or got == "missing":
            bad.append("promised %s is %s" % (name, "unreadable" if got is None else got))
            continue
        data = open(os.path.join(out, name.replace("/", "#")), "rb").read()
        if hashlib.sha1(data).hexdigest() != sha:
            bad.append("promised %s differs (size %d, want %d)" % (name, len(data), size))
    for name, size in files.items():
        if size is None:
            continue
        data = open(os.path.join(out, name.replace("/", "#")), "rb").read()
        names = closure(name)
        for off in range(0, len(data), BLK):
            why = check_block(data[off:off + BLK], off // BLK, names)
            if why:
                bad.append("%s holds %s at %d" % (name, why, off))
                break
    return bad, eio


def describe(ops, st):
    w, start, end, kind, chosen, torn = st
    lines = ["state %s of window %d (ops %d..%d)%s" % (
        kind, w, start, end, " torn op %d at %d bytes" % torn if torn else "")]
    for i in range(max(0, end - 12), end):
        k, p, a, b, _ = ops[i]
        lines.append("  %s op %5d %s %-28s %d %d" % (
            "+" if i in chosen else "-", i, k, p, a, b))
    return "\n".join(lines)


def sim(initial, log, check, work_dir, limit, seed):
    ops = read_log(log)
    rng = random.Random(seed)
    closure = aliases(ops)
    all_states = list(states(ops, rng))
    if limit and limit < len(all_states):
        # An even spread over the run, each kind represented.
        step = len(all_states) / limit
        all_states = [all_states[int(i * step)] for i in range(limit)]
    violations = eio_total = 0
    for st in all_states:
        bad, eio = check_state(ops, st, check, work_dir, initial, closure)
        eio_total += eio
        if bad:
            violations += 1
            print("VIOLATION: " + "; ".join(bad[:3]))
            print(describe(ops, st))
            if violations >= 5:
                break
    syncs = sum(1 for op in ops if op[0] == "S")
    npromise = sum(1 for op in ops if op[0] == "M" and op[1].startswith("P "))
    print("power cuts: %d ops (%d syncs, %d promises), %d crash states, "
          "%d violations, %d unreadable unpromised files"
          % (len(ops), syncs, npromise, len(all_states), violations, eio_total))
    return 1 if violations else 0


def main():
    a = sys.argv[1:]
    if a and a[0] == "work" and len(a) in (4, 5):
        work(a[1], a[2], int(a[3]), int(a[4]) if len(a) == 5 else 90)
        return 0
    if a and a[0] == "sim" and len(a) >= 5:
        limit = int(a[a.index("--states") + 1]) if "--states" in a else 0
        seed = int(a[a.index("--seed") + 1]) if "--seed" in a else 1
        return sim(a[1], a[2], a[3], a[4], limit, seed)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
