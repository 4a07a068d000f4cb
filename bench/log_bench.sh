#!/usr/bin/env bash
# Log throughput benchmark (issue 8), whole processes, in one run:
#   1. one-shot: `mailrelay_exporter --oneshot` over a generated Exim main log (and, with
#      --mta=postfix, a Postfix syslog file) against `wc -l`, `grep -c ' <= '` and
#      `mtail --one_shot` with bench/mtail/exim.mtail on the same Exim file: wall time, CPU
#      (user+sys), peak RSS (/usr/bin/time), medians of --runs runs (interleaved), lines/s and
#      ratios. The same for the high-cardinality cPanel workload (issue 13: `mail_loggen
#      --profile=cpanel`, extended log_selector, ~50k client IPs, ~9k users), and, when the
#      binary takes --rules.file, the exporter on it with bench/rules/cpanel-20.yml (20 rules;
#      their counters are checked against `grep -cP` of the same patterns, the reject mappings
#      against the generator's reject totals). Every run's counts are checked against the
#      generator's (bench/check_expected.py): a fast wrong answer fails the benchmark.
#   2. live tail: the exporter follows an empty log while `mail_loggen --replay` appends the
#      Exim file at --live-rate lines/s for --live-seconds; the lag (bytes written minus
#      mailrelay_log_read_bytes_total) and RSS are sampled every 0.5 s; at the end every line
#      must be counted.
#   3. latency: single lines appended to an idle log (exporter defaults, inotify); time until
#      /metrics counts each one.
#   4. scrape: the live exporter with --series per-user/per-IP series (a flood log, cap raised
#      so that they all live): /metrics time (curl, median, 90th percentile and max of 50, next
#      to /-/healthy as the round trip without rendering), the exporter's CPU per scrape, RSS.
#   5. flood: --flood-lines lines whose every key is new (1M by default) into the live exporter
#      at the default cap: RSS sampled, must stay flat (the bound is reported).
# Writes the results as Markdown between the log-bench markers of --readme (bench/README.md by
# default, not in --smoke).
#
#   log_bench.sh --exporter BIN --loggen BIN [--smoke] [--lines N] [--runs N] [--readme FILE]
#                [--live-rate N] [--live-seconds N] [--series N] [--flood-lines N] [--keep]
#                [--no-mtail]
#
# --smoke (ctest bench.log_smoke): 20k lines, one run, short live/flood phases, no README; fails
# only on wrong counts or a broken run, never on timing. Needs python3, curl, /usr/bin/time;
# mtail is optional (Debian package `mtail`; skipped when missing or with --no-mtail: it takes
# ~75 s per 2M-line file, most of a full run).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exporter=""
loggen=""
smoke=0
lines=2000000
runs=3
readme=$here/README.md
live_rate=1000000
live_seconds=10
series=10000
flood_lines=1000000
latency_lines=40
keep=0
no_mtail=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --exporter) exporter=$2; shift 2 ;;
    --loggen) loggen=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --lines) lines=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --readme) readme=$2; shift 2 ;;
    --live-rate) live_rate=$2; shift 2 ;;
    --live-seconds) live_seconds=$2; shift 2 ;;
    --series) series=$2; shift 2 ;;
    --flood-lines) flood_lines=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-mtail) no_mtail=1; shift ;;
    -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "log_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ ! -x $exporter || ! -x $loggen ]]; then
  echo "log_bench: --exporter and --loggen must name the built binaries" >&2
  exit 2
fi
if [[ $smoke == 1 ]]; then
  lines=20000 runs=1 readme="" live_rate=100000 live_seconds=1 series=2000 flood_lines=30000
  latency_lines=5
fi
for tool in python3 curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "log_bench: $tool is needed" >&2; exit 2; }
done
have_mtail=0
if [[ $no_mtail == 0 ]] && command -v mtail >/dev/null; then have_mtail=1; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/log_bench.XXXXXX")
exporter_pid=""
stop_exporter() {
  if [[ -n $exporter_pid ]]; then
    kill "$exporter_pid" 2>/dev/null || true
    wait "$exporter_pid" 2>/dev/null || true
    exporter_pid=""
  fi
}
cleanup() {
  stop_exporter
  if [[ $keep == 1 ]]; then echo "work dir: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
check=(python3 "$here/check_expected.py")
fail=0

echo "== generating $lines Exim and $lines Postfix lines"
"$loggen" --mta=exim --lines="$lines" --seed=1 --out="$work/exim.log" \
  --expect="$work/exim.expect" --relayhosts="$work/relayhosts"
"$loggen" --mta=postfix --lines="$lines" --seed=2 --out="$work/postfix.log" \
  --expect="$work/postfix.expect"
echo "== generating $lines Exim lines of the cPanel workload"
"$loggen" --mta=exim --profile=cpanel --lines="$lines" --seed=5 --out="$work/cpanel.log" \
  --expect="$work/cpanel.expect"
arrivals_of() {  # arrivals_of EXPECT: the `<=` lines the generator wrote
  awk '/^mailrelay_messages_(received|ignored)_total/ { s += $2 } END { print s }' "$1"
}
arrivals=$(arrivals_of "$work/exim.expect")
arrivals_cpanel=$(arrivals_of "$work/cpanel.expect")
bytes_exim=$(stat -c %s "$work/exim.log")
bytes_cpanel=$(stat -c %s "$work/cpanel.log")
rules_file=$here/rules/cpanel-20.yml
have_rules=0
if "$exporter" --help 2>&1 | grep -q -- '--rules.file'; then have_rules=1; fi
if [[ $have_rules == 1 ]]; then
  # What the rules must count: `grep -cP` of each counter pattern (the bench's prefilters are
  # literals their patterns require), and for each reject mapping the generator's total of its
  # reason (each reason has one reject text in the Exim workload).
  python3 - "$rules_file" "$work/cpanel.log" "$work/cpanel.expect" >"$work/rules.expect" <<'EOF2'
import re, subprocess, sys, yaml
rules, log, expect = sys.argv[1:]
totals = {}
for line in open(expect):
    m = re.match(r'^(\S+) (\d+)$', line.strip())
    if m:
        totals[m.group(1)] = int(m.group(2))
doc = yaml.safe_load(open(rules))
for r in doc.get('counters') or []:
    n = subprocess.run(['grep', '-cP', r['pattern'], log], capture_output=True, text=True).stdout
    print(f'mailrelay_rule_{r["name"]}_total {int(n)}')
    print(f'mailrelay_rules_matches_total{{rule="{r["name"]}"}} {int(n)}')
for r in doc.get('reject_reasons') or []:
    n = totals[f'mailrelay_rejects_total{{reason="{r["reason"]}"}}']
    print(f'mailrelay_rules_matches_total{{rule="{r["name"]}"}} {n}')
EOF2
fi
common=(--oneshot --relay.include-interface-addresses=false
  --relay.relayhosts="$work/relayhosts" --log.level=warn)

# run NAME CMD...: one timed run; stdout to $work/NAME.out, "wall user sys maxrss_kb" appended
# to $work/NAME.times.
run() {
  local name=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -a -o "$work/$name.times" "$@" >"$work/$name.out"
}

mtail_only='mailrelay_(messages_received|received_bytes|messages_ignored|source_ip_messages|auth_user_messages|local_user_messages|deliveries|deliveries_retry_wait|messages_completed|rejects|auth_failures|auth_failure_ip|auth_failure_user|log_lines)_total'
verify() {  # verify NAME: the counts of the last run of NAME
  local name=$1 got
  case "$name" in
    exporter_exim)
      "${check[@]}" --quiet "$work/exim.expect" "$work/$name.out" || fail=1 ;;
    exporter_postfix)
      "${check[@]}" --quiet "$work/postfix.expect" "$work/$name.out" || fail=1 ;;
    exporter_cpanel)
      "${check[@]}" --quiet "$work/cpanel.expect" "$work/$name.out" || fail=1 ;;
    exporter_cpanel_rules)
      "${check[@]}" --quiet "$work/cpanel.expect" "$work/$name.out" || fail=1
      "${check[@]}" --quiet "$work/rules.expect" "$work/$name.out" || fail=1 ;;
    wc | wc_cpanel)
      got=$(awk '{ print $1 }' "$work/$name.out")
      [[ $got == "$lines" ]] || { echo "FAIL $name counted $got, not $lines" >&2; fail=1; } ;;
    grep | grep_cpanel)
      local want=$arrivals
      [[ $name == grep_cpanel ]] && want=$arrivals_cpanel
      got=$(cat "$work/$name.out")
      [[ $got == "$want" ]] || { echo "FAIL $name counted $got, not $want" >&2; fail=1; } ;;
    mtail | mtail_cpanel)
      local want=$work/exim.expect
      [[ $name == mtail_cpanel ]] && want=$work/cpanel.expect
      sed -e 's/,prog="exim.mtail"//; s/{prog="exim.mtail",/{/; s/{prog="exim.mtail"}//' \
        "$work/$name.out" >"$work/$name.prom"
      "${check[@]}" --quiet --only="$mtail_only" "$want" "$work/$name.prom" || fail=1 ;;
  esac
}

echo "== one-shot: $runs runs of each, interleaved ($SECONDS s)"
tools=(exporter_exim exporter_postfix wc grep exporter_cpanel wc_cpanel grep_cpanel)
if [[ $have_mtail == 1 ]]; then tools+=(mtail mtail_cpanel); fi
if [[ $have_rules == 1 ]]; then tools+=(exporter_cpanel_rules); fi
for ((r = 1; r <= runs; r++)); do
  for t in "${tools[@]}"; do
    case "$t" in
      exporter_exim)
        run "$t" "$exporter" "${common[@]}" --exim.mainlog="$work/exim.log" --exim.rejectlog=none ;;
      exporter_postfix)
        run "$t" "$exporter" "${common[@]}" --mta=postfix --postfix.log="$work/postfix.log" ;;
      exporter_cpanel)
        run "$t" "$exporter" "${common[@]}" --exim.mainlog="$work/cpanel.log" --exim.rejectlog=none ;;
      exporter_cpanel_rules)
        run "$t" "$exporter" "${common[@]}" --exim.mainlog="$work/cpanel.log" --exim.rejectlog=none \
          --rules.file="$rules_file" ;;
      wc) run "$t" wc -l "$work/exim.log" ;;
      grep) run "$t" grep -c ' <= ' "$work/exim.log" ;;
      wc_cpanel) run "$t" wc -l "$work/cpanel.log" ;;
      grep_cpanel) run "$t" grep -c ' <= ' "$work/cpanel.log" ;;
      mtail | mtail_cpanel)
        log=$work/exim.log
        [[ $t == mtail_cpanel ]] && log=$work/cpanel.log
        # One-shot mtail still opens its HTTP listener: loopback, any free port.
        run "$t" mtail --one_shot --one_shot_format=prometheus --progs "$here/mtail" \
          --logs "$log" --address=127.0.0.1 --port=0 --logtostderr \
          2>"$work/mtail.stderr" ;;
    esac
    verify "$t"
  done
  echo "   run $r done"
done

# ---- live tail: a writer appends at live_rate while the exporter follows -------------------
# start_exporter LOG [FLAGS...]: live exporter on LOG (Exim), waits until it serves /metrics.
port=""
# Loopback ports for the four live runs, from the test suite's allocator (tests/lib/ports.py:
# reserved until this script exits; python3 starts slowly on a busy machine: once).
mapfile -t free_ports < <(python3 "$here/../tests/lib/ports.py" alloc --owner $$ --count 4)
start_exporter() {
  local log=$1
  shift
  port=${free_ports[0]}
  free_ports=("${free_ports[@]:1}")
  "$exporter" --exim.mainlog="$log" --exim.rejectlog=none --tail.from-beginning \
    --relay.include-interface-addresses=false --relay.relayhosts="$work/relayhosts" \
    --exim.queue-source=none --web.listen-address="127.0.0.1:$port" --log.level=warn "$@" \
    2>"$work/exporter.stderr" &
  exporter_pid=$!
  for _ in $(seq 100); do
    if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/metrics" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "log_bench: exporter did not start" >&2
  cat "$work/exporter.stderr" >&2
  return 1
}
metric() {  # metric FILE NAME: sum of the series of NAME
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }' "$1"
}
now_us() { echo "${EPOCHREALTIME/./}"; }
since() {  # since START_US: seconds elapsed, 2 decimals
  local d=$(($(now_us) - $1))
  printf '%d.%02d\n' $((d / 1000000)) $(((d / 10000) % 100))
}
# utime + stime of a process, in clock ticks.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# wait_lines WANT: until mailrelay_log_lines_total reaches WANT (60 s at most); prints seconds.
wait_lines() {
  local want=$1 start got
  start=$(now_us)
  for _ in $(seq 600); do
    curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/final.prom" || true
    got=$(metric "$work/final.prom" mailrelay_log_lines_total)
    if [[ $got -ge $want ]]; then break; fi
    sleep 0.1
  done
  local took
  took=$(since "$start")
  # A new per-user/per-IP series shows 0 in the first scrape that has it (docs/metrics.md, First
  # count of a new series); the scrape after that has every count.
  curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/final.prom" || true
  echo "$took"
}

echo "== live tail: ${live_rate} lines/s for ${live_seconds} s ($SECONDS s)"
live_lines_per_copy=$lines
repeat=$(((live_rate * live_seconds + live_lines_per_copy - 1) / live_lines_per_copy))
: >"$work/live.log"
start_exporter "$work/live.log" --tail.poll-interval=250ms
"$loggen" --replay="$work/exim.log" --repeat="$repeat" --rate="$live_rate" --out="$work/live.log" \
  --append --report="$work/writer.report" &
writer_pid=$!
: >"$work/live.samples"
t0=$(now_us)
while kill -0 "$writer_pid" 2>/dev/null; do
  if curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/live.prom" 2>/dev/null; then
    # The size after the scrape: the lag is never understated (at most overstated by what the
    # writer added during the scrape).
    size=$(stat -c %s "$work/live.log")
    read_bytes=$(metric "$work/live.prom" mailrelay_log_read_bytes_total)
    # Not before the writer starts writing (it first loads the file it replays).
    if ((size == 0)); then sleep 0.1; continue; fi
    echo "$(since "$t0") $size $read_bytes $((size - read_bytes)) $(rss_kb "$exporter_pid")" \
      >>"$work/live.samples"
  fi
  sleep 0.5
done
wait "$writer_pid"
live_total=$((repeat * lines))
catch_up=$(wait_lines "$live_total")
live_hwm=$(hwm_kb "$exporter_pid")
# Expected totals: the Exim file's, times the copies written.
python3 - "$work/exim.expect" "$repeat" >"$work/live.expect" <<'EOF'
import re, sys
n = int(sys.argv[2])
for line in open(sys.argv[1]):
    if line.startswith('#'):
        continue  # live series depend on the copies; the sums are checked
    m = re.match(r'^(\S+) (\d+)$', line.strip())
    if m and not m.group(1).startswith('mailrelay_label_overflow_total'):
        print(f'{m.group(1)} {int(m.group(2)) * n}')
EOF
"${check[@]}" --quiet "$work/live.expect" "$work/final.prom" || { echo "FAIL live tail counts" >&2; fail=1; }
stop_exporter

# ---- line-to-metric latency ------------------------------------------------------------------
echo "== line-to-metric latency: $latency_lines single lines ($SECONDS s)"
# The exporter with its default tail settings (inotify) follows an idle log; one line at a time
# is appended (0.2 s apart) and /metrics is scraped back to back until it counts that line.
# A latency includes the last scrape's own duration (~1 ms here).
: >"$work/latency.log"
start_exporter "$work/latency.log"
python3 - "$work/exim.log" "$work/latency.log" "$port" "$latency_lines" >"$work/latency.times" <<'EOF'
import re, sys, time, urllib.request
src, log, port, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(src, 'rb') as f:
    lines = [f.readline() for _ in range(count)]
def counted():
    body = urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=5).read().decode()
    return sum(int(float(v)) for v in re.findall(r'^mailrelay_log_lines_total(?:\{[^}]*\})? (\S+)$',
                                                 body, re.M))
base = counted()
with open(log, 'ab', buffering=0) as out:
    for i, line in enumerate(lines, 1):
        time.sleep(0.2)
        t0 = time.monotonic()
        out.write(line)
        while counted() < base + i:
            if time.monotonic() - t0 > 10:
                sys.exit(f'line {i} not counted after 10 s')
        print(f'{(time.monotonic() - t0) * 1000:.2f}')
EOF
stop_exporter

# ---- scrape with `series` per-user/per-IP series, then the flood ---------------------------
echo "== scrape with ~$series series ($SECONDS s)"
# A flood log: each auth submission adds an auth user and a client IP (2 series each), each
# failed login an IP and a user, each reject an IP: a cap of series/7 per family gives ~series.
cap=$((series / 7))
"$loggen" --mode=flood --mta=exim --lines=$((cap * 3)) --cap="$cap" --seed=3 \
  --out="$work/series.log" --expect="$work/series.expect"
start_exporter "$work/series.log" --metrics.max-series-per-family="$cap"
wait_lines $((cap * 3)) >/dev/null
"${check[@]}" --quiet --max-series="$cap" "$work/series.expect" "$work/final.prom" || fail=1
series_live=$(grep -vc '^#' "$work/final.prom")
# 50 rounds of one /metrics and one /-/healthy (the same HTTP round trip without a rendering:
# the baseline), and the exporter's CPU time over all of them (utime + stime, clock ticks).
: >"$work/scrape.times"
: >"$work/healthy.times"
scrape_rounds=50
cpu_before=$(cpu_ticks "$exporter_pid")
for _ in $(seq "$scrape_rounds"); do
  curl -fsS -o "$work/scrape.prom" -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" \
    >>"$work/scrape.times"
  curl -fsS -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/-/healthy" \
    >>"$work/healthy.times"
done
scrape_cpu_ms=$((($(cpu_ticks "$exporter_pid") - cpu_before) * 1000 / $(getconf CLK_TCK)))
scrape_bytes=$(stat -c %s "$work/scrape.prom")
series_rss=$(rss_kb "$exporter_pid")
series_hwm=$(hwm_kb "$exporter_pid")
stop_exporter

echo "== flood: $flood_lines lines, every key new ($SECONDS s)"
"$loggen" --mode=flood --mta=exim --lines="$flood_lines" --seed=4 --out="$work/flood.src" \
  --expect="$work/flood.expect"
: >"$work/flood.log"
start_exporter "$work/flood.log"
flood_rss_start=$(rss_kb "$exporter_pid")
"$loggen" --replay="$work/flood.src" --out="$work/flood.log" --append &
writer_pid=$!
: >"$work/flood.samples"
while kill -0 "$writer_pid" 2>/dev/null; do
  rss_kb "$exporter_pid" >>"$work/flood.samples"
  sleep 0.2
done
wait "$writer_pid"
for _ in $(seq 50); do
  rss_kb "$exporter_pid" >>"$work/flood.samples"
  curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/final.prom" || true
  [[ $(metric "$work/final.prom" mailrelay_log_lines_total) -ge $flood_lines ]] && break
  sleep 0.2
done
# New series (here the __overflow__ ones) show 0 in the first scrape that has them.
curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/final.prom" || true
"${check[@]}" --quiet --max-series=2000 "$work/flood.expect" "$work/final.prom" ||
  { echo "FAIL flood counts" >&2; fail=1; }
flood_hwm=$(hwm_kb "$exporter_pid")
stop_exporter

# ---- report -----------------------------------------------------------------------------------
echo "== report ($SECONDS s)"
python3 - "$work" "$lines" "$bytes_exim" "$have_mtail" "$live_rate" "$live_seconds" \
  "$catch_up" "$live_hwm" "$series_live" "$scrape_bytes" "$series_rss" "$series_hwm" \
  "$flood_lines" "$flood_rss_start" "$flood_hwm" "$cap" "$scrape_cpu_ms" "$bytes_cpanel" \
  "$have_rules" "$arrivals" "$arrivals_cpanel" >"$work/report.md" <<'EOF'
import os, statistics as st, sys, time
(work, lines, bytes_exim, have_mtail, live_rate, live_seconds, catch_up, live_hwm, series_live,
 scrape_bytes, series_rss, series_hwm, flood_lines, flood_rss_start, flood_hwm, cap,
 scrape_cpu_ms, bytes_cpanel, have_rules, arrivals, arrivals_cpanel) = sys.argv[1:]
lines = int(lines)

def times(name):
    rows = [list(map(float, l.split())) for l in open(f'{work}/{name}.times') if l.strip()]
    return {
        'wall': st.median(r[0] for r in rows),
        'cpu': st.median(r[1] + r[2] for r in rows),
        'rss': st.median(r[3] for r in rows) / 1024,
        'n': len(rows),
    }

tools = [('exporter_exim', '`mailrelay_exporter --oneshot` (Exim)'),
         ('exporter_postfix', '`mailrelay_exporter --oneshot --mta=postfix`'),
         ('wc', '`wc -l` (Exim file)'),
         ('grep', "`grep -c ' <= '` (Exim file)")]
if have_mtail == '1':
    tools.append(('mtail', '`mtail --one_shot` + bench/mtail/exim.mtail (Exim file)'))
cpanel_tools = [('exporter_cpanel', '`mailrelay_exporter --oneshot` (cPanel)')]
if have_rules == '1':
    cpanel_tools.append(('exporter_cpanel_rules',
                         '`mailrelay_exporter --oneshot --rules.file=bench/rules/cpanel-20.yml`'))
cpanel_tools += [('wc_cpanel', '`wc -l` (cPanel file)'),
                 ('grep_cpanel', "`grep -c ' <= '` (cPanel file)")]
if have_mtail == '1':
    cpanel_tools.append(('mtail_cpanel', '`mtail --one_shot` + bench/mtail/exim.mtail (cPanel file)'))
t = {name: times(name) for name, _ in tools + cpanel_tools}
distinct = {}
for line in open(f'{work}/cpanel.expect'):
    if line.startswith('# distinct '):
        _, _, family, n = line.split()
        distinct[family] = int(n)
ex = t['exporter_exim']
out = []
uname = os.uname()
load = open('/proc/loadavg').read().split()[:3]
out.append(f'Environment: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}; '
           f'{os.cpu_count()} CPUs shared with other jobs (load average {" ".join(load)} at the '
           f'end); Linux {uname.release}; median of {ex["n"]} runs each, interleaved; page cache '
           f'warm. {lines} lines per file, Exim {int(bytes_exim) / lines:.0f} bytes/line.')
out.append('')
def table(tools):
    out.append('| program | wall | CPU (user+sys) | peak RSS | lines/s (wall) | lines/s (CPU) |')
    out.append('|---|---:|---:|---:|---:|---:|')
    for name, label in tools:
        r = t[name]
        out.append(f'| {label} | {r["wall"]:.2f} s | {r["cpu"]:.2f} s | {r["rss"]:.1f} MiB | '
                   f'{lines / max(r["wall"], 1e-3) / 1e6:.2f} M | '
                   f'{lines / max(r["cpu"], 1e-3) / 1e6:.2f} M |')
    out.append('')
def ratio(a, b, key):
    return t[b][key] / max(t[a][key], 1e-3)
def ratios(rows):
    out.append('| ratio (other ÷ exporter; > 1: the exporter is faster) | wall | CPU |')
    out.append('|---|---:|---:|')
    for label, a, b in rows:
        out.append(f'| {label} | {ratio(a, b, "wall"):.2f}× | {ratio(a, b, "cpu"):.2f}× |')
    out.append('')
table(tools)
rows = [('exporter (Exim) vs `grep -c`', 'exporter_exim', 'grep'),
        ('exporter (Exim) vs `wc -l`', 'exporter_exim', 'wc')]
if have_mtail == '1':
    rows.insert(0, ('exporter (Exim) vs mtail', 'exporter_exim', 'mtail'))
ratios(rows)
out.append(f'**cPanel workload** (`mail_loggen --profile=cpanel`, same run): {lines} lines, '
           f'{int(bytes_cpanel) / lines:.0f} bytes/line, {int(arrivals_cpanel) / lines:.1%} '
           f'arrivals (`<=`; the Exim file above: {int(arrivals) / lines:.1%}), '
           f'{distinct.get("mailrelay_source_ip_messages_total", 0)} distinct client IPs of '
           f'arrivals, {distinct.get("mailrelay_auth_user_messages_total", 0)} distinct '
           f'authenticated users, {distinct.get("mailrelay_local_user_messages_total", 0)} local '
           f'(script) users, {distinct.get("mailrelay_reject_ip_total", 0)} rejected and '
           f'{distinct.get("mailrelay_auth_failure_ip_total", 0)} failed-login IPs (default cap '
           f'2000 series per family: new keys past it count under `__overflow__`).')
out.append('')
table(cpanel_tools)
rows = [('exporter (cPanel) vs `grep -c`', 'exporter_cpanel', 'grep_cpanel'),
        ('exporter (cPanel) vs `wc -l`', 'exporter_cpanel', 'wc_cpanel')]
if have_rules == '1':
    rows.append(('exporter + 20 rules (cPanel) vs `grep -c`', 'exporter_cpanel_rules',
                 'grep_cpanel'))
    rows.append(('exporter + 20 rules vs exporter (cPanel)', 'exporter_cpanel_rules',
                 'exporter_cpanel'))
if have_mtail == '1':
    rows.insert(0, ('exporter (cPanel) vs mtail', 'exporter_cpanel', 'mtail_cpanel'))
ratios(rows)
if have_rules != '1':
    out.append('With 20 rules: not measured (this binary has no `--rules.file` yet; see '
               '`BM_CpanelLineToMetricsRules20` in the micro-benchmarks).')
    out.append('')

samples = [list(map(float, l.split())) for l in open(f'{work}/live.samples') if l.strip()]
rep = dict(l.strip().split('=') for l in open(f'{work}/writer.report') if '=' in l)
lag = [s[3] for s in samples]
third = max(1, len(lag) // 3)
out.append(f'Live tail: `mail_loggen --replay` appended {int(rep["lines"])} lines '
           f'({int(rep["bytes"]) / 1e6:.0f} MB) at {float(rep["lines_per_second"]) / 1e6:.2f} M '
           f'lines/s for {float(rep["seconds"]):.1f} s (asked: {int(live_rate) / 1e6:.2f} M for '
           f'{live_seconds} s) while the exporter followed the file (inotify, '
           f'`--tail.poll-interval=250ms`); lag = bytes written − `mailrelay_log_read_bytes_total`, '
           f'sampled every 0.5 s ({len(samples)} samples): max {max(lag) / 1e6 if lag else 0:.1f} MB, '
           f'median {st.median(lag) / 1e6 if lag else 0:.1f} MB, median of the first third '
           f'{st.median(lag[:third]) / 1e6 if lag else 0:.1f} MB, of the last third '
           f'{st.median(lag[-third:]) / 1e6 if lag else 0:.1f} MB; every line counted '
           f'{catch_up} s after the writer stopped; peak RSS {int(live_hwm) / 1024:.1f} MiB.')
lat = sorted(float(l) for l in open(f'{work}/latency.times') if l.strip())
lag_ms = st.median(lag) / (int(rep["bytes"]) / float(rep["seconds"])) * 1000 if lag else 0
out.append('')
out.append(f'Line-to-metric latency: {len(lat)} single lines appended 0.2 s apart to an idle log '
           f'that the exporter follows with its default settings (inotify); time from the write '
           f'until /metrics (scraped back to back) counts the line: median {st.median(lat):.1f} ms, '
           f'max {max(lat):.1f} ms. Under the writer above '
           f'({float(rep["lines_per_second"]) / 1e6:.2f} M lines/s), the median lag '
           f'({st.median(lag) / 1e6 if lag else 0:.1f} MB) is {lag_ms:.0f} ms of the writer\'s output.')
out.append('')
scr = sorted(float(l) * 1000 for l in open(f'{work}/scrape.times') if l.strip())
hea = sorted(float(l) * 1000 for l in open(f'{work}/healthy.times') if l.strip())
def p90(v):
    return v[min(len(v) - 1, int(len(v) * 0.9))]
out.append(f'Scrape: {series_live} series in /metrics ({int(scrape_bytes) / 1e6:.2f} MB; '
           f'`--metrics.max-series-per-family={cap}`, flood log), {len(scr)} rounds of one '
           f'/metrics and one /-/healthy: `curl` total time of /metrics median '
           f'{st.median(scr):.1f} ms, 90th percentile {p90(scr):.1f} ms, max {max(scr):.1f} ms; '
           f'of /-/healthy (the same round trip without rendering) median {st.median(hea):.1f} ms, '
           f'max {max(hea):.1f} ms; the exporter\'s CPU time over all rounds '
           f'{int(scrape_cpu_ms) / len(scr):.1f} ms per round; RSS '
           f'{int(series_rss) / 1024:.1f} MiB (peak {int(series_hwm) / 1024:.1f} MiB).')
out.append('')
fl = [int(l) for l in open(f'{work}/flood.samples') if l.strip() and int(l) > 0]
out.append(f'Flood: {flood_lines} lines, every auth user, client IP and attempted user new '
           f'(default cap 2000): RSS {int(flood_rss_start) / 1024:.1f} MiB at the start, '
           f'{min(fl) / 1024 if fl else 0:.1f}–{max(fl) / 1024 if fl else 0:.1f} MiB while it was '
           f'read ({len(fl)} samples), peak {int(flood_hwm) / 1024:.1f} MiB.')
print('\n'.join(out))
EOF
cat "$work/report.md"

if [[ -n $readme && $fail == 0 ]]; then
  python3 - "$readme" "$work/report.md" <<'EOF'
import sys
readme, report = sys.argv[1], open(sys.argv[2]).read()
start, end = '<!-- log-bench:start -->', '<!-- log-bench:end -->'
text = open(readme).read()
i, j = text.find(start), text.find(end)
if i < 0 or j < 0:
    sys.exit(f'{readme}: markers {start} / {end} not found')
body = text[i + len(start):j]
# Keep the hand-written part of the section (up to the generated marker line).
keep_marker = '<!-- log-bench:results -->'
k = body.find(keep_marker)
prefix = body[:k + len(keep_marker)] if k >= 0 else '\n'
text = text[:i + len(start)] + prefix + '\n' + report + '\n' + text[j:]
open(readme, 'w').write(text)
print(f'wrote the results into {readme}')
EOF
fi
if [[ $fail != 0 ]]; then
  echo "log_bench: FAILED (counts differ from the generator's, see above)" >&2
  exit 1
fi
echo "log_bench: ok"
