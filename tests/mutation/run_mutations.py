#!/usr/bin/env python3
"""Mutation check: the test suite must fail for each mutation of tests/mutation/mutations.txt.

The repository (working tree, without build directories and .git) is copied to
BUILD_DIR/src and built there once (Debug, no sanitizers, only the exporter and the unit test
executables); the unmutated copy must pass the selected tests. Then, one at a time, each
mutation is applied to the copy, the copy is rebuilt (only what changed), the tests run with
--stop-on-failure, and the file is restored. A mutation is

  killed     a test failed (what we want): one labelled --labels (default unit|golden), or
             one of the mutation's own `tests` (a ctest -R regex), which run only when the
             labelled ones all passed
  survived   every test passed: the suite does not notice that bug
  broken     the mutated copy does not build (the mutation needs fixing)
  unmatched  its `find` text is not exactly once in its file (retarget it: see mutations.txt)

The unmutated copy must first pass the labelled tests and every mutation's own tests (a test
that fails anyway proves nothing). Exit status 0 only when every mutation was killed. The
source tree itself is never modified.

  run_mutations.py [--build-dir DIR] [--labels REGEX] [--jobs N] [--list] [NAME...]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mutations.txt")
TARGETS = ["mailrelay_exporter", "mailrelay_unit_tests", "mailrelay_report_tests", "log_writer",
           "stat_race_shim"]


def unescape(value):
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append({"n": "\n", "\\": "\\"}.get(value[i + 1], "\\" + value[i + 1]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def load(path):
    mutations, current = [], {}
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if current:
                    mutations.append(current)
                    current = {}
                continue
            key, sep, value = line.partition(":")
            if not sep or key not in ("name", "why", "file", "find", "replace", "tests"):
                raise SystemExit("%s:%d: not a 'key: value' line: %r" % (path, lineno, line))
            current[key] = unescape(value[1:] if value.startswith(" ") else value)
    if current:
        mutations.append(current)
    for m in mutations:
        missing = {"name", "why", "file", "find", "replace"} - set(m)
        if missing:
            raise SystemExit("%s: mutation %s lacks %s" % (path, m.get("name", "?"), sorted(missing)))
    return mutations


def run(cmd, log, cwd=None):
    with open(log, "a") as out:
        out.write("$ %s\n" % " ".join(cmd))
        out.flush()
        return subprocess.call(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def copy_tree(dst):
    if os.path.exists(dst):
        shutil.rmtree(dst)

    def ignore(d, names):
        if os.path.abspath(d) == ROOT:
            return [n for n in names if n.startswith("build") or n == ".git"]
        return [n for n in names if n == "__pycache__"]

    shutil.copytree(ROOT, dst, ignore=ignore, symlinks=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-mutation"))
    ap.add_argument("--labels", default="unit|golden", help="ctest -L of the tests that must fail")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()

    mutations = load(DATA)
    if args.names:
        unknown = set(args.names) - {m["name"] for m in mutations}
        if unknown:
            raise SystemExit("unknown mutation(s): %s" % ", ".join(sorted(unknown)))
        mutations = [m for m in mutations if m["name"] in args.names]
    if args.list:
        for m in mutations:
            print("%-28s %s\n%-28s   %s" % (m["name"], m["why"], "", m["file"]))
        return 0

    results = {}
    # The data first: every find must be in its file exactly once (before any build).
    for m in mutations:
        path = os.path.join(ROOT, m["file"])
        n = open(path).read().count(m["find"]) if os.path.exists(path) else 0
        if n != 1:
            results[m["name"]] = "unmatched (%d matches in %s)" % (n, m["file"])

    os.makedirs(args.build_dir, exist_ok=True)
    log = os.path.join(args.build_dir, "mutation.log")
    open(log, "w").close()
    src = os.path.join(args.build_dir, "src")
    obj = os.path.join(args.build_dir, "obj")
    copy_tree(src)
    configure = ["cmake", "-S", src, "-B", obj, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Debug",
                 "-DMAILRELAY_E2E=OFF", "-DMAILRELAY_BUILD_BENCH=OFF",
                 "-DMAILRELAY_CORPUS_TESTS=OFF", "-DCMAKE_CXX_FLAGS=-g0"]
    if shutil.which("ccache"):
        configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    build = ["ninja", "-C", obj, "-j", str(args.jobs)] + TARGETS
    test = ["ctest", "--test-dir", obj, "--no-tests=error", "--output-on-failure", "-j",
            str(args.jobs), "-L", args.labels]
    t0 = time.monotonic()
    if run(configure, log) != 0 or run(build, log) != 0:
        print("the unmutated copy does not build; see %s" % log, file=sys.stderr)
        return 1
    if run(test, log) != 0:
        print("the unmutated copy fails its tests; see %s" % log, file=sys.stderr)
        return 1
    # The mutations' own tests must pass unmutated too, or their failure would prove nothing.
    for regex in sorted({m["tests"] for m in mutations if "tests" in m and m["name"] not in results}):
        if run(["ctest", "--test-dir", obj, "--no-tests=error", "--output-on-failure", "-R",
                regex], log) != 0:
            print("the unmutated copy fails %s; see %s" % (regex, log), file=sys.stderr)
            return 1
    print("baseline: built and passed ctest -L '%s' and the mutations' own tests in %.0f s"
          % (args.labels, time.monotonic() - t0))

    for m in mutations:
        if m["name"] in results:
            continue
        path = os.path.join(src, m["file"])
        original = open(path).read()
        t0 = time.monotonic()
        try:
            with open(path, "w") as f:
                f.write(original.replace(m["find"], m["replace"], 1))
            with open(log, "a") as out:
                out.write("\n==== mutation %s\n" % m["name"])
            if run(build, log) != 0:
                results[m["name"]] = "broken (does not build)"
            elif run(test + ["--stop-on-failure"], log) != 0:
                results[m["name"]] = "killed"
            elif "tests" in m and run(["ctest", "--test-dir", obj, "--no-tests=error",
                                       "--output-on-failure", "--stop-on-failure", "-R",
                                       m["tests"]], log) != 0:
                results[m["name"]] = "killed (by %s)" % m["tests"]
            else:
                results[m["name"]] = "survived"
        finally:
            with open(path, "w") as f:
                f.write(original)
        print("%-28s %-10s %4.0f s  %s" % (m["name"], results[m["name"]].split()[0],
                                          time.monotonic() - t0, m["why"]))
        sys.stdout.flush()
    run(build, log)  # leave the copy's build unmutated

    bad = {n: r for n, r in results.items() if not r.startswith("killed")}
    for name, result in sorted(bad.items()):
        print("FAIL %s: %s" % (name, result), file=sys.stderr)
    print("mutations: %d killed of %d (log: %s)" % (len(results) - len(bad), len(results), log))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
