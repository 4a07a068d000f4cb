#!/usr/bin/env bash
# Restart: the exporter runs with --state.file while log_writer streams numbered Exim `<=` lines
# (split across writes, rename rotations); it is killed with kill -9 five times
# mid-stream, the log is rotated while it is down (rename to .1 or -DATE, gzip'd or not), and it
# is restarted with the same --state.file. The sum of what every incarnation counted must equal
# exactly what was written.
#
# Counting without a race: counters restart at 0 with each process, so each incarnation's count
# is scraped just before its kill. To make "just before" exact, the writer is frozen (SIGSTOP,
# possibly in the middle of a line or of a rotation), the test waits until the exporter has read
# everything, counted it and saved its position (lines and mailrelay_state_saves_total unchanged
# across scrapes, and the saved offset is the end of the last complete line of the saved file),
# then scrapes and kill -9s it: no graceful shutdown, the state file is the one the periodic
# saver wrote. The writer resumes while the exporter is down, so the next incarnation must pick
# up lines written to the rotated file and to the new one. The last incarnation runs to the end.
#
# The writer's own rotations are rename only: a file deleted while no reader holds it is gone for
# any reader. A kill is done only when the saved position is in the file at the path (not in
# the previous file because the writer froze mid-line right at a rotation), so that the rotation
# done while the exporter is down never overwrites an unread file.
#
#   restart_kill9.sh EXPORTER LOG_WRITER
set -euo pipefail
bin=$1
writer=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/reliability/common.sh
source "$here/common.sh"

work=$(mktemp -d)
exporter_pid=""
writer_pid=""
cleanup() {
  if [[ -n $writer_pid ]]; then
    kill -CONT "$writer_pid" 2>/dev/null || true
    rel_kill "$writer_pid"
  fi
  if [[ -n $exporter_pid ]]; then rel_kill "$exporter_pid"; fi
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

log=$work/mainlog
state=$work/state
port=$(rel_free_port)
url=http://127.0.0.1:$port/metrics
incarnation=0

start_exporter() {
  incarnation=$((incarnation + 1))
  "$bin" --exim.mainlog="$log" --exim.rejectlog=none --tail.from-beginning \
    --tail.poll-interval=20ms --exim.queue-source=none --relay.include-interface-addresses=false \
    --state.file="$state" --state.interval=100ms --web.listen-address="127.0.0.1:$port" \
    2>"$work/exporter.$incarnation.log" &
  exporter_pid=$!
  echo "$exporter_pid" >"$work/exporter.pid"
  rel_wait_up "$url"
}

# The saved position is at the end of the last complete line of the file it names
# (with "on-path": and that file is the one at the log's path).
state_at_end() {
  python3 - "$state" "$log" "${1:-}" <<'PY'
import gzip, os, sys
state, log, on_path = sys.argv[1], sys.argv[2], sys.argv[3] == "on-path"
lines = open(state).read().splitlines()
entry = [l.split(" ", 7) for l in lines if l.startswith("log ") and l.split(" ", 7)[7] == log]
if not entry:
    sys.exit(1)
_, dev, ino, offset, *_ = entry[0]
if on_path:
    try:
        st = os.stat(log)
    except FileNotFoundError:
        sys.exit(1)
    if (st.st_dev, st.st_ino) != (int(dev), int(ino)):
        sys.exit(1)
d = os.path.dirname(log)
for name in os.listdir(d):
    p = os.path.join(d, name)
    st = os.stat(p)
    if st.st_dev == int(dev) and st.st_ino == int(ino):
        data = (gzip.open if name.endswith(".gz") else open)(p, "rb").read()
        sys.exit(0 if int(offset) == data.rfind(b"\n") + 1 else 1)
sys.exit(1)
PY
}

# Waits until the exporter is idle with everything counted and saved; leaves the scrape in $1.
quiesce() {
  local out=$1 prev="" cur i
  for ((i = 0; i < 60; i++)); do
    sleep 0.3
    rel_scrape "$url" "$out"
    cur="$(rel_sum "$out" mailrelay_log_lines_total) $(rel_sum "$out" mailrelay_state_saves_total)"
    if [[ $cur == "$prev" ]] && state_at_end; then return 0; fi
    prev=$cur
  done
  echo "exporter never settled" >&2
  return 1
}

total_lines=0
total_msgs=0
add_counts() {
  local l m
  l=$(rel_sum "$1" mailrelay_log_lines_total)
  m=$(rel_sum "$1" mailrelay_messages_received_total)
  echo "incarnation $incarnation counted $l lines, $m messages"
  total_lines=$((total_lines + l))
  total_msgs=$((total_msgs + m))
}

lines=200000
start_exporter
"$writer" --path="$log" --lines=$lines --rate=20000 --rotations=30 --modes=rename \
  --pace-pidfile="$work/exporter.pid" --seed=3 >"$work/writer.out" &
writer_pid=$!

# Rotations done while the exporter is down (the writer reopens the path, like Exim).
rotations=(rename-1 dateext-gz rename-1-gz dateext rename-1)
for k in 0 1 2 3 4; do
  sleep "0.$((3 + RANDOM % 5))"
  for ((try = 0; ; try++)); do
    kill -STOP "$writer_pid" 2>/dev/null || true  # (it may have finished)
    quiesce "$work/before-kill.$k.prom"
    if state_at_end on-path; then break; fi
    if ((try >= 20)); then
      echo "saved position never in the file at the path" >&2
      exit 1
    fi
    kill -CONT "$writer_pid" 2>/dev/null || true
    sleep 0.05
  done
  add_counts "$work/before-kill.$k.prom"
  rel_kill "$exporter_pid"
  exporter_pid=""
  how=${rotations[$k]}
  rotated=""
  # Only when the writer has the path open (it may be frozen between a rotation and its reopen).
  if [[ -e $log ]]; then
    case $how in
      rename-1*) rotated=$log.1 ;;
      dateext*) rotated=$log-2024010$k ;;
    esac
    mv "$log" "$rotated"
  fi
  kill -CONT "$writer_pid" 2>/dev/null || true
  echo "kill -9 #$((k + 1)); rotated while down: ${rotated:-(none)} $how"
  if [[ -n $rotated && $how == *gz ]]; then
    # gzip only once the writer has moved to the new file (logrotate's delaycompress).
    for ((i = 0; i < 100; i++)); do
      if [[ -e $log ]]; then break; fi
      sleep 0.05
    done
    sleep 0.1
    gzip -f "$rotated"
  fi
  sleep 0.2
  start_exporter
done

wait "$writer_pid"
writer_pid=""
cat "$work/writer.out"
quiesce "$work/final.prom"
add_counts "$work/final.prom"

status=0
if ((total_lines != lines)); then
  echo "FAIL: lines counted over all incarnations $total_lines, written $lines" >&2
  status=1
fi
if ((total_msgs != lines)); then
  echo "FAIL: messages counted over all incarnations $total_msgs, written $lines" >&2
  status=1
fi
if ((status != 0)); then
  for f in "$work"/exporter.*.log; do tail -n 5 "$f" >&2; done
  exit 1
fi
echo "restart test passed: $lines lines, $incarnation incarnations, $SECONDS s"
