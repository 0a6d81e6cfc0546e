#!/usr/bin/python3
"""doc_section.py DOC HEAD TABLE [INTRO] - what the benchmarks' --write-doc
does: section HEAD ("## ...") of DOC becomes HEAD, the text INTRO (if
given) and the contents of file TABLE.  A section with that head is
replaced where it stands (up to the next "## " or the end), so each script
rewrites only its own; otherwise the section is appended.  DOC is read
right before it is written."""
import os, re, sys

doc, head, table = sys.argv[1:4]
intro = sys.argv[4] if len(sys.argv) > 4 else ""
sec = head + "\n\n" + (intro.rstrip("\n") + "\n\n" if intro else "")
sec += open(table).read().rstrip("\n") + "\n"
text = open(doc).read() if os.path.exists(doc) else (
    "# Benchmarks\n\nNumbers measured on the machines named in each section; "
    "every section says the command that produced it.\n")
m = re.search(r"^" + re.escape(head) + r"\n.*?(?=^## |\Z)", text, re.S | re.M)
if m:
    rest = text[m.end():]
    text = text[:m.start()] + sec + ("\n" if rest else "") + rest
else:
    text = text.rstrip("\n") + "\n\n" + sec
open(doc, "w").write(text)
