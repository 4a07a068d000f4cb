#!/usr/bin/env bash
# Rotation torture: log_writer appends numbered Exim `<=` lines (lines split across write()
# calls, rotations also mid-line) at >= 50k lines/s and rotates the log >= 200 times mixing
# rename+create, copytruncate and delete+recreate, while the exporter follows it live. At the
# end the exporter's line and message counts must equal exactly what was written: 0 lost, 0
# counted twice; and each rename/delete is one mailrelay_log_rotations_total, each copytruncate
# one mailrelay_log_truncations_total.
#
# Pacing (see log_writer.cc): a file is renamed or deleted only once the exporter has opened it
# (two rotations before a reader even saw the file would lose the middle file for any tailer),
# and around a copytruncate the writer waits until the exporter has read the whole file, copies,
# truncates and waits until the exporter saw the truncation.
#
# Phase 2 measures the copytruncate window without that pacing: lines written after the
# exporter's last read and before the truncate exist only in the copy, which a `tail -F`
# follower never reads. It is reported, not asserted (it depends on scheduling).
#
# Phase 3 is phase 1 for Postfix (--mta=postfix): messages of three lines (smtpd client=, qmgr
# from=, qmgr removed) whose lines straddle every kind of rotation; every message must be one
# arrival and one completion (the correlation of queue ids survives rotations), none
# unmatched.
#
#   rotation_torture.sh EXPORTER LOG_WRITER
set -euo pipefail
bin=$1
writer=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/reliability/common.sh
source "$here/common.sh"

work=$(mktemp -d)
exporter_pid=""
cleanup() {
  if [[ -n $exporter_pid ]]; then rel_kill "$exporter_pid"; fi
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

log=$work/mainlog
: >"$log"  # the exporter is ready (and the writer starts) once it follows an existing log
port=$(rel_free_port)
url=http://127.0.0.1:$port/metrics
"$bin" --exim.mainlog="$log" --exim.rejectlog=none --tail.from-beginning \
  --tail.poll-interval=20ms --exim.queue-source=none --relay.include-interface-addresses=false \
  --web.listen-address="127.0.0.1:$port" 2>"$work/exporter.log" &
exporter_pid=$!
echo "$exporter_pid" >"$work/exporter.pid"
rel_wait_up "$url"

# Waits until the exporter counted $1 lines (or its count stops moving), then prints the final
# scrape's file.
settle() {
  local want=$1 out=$2 last=-1 same=0 lines
  for ((i = 0; i < 300; i++)); do
    rel_scrape "$url" "$out"
    lines=$(rel_sum "$out" mailrelay_log_lines_total)
    if ((lines == want)) || ((lines == last)); then
      same=$((same + 1))
      # Equal to the target: confirm once more a little later (a double count would show).
      if ((same >= 3)); then return 0; fi
    else
      same=0
    fi
    last=$lines
    sleep 0.2
  done
}

fail=0
check_eq() {
  if [[ $2 != "$3" ]]; then
    echo "FAIL: $1: exporter $2, expected $3" >&2
    fail=1
  else
    echo "ok: $1 = $2"
  fi
}

# ---- phase 1: every mode, paced: exact counts
lines=300000
start=$SECONDS
"$writer" --path="$log" --lines=$lines --rate=100000 --rotations=240 \
  --modes=rename,copytruncate,delete --pace-pidfile="$work/exporter.pid" --pace=full --seed=7 \
  >"$work/writer1.out"
cat "$work/writer1.out"
settle "$lines" "$work/m1.prom"
echo "phase 1: $((SECONDS - start)) s"
rate=$(awk -F= '$1 == "lines_per_second" { print $2 }' "$work/writer1.out")
rotations=$(awk -F= '$1 == "rotations" { print $2 }' "$work/writer1.out")
renames=$(awk -F= '$1 == "rename" || $1 == "delete" { s += $2 } END { print s }' "$work/writer1.out")
truncates=$(awk -F= '$1 == "copytruncate" { print $2 }' "$work/writer1.out")
if ((rate < 50000)); then
  echo "FAIL: writer managed only $rate lines/s (< 50000)" >&2
  fail=1
fi
if ((rotations < 200)); then
  echo "FAIL: only $rotations rotations" >&2
  fail=1
fi
check_eq "lines" "$(rel_sum "$work/m1.prom" mailrelay_log_lines_total)" "$lines"
check_eq "messages received" "$(rel_sum "$work/m1.prom" mailrelay_messages_received_total)" "$lines"
check_eq "unparsed lines" "$(rel_sum "$work/m1.prom" mailrelay_log_unparsed_lines_total)" 0
check_eq "rotations seen (rename+delete)" \
  "$(rel_sum "$work/m1.prom" mailrelay_log_rotations_total)" "$renames"
check_eq "truncations seen (copytruncate)" \
  "$(rel_sum "$work/m1.prom" mailrelay_log_truncations_total)" "$truncates"

# ---- phase 2: copytruncate without pacing: measure the window
lines2=100000
"$writer" --path="$log" --first=$((lines + 1)) --lines=$lines2 --rate=100000 --rotations=50 \
  --modes=copytruncate --pace-pidfile="$work/exporter.pid" --pace=none --seed=11 \
  >"$work/writer2.out"
settle $((lines + lines2)) "$work/m2.prom"
got_lines=$(($(rel_sum "$work/m2.prom" mailrelay_log_lines_total) - lines))
got_msgs=$(($(rel_sum "$work/m2.prom" mailrelay_messages_received_total) - lines))
unread=$(awk -F= '$1 == "copytruncate_unread_lines" { print $2 }' "$work/writer2.out")
echo "copytruncate window (unpaced, 50 truncations, $lines2 lines at 100k/s):" \
  "messages lost $((lines2 - got_msgs)), lines counted $got_lines," \
  "complete lines unread at truncate time $unread"
if ((got_msgs > lines2)); then
  echo "FAIL: messages counted twice under copytruncate" >&2
  fail=1
fi

# ---- phase 3: Postfix, every mode, paced: exact counts per message
rel_kill "$exporter_pid"
exporter_pid=""
plog=$work/mail.log
: >"$plog"
pport=$(rel_free_port)
url=http://127.0.0.1:$pport/metrics
"$bin" --mta=postfix --postfix.log="$plog" --postfix.queue-source=none --tail.from-beginning \
  --tail.poll-interval=20ms \
  --relay.include-interface-addresses=false --web.listen-address="127.0.0.1:$pport" \
  2>"$work/exporter-postfix.log" &
exporter_pid=$!
echo "$exporter_pid" >"$work/exporter.pid"
rel_wait_up "$url"
plines=90000
start=$SECONDS
"$writer" --path="$plog" --lines=$plines --rate=100000 --rotations=90 \
  --modes=rename,copytruncate,delete --pace-pidfile="$work/exporter.pid" --pace=full --seed=13 \
  --format=postfix >"$work/writer3.out"
cat "$work/writer3.out"
settle "$plines" "$work/m3.prom"
echo "phase 3: $((SECONDS - start)) s"
messages=$((plines / 3))
renames=$(awk -F= '$1 == "rename" || $1 == "delete" { s += $2 } END { print s }' "$work/writer3.out")
truncates=$(awk -F= '$1 == "copytruncate" { print $2 }' "$work/writer3.out")
check_eq "postfix lines" "$(rel_sum "$work/m3.prom" mailrelay_log_lines_total)" "$plines"
check_eq "postfix unparsed lines" "$(rel_sum "$work/m3.prom" mailrelay_log_unparsed_lines_total)" 0
check_eq "postfix messages received" \
  "$(rel_sum "$work/m3.prom" mailrelay_messages_received_total)" "$messages"
check_eq "postfix messages completed" \
  "$(rel_sum "$work/m3.prom" mailrelay_messages_completed_total)" "$messages"
check_eq "postfix correlation drops" \
  "$(rel_sum "$work/m3.prom" mailrelay_postfix_correlation_dropped_total)" 0
check_eq "postfix rotations seen (rename+delete)" \
  "$(rel_sum "$work/m3.prom" mailrelay_log_rotations_total)" "$renames"
check_eq "postfix truncations seen (copytruncate)" \
  "$(rel_sum "$work/m3.prom" mailrelay_log_truncations_total)" "$truncates"

if ((fail != 0)); then
  tail -20 "$work/exporter.log" >&2
  tail -20 "$work/exporter-postfix.log" >&2 || true
  exit 1
fi
echo "rotation torture passed in $SECONDS s"
