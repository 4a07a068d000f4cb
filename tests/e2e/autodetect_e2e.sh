#!/usr/bin/env bash
# The binary on fake hosts under --path.rootfs, and the zone of the log's time stamps:
#   1. an empty root: /-/ready answers 503 naming the log it waits for and what autodetection
#      looked for, stderr says so at startup (msg="no MTA found", msg="log not found"); once
#      that log appears the exporter gets ready and counts its lines. `report` on the same root
#      exits 1 with the same explanation.
#   2. a cPanel root (exim_mainlog, spool owned as on cPanel): --oneshot reads its log and queue
#      from under the root, with no flag naming them.
#   3. --exim.log-timezone: the exporter in UTC told Europe/Berlin reads Exim's local-time stamps
#      of the repeated hour (DST fall-back) as the exporter in Europe/Berlin does, each line its
#      own instant; an unknown zone, or no zone files (TZDIR empty, as in an empty chroot), is
#      an error at startup, never a silent UTC.
#   autodetect_e2e.sh BINARY
# Needs no MTA and no root.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "  ok   $1 = $3"
  else
    echo "  FAIL $1: expected $2, got $3" >&2
    failures=$((failures + 1))
  fi
}
check_grep() { # check_grep DESCRIPTION FIXED-STRING FILE
  if grep -qF -- "$2" "$3"; then
    echo "  ok   $1"
  else
    echo "  FAIL $1: no '$2' in:" >&2
    sed 's/^/       /' "$3" >&2
    failures=$((failures + 1))
  fi
}
# shellcheck source=tests/lib/ports.sh
source "$here/../lib/ports.sh"
# A port reserved until this script exits (a python one-liner's reservation would end with it).
free_port() { mr_free_port; }

line='2026-11-22 11:48:49 1xV63t-0004DL-0K <= alice@mx.example.test H=(client.example.net) [198.51.100.7] P=esmtpsa A=dovecot_plain:alice@mx.example.test S=1234 id=a@b T="hi" for bob@example.org'

echo "== 1. nothing to find under an empty --path.rootfs"
empty="$work/empty"
mkdir -p "$empty/var/log" "$empty/etc"
port=$(free_port)
"$bin" --path.rootfs="$empty" --web.listen-address="127.0.0.1:$port" \
  --relay.include-interface-addresses=false 2>"$work/empty.log" &
pid=$!
ready_code() { curl -s -o "$work/ready" -w '%{http_code}' "http://127.0.0.1:$port/-/ready"; }
not_ready_yet() { [[ $(ready_code) == 503 ]]; }
WAIT_TIMEOUT=20 wait_for not_ready_yet
check "/-/ready status" 503 "$(ready_code)"
check_grep "/-/ready names the log it waits for" "exim_mainlog: $empty/var/log/exim4/mainlog" "$work/ready"
check_grep "/-/ready says autodetection found nothing" "no Exim main log found under $empty (looked for /var/log/exim_mainlog, /var/log/exim/mainlog, /var/log/exim4/mainlog, /var/log/exim/main.log)" "$work/ready"
check_grep "/-/ready names the flag" "--exim.mainlog names another" "$work/ready"
check_grep "startup log: no MTA found" 'level=warn msg="no MTA found" mta=exim' "$work/empty.log"
check_grep "startup log: what --mta=auto looked for" "--mta=auto found no mail server under $empty (looked for exim: /var/log/exim_mainlog" "$work/empty.log"
check_grep "startup log: ... and for Postfix" "postfix: /var/log/mail.log, /var/log/maillog, /usr/sbin/postconf" "$work/empty.log"
check_grep "startup log: the log not found" "level=warn msg=\"log not found\" log=exim_mainlog path=$empty/var/log/exim4/mainlog" "$work/empty.log"
# The exporter waits for that log: once Exim creates it (and its spool: a queue not readable
# keeps /-/ready at 503 too), it is read.
mkdir -p "$empty/var/log/exim4" "$empty/var/spool/exim4/input"
: >"$empty/var/log/exim4/mainlog"
: >"$empty/var/log/exim4/rejectlog"
is_ready() { [[ $(ready_code) == 200 ]]; }
if ! WAIT_TIMEOUT=20 wait_for is_ready; then
  echo "  FAIL /-/ready once the log and the spool exist: $(cat "$work/ready")" >&2
  failures=$((failures + 1))
fi
printf '%s\n' "$line" >>"$empty/var/log/exim4/mainlog"
counted() {
  metrics_fetch "http://127.0.0.1:$port/metrics" "$work/m" &&
    [[ $(metric_value "$work/m" 'mailrelay_messages_received_total{class="authrelay"}') == 1 ]]
}
WAIT_TIMEOUT=20 wait_for counted || failures=$((failures + 1))
check "line counted once the log appeared" 1 \
  "$(metric_value "$work/m" 'mailrelay_messages_received_total{class="authrelay"}')"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""
rm -rf "$empty/var/log/exim4" "$empty/var/spool"
status=0
"$bin" report --path.rootfs="$empty" --no-queue >"$work/report.out" 2>"$work/report.err" || status=$?
check "report exit status with nothing found" 1 "$status"
check_grep "report names what it looked for" "--mta=auto found no mail server under $empty" "$work/report.err"

echo "== 2. a cPanel host under --path.rootfs"
cpanel="$work/cpanel"
mkdir -p "$cpanel/usr/local/cpanel" "$cpanel/var/log" "$cpanel/var/spool/exim/input"
printf '%s\n' "$line" >"$cpanel/var/log/exim_mainlog"
: >"$cpanel/var/log/exim_rejectlog"
"$bin" --path.rootfs="$cpanel" --oneshot --relay.include-interface-addresses=false \
  >"$work/cpanel.prom" 2>"$work/cpanel.log"
check "cPanel: message counted from <root>/var/log/exim_mainlog" 1 \
  "$(metric_value "$work/cpanel.prom" 'mailrelay_messages_received_total{class="authrelay"}')"
check "cPanel: lines of exim_mainlog" 1 "$(metric_value "$work/cpanel.prom" 'mailrelay_log_lines_total{log="exim_mainlog"}')"
check "cPanel: reject log opened" 1 "$(metric_value "$work/cpanel.prom" 'mailrelay_log_file_open{log="exim_rejectlog"}')"
# With --oneshot the spool is read only when named; the report reads the autodetected one.
"$bin" report --path.rootfs="$cpanel" --format=json --since=2026-11-22 --until=2026-11-23 \
  >"$work/cpanel.json" 2>"$work/cpanel-report.err"
check_grep "cPanel report: its log" "\"path\": \"$cpanel/var/log/exim_mainlog\"" "$work/cpanel.json"
check_grep "cPanel report: its spool" "\"source\": \"spool $cpanel/var/spool/exim/input\"" "$work/cpanel.json"

echo "== 3. the log's time zone"
# 02:30 twice on 2026-10-25 in Berlin: 00:30Z (CEST), then 01:30Z (CET).
dst="$work/dst"
mkdir -p "$dst"
printf '%s\n' \
  '2026-10-25 02:30:00 1xV63t-0004DL-0K Completed' \
  '2026-10-25 02:59:59 1xV63t-0004DM-0K Completed' \
  '2026-10-25 02:30:00 1xV63t-0004DN-0K Completed' >"$dst/mainlog"
last_stamp() { metric_value "$1" 'mailrelay_log_last_line_timestamp_seconds{log="exim_mainlog"}'; }
TZ=Europe/Berlin "$bin" --oneshot --exim.mainlog="$dst/mainlog" --exim.rejectlog=none \
  --relay.include-interface-addresses=false >"$work/berlin.prom"
TZ=UTC "$bin" --oneshot --exim.mainlog="$dst/mainlog" --exim.rejectlog=none \
  --exim.log-timezone=Europe/Berlin --relay.include-interface-addresses=false >"$work/utc.prom"
check "TZ=Europe/Berlin: last line at the second 02:30 (01:30Z)" 1792891800 "$(last_stamp "$work/berlin.prom")"
check "TZ=UTC --exim.log-timezone=Europe/Berlin: the same" 1792891800 "$(last_stamp "$work/utc.prom")"
status=0
"$bin" --oneshot --exim.mainlog="$dst/mainlog" --exim.log-timezone=Europe/Nowhere \
  >/dev/null 2>"$work/nowhere.err" || status=$?
check "unknown zone: exit status" 2 "$status"
check_grep "unknown zone: message" "--exim.log-timezone: unknown time zone 'Europe/Nowhere': no /usr/share/zoneinfo/Europe/Nowhere" "$work/nowhere.err"
mkdir -p "$work/no-zoneinfo"
status=0
TZDIR="$work/no-zoneinfo" "$bin" --oneshot --exim.mainlog="$dst/mainlog" \
  --exim.log-timezone=Europe/Berlin >/dev/null 2>"$work/nozones.err" || status=$?
check "no zone files: exit status" 2 "$status"
check_grep "no zone files: message" "unknown time zone 'Europe/Berlin': no $work/no-zoneinfo/Europe/Berlin" "$work/nozones.err"
status=0
TZDIR="$work/no-zoneinfo" TZ=Europe/Berlin "$bin" --oneshot --exim.mainlog="$dst/mainlog" \
  >/dev/null 2>"$work/notz.err" || status=$?
check "TZ naming a missing zone: exit status" 2 "$status"
check_grep "TZ naming a missing zone: message" "TZ=Europe/Berlin names no time zone here" "$work/notz.err"

if [[ $failures -ne 0 ]]; then
  echo "autodetect_e2e: $failures failure(s)" >&2
  exit 1
fi
echo "autodetect_e2e: OK"
