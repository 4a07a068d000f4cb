#!/usr/bin/env bash
# The --postfix.journal reader against real journal files: entries in journal export format are
# written to a journal file by systemd-journal-remote (no journald needed), then read by the
# exporter through sd-journal. Checks --oneshot counts, that other programs' entries are
# skipped, the saved cursor across a restart (nothing read twice, nothing lost), entries
# appended while the exporter runs, the cursor after a kill -9 (the one saved after the last
# entry read), and the default cursor file <--state.file>.postfix-journal-cursor.
#   postfix_journal.sh BINARY
# Needs systemd-journal-remote (scripts/install-deps.sh).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"
# shellcheck source=tests/lib/ports.sh
source "$here/../lib/ports.sh"

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

port=$(mr_free_port)
url="http://127.0.0.1:$port"
cursor="$work/cursor"
# No Postfix here: the queue (read from /var/spool/postfix by default) is left out, or /-/ready
# would wait for it.
start() {  # start ARGS...: the live exporter on the journal directory, until /-/ready
  "$bin" --mta=postfix --postfix.journal --postfix.journal-path="$work/journal" \
    --postfix.queue-source=none --web.listen-address="127.0.0.1:$port" \
    --no-relay.include-interface-addresses \
    --tail.poll-interval=100ms "$@" >>"$work/live.log" 2>&1 &
  pid=$!
  wait_until_ready "$url"
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
kill9() { kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
# A new per-user/per-IP series shows 0 in the first scrape that has it (docs/metrics.md, First
# count of a new series); the scrape after that has every count.
lines_are() {
  metrics_fetch "$url/metrics" "$work/live.prom" &&
    [[ $(metric_value "$work/live.prom" 'mailrelay_log_lines_total{log="postfix"}') == "$1" ]] &&
    metrics_fetch "$url/metrics" "$work/live.prom"
}
# The cursor of the journal's last entry, as sd-journal gives it (journalctl, not the exporter).
last_cursor() {
  journalctl --file="$journal" -o export -n 1 | sed -n 's/^__CURSOR=//p'
}
cursor_is_last() { [[ -s $1 && $(<"$1") == "$(last_cursor)" ]]; }

echo "== live, from the beginning, saving the cursor"
start --postfix.journal-cursor-file="$cursor" --tail.from-beginning
wait_for lines_are 4
stop
check "cursor saved: the last entry's" yes "$(cursor_is_last "$cursor" && echo yes || echo no)"

echo "== restart: resume after the cursor"
append \
  postfix/pickup 201 "ABCDE12345: uid=0 from=<root>" \
  postfix/qmgr 202 "ABCDE12345: from=<root@mx.example.test>, size=10, nrcpt=1 (queue active)"
start --postfix.journal-cursor-file="$cursor"
wait_for lines_are 2
m="$work/live.prom"
check "entries read after restart" 2 "$(v 'mailrelay_log_lines_total{log="postfix"}')"
check "localrelay root" 1 "$(v 'mailrelay_local_user_messages_total{user="root"}')"
check "authrelay not read again" 0 "$(v 'mailrelay_messages_received_total{class="authrelay"}')"

echo "== entries appended while running"
append postfix/smtpd 301 "warning: unknown[192.0.2.10]: SASL PLAIN authentication failed: authentication failure"
wait_for lines_are 3
check "auth failure from 192.0.2.10" 1 "$(v 'mailrelay_auth_failure_ip_total{ip="192.0.2.10"}')"

echo "== kill -9: the cursor saved after the last entry read holds"
# The exporter saves the cursor after every read; wait for it to name the last entry, then
# kill -9 (no shutdown save). Entries appended while it is down are read once, none again.
wait_for cursor_is_last "$cursor"
kill9
append \
  postfix/smtpd 401 "NOQUEUE: reject: RCPT from unknown[192.0.2.20]: 554 5.7.1 <v@example.com>: Relay access denied; from=<s@example.net> to=<v@example.com> proto=ESMTP helo=<x>" \
  postfix/smtpd 402 "NOQUEUE: reject: RCPT from unknown[192.0.2.20]: 554 5.7.1 <w@example.com>: Relay access denied; from=<s@example.net> to=<w@example.com> proto=ESMTP helo=<x>"
start --postfix.journal-cursor-file="$cursor"
wait_for lines_are 2
check "after kill -9: entries read" 2 "$(v 'mailrelay_log_lines_total{log="postfix"}')"
check "after kill -9: rejects from 192.0.2.20" 2 \
  "$(v 'mailrelay_reject_ip_total{ip="192.0.2.20",reason="relay_denied"}')"
# (a per-IP series exists only once that IP was counted: absent means 0 here)
check "after kill -9: the auth failure before it not read again" 0 \
  "$(metric_value_or_zero "$m" 'mailrelay_auth_failure_ip_total{ip="192.0.2.10"}')"
stop

echo "== default cursor file: <--state.file>.postfix-journal-cursor"
state="$work/state"
cp "$cursor" "$work/cursor.before"
start --state.file="$state" --state.interval=100ms --tail.from-beginning
wait_for lines_are 9
wait_for cursor_is_last "$state.postfix-journal-cursor"
kill9
append postfix/pickup 501 "FEDCB54321: uid=0 from=<root>"
start --state.file="$state" --state.interval=100ms
wait_for lines_are 1
check "default cursor path: entries read after kill -9 and restart" 1 \
  "$(v 'mailrelay_log_lines_total{log="postfix"}')"
check "the explicit cursor file of the earlier runs left alone" "$(<"$work/cursor.before")" \
  "$(<"$cursor")"
stop

if [[ $failures -ne 0 ]]; then
  cat "$work/live.log" >&2
  echo "postfix_journal: $failures check(s) failed" >&2
  exit 1
fi
echo "postfix_journal: all checks passed"
