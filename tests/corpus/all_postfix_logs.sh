#!/usr/bin/env bash
# Runs `--oneshot --mta=postfix` over every Postfix file in the corpus, one file at a time, and
# fails when the exporter crashes or exits non-zero, or when a line with a syslog prefix and a
# Postfix program name is left unparsed (a damaged Postfix tag is only expected in the
# deliberately malformed fixtures, listed below). Queue listings (postqueue -j/-p, showq) are
# run too: every line is unparsed there, nothing may crash.
#   all_postfix_logs.sh BINARY CORPUS_DIR
set -euo pipefail
bin=$1
corpus=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mapfile -t files < <(
  printf '%s\n' "$corpus"/postfix-exporter/* "$corpus"/crowdsec/postfix-* "$corpus"/fail2ban/postfix \
    "$corpus"/wazuh/postfix.log "$corpus"/sshguard/postfix.log "$corpus"/postqf/* "$corpus"/datadog/*
)
# The grok corpus holds bare messages: give each the prefix its daemon would have written.
awk -F'\t' '!/^#/ { d = $1; sub(/_[0-9]+\.yaml$/, "", d); print "Oct 26 18:13:50 mx postfix/" d "[42]: " $3 }' \
  "$corpus/postfix-grok-patterns/test-messages.tsv" >"$work/grok.log"
files+=("$work/grok.log")
# Fixtures whose malformed lines are malformed on purpose.
malformed_ok='sergeymakinen-mail.log|adyekjaer-mail_iso.log'

failures=0
lines=0
for f in "${files[@]}"; do
  [[ -f "$f" ]] || { echo "missing corpus file $f" >&2; failures=$((failures + 1)); continue; }
  if ! TZ=UTC "$bin" --oneshot --mta=postfix --postfix.log="$f" --log.level=debug \
      >"$work/out.prom" 2>"$work/err.log"; then
    echo "FAIL: exporter exited non-zero on $f" >&2
    tail -5 "$work/err.log" >&2
    failures=$((failures + 1))
    continue
  fi
  if [[ ! $f =~ $malformed_ok ]] &&
    grep -E 'msg="unparsed line".* postfix[-a-z0-9]*/[a-z0-9/-]+\[' "$work/err.log" >"$work/bad.log"; then
    echo "FAIL: unparsed Postfix lines in $f:" >&2
    head -5 "$work/bad.log" >&2
    failures=$((failures + 1))
  fi
  if [[ $f == "$work/grok.log" ]] && grep -q 'msg="unparsed line"' "$work/err.log"; then
    echo "FAIL: unparsed grok-pattern messages:" >&2
    grep 'msg="unparsed line"' "$work/err.log" | head -5 >&2
    failures=$((failures + 1))
  fi
  n=$(grep -E '^mailrelay_log_lines_total' "$work/out.prom" | awk '{print $2}')
  lines=$((lines + ${n%.*}))
done
echo "checked ${#files[@]} files, $lines lines, $failures failures"
[[ $failures -eq 0 ]]
