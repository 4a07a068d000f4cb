#!/usr/bin/env bash
# The --postfix.journal reader against real journal files: entries in journal export format are
# written to a journal file by systemd-journal-remote (no journald needed), then read by the
# exporter through sd-journal. Checks --oneshot counts, that other programs' entries are
# skipped, the saved cursor across a restart (nothing read twice, nothing lost) and entries
# appended while the exporter runs.
#   postfix_journal.sh BINARY
# Needs systemd-journal-remote (scripts/install-deps.sh).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"

remote=""
for p in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
  [[ -x $p ]] && remote=$p && break
done
[[ -n $remote ]] || { echo "postfix_journal: systemd-journal-remote is not installed" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/journal"
journal="$work/journal/postfix.journal"

failures=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "  ok   $1 = $3"
  else
    echo "  FAIL $1: expected $2, got $3" >&2
    failures=$((failures + 1))
  fi
}

seq_no=0
# append IDENTIFIER PID MESSAGE...: one entry per argument triple, written to the journal file.
append() {
  local export="$work/export.txt"
  : >"$export"
  while [[ $# -ge 3 ]]; do
    seq_no=$((seq_no + 1))
    printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=mx\nSYSLOG_FACILITY=2\nSYSLOG_IDENTIFIER=%s\n_PID=%s\nMESSAGE=%s\n\n' \
      "$((1795348000000000 + seq_no * 1000000))" "$((1000000 + seq_no))" "$1" "$2" "$3" >>"$export"
    shift 3
  done
  "$remote" --output="$journal" "$export" >/dev/null 2>&1
}

append \
  postfix/smtpd 101 "75CA8A74AB1: client=unknown[192.0.2.7], sasl_method=PLAIN, sasl_username=alice@mx.example.test" \
  postfix/cleanup 102 "75CA8A74AB1: message-id=<x@mx.example.test>" \
  dovecot 103 "imap-login: Login: user=<alice>, method=PLAIN, rip=192.0.2.7" \
  postfix/qmgr 104 "75CA8A74AB1: from=<alice@mx.example.test>, size=475, nrcpt=2 (queue active)" \
  postfix/submission/smtpd 105 "warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: authentication failure"

echo "== --oneshot over $journal"
"$bin" --oneshot --mta=postfix --postfix.journal --postfix.journal-path="$work/journal" \
  --no-relay.include-interface-addresses >"$work/oneshot.prom" 2>"$work/oneshot.log"
m="$work/oneshot.prom"
v() { metric_value "$m" "$1"; }
check "postfix entries read (dovecot skipped)" 4 "$(v 'mailrelay_log_lines_total{log="postfix"}')"
check "unparsed" 0 "$(v 'mailrelay_log_unparsed_lines_total{log="postfix"}')"
check "authrelay messages" 1 "$(v 'mailrelay_messages_received_total{class="authrelay"}')"
check "authrelay recipients" 2 "$(v 'mailrelay_recipients_received_total{class="authrelay"}')"
check "auth user alice" 1 "$(v 'mailrelay_auth_user_messages_total{user="alice@mx.example.test"}')"
check "source ip" 1 "$(v 'mailrelay_source_ip_messages_total{class="authrelay",ip="192.0.2.7"}')"
check "auth failures LOGIN" 1 "$(v 'mailrelay_auth_failures_total{authenticator="LOGIN"}')"
check "journal open" 1 "$(v 'mailrelay_log_file_open{log="postfix"}')"
check "last entry time" 1795348005 "$(v 'mailrelay_log_last_line_timestamp_seconds{log="postfix"}')"

port=$((20000 + RANDOM % 10000))
url="http://127.0.0.1:$port"
cursor="$work/cursor"
start() {
  "$bin" --mta=postfix --postfix.journal --postfix.journal-path="$work/journal" \
    --postfix.journal-cursor-file="$cursor" --web.listen-address="127.0.0.1:$port" \
    --no-relay.include-interface-addresses --tail.poll-interval=100ms "$@" \
    >>"$work/live.log" 2>&1 &
  pid=$!
  wait_for curl -fsS -o /dev/null "$url/-/healthy"
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
# A new per-user/per-IP series shows 0 in the first scrape that has it (docs/metrics.md, First
# count of a new series); the scrape after that has every count.
lines_are() {
  metrics_fetch "$url/metrics" "$work/live.prom" &&
    [[ $(metric_value "$work/live.prom" 'mailrelay_log_lines_total{log="postfix"}') == "$1" ]] &&
    metrics_fetch "$url/metrics" "$work/live.prom"
}

echo "== live, from the beginning, saving the cursor"
start --tail.from-beginning
wait_for lines_are 4
stop
check "cursor saved" yes "$([[ -s $cursor ]] && echo yes || echo no)"

echo "== restart: resume after the cursor"
append \
  postfix/pickup 201 "ABCDE12345: uid=0 from=<root>" \
  postfix/qmgr 202 "ABCDE12345: from=<root@mx.example.test>, size=10, nrcpt=1 (queue active)"
start
wait_for lines_are 2
m="$work/live.prom"
check "entries read after restart" 2 "$(v 'mailrelay_log_lines_total{log="postfix"}')"
check "localrelay root" 1 "$(v 'mailrelay_local_user_messages_total{user="root"}')"
check "authrelay not read again" 0 "$(v 'mailrelay_messages_received_total{class="authrelay"}')"

echo "== entries appended while running"
append postfix/smtpd 301 "warning: unknown[192.0.2.10]: SASL PLAIN authentication failed: authentication failure"
wait_for lines_are 3
check "auth failure from 192.0.2.10" 1 "$(v 'mailrelay_auth_failure_ip_total{ip="192.0.2.10"}')"
stop

if [[ $failures -ne 0 ]]; then
  cat "$work/live.log" >&2
  echo "postfix_journal: $failures check(s) failed" >&2
  exit 1
fi
echo "postfix_journal: all checks passed"
