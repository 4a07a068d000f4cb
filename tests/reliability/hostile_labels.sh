#!/usr/bin/env bash
# Hostile labels (issue 6): the live exporter follows an Exim main log, then a Postfix log, into
# which `mail_loggen --mode=hostile` lines are appended for ~20 s each: user, sender and client
# address fields with quotes, backslashes, literal \n, raw CR, NUL and other control bytes,
# invalid UTF-8 (stray continuation bytes, overlong forms, surrogates, truncated sequences),
# label-syntax characters, values past the 128-byte label cap and values that read
# "__overflow__"; lines over 1 MiB; lines in no log format; and a new user or a new IP on
# almost every line (in 20 s: Exim ~120k users and ~120k IPs, Postfix ~60k users and ~120k IPs;
# the issue asks for 100k per minute). Asserts, for each MTA:
#   - every scrape during the run and the last one pass `promtool check metrics`;
#   - every total equals the generator's, including mailrelay_log_lines_total = lines written
#     (nothing lost), the overflow counts per family, and the exact number of live series of
#     each bounded family, which stays <= --metrics.max-series-per-family (bench/check_expected.py);
#   - RSS, sampled every 0.5 s once the series caps are reached, stays within RSS_SPREAD_KB
#     (default 8 MiB) of its first sample and below RSS_MAX_KB (default 64 MiB).
#
#   hostile_labels.sh EXPORTER MAIL_LOGGEN CHECK_EXPECTED_PY
set -euo pipefail
bin=$1
loggen=$2
check=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/reliability/common.sh
source "$here/common.sh"

cap=${CAP:-1000}
lines=${LINES:-240000}
seconds=${SECONDS_PER_MTA:-20}
rss_spread_kb=${RSS_SPREAD_KB:-8192}
rss_max_kb=${RSS_MAX_KB:-65536}
command -v promtool >/dev/null || { echo "promtool is needed" >&2; exit 1; }

work=$(mktemp -d)
exporter_pid=""
writer_pid=""
cleanup() {
  if [[ -n $writer_pid ]]; then rel_kill "$writer_pid"; fi
  if [[ -n $exporter_pid ]]; then rel_kill "$exporter_pid"; fi
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail=0
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

for mta in exim postfix; do
  echo "== $mta: $lines hostile lines in ~${seconds} s, cap $cap"
  src=$work/$mta.src
  "$loggen" --mode=hostile --mta="$mta" --lines="$lines" --cap="$cap" --seed=5 --out="$src" \
    --expect="$work/$mta.expect"
  log=$work/$mta.log
  : >"$log"
  port=$(rel_free_port)
  url=http://127.0.0.1:$port/metrics
  if [[ $mta == exim ]]; then
    log_flags=(--exim.mainlog="$log" --exim.rejectlog=none)
  else
    log_flags=(--mta=postfix --postfix.log="$log")
  fi
  "$bin" "${log_flags[@]}" --tail.from-beginning --tail.poll-interval=50ms \
    --exim.queue-source=none --postfix.queue-source=none --relay.include-interface-addresses=false \
    --metrics.max-series-per-family="$cap" --web.listen-address="127.0.0.1:$port" \
    --log.level=warn 2>"$work/$mta.stderr" &
  exporter_pid=$!
  rel_wait_up "$url"
  rss_start=$(rss_kb "$exporter_pid")

  "$loggen" --replay="$src" --rate=$((lines / seconds)) --out="$log" --append \
    --report="$work/$mta.writer" &
  writer_pid=$!
  : >"$work/$mta.rss"
  scrapes=0
  bad_scrapes=0
  tick=0
  while kill -0 "$writer_pid" 2>/dev/null; do
    tick=$((tick + 1))
    # Sample once the caps are reached (a quarter of the run: every family has seen far more
    # than `cap` keys by then).
    if ((tick > seconds / 2)); then rss_kb "$exporter_pid" >>"$work/$mta.rss"; fi
    if ((tick % 4 == 0)); then
      if rel_scrape "$url" "$work/$mta.scrape.prom"; then
        scrapes=$((scrapes + 1))
        if ! promtool check metrics <"$work/$mta.scrape.prom" >"$work/$mta.promtool" 2>&1; then
          bad_scrapes=$((bad_scrapes + 1))
          cat "$work/$mta.promtool" >&2
        fi
      fi
    fi
    sleep 0.5
  done
  wait "$writer_pid"
  writer_pid=""
  cat "$work/$mta.writer"
  # Until every line is counted (or 60 s).
  for _ in $(seq 300); do
    rel_scrape "$url" "$work/$mta.final.prom" || true
    if [[ -s $work/$mta.final.prom ]] &&
      (($(rel_sum "$work/$mta.final.prom" mailrelay_log_lines_total) >= lines)); then
      break
    fi
    sleep 0.2
  done
  [[ -s $work/$mta.final.prom ]] || { echo "FAIL: no final scrape" >&2; exit 1; }
  # A new per-user/per-IP series shows 0 in the first scrape that has it (docs/metrics.md, First
  # count of a new series); the scrape after that has every count.
  rel_scrape "$url" "$work/$mta.final.prom" || { echo "FAIL: the last scrape failed" >&2; exit 1; }
  rss_kb "$exporter_pid" >>"$work/$mta.rss"

  if promtool check metrics <"$work/$mta.final.prom" >"$work/$mta.promtool" 2>&1; then
    echo "ok: promtool check metrics on the final scrape and $((scrapes - bad_scrapes))/$scrapes during the run"
  else
    cat "$work/$mta.promtool" >&2
    bad_scrapes=$((bad_scrapes + 1))
  fi
  if ((bad_scrapes > 0)); then
    echo "FAIL: $bad_scrapes scrapes rejected by promtool" >&2
    fail=1
  fi
  # A scrape every 2 s during the run: without them the run proves nothing about scraping
  # under the flood (a scrape that failed outright is not counted above).
  if ((scrapes < seconds / 4)); then
    echo "FAIL: only $scrapes successful scrapes during the ${seconds} s run (want >= $((seconds / 4)))" >&2
    fail=1
  fi
  if (($(wc -l <"$work/$mta.rss") < seconds / 2)); then
    echo "FAIL: only $(wc -l <"$work/$mta.rss") RSS samples" >&2
    fail=1
  fi
  if python3 "$check" --max-series="$cap" "$work/$mta.expect" "$work/$mta.final.prom"; then
    echo "ok: every total, overflow count and live series count equals the generator's"
  else
    fail=1
  fi
  echo "lines: written $lines, counted $(rel_sum "$work/$mta.final.prom" mailrelay_log_lines_total)," \
    "long $(rel_sum "$work/$mta.final.prom" mailrelay_log_long_lines_total)," \
    "unparsed $(rel_sum "$work/$mta.final.prom" mailrelay_log_unparsed_lines_total)," \
    "overflow updates $(rel_sum "$work/$mta.final.prom" mailrelay_label_overflow_total)"
  read -r rss_min rss_max rss_first rss_n < <(awk 'NR == 1 { f = $1; mn = $1; mx = $1 }
    { if ($1 < mn) mn = $1; if ($1 > mx) mx = $1 } END { print mn, mx, f, NR }' "$work/$mta.rss")
  echo "RSS: ${rss_start} kB at start; ${rss_n} samples once capped: first ${rss_first} kB," \
    "min ${rss_min} kB, max ${rss_max} kB"
  if ((rss_max - rss_first > rss_spread_kb)); then
    echo "FAIL: RSS grew by $((rss_max - rss_first)) kB (> $rss_spread_kb) after the caps were reached" >&2
    fail=1
  fi
  if ((rss_max > rss_max_kb)); then
    echo "FAIL: RSS $rss_max kB > $rss_max_kb kB" >&2
    fail=1
  fi
  if grep -qiE 'fatal|terminate|abort' "$work/$mta.stderr"; then
    echo "FAIL: exporter stderr:" >&2
    cat "$work/$mta.stderr" >&2
    fail=1
  fi
  rel_kill "$exporter_pid"
  exporter_pid=""
done

if ((fail != 0)); then
  echo "hostile_labels: FAILED" >&2
  exit 1
fi
echo "hostile_labels: ok"
