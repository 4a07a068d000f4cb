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
# One exporter process per file (startup dominates), run on every core. Each check prints
# "OK <lines>" or "FAIL <reason>" lines; the summary below adds them up.
check_one() {
  local f=$1 out err
  [[ -f "$f" ]] || { echo "FAIL missing corpus file $f"; return; }
  out=$(mktemp -p "$work") err=$(mktemp -p "$work")
  if ! TZ=UTC "$bin" --oneshot --exim.mainlog="$f" --exim.rejectlog=none --log.level=debug \
      >"$out" 2>"$err"; then
    echo "FAIL exporter exited non-zero on $f: $(tail -1 "$err")"
    return
  fi
  if grep -qE 'msg="unparsed line".* <= ' "$err"; then
    echo "FAIL unparsed arrival lines in $f: $(grep -m1 -E 'msg="unparsed line".* <= ' "$err")"
  fi
  echo "OK $(awk '/^mailrelay_log_lines_total/ {n += $2} END {printf "%d", n}' "$out")"
  rm -f "$out" "$err"
}
export -f check_one
export bin work
# shellcheck disable=SC2016  # $1 is expanded by the inner bash
printf '%s\0' "${files[@]}" |
  xargs -0 -n 1 -P "$(nproc 2>/dev/null || echo 2)" bash -c 'check_one "$1"' _ >"$work/results"
grep '^FAIL' "$work/results" >&2 || true
failures=$(grep -c '^FAIL' "$work/results" || true)
lines=$(awk '$1 == "OK" {n += $2} END {printf "%d", n}' "$work/results")
checked=$(grep -c '^OK' "$work/results" || true)
echo "checked ${#files[@]} files ($checked ran), $lines lines, $failures failures"
[[ $failures -eq 0 && $checked -eq ${#files[@]} ]]
