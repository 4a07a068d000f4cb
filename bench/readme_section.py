#!/usr/bin/env python3
"""Replaces the section between <!-- NAME:start --> and <!-- NAME:end --> of a README with
stdin (which carries both markers), or appends it when the markers are missing.

  readme_section.py README NAME < section
"""

import os
import sys


def main():
    path, name = sys.argv[1], sys.argv[2]
    section = sys.stdin.read().rstrip("\n") + "\n"
    start, end = "<!-- %s:start -->" % name, "<!-- %s:end -->" % name
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ("# Benchmarks\n\nEach section is written by its own script; keep them between "
                "their markers.\n")
    if start in text and end in text and text.index(start) < text.index(end):
        a = text.index(start)
        b = text.index(end) + len(end)
        if text[b:b + 1] == "\n":
            b += 1
        text = text[:a] + section + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
