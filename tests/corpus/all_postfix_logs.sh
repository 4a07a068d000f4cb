#!/usr/bin/env bash
# Runs `--oneshot --mta=postfix` over every Postfix file in the corpus, one file at a time, and
# fails when the exporter crashes or exits non-zero, or when a line with a syslog prefix and a
# Postfix program name is left unparsed (by mailrelay_log_unparsed_lines_total; a damaged
# Postfix tag is only expected in the deliberately malformed fixtures, listed below). Queue
# listings (postqueue -j/-p, showq) are run too: every line is unparsed there, nothing may
# crash.
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

# unparsed_in FILE: mailrelay_log_unparsed_lines_total of a --oneshot run over FILE.
unparsed_in() {
  TZ=UTC "$bin" --oneshot --mta=postfix --postfix.log="$1" >"$work/sub.prom" 2>/dev/null
  awk '/^mailrelay_log_unparsed_lines_total/ {n += $2} END {printf "%d", n}' "$work/sub.prom"
}

failures=0
lines=0
for f in "${files[@]}"; do
  [[ -f "$f" ]] || { echo "missing corpus file $f" >&2; failures=$((failures + 1)); continue; }
  if ! TZ=UTC "$bin" --oneshot --mta=postfix --postfix.log="$f" >"$work/out.prom" 2>"$work/err.log"; then
    echo "FAIL: exporter exited non-zero on $f" >&2
    tail -5 "$work/err.log" >&2
    failures=$((failures + 1))
    continue
  fi
  # The lines with a syslog prefix and a Postfix program name, run on their own: none may be
  # unparsed (by the counter), except in the fixtures that are malformed on purpose.
  if [[ ! $f =~ $malformed_ok ]]; then
    grep -aE '^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:.]+ [^ ]+ postfix[-a-z0-9]*/[a-z0-9/-]+\[|^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ [^ ]+ postfix[-a-z0-9]*/[a-z0-9/-]+\[' \
      "$f" >"$work/postfix-lines.log" || true
    if [[ -s $work/postfix-lines.log ]] && n=$(unparsed_in "$work/postfix-lines.log") && ((n != 0)); then
      echo "FAIL: $n Postfix lines of $f unparsed (mailrelay_log_unparsed_lines_total)" >&2
      failures=$((failures + 1))
    fi
  fi
  if [[ $f == "$work/grok.log" ]]; then
    n=$(awk '/^mailrelay_log_unparsed_lines_total/ {n += $2} END {printf "%d", n}' "$work/out.prom")
    if ((n != 0)); then
      echo "FAIL: $n unparsed grok-pattern messages" >&2
      failures=$((failures + 1))
    fi
  fi
  n=$(grep -E '^mailrelay_log_lines_total' "$work/out.prom" | awk '{print $2}')
  lines=$((lines + ${n%.*}))
done
echo "checked ${#files[@]} files, $lines lines, $failures failures"
[[ $failures -eq 0 ]]
