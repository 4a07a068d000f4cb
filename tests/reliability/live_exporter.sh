#!/usr/bin/env bash
# Behaviour of a running exporter that only shows live:
#   - inotify wake-ups: with --tail.poll-interval=60s, a line appended to the log (and a line in
#     a new file after a rename rotation) is counted long before the next poll could run. The
#     deadline is 20 s, far below 60 s and far above what inotify needs (milliseconds; the
#     latency is printed): a pass means an inotify event woke the tailer, not the timer, and a
#     loaded machine cannot fail it. (It does not prove the 100 ms figure of the README: that is
#     measured by bench/log_bench.sh, not asserted in a test.)
#   - --web.telemetry-path=/internal/metrics: the exposition is there, /metrics is 404, the
#     landing page links the custom path, /-/healthy and /-/ready still answer.
#   - idle-series expiry: with --metrics.series-idle-timeout=2s a user's series disappears from
#     /metrics once nothing updated it for 2 s, while a user updated all along keeps its
#     series; when the first user comes back its counter starts again from 1.
# (IPv6 client addresses end to end: tests/e2e/exim_e2e.sh, a real Exim on [::1].)
#   live_exporter.sh EXPORTER
set -euo pipefail
bin=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/reliability/common.sh
source "$here/common.sh"

work=$(mktemp -d)
exporter_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [[ -n $exporter_pid ]]; then rel_kill "$exporter_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail=0
ok() { echo "  ok   $*"; }
bad() {
  echo "  FAIL $*" >&2
  fail=1
}

# line N USER: an Exim arrival stamped now, authenticated as USER.
line() {
  printf '%s 1wE%03d-000E00-00 <= %s@live.example H=(pc) [192.0.2.%d]:4000 P=esmtpsa A=dovecot_plain:%s@live.example S=100 for r@example.com\n' \
    "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "$2" "$(($1 % 200 + 1))" "$2"
}

# value URL SERIES: the series' value in a scrape of URL, or "missing".
value() {
  curl -fsS --max-time 5 "$1" 2>/dev/null |
    awk -v s="$2" '$1 == s { v = $2; found = 1 } END { print found ? v : "missing" }'
}

# until_value URL SERIES WANT SECONDS: polls until the series has WANT; prints the seconds it took.
until_value() {
  local start end
  start=$(date +%s.%N)
  end=$(awk -v s="$start" -v d="$4" 'BEGIN { printf "%.3f", s + d }')
  while [[ $(value "$1" "$2") != "$3" ]]; do
    if awk -v n="$(date +%s.%N)" -v e="$end" 'BEGIN { exit !(n > e) }'; then return 1; fi
    sleep 0.01
  done
  awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", n - s }'
}

start() {  # start ARGS...: the exporter, until /-/ready at $base
  "$bin" --exim.mainlog="$log" --exim.rejectlog=none --exim.queue-source=none \
    --relay.include-interface-addresses=false "$@" >>"$work/exporter.log" 2>&1 &
  exporter_pid=$!
  rel_wait_up "$base/metrics"
}
stop() {
  rel_kill "$exporter_pid"
  exporter_pid=""
}

log=$work/mainlog
: >"$log"

echo "== inotify wake-ups (--tail.poll-interval=60s)"
port=$(rel_free_port)
base=http://127.0.0.1:$port
start --web.listen-address="127.0.0.1:$port" --tail.poll-interval=60s
grep -q 'msg="following logs" inotify=true' "$work/exporter.log" || bad "inotify not in use"
series='mailrelay_auth_user_messages_total{user="ino@live.example"}'
line 1 ino >>"$log"
if took=$(until_value "$base/metrics" "$series" 1 20); then
  ok "appended line counted after ${took} s (next timer poll: 60 s)"
else
  bad "appended line not counted within 20 s: the tailer waits for its 60 s poll"
fi
line 2 ino >>"$log"
if took=$(until_value "$base/metrics" "$series" 2 20); then
  ok "second line counted after ${took} s"
else
  bad "second line not counted within 20 s"
fi
mv "$log" "$log.1"
line 3 ino >"$log"
if took=$(until_value "$base/metrics" "$series" 3 20); then
  ok "line in the new file after a rename rotation counted after ${took} s"
else
  bad "line after the rotation not counted within 20 s"
fi
stop

echo "== --web.telemetry-path=/internal/metrics"
port=$(rel_free_port)
base=http://127.0.0.1:$port
"$bin" --exim.mainlog="$log" --exim.rejectlog=none --exim.queue-source=none \
  --relay.include-interface-addresses=false --web.listen-address="127.0.0.1:$port" \
  --web.telemetry-path=/internal/metrics >>"$work/exporter.log" 2>&1 &
exporter_pid=$!
rel_wait_up "$base/metrics"  # (it waits for $base/-/ready)
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base$1" || true; }
[[ $(code /internal/metrics) == 200 ]] || bad "/internal/metrics: $(code /internal/metrics)"
curl -fsS "$base/internal/metrics" >"$work/custom.prom" || true
grep -q '^mailrelay_build_info{' "$work/custom.prom" || bad "no exposition at the custom path"
[[ $(code /metrics) == 404 ]] || bad "/metrics answers $(code /metrics) with a custom path (want 404)"
curl -fsS "$base/" >"$work/landing.html" || true
grep -q 'href="/internal/metrics"' "$work/landing.html" || bad "the landing page does not link the custom path"
[[ $(code /-/healthy) == 200 ]] || bad "/-/healthy: $(code /-/healthy)"
[[ $(curl -s "$base/-/ready") == Ready ]] || bad "/-/ready is not Ready"
((fail)) || ok "custom path serves the metrics, /metrics is 404, the landing page links it"
stop

echo "== idle-series expiry (--metrics.series-idle-timeout=2s)"
port=$(rel_free_port)
base=http://127.0.0.1:$port
start --web.listen-address="127.0.0.1:$port" --tail.poll-interval=100ms \
  --metrics.series-idle-timeout=2s
idle='mailrelay_auth_user_messages_total{user="idle@live.example"}'
busy='mailrelay_auth_user_messages_total{user="busy@live.example"}'
line 10 idle >>"$log"
until_value "$base/metrics" "$idle" 1 20 >/dev/null || bad "the idle user was never counted"
n=0
gone=""
# busy gets a line every 0.5 s; idle gets nothing: its series must go, busy's must stay.
for ((i = 0; i < 60; i++)); do
  n=$((n + 1))
  line $((100 + n)) busy >>"$log"
  sleep 0.5
  if [[ $(value "$base/metrics" "$idle") == missing ]]; then
    gone=yes
    break
  fi
done
if [[ $gone == yes ]]; then
  ok "idle series removed after $((n / 2)) s without updates"
else
  bad "idle series still there after 30 s (timeout 2 s)"
fi
b=$(value "$base/metrics" "$busy")
[[ $b != missing && $b -ge 1 ]] || bad "the busy user's series went too ($b)"
((fail)) || ok "the busy user's series stayed ($b messages)"
line 11 idle >>"$log"
if until_value "$base/metrics" "$idle" 1 20 >/dev/null; then
  ok "the idle user's series is back, from 1 (a counter reset)"
else
  bad "the returning idle user is not counted from 1: $(value "$base/metrics" "$idle")"
fi
stop

if ((fail)); then
  tail -20 "$work/exporter.log" >&2
  exit 1
fi
echo "live_exporter: all checks passed"
