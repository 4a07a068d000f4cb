#!/usr/bin/env bash
# End-to-end against a real Postfix: Debian's postfix package is downloaded (apt-get download)
# and unpacked (dpkg -x) into a private prefix, because exim4-daemon-heavy conflicts with it.
# Its master runs in the foreground with a private config/queue/data directory, listens on
# 127.0.0.1, logs to a file through postlogd (maillog_file), authenticates SMTP AUTH against a
# private Cyrus sasldb, and relays to a closed port (mail stays deferred in the queue). The
# exporter follows that log with --mta=postfix and reads the queue files (the default
# --postfix.queue-source=files; tests/e2e/postfix_queue_e2e.sh checks them and postqueue -j in
# detail). Every class/user/IP count and every queue owner on /metrics must equal what the
# workload sent.
#   postfix_e2e.sh BINARY
# Needs root, swaks, sasl2-bin (saslpasswd2), libsasl2-modules-db and the libraries Postfix
# links (scripts/install-deps.sh installs them), and access to the Debian archive.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"
# shellcheck source=tests/e2e/lib/postfix_env.sh
source "$here/lib/postfix_env.sh"

die() { echo "postfix_e2e: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (a private Postfix master)"
for tool in swaks saslpasswd2 apt-get dpkg curl setpriv; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/install-deps.sh)"
done

work=$(mktemp -d /tmp/mailrelay-postfix-e2e.XXXXXX)
pids=()
cleanup() {
  local p
  postfix_env_stop "$work" || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Until they are gone (the master stops its children first), at most 5 s; then kill -9.
  for ((i = 0; i < 50; i++)); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

failures=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "  ok   $1 = $3"
  else
    echo "  FAIL $1: expected $2, got $3" >&2
    failures=$((failures + 1))
  fi
}

# shellcheck source=tests/lib/ports.sh
source "$here/../lib/ports.sh"
free_port() { mr_free_port; }

# --- Postfix, unpacked (tests/e2e/lib/postfix_env.sh) ------------------------------------------
port=$(free_port)
eport=$(free_port)
postfix_env_setup "$work" "$port"
postfix_env_start "$work"
etc="$work/etc" lib="$work/root/usr/lib/postfix" maillog="$work/log/mail.log"
echo "== postfix $("$work/bin/postconf" -c "$etc" -h mail_version) on 127.0.0.1:$port," \
  "exporter on 127.0.0.1:$eport"

# --- the exporter ------------------------------------------------------------------------------
# 127.0.0.2 plays a remote client, so only 127.0.0.1 is local.
"$bin" --mta=postfix --postfix.log="$maillog" --tail.from-beginning \
  --postfix.queue-directory="$work/spool" --queue.refresh-interval=1s \
  --web.listen-address="127.0.0.1:$eport" --relay.local-networks=127.0.0.1/32 \
  --no-relay.include-interface-addresses --tail.poll-interval=100ms \
  >"$work/exporter.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$eport"
# Healthy is not ready: the workload starts once the log is open.
wait_until_ready "$url"

# --- the workload ------------------------------------------------------------------------------
smtp() {  # must succeed
  if ! swaks -s 127.0.0.1 -p "$port" --timeout 10 --silent 2 "$@" >"$work/swaks.out" 2>&1; then
    cat "$work/swaks.out" >&2
    die "swaks $* failed"
  fi
}
refused() {  # must be refused (relay denied, bad password)
  if swaks -s 127.0.0.1 -p "$port" --timeout 10 --silent 2 "$@" >"$work/swaks.out" 2>&1; then
    die "swaks $* was accepted"
  fi
}
remote() { smtp --local-interface 127.0.0.2 "$@"; }
remote_refused() { refused --local-interface 127.0.0.2 "$@"; }
# authrelay from 127.0.0.2: alice 2 (1 + 2 recipients) + 1 spoofed, bob 1 (LOGIN).
remote -a PLAIN -au alice@mx.example.test -ap secret -f alice@mx.example.test -t bob@example.com
remote -a PLAIN -au alice@mx.example.test -ap secret -f alice@mx.example.test \
  -t bob@example.com,carol@example.org
remote -a PLAIN -au alice@mx.example.test -ap secret -f ceo@bank.example -t victim@example.com
remote -a LOGIN -au bob@mx.example.test -ap secret -f bob@mx.example.test -t erin@example.com
# localhostrelay from 127.0.0.1: 2 unauthenticated, 1 authenticated (dave).
smtp -f app@mx.example.test -t frank@example.com
smtp -f app@mx.example.test -t grace@example.com
smtp -a PLAIN -au dave@mx.example.test -ap secret -f dave@mx.example.test -t heidi@example.com
# relay: unauthenticated inbound mail for a relay domain.
remote -f sender@example.net -t bob@mx.example.test
# Relay denied twice; failed logins: 2 LOGIN (alice, wrong password), 1 PLAIN (mallory).
remote_refused -f spammer@example.net -t victim@example.com
remote_refused -f spammer@example.net -t victim2@example.com
remote_refused -a LOGIN -au alice@mx.example.test -ap wrong -f alice@mx.example.test -t a@example.com
remote_refused -a LOGIN -au alice@mx.example.test -ap wrong2 -f alice@mx.example.test -t a@example.com
remote_refused -a PLAIN -au mallory -ap guess -f m@example.net -t a@example.com
# A message whose only recipient fails: one failed delivery, one bounce generated.
smtp -f app@mx.example.test -t ghost@bounce.example.test
# localrelay: sendmail as root, and as nobody with a forged sender.
printf 'Subject: cron\n\nhello\n' |
  "$work/bin/sendmail" -C "$etc" -f root@mx.example.test ivan@example.com
printf 'Subject: php\n\nhello\n' |
  setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env MAIL_CONFIG="$etc" LD_LIBRARY_PATH="$lib" "$work/bin/sendmail" -f ceo@bank.example \
    judy@example.com

# 11 accepted + 1 bounce notification reach the queue manager; then the exporter must have read
# every line written.
# Postfix's own log decides when it is done (not what the exporter counts): 11 accepted + 1
# bounce notification entered the active queue, and every delivery attempt has been logged.
queued() {
  [[ $(grep -c ' (queue active)$' "$maillog") -ge 12 ]] &&
    grep -q 'non-delivery notification' "$maillog" &&
    [[ $(grep -cE ' status=(sent|deferred|bounced) ' "$maillog") -ge $((sent_deferred + 1)) ]]
}
# What was sent: recipients outside the private Postfix (every remote and relay-domain address
# goes to the closed relayhost: one status=deferred each, no retry within queue_run_delay=1h):
# bob, bob+carol, victim, erin (authrelay), frank, grace, heidi (localhostrelay), bob@mx (relay),
# ivan, judy (sendmail), and the bounce notification to app@mx; ghost@bounce.example.test
# bounces (error transport), so that message alone leaves the queue.
sent_deferred=12
sent_completed=1
WAIT_TIMEOUT=40 wait_for queued || { tail -30 "$maillog" >&2; die "Postfix did not queue everything"; }
m="$work/metrics.prom"
lines_read() {
  metrics_fetch "$url/metrics" "$m" || return 1
  [[ $(metric_value "$m" 'mailrelay_log_lines_total{log="postfix"}') == "$(wc -l <"$maillog")" ]]
}
WAIT_TIMEOUT=30 wait_for lines_read
# A new per-user/per-IP series shows 0 in the first scrape that has it (docs/metrics.md, First
# count of a new series); the scrape after that has every count.
metrics_fetch "$url/metrics" "$m"
v() { metric_value "$m" "$1"; }

echo "== counts"
check "authrelay messages" 4 "$(v 'mailrelay_messages_received_total{class="authrelay"}')"
check "authrelay recipients" 5 "$(v 'mailrelay_recipients_received_total{class="authrelay"}')"
check "localhostrelay messages" 4 "$(v 'mailrelay_messages_received_total{class="localhostrelay"}')"
check "relay messages" 1 "$(v 'mailrelay_messages_received_total{class="relay"}')"
check "localrelay messages" 2 "$(v 'mailrelay_messages_received_total{class="localrelay"}')"
check "poprelay messages" 0 "$(v 'mailrelay_messages_received_total{class="poprelay"}')"
check "bounces ignored" 1 "$(v 'mailrelay_messages_ignored_total{reason="bounce"}')"
check "bounces generated" 1 "$(v 'mailrelay_bounces_generated_total')"
check "unknown source" 0 "$(v 'mailrelay_messages_ignored_total{reason="unknown_source"}')"
check "auth user alice" 3 "$(v 'mailrelay_auth_user_messages_total{user="alice@mx.example.test"}')"
check "auth user alice recipients" 4 "$(v 'mailrelay_auth_user_recipients_total{user="alice@mx.example.test"}')"
check "auth user bob" 1 "$(v 'mailrelay_auth_user_messages_total{user="bob@mx.example.test"}')"
check "auth user dave" 1 "$(v 'mailrelay_auth_user_messages_total{user="dave@mx.example.test"}')"
check "source ip authrelay 127.0.0.2" 4 "$(v 'mailrelay_source_ip_messages_total{class="authrelay",ip="127.0.0.2"}')"
check "source ip relay 127.0.0.2" 1 "$(v 'mailrelay_source_ip_messages_total{class="relay",ip="127.0.0.2"}')"
check "source ip localhostrelay 127.0.0.1" 4 "$(v 'mailrelay_source_ip_messages_total{class="localhostrelay",ip="127.0.0.1"}')"
check "local user root" 1 "$(v 'mailrelay_local_user_messages_total{user="root"}')"
check "local user nobody" 1 "$(v 'mailrelay_local_user_messages_total{user="nobody"}')"
check "spoofed authrelay (alice as ceo@)" 1 "$(v 'mailrelay_spoofed_messages_total{class="authrelay"}')"
check "spoofed localrelay (nobody as ceo@)" 1 "$(v 'mailrelay_spoofed_messages_total{class="localrelay"}')"
check "spoofed by alice" 1 "$(v 'mailrelay_spoofed_user_messages_total{user="alice@mx.example.test"}')"
check "auth failures from 127.0.0.2" 3 "$(v 'mailrelay_auth_failure_ip_total{ip="127.0.0.2"}')"
check "auth failures LOGIN" 2 "$(v 'mailrelay_auth_failures_total{authenticator="LOGIN"}')"
check "auth failures PLAIN" 1 "$(v 'mailrelay_auth_failures_total{authenticator="PLAIN"}')"
# Debian's 3.7.11 already appends ", sasl_username=" to the failure (upstream 3.9+).
check "auth failures user alice" 2 "$(v 'mailrelay_auth_failure_user_total{user="alice@mx.example.test"}')"
check "auth failures user mallory" 1 "$(v 'mailrelay_auth_failure_user_total{user="mallory"}')"
check "rejects relay_denied" 2 "$(v 'mailrelay_rejects_total{reason="relay_denied"}')"
check "rejects relay_denied from 127.0.0.2" 2 "$(v 'mailrelay_reject_ip_total{ip="127.0.0.2",reason="relay_denied"}')"
check "deliveries failed" 1 "$(v 'mailrelay_deliveries_total{result="failed"}')"
check "deliveries deferred (remote recipients sent)" "$sent_deferred" \
  "$(v 'mailrelay_deliveries_total{result="deferred"}')"
check "deliveries delivered" 0 "$(v 'mailrelay_deliveries_total{result="delivered"}')"
check "completed (the bounced message)" "$sent_completed" "$(v 'mailrelay_messages_completed_total')"
check "unparsed lines" 0 "$(v 'mailrelay_log_unparsed_lines_total{log="postfix"}')"
for reason in expired capacity unmatched; do
  check "correlation dropped $reason" 0 \
    "$(v "mailrelay_postfix_correlation_dropped_total{reason=\"$reason\"}")"
done
check "label overflow" 0 "$(metric_sum "$m" mailrelay_label_overflow_total)"

# Queue gauges from postqueue -j: the same messages postqueue lists itself.
expected_queue=$(MAIL_CONFIG=$etc "$work/bin/postqueue" -j | wc -l)
queue_total() {
  metrics_fetch "$url/metrics" "$m" || return 1
  [[ $(metric_sum "$m" mailrelay_queue_messages) == "$expected_queue" ]]
}
WAIT_TIMEOUT=10 wait_for queue_total || true
check "queue messages (postqueue -j)" "$expected_queue" "$(metric_sum "$m" mailrelay_queue_messages)"
check "queue messages = 11 (10 deferred accepted + 1 bounce)" 11 "$expected_queue"
check "queue bounce messages" 1 "$(v 'mailrelay_queue_bounce_messages')"
# Who fills the queue (sasl_username, else the pickup user): what each one had accepted.
check "queue by owner" "alice@mx.example.test=3 bob@mx.example.test=1 dave@mx.example.test=1 nobody=1 root=1" \
  "$(sed -nE 's/^mailrelay_queue_messages_by_auth_user\{user="([^"]*)"\} ([0-9]+)$/\1=\2/p' "$m" | sort | xargs)"

# --- the shipped alerts and dashboards on Postfix data ---------------------------------------------
# A real Prometheus scrapes this exporter with the shipped rules plus an operator override
# (alerts/README.md) of the SMTP AUTH limit. Then alice's password is "stolen": a burst of her
# mail from 127.0.0.2 must put MailRelayAuthrelayHigh in pending state for alice and
# MailRelayAuthrelayIPHigh for her IP, and nothing else (the for: is not waited out;
# tests/e2e/alerting_e2e.sh follows an alert to Alertmanager); with the queue-share limits
# lowered too, her queued burst (6 of 14 messages) puts MailQueueDominatedByOneAccount in
# pending state for her account (read from the queue files); and every dashboard panel query
# must return data.
if [[ ${POSTFIX_E2E_PROMETHEUS:-1} == 1 ]]; then
  echo "== alerts and dashboards on Postfix data"
  repo=$(cd "$here/../.." && pwd)
  prom_port=$(free_port)
  prom="http://127.0.0.1:$prom_port"
  authrelay_limit=5
  cat >"$work/overrides.yml" <<EOF
groups:
  - name: mailrelay_threshold_overrides
    rules:
      - record: mailrelay:threshold_override:authrelay_recipients_per_hour
        expr: vector($authrelay_limit)
      - record: mailrelay:threshold_override:queue_account_share
        expr: vector(0.4)
      - record: mailrelay:threshold_override:queue_account_min_messages
        expr: vector(5)
EOF
  cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: ['$repo/alerts/mailrelay.rules.yml', '$work/overrides.yml']
scrape_configs:
  - job_name: mailrelay
    static_configs: [{targets: ['127.0.0.1:$eport']}]
EOF
  promtool check config "$work/prometheus.yml" >"$work/promtool.log" 2>&1 ||
    { cat "$work/promtool.log" >&2; die "promtool check config"; }
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  promql() {  # promql EXPR: "k=v,k=v value" lines of an instant query
    curl -fsS --max-time 10 "$prom/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    print(",".join(f"{k}={v}" for k, v in sorted(r["metric"].items())), r["value"][1])'
  }
  # Three scrapes of the pre-burst counters, so increase() sees the burst and only the burst.
  scraped() {
    local n
    n=$(promql 'count_over_time(mailrelay_auth_user_recipients_total{user="alice@mx.example.test"}[1m])' 2>/dev/null | awk '{print $2}')
    [[ -n $n && $n -ge 3 ]]
  }
  WAIT_TIMEOUT=60 wait_for scraped ||
    { tail -5 "$work/prometheus.log" >&2; die "Prometheus does not scrape the exporter"; }
  for i in 1 2 3; do
    remote -a PLAIN -au alice@mx.example.test -ap secret -f alice@mx.example.test \
      -t "s$i-1@example.com,s$i-2@example.com,s$i-3@example.com"
  done
  alert_keys() {  # "alertname:user=..." / "alertname:ip=..." of every authrelay alert
    promql 'ALERTS{alertname=~"MailRelayAuthrelay.*"}' |
      sed -E 's/.*alertname=([^, ]*).*(user=[^, ]*|ip=[^, ]*).*/\1:\2/' | sort | tr '\n' ' '
  }
  expected_alerts="MailRelayAuthrelayHigh:user=alice@mx.example.test MailRelayAuthrelayIPHigh:ip=127.0.0.2 "
  pending() { [[ $(alert_keys) == "$expected_alerts" ]]; }
  WAIT_TIMEOUT=30 wait_for pending || true
  check "authrelay alerts pending (limit $authrelay_limit recipients/h)" "$expected_alerts" \
    "$(alert_keys)"
  queue_alert() {  # "state user" of MailQueueDominatedByOneAccount
    promql 'ALERTS{alertname="MailQueueDominatedByOneAccount"}' |
      sed -E 's/.*alertstate=([^, ]*).*user=([^, ]*).*/\1 \2/'
  }
  queue_pending() { [[ $(queue_alert) == "pending alice@mx.example.test" ]]; }
  WAIT_TIMEOUT=30 wait_for queue_pending || true
  check "queue alert pending for alice's account (share 0.4, 5 messages)" \
    "pending alice@mx.example.test" "$(queue_alert)"
  # The health dashboard lists problems only, and the alerts here are pending, not firing yet.
  healthy="a healthy exporter has nothing to show here"
  pending_only="the burst's alerts are pending (their for: is not waited out)"
  if ! python3 "$here/lib/dashboard_queries.py" --prometheus "$prom" --out "$work/dashboards.json" \
    --var job=mailrelay --var "instance=127.0.0.1:$eport" --var user=alice@mx.example.test \
    --var user=bob@mx.example.test --var user=root --var ip=127.0.0.2 \
    --allow-empty "mailrelay-fleet/9=$pending_only" --allow-empty "mailrelay-fleet/18=$pending_only" \
    --allow-empty "mailrelay-health/8=$healthy" --allow-empty "mailrelay-health/10=$healthy" \
    --allow-empty "mailrelay-health/11=$healthy" --allow-empty "mailrelay-health/12=$healthy" \
    --allow-empty "mailrelay-health/13=$healthy" --allow-empty "mailrelay-health/14=$healthy" \
    --allow-empty "mailrelay-health/16=$healthy" --allow-empty "mailrelay-health/20=$healthy" \
    --allow-empty "mailrelay-fleet/19=respond is not deployed here (e2e.respond_exim checks this panel)" \
    "$repo"/dashboards/*.json; then
    failures=$((failures + 1))
    echo "  FAIL dashboard queries on Postfix data (above)" >&2
  fi
fi

if [[ $failures -ne 0 ]]; then
  echo "--- mail.log" >&2
  cat "$maillog" >&2
  echo "--- exporter log" >&2
  tail -20 "$work/exporter.log" >&2
  echo "postfix_e2e: $failures check(s) failed" >&2
  exit 1
fi
echo "postfix_e2e: all checks passed"
