#!/usr/bin/env python3
"""Line coverage of exporter/ (gcov data of a build made with --coverage, read by gcovr).

Prints one row per directory of exporter/ and the total, main.cc excluded (it only wires the
parts together; the e2e tests run it, but they are not measured: see tests/README.md), and
fails when the total is below --min percent.

  coverage_report.py BUILD_DIR [--min PERCENT] [--markdown]
"""
import argparse
import collections
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--min", type=float, default=0.0, help="fail below this total (percent)")
    ap.add_argument("--markdown", action="store_true", help="print a table for tests/README.md")
    args = ap.parse_args()

    out = subprocess.run(
        ["gcovr", "--root", ROOT, "--filter", os.path.join(ROOT, "exporter") + "/",
         "--exclude", os.path.join(ROOT, "exporter", "main.cc"), "--json-summary", "-",
         os.path.abspath(args.build_dir)],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    files = json.loads(out)["files"]
    if not files:
        raise SystemExit("no coverage data under %s (built with --coverage, tests run?)"
                         % args.build_dir)
    dirs = collections.OrderedDict()
    for f in sorted(files, key=lambda f: f["filename"]):
        d = os.path.dirname(f["filename"]) or "."
        total, covered = dirs.get(d, (0, 0))
        dirs[d] = (total + f["line_total"], covered + f["line_covered"])
    lines = sum(t for t, _ in dirs.values())
    covered = sum(c for _, c in dirs.values())
    percent = 100.0 * covered / lines if lines else 0.0

    if args.markdown:
        print("| directory | lines | covered | % |")
        print("|---|---:|---:|---:|")
        for d, (t, c) in dirs.items():
            print("| `%s/` | %d | %d | %.1f |" % (d, t, c, 100.0 * c / t if t else 0))
        print("| **total** (without `exporter/main.cc`) | %d | %d | **%.1f** |"
              % (lines, covered, percent))
    else:
        print("%-28s %7s %8s %6s" % ("directory", "lines", "covered", "%"))
        for d, (t, c) in dirs.items():
            print("%-28s %7d %8d %6.1f" % (d + "/", t, c, 100.0 * c / t if t else 0))
        print("%-28s %7d %8d %6.1f" % ("total (without main.cc)", lines, covered, percent))
    if percent < args.min:
        print("FAIL: line coverage %.1f%% is below %.1f%%" % (percent, args.min), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
