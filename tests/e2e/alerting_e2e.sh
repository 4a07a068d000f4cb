#!/usr/bin/env bash
# End-to-end alerting: real Exim traffic -> exporter -> real Prometheus (Debian `prometheus`)
# loading the SHIPPED alerts/mailrelay.rules.yml plus an operator override file in the format
# of alerts/README.md -> real Alertmanager (Debian `prometheus-alertmanager`).  Everything
# listens on 127.0.0.1 only; no gossip (--cluster.listen-address=).
#   alerting_e2e.sh BINARY
#
# Story: bob@mx.example.test's password is stolen.  From 127.0.0.3 the attacker guesses it
# (failed logins), probes for an open relay and sends a one-recipient test message, which the
# admin freezes with `exim -Mf`.  Normal users (tests/e2e/lib/exim_env.sh's fixed workload:
# alice, bob, carol from 127.0.0.2, dave from 127.0.0.1, local scripts, plus a script of carol's)
# stay below the SMTP AUTH limit, overridden to 20 recipients/hour for the fleet (warning tier;
# the page tier is 5 times that); then the attacker sends a burst of spam with a forged sender to
# many remote recipients.  Asserted:
#   - MailRelayAuthrelayHigh (warning tier) reaches Alertmanager (/api/v2/alerts) for
#     user=bob@mx.example.test and MailRelayAuthrelayIPHigh for ip=127.0.0.3, with the
#     documented labels and annotations (dashboard_url included), and for nobody else (not
#     alice/carol/dave, not 127.0.0.2);
#   - MailFrozenMessages (limit overridden to 0, as in alerts/README.md's example) is quiet
#     before the freeze, pending right after it, and reaches Alertmanager; Prometheus' activeAt
#     proves it was the freeze, not the bounce the workload freezes later, that started it.
# The shipped `for:` durations stand (2m relay, 5m frozen; overrides cannot shorten them), so
# the freeze and the burst happen first and the test then polls: ~5.5 minutes in all.
# The same run executes every dashboard panel query (tests/e2e/lib/dashboard_queries.py) and
# renders the dashboards to PNG with headless Chromium (tests/e2e/lib/render_dashboards.py)
# into $MAILRELAY_PREVIEW_DIR (default build/dashboard-preview/ in the source tree). The
# multi-server views (fleet, health with problems) are exercised by tests/e2e/fleet_e2e.sh.
# KEEP_E2E_DIR=1 keeps the temporary directory (logs, configs, TSDB) even on success.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 BINARY" >&2; exit 2; }
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/e2e/lib/exim_env.sh
source "$here/lib/exim_env.sh"
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"
# shellcheck source=tests/e2e/lib/prom_env.sh
source "$here/lib/prom_env.sh"

PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
CHROMIUM=${CHROMIUM:-chromium}
preview_dir=${MAILRELAY_PREVIEW_DIR:-$repo/build/dashboard-preview}
rules=$repo/alerts/mailrelay.rules.yml

HIJACKED_USER=bob@mx.example.test
HIJACKER_IP=127.0.0.3
NORMAL_IP=127.0.0.2
NORMAL_USERS=(alice@mx.example.test carol dave@mx.example.test)
AUTHRELAY_LIMIT=20  # fleet override of authrelay_recipients_per_hour (default 100); page at 5x
FROZEN_LIMIT=0      # override of queue_frozen_messages (default 100), as in alerts/README.md
BURST_MESSAGES=6
BURST_RCPTS=12
START=$SECONDS

# Not a skip: the preview (chromium) is part of the test.
require_tools "$bin" "$PROMETHEUS" "$ALERTMANAGER" promtool swaks curl python3 "$CHROMIUM"

work=$(mktemp -d /tmp/alerting_e2e.XXXXXX)
chmod 0755 "$work"  # the Exim transports (Debian-exim) must reach $work/exim/mail
pids=()
exim_started=0
cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if ((exim_started)); then exim_env_stop "$work/exim" >/dev/null 2>&1 || true; fi
  if ((rc != 0)) || [[ ${KEEP_E2E_DIR:-0} == 1 ]]; then
    echo "alerting_e2e: logs and configs kept in $work" >&2
    if ((rc != 0)); then
      for p in exporter prometheus alertmanager; do
        [[ -f $work/$p.log ]] && { echo "--- tail $p.log" >&2; tail -15 "$work/$p.log" >&2; }
      done
    fi
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- ports and the private Exim ---------------------------------------------------------------
mkdir -p "$work/exim" "$work/prometheus" "$work/alertmanager"
smtp_port=$(exim_env_free_port)
exporter_port=$(exim_env_free_port)
prom_port=$(exim_env_free_port)
am_port=$(exim_env_free_port)
target=127.0.0.1:$exporter_port
prom=http://127.0.0.1:$prom_port
am=http://127.0.0.1:$am_port

# --- Alertmanager ---------------------------------------------------------------------------
cat >"$work/alertmanager.yml" <<EOF
route:
  receiver: blackhole
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
EOF
"$ALERTMANAGER" --config.file="$work/alertmanager.yml" --storage.path="$work/alertmanager" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= \
  >"$work/alertmanager.log" 2>&1 &
pids+=("$!")

# --- Prometheus: shipped rules + an operator override file (alerts/README.md) ---------------------
cat >"$work/mailrelay.overrides.yml" <<EOF
# Operator overrides (format of alerts/README.md); the shipped rule file is loaded unchanged.
groups:
  - name: mailrelay_threshold_overrides
    rules:
      - record: mailrelay:threshold_override:authrelay_recipients_per_hour
        expr: vector($AUTHRELAY_LIMIT)
      - record: mailrelay:threshold_override:queue_frozen_messages
        expr: vector($FROZEN_LIMIT)
EOF
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
  - $work/mailrelay.overrides.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
scrape_configs:
  - job_name: mailrelay
    static_configs:
      - targets: ['$target']
EOF
promtool check rules "$rules" "$work/mailrelay.overrides.yml" >"$work/promtool.log" 2>&1 ||
  { cat "$work/promtool.log" >&2; die "promtool check rules"; }
promtool check config "$work/prometheus.yml" >>"$work/promtool.log" 2>&1 ||
  { cat "$work/promtool.log" >&2; die "promtool check config"; }
"$PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=("$!")

# Exim and the exporter start while Prometheus and Alertmanager boot.
exim_started=1
exim_env_start "$work/exim" "$smtp_port" cpanel >/dev/null
mainlog=$(exim_env_mainlog "$work/exim")
# Exim creates spool/input/ with its first message; the exporter decides at startup whether
# --exim.spool-dir holds input/ (else it takes the directory itself as the input dir), so
# create it as Exim would before starting the exporter.
install -d -m 0750 -o root -g "$EXIM_ENV_MTA_USER" "$work/exim/spool/input"

"$bin" --web.listen-address="$target" --exim.mainlog="$mainlog" \
  --exim.rejectlog="$(exim_env_rejectlog "$work/exim")" --exim.spool-dir="$work/exim/spool" \
  --relay.local-networks=127.0.0.1/32 --no-relay.include-interface-addresses \
  --tail.poll-interval=100ms >"$work/exporter.log" 2>&1 &
pids+=("$!")

say "exim 127.0.0.1:$smtp_port, exporter $target, prometheus $prom, alertmanager $am, dir $work"
WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "http://$target/-/healthy"
WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "$am/-/ready"
WAIT_TIMEOUT=60 wait_for curl -fs -o /dev/null "$prom/-/ready"


wait_prom 60 "up{job=\"mailrelay\",instance=\"$target\"}" 1
wait_prom 30 'mailrelay:threshold:authrelay_recipients_per_hour' "$AUTHRELAY_LIMIT"
wait_prom 30 'mailrelay:threshold:queue_frozen_messages' "$FROZEN_LIMIT"
say "prometheus scrapes the exporter; overrides active (authrelay $AUTHRELAY_LIMIT/h, frozen $FROZEN_LIMIT)"

# --- the hijacked account: first contact from the attacker's IP ------------------------------------
hijack_swaks() {  # hijack_swaks ok|fail SWAKS_ARGS...
  local expect=$1 rc=0
  shift
  swaks --server 127.0.0.1 --port "$smtp_port" --local-interface "$HIJACKER_IP" \
    --ehlo "[$HIJACKER_IP]" --timeout 15 "$@" </dev/null >>"$work/hijack.log" 2>&1 || rc=$?
  if [[ $expect == ok && $rc != 0 ]] || [[ $expect == fail && $rc == 0 ]]; then
    die "swaks $* exited $rc, expected $expect (see $work/hijack.log)"
  fi
}
relay_probe() { hijack_swaks fail --from probe@example.net --to probe@example.com; }
for pw in 123456 password bob2024; do  # password guessing
  hijack_swaks fail --auth PLAIN --auth-user "$HIJACKED_USER" --auth-password "$pw" \
    --from "$HIJACKED_USER" --to probe@example.com
done
relay_probe  # is it an open relay?
hijack_swaks ok --auth PLAIN --auth-user "$HIJACKED_USER" --auth-password secret \
  --from "$HIJACKED_USER" --to test-inbox@example.com --header 'Subject: test'

# Prometheus holds the attacker's series before the burst (the exporter shows a new series at 0
# first, so increase() would count a first burst too; tests/e2e/fleet_e2e.sh shows that).
wait_prom 30 \
  "mailrelay_source_ip_recipients_total{job=\"mailrelay\",class=\"authrelay\",ip=\"$HIJACKER_IP\"}" 1
wait_prom 30 'mailrelay_queue_frozen_messages{job="mailrelay"}' 0
[[ -z $(promql 'ALERTS{alertname="MailFrozenMessages"}') ]] ||
  die "MailFrozenMessages active before anything was frozen"

# --- freeze the attacker's test message (first: MailFrozenMessages has for: 5m) --------------------
test_id=$(grep -E " <= $HIJACKED_USER H=.*\[$HIJACKER_IP\]" "$mainlog" | awk 'NR == 1 { print $3 }')
[[ -n $test_id ]] || die "no arrival of the test message from $HIJACKER_IP in $mainlog"
exim_env_exim "$work/exim" -Mf "$test_id" >>"$work/hijack.log" 2>&1 || die "exim -Mf $test_id"
freeze_at=$SECONDS
wait_prom 30 'mailrelay_queue_frozen_messages{job="mailrelay"}' 1
frozen_pending() { [[ -n $(promql 'ALERTS{alertname="MailFrozenMessages",alertstate="pending"}') ]]; }
WAIT_TIMEOUT=15 wait_for frozen_pending 2>/dev/null || die "MailFrozenMessages not pending after the freeze"
# The workload below freezes a bounce too: the alert must be the one the freeze started.
frozen_by=$(date +%s)
say "froze $test_id: 1 frozen message (> limit $FROZEN_LIMIT), MailFrozenMessages pending (for: 5m)"

# --- normal users --------------------------------------------------------------------------------
exim_env_send_traffic "$work/exim" "$smtp_port" >"$work/expected.txt"
local_submit() {  # carol, a cPanel-style account, also runs a script on the server (U=carol)
  printf 'Subject: backup done\n\nnightly backup of carol finished\n' |
    exim_env_exim "$work/exim" -odi -oi -oMt carol -f carol@mx.example.test alice@mx.example.test
}
local_submit
relay_probe  # once more, so the per-IP reject counter moves after Prometheus first saw it
say "normal workload sent (exim_env_send_traffic + a local submission by carol)"

# --- the spam burst -----------------------------------------------------------------------------
rcpts=""
for ((i = 1; i <= BURST_RCPTS; i++)); do
  domain=example.com
  ((i % 3)) || domain=example.org
  rcpts+="${rcpts:+,}victim$i@$domain"
done
exim_env_send_burst "$work/exim" "$smtp_port" "$BURST_MESSAGES" "$HIJACKER_IP" \
  invoice@billing.example "$rcpts" "$HIJACKED_USER"
local_submit
declare -A sent=()
while read -r key value; do
  [[ -z $key || $key == \#* ]] && continue
  sent[$key]=$value
done <"$work/expected.txt"
burst_total=$((BURST_MESSAGES * BURST_RCPTS + 1))
bob_total=$((${sent[auth_user/$HIJACKED_USER/recipients]} + burst_total))
wait_prom 60 \
  "mailrelay_auth_user_recipients_total{job=\"mailrelay\",user=\"$HIJACKED_USER\"}" "$bob_total"
wait_prom 30 \
  "mailrelay_source_ip_recipients_total{job=\"mailrelay\",class=\"authrelay\",ip=\"$HIJACKER_IP\"}" "$burst_total"
wait_prom 30 'mailrelay_queue_frozen_messages{job="mailrelay"}' 2
say "burst: $BURST_MESSAGES messages x $BURST_RCPTS recipients as $HIJACKED_USER from $HIJACKER_IP ($bob_total recipients for the account)"

# The normal users really are below the limit (raw counters bound their hourly increase).
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "  ok   $what"
  else
    echo "  FAIL $what" >&2
    failures=$((failures + 1))
  fi
}
below_limit() { local v; v=$(prom_value "$1"); [[ -n $v ]] && ((${v%.*} > 0 && ${v%.*} < AUTHRELAY_LIMIT)); }
for u in "${NORMAL_USERS[@]}"; do
  check "normal user $u sent 1..$((AUTHRELAY_LIMIT - 1)) recipients" \
    below_limit "mailrelay_auth_user_recipients_total{job=\"mailrelay\",user=\"$u\"}"
done
check "normal client IP $NORMAL_IP sent 1..$((AUTHRELAY_LIMIT - 1)) authrelay recipients" \
  below_limit "mailrelay_source_ip_recipients_total{job=\"mailrelay\",class=\"authrelay\",ip=\"$NORMAL_IP\"}"

# --- poll Alertmanager ----------------------------------------------------------------------------
# am_alerts: one line per active alert:
#   alertname|user|ip|severity|class|job|instance|state|description|runbook_url|dashboard_url
am_alerts() {
  curl -fsS --max-time 10 "$am/api/v2/alerts?active=true" | python3 -c '
import json, sys
for a in json.load(sys.stdin):
    l, an = a["labels"], a["annotations"]
    print("|".join([l.get("alertname", ""), l.get("user", ""), l.get("ip", ""), l.get("severity", ""),
                    l.get("class", ""), l.get("job", ""), l.get("instance", ""), a["status"]["state"],
                    an.get("description", "").replace("|", "/"), an.get("runbook_url", ""),
                    an.get("dashboard_url", "")]))
'
}
want_alerts() {
  am_alerts >"$work/am_alerts.txt" || return 1
  grep -q "^MailRelayAuthrelayHigh|$HIJACKED_USER|" "$work/am_alerts.txt" &&
    grep -q "^MailRelayAuthrelayIPHigh||$HIJACKER_IP|" "$work/am_alerts.txt" &&
    grep -q '^MailFrozenMessages|' "$work/am_alerts.txt"
}
deadline=$((freeze_at + 5 * 60 + 90 - SECONDS))
say "waiting up to ${deadline}s for Alertmanager (the 5m for: of MailFrozenMessages dominates)"
WAIT_TIMEOUT=$deadline wait_for want_alerts || {
  cat "$work/am_alerts.txt" >&2
  promql 'ALERTS' >&2 || true
  die "expected alerts did not reach Alertmanager"
}
say "Alertmanager has the alerts (frozen: $((SECONDS - freeze_at))s after the freeze):"
sed 's/^/    /' "$work/am_alerts.txt"

line_of() { { grep -E "$1" "$work/am_alerts.txt" || true; } | head -1; }
field() { cut -d'|' -f"$2" <<<"$1"; }
has() { [[ $1 == *"$2"* ]]; }
runbook=https://github.com/mailrelay-exporter/mailrelay_exporter/blob/main/docs/runbook.md
u_line=$(line_of "^MailRelayAuthrelayHigh\|$HIJACKED_USER\|")
i_line=$(line_of "^MailRelayAuthrelayIPHigh\|\|$HIJACKER_IP\|")
f_line=$(line_of '^MailFrozenMessages\|')
for l in "$u_line" "$i_line" "$f_line"; do
  check "$(field "$l" 1) $(field "$l" 2)$(field "$l" 3): job=mailrelay instance=$target state=active" \
    test "$(field "$l" 6)|$(field "$l" 7)|$(field "$l" 8)" == "mailrelay|$target|active"
done
check "MailRelayAuthrelayHigh severity=warning class=authrelay (user)" test "$(field "$u_line" 4)|$(field "$u_line" 5)" == "warning|authrelay"
check "MailRelayAuthrelayIPHigh severity=warning class=authrelay (ip)" test "$(field "$i_line" 4)|$(field "$i_line" 5)" == "warning|authrelay"
check "user alert description names the account, the server and the limit" \
  has "$(field "$u_line" 9)" "Account $HIJACKED_USER on $target sent mail with SMTP AUTH to"
check "user alert description shows the overridden limit" has "$(field "$u_line" 9)" "(limit $AUTHRELAY_LIMIT)"
check "ip alert description names the client IP" has "$(field "$i_line" 9)" "Client IP $HIJACKER_IP sent mail with SMTP AUTH through $target"
check "runbook_url of MailRelayAuthrelayHigh" test "$(field "$u_line" 10)" == "$runbook#mailrelayauthrelayhigh"
check "runbook_url of MailRelayAuthrelayIPHigh" test "$(field "$i_line" 10)" == "$runbook#mailrelayauthrelayiphigh"
enc_target=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1], safe=""))' "$target")
enc_user=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1], safe=""))' "$HIJACKED_USER")
check "dashboard_url of the user alert opens the drilldown on the server and the account" test "$(field "$u_line" 11)" == \
  "http://localhost:3000/d/mailrelay-drilldown?var-job=mailrelay&var-instance=$enc_target&var-user=$enc_user"
check "dashboard_url of the ip alert opens the drilldown on the server and the IP" test "$(field "$i_line" 11)" == \
  "http://localhost:3000/d/mailrelay-drilldown?var-job=mailrelay&var-instance=$enc_target&var-ip=$HIJACKER_IP"
check "MailFrozenMessages severity=warning" test "$(field "$f_line" 4)" == warning
check "MailFrozenMessages description: 2 frozen, limit $FROZEN_LIMIT" \
  has "$(field "$f_line" 9)" "has 2 frozen messages in its queue (limit $FROZEN_LIMIT)"
check "runbook_url of MailFrozenMessages" test "$(field "$f_line" 10)" == "$runbook#mailfrozenmessages"
frozen_active=$(curl -fsS --max-time 10 "$prom/api/v1/alerts" | python3 -c '
import datetime, json, re, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["labels"]["alertname"] == "MailFrozenMessages":
        t = re.sub(r"\.\d+", "", a["activeAt"]).replace("Z", "+00:00")
        print(int(datetime.datetime.fromisoformat(t).timestamp()))
        break
')
check "MailFrozenMessages active since the freeze (activeAt ${frozen_active:-?} <= $frozen_by, before the workload ran)" \
  test "${frozen_active:-999999999999}" -le "$frozen_by"
relay_alerts=$(grep -c '^MailRelayAuthrelay\(IP\)\?High|' "$work/am_alerts.txt" || true)
check "exactly 2 authrelay alerts (the account and its IP, warning tier), got $relay_alerts" test "$relay_alerts" == 2
for u in "${NORMAL_USERS[@]}"; do
  check "no MailRelayAuthrelayHigh for normal user $u" \
    test -z "$(line_of "^MailRelayAuthrelayHigh\|$u\|")"
done
check "no MailRelayAuthrelayHigh for normal client IP $NORMAL_IP" \
  test -z "$(line_of "^MailRelayAuthrelayIPHigh\|\|$NORMAL_IP\|")"
check "no other relay-class alert" test -z "$(line_of '^MailRelay(Relay|Poprelay|Localrelay|Localhostrelay)High\|')"

# --- every dashboard panel query, then the PNG preview --------------------------------------------
say "running every dashboard panel query"
range=$((SECONDS - START + 30))
mkdir -p "$preview_dir"
# $user: the hijacked account plus carol (normal account that is also a local user, so the
# drilldown's local-user panel has data); $ip: the attacker.
# One healthy exporter: the health dashboard's problem-only panels are empty here (the fleet e2e
# gives them problems to show).
healthy="one healthy exporter: nothing to show"
if ! python3 "$here/lib/dashboard_queries.py" --prometheus "$prom" --out "$preview_dir/results.json" \
  --range-seconds "$range" --var job=mailrelay --var "instance=$target" \
  --var "user=$HIJACKED_USER" --var user=carol --var "ip=$HIJACKER_IP" \
  --allow-empty "mailrelay-health/8=$healthy" --allow-empty "mailrelay-health/10=$healthy" \
  --allow-empty "mailrelay-health/11=$healthy" --allow-empty "mailrelay-health/12=$healthy" \
  --allow-empty "mailrelay-health/13=$healthy" --allow-empty "mailrelay-health/14=$healthy" \
  --allow-empty "mailrelay-health/16=$healthy" \
  --allow-empty "mailrelay-health/20=$healthy" \
  --allow-empty "mailrelay-fleet/19=respond is not deployed here (e2e.respond_exim checks this panel)" \
  "$repo"/dashboards/*.json; then
  failures=$((failures + 1))
  echo "  FAIL dashboard queries (above)" >&2
fi
say "rendering the dashboards to $preview_dir"
python3 "$here/lib/render_dashboards.py" --chromium "$CHROMIUM" "$preview_dir/results.json" "$preview_dir" ||
  die "rendering the preview failed (chromium: $CHROMIUM)"
png_ok() {  # png_ok FILE: a PNG of 1600 px width and at least 20 KB
  [[ -f $1 ]] && (($(stat -c %s "$1") >= 20000)) &&
    [[ $(od -An -tx1 -N8 "$1" | tr -d ' \n') == 89504e470d0a1a0a ]] &&
    [[ $(od -An -tu1 -j16 -N4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }') == 1600 ]]
}
for d in "$repo"/dashboards/*.json; do
  uid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uid"])' "$d")
  check "preview $preview_dir/$uid.png is a 1600 px wide PNG of >= 20 KB" png_ok "$preview_dir/$uid.png"
done

if ((failures > 0)); then
  die "$failures alerting e2e checks failed"
fi
say "alerting e2e: all checks passed ($((SECONDS - START))s)"
