#!/usr/bin/env bash
# Runs `--oneshot` over every Exim log in the corpus, one file at a time, and fails when the
# exporter crashes, exits non-zero, or leaves an arrival (`<=`) line unparsed or uncounted
# (by its counters: mailrelay_log_unparsed_lines_total, mailrelay_messages_*_total).
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
# One exporter process per file (startup dominates), run on every core. Each check prints
# "OK <lines>" or "FAIL <reason>" lines; the summary below adds them up. The arrival lines
# (" <= ") of every file are also kept aside and run together at the end.
check_one() {
  local f=$1 out
  [[ -f "$f" ]] || { echo "FAIL missing corpus file $f"; return; }
  out=$(mktemp -p "$work")
  if ! TZ=UTC "$bin" --oneshot --exim.mainlog="$f" --exim.rejectlog=none >"$out" 2>"$out.err"; then
    echo "FAIL exporter exited non-zero on $f: $(tail -1 "$out.err")"
    return
  fi
  echo "OK $(awk '/^mailrelay_log_lines_total/ {n += $2} END {printf "%d", n}' "$out")"
  grep -aE '^[^ ].* <= ' "$f" >"$out.arrivals" && printf '%s\n' "$f" >"$out.arrivals.name"
  rm -f "$out" "$out.err"
}
# arrivals_ok FILE: every line of FILE (arrival lines) is parsed (mailrelay_log_unparsed_lines_total
# 0) and counted as a message (received or ignored).
arrivals_ok() {
  local n unparsed counted
  n=$(wc -l <"$1")
  TZ=UTC "$bin" --oneshot --exim.mainlog="$1" --exim.rejectlog=none >"$work/arrivals.prom" ||
    { echo "exporter exited non-zero on the arrival lines"; return 1; }
  unparsed=$(awk '/^mailrelay_log_unparsed_lines_total/ {n += $2} END {printf "%d", n}' "$work/arrivals.prom")
  counted=$(awk '/^mailrelay_messages_(received|ignored)_total\{/ {n += $2} END {printf "%d", n}' \
    "$work/arrivals.prom")
  if ((unparsed != 0 || counted != n)); then
    echo "$n arrival lines: $unparsed unparsed (mailrelay_log_unparsed_lines_total), $counted counted as messages"
    return 1
  fi
}
export -f check_one
export bin work
# shellcheck disable=SC2016  # $1 is expanded by the inner bash
printf '%s\0' "${files[@]}" |
  xargs -0 -n 1 -P "$(nproc 2>/dev/null || echo 2)" bash -c 'check_one "$1"' _ >"$work/results"
# All arrival lines at once; on a failure, file by file to name the culprits.
cat "$work"/*.arrivals >"$work/all-arrivals" 2>/dev/null || true
if ! why=$(arrivals_ok "$work/all-arrivals"); then
  echo "FAIL all corpus arrival lines together: $why" >>"$work/results"
  for a in "$work"/*.arrivals; do
    why=$(arrivals_ok "$a") || echo "FAIL $(cat "$a.name"): $why" >>"$work/results"
  done
fi
echo "arrival lines: $(wc -l <"$work/all-arrivals"), all parsed and counted unless listed below"
grep '^FAIL' "$work/results" >&2 || true
failures=$(grep -c '^FAIL' "$work/results" || true)
lines=$(awk '$1 == "OK" {n += $2} END {printf "%d", n}' "$work/results")
checked=$(grep -c '^OK' "$work/results" || true)
echo "checked ${#files[@]} files ($checked ran), $lines lines, $failures failures"
[[ $failures -eq 0 && $checked -eq ${#files[@]} ]]
