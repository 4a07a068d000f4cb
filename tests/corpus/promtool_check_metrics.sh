#!/usr/bin/env bash
# `promtool check metrics` (the Prometheus linter) over the exporter's output for a rich corpus
# log plus hostile label values: invalid UTF-8, quotes, backslashes and control bytes.
#   promtool_check_metrics.sh BINARY CORPUS_DIR
set -euo pipefail
bin=$1
corpus=$2
command -v promtool >/dev/null || { echo "promtool not installed (apt-get install prometheus)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat "$corpus"/exim-testsuite/mainlog/3400 "$corpus"/fail2ban/exim >"$work/mainlog"
printf '%s\n' \
  '2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) [192.0.2.1] P=esmtpa A=plain:us"er\ S=1' \
  $'2024-01-01 00:00:01 1xV63t-0004DL-0L <= a@example.com H=(x) [192.0.2.2] P=esmtpa A=plain:\xff\xfe\x01bad S=1' \
  $'2024-01-01 00:00:02 login authenticator failed for (x) [192.0.2.3]: 535 Incorrect authentication data (set_id=\xc3\x28\\n)' \
  >>"$work/mainlog"
"$bin" --oneshot --exim.mainlog="$work/mainlog" --exim.rejectlog=none >"$work/out.prom"
# promtool reports problems on stdout/stderr and exits non-zero on parse errors.
promtool check metrics <"$work/out.prom" 2>&1 | tee "$work/lint.txt"
if grep -v '^$' "$work/lint.txt" | grep -q .; then
  echo "promtool check metrics reported problems" >&2
  exit 1
fi
# shellcheck disable=SC1003  # a literal backslash, not an escape
grep -qF 'user="us\"er\\' "$work/out.prom" || { echo "escaped label value missing" >&2; exit 1; }
echo "promtool check metrics: clean ($(grep -c -v '^#' "$work/out.prom") series)"
