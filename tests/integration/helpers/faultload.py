#!/usr/bin/env python3
"""faultload.py - the workload of fault_sweep.sh, in three phases.

  faultload.py prep   MNT STATE   write and fsync 'base' (a mount without faults)
  faultload.py work   MNT STATE   write, fsync, read back under injected faults
  faultload.py verify MNT STATE [--all]
                                  after a remount without faults: every byte
                                  that was fsync'ed is there (--all: every byte
                                  whose write succeeded, for a daemon that
                                  exited 0 and so wrote everything back),
                                  and the rest holds its own bytes or zeros

The contents are a pure function of the file's name, so verify needs no
copy: half of each 64 KiB block is random (stored raw), half is bf16-like
(coded by the float codec), so both frame kinds meet the faults.  In the
work phase an operation may fail only with EIO or ENOSPC; a read that
succeeds must return the right bytes.  STATE (JSON) records what each file
reached: "written" (every write succeeded) and "durable" (fsync too).
Exit 0 when every rule held, 1 with a line per violation.
"""
import errno
import json
import os
import random
import struct
import sys

BLOCK = 64 << 10
ALLOWED = (errno.EIO, errno.ENOSPC)
WORK_FILES = 4
WORK_SIZE = 1536 << 10


def content(name, size):
    rng = random.Random(name)
    out = bytearray()
    while len(out) < size:
        out += rng.randbytes(BLOCK // 2)
        # bf16 around 0.02: sign, exponent near 121, random mantissa
        vals = [(rng.getrandbits(1) << 15) | ((119 + rng.getrandbits(3)) << 7)
                | rng.getrandbits(7) for _ in range(BLOCK // 4)]
        out += struct.pack("<%dH" % len(vals), *vals)
    return bytes(out[:size])


def drop_cache(fd):
    # Reads must reach the daemon, not this kernel's copy of the file.
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def write_file(path, data, problems):
    """Write @data in 256 KiB calls and fsync: returns (written, durable)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as e:
        return note(e, "open " + path, problems), False
    written = True
    for off in range(0, len(data), 256 << 10):
        try:
            n = os.pwrite(fd, data[off:off + (256 << 10)], off)
            if n != min(256 << 10, len(data) - off):
                written = False  # POSIX allows it before an ENOSPC
        except OSError as e:
            written = note(e, "write %s at %d" % (path, off), problems)
    durable = False
    try:
        os.fsync(fd)
        durable = written
    except OSError as e:
        note(e, "fsync " + path, problems)
    try:
        os.close(fd)
    except OSError as e:
        note(e, "close " + path, problems)
    return written, durable


def note(e, what, problems):
    """An error the rules allow is fine (returns False); others are listed."""
    if e.errno not in ALLOWED:
        problems.append("%s: %s (only EIO or ENOSPC may come)" % (what, e))
    return False


def read_check(path, want, problems, errors_ok):
    """Read @path through the daemon; wrong bytes are always a violation."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        if errors_ok:
            return note(e, "open " + path, problems)
        problems.append("open %s: %s" % (path, e))
        return False
    try:
        drop_cache(fd)
        got = bytearray()
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            got += b
    except OSError as e:
        if errors_ok:
            return note(e, "read " + path, problems)
        problems.append("read %s: %s" % (path, e))
        return False
    finally:
        os.close(fd)
    if bytes(got) != want:
        bad = next((i for i in range(min(len(got), len(want)))
                    if got[i] != want[i]), min(len(got), len(want)))
        problems.append("%s: wrong bytes from offset %d (size %d, want %d)"
                        % (path, bad, len(got), len(want)))
        return False
    return True


def loose_check(path, want, problems):
    """@path holds a prefix of @want's blocks, each its own bytes or zeros."""
    try:
        with open(path, "rb") as f:
            got = f.read()
    except OSError as e:
        problems.append("read %s after remount: %s" % (path, e))
        return
    if len(got) > len(want):
        problems.append("%s: %d bytes, more than ever written" % (path, len(got)))
    zero = bytes(4096)
    for off in range(0, len(got), 4096):
        g = got[off:off + 4096]
        if g != want[off:off + len(g)] and g != zero[:len(g)]:
            problems.append("%s: bytes never written at %d" % (path, off))
            return


def main():
    phase, mnt, state_path = sys.argv[1], sys.argv[2], sys.argv[3]
    problems = []
    base = os.path.join(mnt, "base")
    base_data = content("base", 1 << 20)
    if phase == "prep":
        w, d = write_file(base, base_data, problems)
        if not d:
            problems.append("base: not durable in a mount without faults")
        json.dump({"files": {}}, open(state_path, "w"))
    elif phase == "work":
        state = {"files": {}}
        for i in range(WORK_FILES):
            name = "w%d" % i
            data = content(name, WORK_SIZE)
            w, d = write_file(os.path.join(mnt, name), data, problems)
            state["files"][name] = {"written": w, "durable": d}
            # Evicted by now (the budget is small): these reads fetch.
            read_check(base, base_data, problems, True)
            if w:
                read_check(os.path.join(mnt, name), data, problems, True)
        json.dump(state, open(state_path, "w"))
    elif phase == "verify":
        state = json.load(open(state_path))
        strict = "--all" in sys.argv[4:]
        read_check(base, base_data, problems, False)
        for name, st in sorted(state["files"].items()):
            path = os.path.join(mnt, name)
            if st["durable"] or (strict and st["written"]):
                read_check(path, content(name, WORK_SIZE), problems, False)
            elif os.path.exists(path):
                # Not promised, but it must read without error (the
                # integrity check) and hold only its own bytes or zeros.
                loose_check(path, content(name, WORK_SIZE), problems)
    else:
        sys.exit("usage: faultload.py prep|work|verify MNT STATE [--all]")
    for p in problems:
        print(phase + ": " + p)
    sys.exit(1 if problems else 0)

if __name__ == "__main__":
    main()
