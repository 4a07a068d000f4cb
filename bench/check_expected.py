#!/usr/bin/env python3
"""Compares the exporter's /metrics (or --oneshot) output with mail_loggen's --expect file.

  check_expected.py EXPECT METRICS [--max-series=N] [--only=REGEX] [--quiet]

Each expectation line `name{label="value",...} N` must equal the sum of every series of `name`
whose labels include those label pairs (bounded labels such as user/ip are not listed, so their
series, __overflow__ included, are summed). `# series FAMILY N` comments give how many series
of FAMILY (the __overflow__ ones apart) must be live; with --max-series that number must also
be within the cap. --only checks just the metric names matching REGEX (for programs
that implement part of the families, such as bench/mtail/exim.mtail). Exit status 0 when
everything matches, 1 otherwise.
"""
import argparse
import re
import sys

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_labels(text):
    return dict(LABEL.findall(text or ''))


def load_metrics(path):
    series = []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            m = SERIES.match(line.rstrip('\n'))
            if not m:
                continue
            series.append((m.group(1), parse_labels(m.group(3)), float(m.group(4))))
    return series


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('expect')
    ap.add_argument('metrics')
    ap.add_argument('--max-series', type=int, default=0)
    ap.add_argument('--only', default='')
    ap.add_argument('--quiet', action='store_true')
    args = ap.parse_args()

    series = load_metrics(args.metrics)
    by_name = {}
    for name, labels, value in series:
        by_name.setdefault(name, []).append((labels, value))

    failures = 0
    checked = 0
    with open(args.expect, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('# series '):
                if args.only:
                    continue
                _, _, family, count = line.split()
                live = [lbl for lbl, _ in by_name.get(family, [])
                        if '__overflow__' not in lbl.values()]
                checked += 1
                if len(live) != int(count):
                    print(f'FAIL {family}: {len(live)} live series, generator expects {count}')
                    failures += 1
                if args.max_series and len(live) > args.max_series:
                    print(f'FAIL {family}: {len(live)} live series, over the cap {args.max_series}')
                    failures += 1
                continue
            if not line or line.startswith('#'):
                continue
            m = SERIES.match(line)
            if not m:
                print(f'bad expectation line: {line}')
                failures += 1
                continue
            name, want = m.group(1), float(m.group(4))
            if args.only and not re.fullmatch(args.only, name):
                continue
            need = parse_labels(m.group(3))
            got = sum(v for lbl, v in by_name.get(name, [])
                      if all(lbl.get(k) == val for k, val in need.items()))
            checked += 1
            if got != want:
                print(f'FAIL {line.split()[0]}: exporter {got:.0f}, generator {want:.0f}')
                failures += 1
    if not args.quiet or failures:
        print(f'checked {checked} totals against the generator: {failures} mismatches')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
