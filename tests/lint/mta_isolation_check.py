#!/usr/bin/env python3
"""The MTA-module measure of docs/adding-an-mta.md: outside exporter/mta/<name>/, at most two
source files (the registry) name an MTA in code. Comments and string literals do not count
(metric names, help texts and default paths are strings). Also lists where each name occurs.

  mta_isolation_check.py EXPORTER_DIR
"""
import os
import re
import sys

MAX_FILES = 2


def strip_comments_and_strings(text):
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            i = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""')
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            out.append('""')
        elif c == "#" and re.match(r"#\s*include", text[i:i + 20]):
            j = text.find("\n", i)
            out.append(text[i:n if j < 0 else j])  # include paths are code: they name files
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def main():
    root = sys.argv[1]
    mta_dir = os.path.join(root, "mta")
    mtas = sorted(d for d in os.listdir(mta_dir) if os.path.isdir(os.path.join(mta_dir, d)))
    status = 0
    for mta in mtas:
        pattern = re.compile(mta, re.IGNORECASE)
        naming = {}
        for dirpath, _, files in os.walk(root):
            rel_dir = os.path.relpath(dirpath, root)
            if rel_dir == os.path.join("mta", mta) or rel_dir.startswith(os.path.join("mta", mta) + os.sep):
                continue
            for f in files:
                if not f.endswith((".cc", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    code = strip_comments_and_strings(fh.read())
                lines = [l for l in code.splitlines() if pattern.search(l)]
                if lines:
                    naming[os.path.relpath(path, root)] = lines
        verdict = "ok" if len(naming) <= MAX_FILES else "FAIL"
        print(f"{verdict}: {len(naming)} source file(s) outside mta/{mta}/ name {mta} in code"
              f" (at most {MAX_FILES})")
        for path, lines in sorted(naming.items()):
            print(f"  {path}: {lines[0].strip()}")
        if verdict != "ok":
            status = 1
    if len(mtas) < 2:
        print("FAIL: fewer than two MTA modules found under", mta_dir)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
