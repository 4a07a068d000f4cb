#!/usr/bin/env bash
# `promtool check metrics` (the Prometheus linter) over the exporter's output for the Exim and
# Postfix fixtures of tests/testdata with their queues, plus hostile label values: invalid
# UTF-8, quotes, backslashes and control bytes. Any problem promtool reports fails the test.
#   promtool_check_metrics.sh BINARY TESTDATA_DIR
set -euo pipefail
bin=$1
data=$2
command -v promtool >/dev/null || { echo "promtool not installed (apt-get install prometheus)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat "$data"/exim/cpanel_mainlog "$data"/exim/debian_mainlog "$data"/exim/full_mainlog \
  "$data"/exim/syslog_mainlog >"$work/mainlog"
printf '%s\n' \
  '2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) [192.0.2.1] P=esmtpa A=plain:us"er\ S=1' \
  $'2024-01-01 00:00:01 1xV63t-0004DL-0L <= a@example.com H=(x) [192.0.2.2] P=esmtpa A=plain:\xff\xfe\x01bad S=1' \
  $'2024-01-01 00:00:02 login authenticator failed for (x) [192.0.2.3]: 535 Incorrect authentication data (set_id=\xc3\x28\\n)' \
  >>"$work/mainlog"
cp -r "$data/exim/spool" "$work/spool"
printf '#!/bin/sh\nexec cat %q\n' "$data/postfix/postqueue-j.jsonl" >"$work/postqueue"
chmod +x "$work/postqueue"
"$bin" --oneshot --exim.mainlog="$work/mainlog" --exim.rejectlog=none \
  --exim.spool-dir="$work/spool" --relay.include-interface-addresses=false >"$work/exim.prom"
"$bin" --oneshot --mta=postfix --postfix.log="$data/postfix/mail.log" \
  --postfix.queue-source=postqueue --postfix.postqueue-binary="$work/postqueue" \
  --relay.include-interface-addresses=false >"$work/postfix.prom"
status=0
for f in exim postfix; do
  # promtool reports problems on stdout/stderr and exits non-zero on parse errors.
  if ! promtool check metrics <"$work/$f.prom" >"$work/$f.lint" 2>&1 || grep -q . "$work/$f.lint"; then
    echo "promtool check metrics reported problems in the $f output:" >&2
    cat "$work/$f.lint" >&2
    status=1
  fi
done
# shellcheck disable=SC1003  # a literal backslash, not an escape
grep -qF 'user="us\"er\\' "$work/exim.prom" || { echo "escaped label value missing" >&2; status=1; }
grep -q '^mailrelay_queue_messages{queue="input"} 6$' "$work/exim.prom" ||
  { echo "the spool's queue families are missing" >&2; status=1; }
grep -q '^mailrelay_queue_messages{queue="deferred"} 3$' "$work/postfix.prom" ||
  { echo "the postqueue families are missing" >&2; status=1; }
((status == 0)) || exit 1
echo "promtool check metrics: clean ($(grep -vc '^#' "$work/exim.prom") Exim and" \
  "$(grep -vc '^#' "$work/postfix.prom") Postfix series)"
