#!/usr/bin/env bash
# Runs `--oneshot` over every Exim log in the corpus, one file at a time, and fails when the
# exporter crashes, exits non-zero, or leaves an arrival (`<=`) line unparsed.
#   all_exim_logs.sh BINARY CORPUS_DIR
set -euo pipefail
bin=$1
corpus=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mapfile -t files < <(
  find "$corpus/exim-testsuite/mainlog" "$corpus/exim-testsuite/rejectlog" \
    "$corpus/exim-testsuite/paniclog" -type f
  printf '%s\n' "$corpus"/exim-exporter/{mainlog,rejectlog,paniclog} \
    "$corpus"/fail2ban/exim* "$corpus"/crowdsec/exim* "$corpus"/wazuh/exim.log \
    "$corpus"/sshguard/exim.log "$corpus"/logstash-patterns-core/exim_spec-messages.log
)
failures=0
lines=0
for f in "${files[@]}"; do
  [[ -f "$f" ]] || { echo "missing corpus file $f" >&2; failures=$((failures + 1)); continue; }
  if ! TZ=UTC "$bin" --oneshot --exim.mainlog="$f" --exim.rejectlog=none --log.level=debug \
      >"$work/out.prom" 2>"$work/err.log"; then
    echo "FAIL: exporter exited non-zero on $f" >&2
    tail -5 "$work/err.log" >&2
    failures=$((failures + 1))
    continue
  fi
  if grep -E 'msg="unparsed line".* <= ' "$work/err.log" >"$work/bad.log"; then
    echo "FAIL: unparsed arrival lines in $f:" >&2
    head -5 "$work/bad.log" >&2
    failures=$((failures + 1))
  fi
  n=$(grep -E '^mailrelay_log_lines_total' "$work/out.prom" | awk '{print $2}')
  lines=$((lines + ${n%.*}))
done
echo "checked ${#files[@]} files, $lines lines, $failures failures"
[[ $failures -eq 0 ]]
