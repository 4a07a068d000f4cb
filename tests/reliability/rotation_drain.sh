#!/usr/bin/env bash
# The drain at a rotation, staged deterministically: the exporter follows a log, the log is
# renamed to .1 and a new file created, and stat_race_shim.so (LD_PRELOAD) appends a line to the
# old file at the exact moment the exporter's stat() of the path first sees the new file (after
# its last read of the old one). The exporter must count that line (drain the old file before
# switching), the lines of the new file, and one rotation. Without the drain the line is lost;
# the rotation torture finds that only by chance (a race), this test every time.
#   rotation_drain.sh EXPORTER STAT_RACE_SHIM
set -euo pipefail
bin=$1
shim=$(realpath "$2")
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

line() {  # line USER: an Exim arrival of USER
  printf '2026-03-02 10:00:00 1wF%03d-000F00-00 <= %s@drain.example H=(pc) [192.0.2.9]:4000 P=esmtpsa A=dovecot_plain:%s@drain.example S=100\n' \
    "$((RANDOM % 1000))" "$1" "$1"
}

log=$work/mainlog
for u in a b c; do line "$u"; done >"$log"
port=$(rel_free_port)
url=http://127.0.0.1:$port/metrics
RACE_PATH=$log RACE_OLD_PATH=$log.1 RACE_OLD_INODE=$(stat -c %i "$log") \
  RACE_LINE="$(line late)" LD_PRELOAD=$shim \
  "$bin" --exim.mainlog="$log" --exim.rejectlog=none --exim.queue-source=none \
  --relay.include-interface-addresses=false --tail.from-beginning --tail.poll-interval=50ms \
  --web.listen-address="127.0.0.1:$port" 2>"$work/exporter.log" &
exporter_pid=$!
rel_wait_up "$url"
counted() {  # counted N: the exporter has counted N lines (20 s at most)
  local i
  for ((i = 0; i < 200; i++)); do
    rel_scrape "$url" "$work/m.prom"
    [[ $(rel_sum "$work/m.prom" mailrelay_log_lines_total) == "$1" ]] && return 0
    sleep 0.1
  done
  return 1
}
counted 3 || { echo "FAIL: the first 3 lines were not counted" >&2; exit 1; }

mv "$log" "$log.1"
line new >"$log"
# 3 + the line the shim appends to the old file + the new file's line.
ok=0
counted 5 && ok=1
grep -q 'late@drain.example' "$log.1" ||
  { echo "FAIL: the shim did not write to the old file (test setup: stat() not seen)" >&2; exit 1; }
if ((!ok)); then
  echo "FAIL: $(rel_sum "$work/m.prom" mailrelay_log_lines_total) lines counted, want 5:" \
    "the line written to the old file before the switch was lost (no drain)" >&2
  tail -5 "$work/exporter.log" >&2
  exit 1
fi
# A new per-user series shows 0 in the first scrape that has it (docs/metrics.md, First count
# of a new series): the next scrape has the count.
rel_scrape "$url" "$work/m.prom"
grep -q '^mailrelay_auth_user_messages_total{user="late@drain.example"} 1$' "$work/m.prom" ||
  { echo "FAIL: the late line is not counted" >&2; exit 1; }
[[ $(rel_sum "$work/m.prom" mailrelay_log_rotations_total) == 1 ]] ||
  { echo "FAIL: rotations != 1" >&2; exit 1; }
echo "rotation drain: the line written to the old file at the switch was counted (5 lines, 1 rotation)"
