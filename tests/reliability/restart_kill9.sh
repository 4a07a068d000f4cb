#!/usr/bin/env bash
# Restart: the exporter runs with --state.file while log_writer streams numbered lines (split
# across writes, rename rotations); it is killed with kill -9 five times mid-stream, the log is
# rotated while it is down (rename to .1 or -DATE, gzip'd or not), and it is restarted with the
# same --state.file. The sum of what every incarnation counted must equal exactly what was
# written, and every restart must have resumed in the file rotated while it was down ("log
# rotated while stopped: reading the rotated files first"). Run twice:
#   exim     Exim `<=` lines: lines and messages summed over the incarnations = written.
#   postfix  Postfix messages of three lines (smtpd client=, qmgr from=, qmgr removed): a
#            message whose lines straddle a kill is not an arrival for the next incarnation
#            (the correlation of queue ids lives in memory) but a qmgr line of an unknown
#            queue id, counted in mailrelay_postfix_correlation_dropped_total{reason=
#            "unmatched"}: received + unmatched = messages written, completed = messages
#            written, lines = written. Then one message is half-logged on purpose: its
#            client= line is read and saved, the exporter is killed, the rest is written, and
#            the restarted exporter must count exactly that (unmatched 1, completed 1, no
#            arrival, no line twice).
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

top=$(mktemp -d)
exporter_pid=""
writer_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [[ -n $writer_pid ]]; then
    kill -CONT "$writer_pid" 2>/dev/null || true
    rel_kill "$writer_pid"
  fi
  if [[ -n $exporter_pid ]]; then rel_kill "$exporter_pid"; fi
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir: $top"; else rm -rf "$top"; fi
}
trap cleanup EXIT

port=$(rel_free_port)
url=http://127.0.0.1:$port/metrics
format=""
work=""
log=""
state=""
incarnation=0

start_exporter() {
  local -a log_flags=(--exim.mainlog="$log" --exim.rejectlog=none)
  [[ $format == postfix ]] && log_flags=(--mta=postfix --postfix.log="$log")
  incarnation=$((incarnation + 1))
  # The log exists before the exporter looks (the exporter is ready once every log is open;
  # the writer appends to this file, or reopens the path when it was rotated).
  [[ -e $log ]] || : >>"$log"
  "$bin" "${log_flags[@]}" --tail.from-beginning --tail.poll-interval=20ms \
    --exim.queue-source=none --postfix.queue-source=none --relay.include-interface-addresses=false \
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

# writer_holds FILE: the (frozen or running) writer still has FILE open.
writer_holds() {
  local fd
  for fd in /proc/"$writer_pid"/fd/*; do
    [[ $(readlink "$fd" 2>/dev/null) == "$1" ]] && return 0
  done
  return 1
}

total_lines=0
total_msgs=0
total_unmatched=0
total_completed=0
add_counts() {
  local l m u c
  l=$(rel_sum "$1" mailrelay_log_lines_total)
  m=$(rel_sum "$1" mailrelay_messages_received_total)
  u=$(rel_sum "$1" mailrelay_postfix_correlation_dropped_total)
  c=$(rel_sum "$1" mailrelay_messages_completed_total)
  echo "incarnation $incarnation counted $l lines, $m messages, $u unmatched, $c completed"
  total_lines=$((total_lines + l))
  total_msgs=$((total_msgs + m))
  total_unmatched=$((total_unmatched + u))
  total_completed=$((total_completed + c))
}

status=0
fail() {
  echo "FAIL ($format): $*" >&2
  status=1
}

run() {  # run FORMAT LINES
  format=$1
  local lines=$2 k try how rotated i resumed
  work=$top/$format
  mkdir -p "$work"
  log=$work/mainlog
  state=$work/state
  incarnation=0
  total_lines=0 total_msgs=0 total_unmatched=0 total_completed=0
  echo "== $format: $lines lines"
  start_exporter
  "$writer" --path="$log" --lines="$lines" --rate=20000 --rotations=30 --modes=rename \
    --pace-pidfile="$work/exporter.pid" --seed=3 --format="$format" >"$work/writer.out" &
  writer_pid=$!

  # Rotations done while the exporter is down (the writer reopens the path, like Exim).
  local -a rotations=(rename-1 dateext-gz rename-1-gz dateext rename-1)
  for k in 0 1 2 3 4; do
    # Let the exporter run for a while (0.3 to 0.7 s) before the next kill.
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
    # The saved position is in the file at the path (checked above, the writer still frozen):
    # that file is rotated now, every time.
    [[ -e $log ]] || { echo "no log at the path to rotate" >&2; exit 1; }
    case $how in
      rename-1*) rotated=$log.1 ;;
      dateext*) rotated=$log-2024010$k ;;
    esac
    mv "$log" "$rotated"
    kill -CONT "$writer_pid" 2>/dev/null || true
    echo "kill -9 #$((k + 1)); rotated while down: $rotated $how"
    if [[ $how == *gz ]]; then
      # gzip only once the writer has let go of the rotated file (logrotate's delaycompress).
      for ((i = 0; i < 200; i++)); do
        writer_holds "$rotated" || break
        sleep 0.05
      done
      writer_holds "$rotated" && { echo "the writer never left $rotated" >&2; exit 1; }
      gzip -f "$rotated"
      rotated=$rotated.gz
    fi
    # Down until the writer has written to the new file (unless it has finished).
    for ((i = 0; i < 100; i++)); do
      [[ -s $log ]] || ! kill -0 "$writer_pid" 2>/dev/null && break
      sleep 0.02
    done
    start_exporter
    # The restart began in the file rotated while it was down.
    resumed=$(grep -c 'msg="log rotated while stopped: reading the rotated files first"' \
      "$work/exporter.$incarnation.log" || true)
    if ((resumed != 1)) || ! grep -qF "from=$rotated " "$work/exporter.$incarnation.log"; then
      fail "incarnation $incarnation did not resume in $rotated:"
      cat "$work/exporter.$incarnation.log" >&2
    fi
  done

  wait "$writer_pid"
  writer_pid=""
  cat "$work/writer.out"
  quiesce "$work/final.prom"
  add_counts "$work/final.prom"

  ((total_lines == lines)) || fail "lines counted over all incarnations $total_lines, written $lines"
  if [[ $format == exim ]]; then
    ((total_msgs == lines)) || fail "messages counted over all incarnations $total_msgs, written $lines"
  else
    local messages=$((lines / 3))
    ((total_msgs + total_unmatched == messages)) ||
      fail "received $total_msgs + unmatched $total_unmatched != $messages messages written"
    ((total_completed == messages)) || fail "completed $total_completed, written $messages"
    echo "$format: $total_msgs received, $total_unmatched straddled a kill (unmatched)"
  fi
  if grep -l 'the file of the saved position is gone\|cannot read rotated file' "$work"/exporter.*.log; then
    fail "an incarnation lost its saved file (log above)"
  fi
  rel_kill "$exporter_pid"
  exporter_pid=""
}

run exim 200000
run postfix 60000

# A Postfix message half-logged across a restart, on purpose.
echo "== postfix: one message half-logged across a kill -9"
format=postfix
work=$top/half
mkdir -p "$work"
log=$work/mail.log
state=$work/state
incarnation=0
"$writer" --path="$log" --lines=3 --format=postfix >/dev/null
head -n 1 "$log" >"$work/first" && mv "$work/first" "$log"  # the client= line only
start_exporter
quiesce "$work/before.prom"
[[ $(rel_sum "$work/before.prom" mailrelay_log_lines_total) == 1 ]] || fail "client= line not read"
rel_kill "$exporter_pid"
exporter_pid=""
"$writer" --path="$work/whole.log" --lines=3 --format=postfix >/dev/null
tail -n 2 "$work/whole.log" >>"$log"
start_exporter
quiesce "$work/after.prom"
for want in "mailrelay_log_lines_total 2" "mailrelay_messages_received_total 0" \
  "mailrelay_messages_completed_total 1" "mailrelay_postfix_correlation_dropped_total 1"; do
  read -r name value <<<"$want"
  got=$(rel_sum "$work/after.prom" "$name")
  [[ $got == "$value" ]] || fail "half-logged message: $name = $got, want $value"
done
grep -q '^mailrelay_postfix_correlation_dropped_total{reason="unmatched"} 1$' "$work/after.prom" ||
  fail "half-logged message: not counted as unmatched"

if ((status != 0)); then
  for f in "$top"/*/exporter.*.log; do tail -n 5 "$f" >&2; done
  exit 1
fi
echo "restart test passed: exim and postfix, $SECONDS s"
