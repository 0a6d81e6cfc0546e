#!/usr/bin/env python3
"""promparse.py - a strict parser of the Prometheus text exposition format
0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).

    promparse.py FILE [SERIES...]

Checks FILE and exits 1 naming every problem, else prints the value of
each SERIES (name{label="value",...}, labels in any order; "-" if absent)
one a line and exits 0.  Stricter than Prometheus where the project asks
more: every family has exactly one HELP and one TYPE line, both before its
samples; a family's samples are one group; no series twice; counters end
in _total and are not negative; histograms have _bucket lines with le
ascending, counts cumulative, the last le="+Inf" and equal to _count, and
a _sum; the text ends in a newline.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
FLOAT = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Inf|NaN)\Z")


class Error(Exception):
    pass


def parse_float(s, what):
    if not FLOAT.match(s):
        raise Error("%s: not a float: %r" % (what, s))
    return float(s)


def parse_labels(s, i, lineno):
    """Labels from s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(s, i)
        if not m:
            raise Error("line %d: bad label name at %r" % (lineno, s[i:]))
        name = m.group(0)
        if name.startswith("__"):
            raise Error("line %d: reserved label name %s" % (lineno, name))
        if name in labels:
            raise Error("line %d: label %s twice" % (lineno, name))
        i = m.end()
        if s[i:i + 2] != '="':
            raise Error("line %d: label %s: expected =\"" % (lineno, name))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Error("line %d: unterminated label value" % lineno)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise Error("line %d: bad escape \\%s" % (lineno, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Error("line %d: newline in label value" % lineno)
            else:
                val.append(c)
                i += 1
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
        elif i < len(s) and s[i] == "}":
            pass
        else:
            raise Error("line %d: expected , or } after label %s" % (lineno, name))


def family_of(name, types):
    """The family a sample name belongs to (histogram/summary suffixes)."""
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf):
            base = name[: -len(suf)]
            if types.get(base) == "histogram" or (
                    suf != "_bucket" and types.get(base) == "summary"):
                return base
    return name


def parse(text):
    """Returns {family: {"type", "help", "samples": [(name, labels, value)]}}."""
    if not text.endswith("\n"):
        raise Error("the text does not end in a newline")
    fams, types, helps, seen, order = {}, {}, {}, set(), []
    done = set()  # families whose group of samples has ended
    current = None
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not NAME.match(parts[2]):
                    raise Error("line %d: bad metric name in %s" % (lineno, parts[1]))
                name = parts[2]
                if name in done or name == current:
                    raise Error("line %d: %s of %s after its samples" % (lineno, parts[1], name))
                if parts[1] == "HELP":
                    if name in helps:
                        raise Error("line %d: second HELP for %s" % (lineno, name))
                    doc = parts[3] if len(parts) > 3 else ""
                    if re.search(r"\\[^\\n]", doc.replace("\\\\", "")):
                        raise Error("line %d: bad escape in HELP" % lineno)
                    helps[name] = doc
                else:
                    if name in types:
                        raise Error("line %d: second TYPE for %s" % (lineno, name))
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise Error("line %d: bad TYPE line" % lineno)
                    types[name] = parts[3]
            continue
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
        if not m:
            raise Error("line %d: bad metric name: %r" % (lineno, line))
        name, i = m.group(0), m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, lineno)
        rest = line[i:]
        if not rest.startswith(" "):
            raise Error("line %d: expected a space before the value" % lineno)
        fields = rest.split()
        if len(fields) not in (1, 2):
            raise Error("line %d: expected value [timestamp]" % lineno)
        value = parse_float(fields[0], "line %d" % lineno)
        if len(fields) == 2 and not re.match(r"-?\d+\Z", fields[1]):
            raise Error("line %d: bad timestamp" % lineno)
        fam = family_of(name, types)
        if fam not in types or fam not in helps:
            raise Error("line %d: %s has no TYPE and HELP before it" % (lineno, name))
        if fam in done:
            raise Error("line %d: samples of %s are not one group" % (lineno, fam))
        if current is not None and fam != current:
            done.add(current)
        current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise Error("line %d: series twice: %s%s" % (lineno, name, labels))
        seen.add(key)
        t = types[fam]
        if t == "counter":
            if not name.endswith("_total"):
                raise Error("line %d: counter %s does not end in _total" % (lineno, name))
            if not value >= 0:
                raise Error("line %d: counter %s is %r" % (lineno, name, value))
        if "le" in labels and not (t == "histogram" and name == fam + "_bucket"):
            raise Error("line %d: le label outside a histogram bucket" % lineno)
        if t == "histogram" and name == fam:
            raise Error("line %d: histogram sample without a suffix" % lineno)
        if fam not in fams:
            fams[fam] = {"type": t, "help": helps[fam], "samples": []}
            order.append(fam)
        fams[fam]["samples"].append((name, labels, value))
    for fam, f in fams.items():
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"])
    return fams


def check_histogram(fam, samples):
    groups = {}
    for name, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if name == fam + "_bucket":
            if "le" not in labels:
                raise Error("%s: bucket without le" % fam)
            g["buckets"].append((parse_float(labels["le"], fam + " le"), value))
        elif name == fam + "_sum":
            g["sum"] = value
        elif name == fam + "_count":
            g["count"] = value
    for rest, g in groups.items():
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            raise Error("%s%s: the last bucket is not le=\"+Inf\"" % (fam, dict(rest)))
        for (le0, n0), (le1, n1) in zip(b, b[1:]):
            if not le1 > le0:
                raise Error("%s%s: le not ascending" % (fam, dict(rest)))
            if n1 < n0:
                raise Error("%s%s: buckets not cumulative" % (fam, dict(rest)))
        if g["count"] is None or g["sum"] is None:
            raise Error("%s%s: no _count or _sum" % (fam, dict(rest)))
        if g["count"] != b[-1][1]:
            raise Error("%s%s: _count %r != +Inf bucket %r" % (fam, dict(rest), g["count"], b[-1][1]))


def lookup(fams, series):
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\Z", series)
    if not m:
        raise Error("bad series %r" % series)
    want = parse_labels(m.group(2), 0, 0)[0] if m.group(2) else {}
    for f in fams.values():
        for name, labels, value in f["samples"]:
            if name == m.group(1) and labels == want:
                return value
    return None


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        fams = parse(text)
        for s in sys.argv[2:]:
            v = lookup(fams, s)
            print("-" if v is None else ("%d" % v if v == int(v) else repr(v)))
    except Error as e:
        print("promparse: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
