#!/usr/bin/env bash
# Fleet end to end, on a real distributed setup, all on 127.0.0.1:
#   three private Exims (tests/e2e/lib/exim_env.sh) with an SMTP sink each, so remote mail is
#   delivered, not deferred:
#     relay1:9225  (mail_role=outbound) an outbound relay; alice@ is a customer's newsletter:
#                  300 recipients an hour, over the default limit (100) but under this server's
#                  override (1000, recorded with instance="relay1:9225");
#     shared1:9225 (mail_role=shared)   a shared host; bob@ sends one message, goes quiet longer
#                  than --metrics.series-idle-timeout (his series expires), then his password is
#                  used from 127.0.0.3 for one message to 500 recipients: the dormant account's
#                  first burst;
#     mx1:9225     (mail_role=inbound)  an inbound MX with the fixed workload of exim_env.sh, a
#                  deliberately small --metrics.max-series-per-family (its overflow alert is
#                  raised for the inbound role), no reject log (not open), an unparsed line and a
#                  log rotation, so the health dashboard has problems to show;
#   three exporters; three Prometheus in agent mode (--enable-feature=agent), one per server,
#   scraping it and remote-writing to a central Prometheus (--web.enable-remote-write-receiver)
#   that evaluates the SHIPPED alerts/mailrelay.rules.yml plus an operator override file; one
#   Alertmanager with the SHIPPED alerts/alertmanager.example.yml, whose two receivers point at
#   a webhook receiver (a small python3 http.server in this script) that records every
#   notification.
# Asserted:
#   - exactly one notification arrives, for bob@ on shared1:9225 (its group labels), naming the
#     instance, the user, the runbook and the dashboard URL (drilldown on that server and
#     account); nothing at all for the newsletter (no alert, not even pending);
#   - MailRelayAuthrelayHigh fires for bob although his series had expired: the central
#     Prometheus holds the 0 the exporter exposes before the first count of a new series;
#   - the per-IP alert of the same incident reaches Alertmanager and is suppressed (inhibited);
#   - the fleet dashboard's worst-senders query returns bob@ first, with his instance, and every
#     panel query of every dashboard returns data (or is listed empty with a reason); PNG
#     previews go to $MAILRELAY_PREVIEW_DIR/fleet (default build/dashboard-preview/fleet).
# Wall time. The shipped `for:` durations (2 to 60 minutes) and Alertmanager's group_wait (30s)
# and group_interval (5m) would make this a 10-minute test. It therefore loads the shipped files
# through a test-only rewrite, and nothing else: every `for:` divided by 10 (2m -> 12s, 30m ->
# 3m), group_wait 30s -> 3s, group_interval 5m -> 30s, and the receivers' URLs. Expressions,
# thresholds, labels, annotations, grouping and inhibition are the shipped ones. With 1 s scrape
# and evaluation intervals the test takes about 2.5 minutes.
#   fleet_e2e.sh BINARY        (KEEP_E2E_DIR=1 keeps the temporary directory)
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
preview_dir=${MAILRELAY_PREVIEW_DIR:-$repo/build/dashboard-preview}/fleet
GRAFANA=https://grafana.noc.example
HIJACKED=bob@mx.example.test
HIJACKER_IP=127.0.0.3
NEWSLETTER=alice@mx.example.test
SERVERS=(relay1 shared1 mx1)
declare -A ROLE=([relay1]=outbound [shared1]=shared [mx1]=inbound)
START=$SECONDS

require_tools "$bin" "$PROMETHEUS" "$ALERTMANAGER" promtool swaks curl python3 ss "$CHROMIUM"

work=$(mktemp -d /tmp/fleet_e2e.XXXXXX)
chmod 0755 "$work"
pids=()
exims=()
cleanup() {
  local rc=$? p s
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for s in "${exims[@]}"; do
    [[ -s $work/$s/sink.pid ]] && kill "$(cat "$work/$s/sink.pid")" 2>/dev/null
    exim_env_stop "$work/$s" >/dev/null 2>&1 || true
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if ((rc != 0)) || [[ ${KEEP_E2E_DIR:-0} == 1 ]]; then
    echo "fleet_e2e: logs and configs kept in $work" >&2
    if ((rc != 0)); then
      for p in "$work"/*.log; do
        [[ -f $p ]] && { echo "--- tail $p" >&2; tail -8 "$p" >&2; }
      done
    fi
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the shipped rules and Alertmanager policy, with the test-only rewrite of durations ----------
python3 - "$repo/alerts/mailrelay.rules.yml" "$work/mailrelay.rules.yml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def scale(m):
    seconds = int(m.group(2)) * {"s": 1, "m": 60, "h": 3600}[m.group(3)]
    return f"{m.group(1)}{max(1, seconds // 10)}s"
out, n = re.subn(r"^(\s+for: )(\d+)([smh])$", scale, text, flags=re.M)
assert n > 20, n
open(sys.argv[2], "w").write(out)
PY
webhook_port=$(exim_env_free_port)
python3 - "$repo/alerts/alertmanager.example.yml" "$work/alertmanager.yml" "$webhook_port" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
for r in [cfg["route"]] + cfg["route"].get("routes", []):
    assert r["group_wait"] == "30s" and r["group_interval"] == "5m", r
    r["group_wait"], r["group_interval"] = "3s", "30s"
for rc in cfg["receivers"]:
    for w in rc["webhook_configs"]:
        w["url"] = f"http://127.0.0.1:{sys.argv[3]}/{rc['name']}"
yaml.safe_dump(cfg, open(sys.argv[2], "w"), sort_keys=False)
PY

# --- webhook receiver: one JSON line per notification --------------------------------------------
cat >"$work/webhook.py" <<'PY'
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body["path"] = self.path
        with open(out, "a") as f:
            f.write(json.dumps(body) + "\n")
        self.send_response(200)
        self.end_headers()
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
: >"$work/notifications.jsonl"
python3 "$work/webhook.py" "$webhook_port" "$work/notifications.jsonl" >"$work/webhook.log" 2>&1 &
pids+=("$!")

# --- Alertmanager ------------------------------------------------------------------------------
am_port=$(exim_env_free_port)
am=http://127.0.0.1:$am_port
mkdir -p "$work/am"
"$ALERTMANAGER" --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
pids+=("$!")

# --- central Prometheus: rules + the operator's overrides, remote-write receiver ---------------------
cat >"$work/mailrelay.overrides.yml" <<EOF
# The operator's overrides for this fleet (format of alerts/README.md).
groups:
  - name: mailrelay_threshold_overrides
    rules:
      # relay1 carries a customer's newsletter: 1000 recipients an hour per account, there only
      - record: mailrelay:threshold_override:authrelay_recipients_per_hour
        expr: vector(1000)
        labels:
          instance: relay1:9225
      # inbound MXes: remote hosts send a lot, and their per-IP families are capped low on
      # purpose (docs/sizing.md)
      - record: mailrelay:threshold_override:relay_recipients_per_hour
        expr: vector(1000)
        labels:
          mail_role: inbound
      - record: mailrelay:threshold_override:label_overflow_per_30m
        expr: vector(1000000)
        labels:
          mail_role: inbound
      - record: mailrelay:grafana_url_override
        expr: vector(1)
        labels:
          url: $GRAFANA
EOF
central_port=$(exim_env_free_port)
prom=http://127.0.0.1:$central_port
cat >"$work/central.yml" <<EOF
global:
  evaluation_interval: 1s
rule_files:
  - $work/mailrelay.rules.yml
  - $work/mailrelay.overrides.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
EOF
promtool check rules "$work/mailrelay.rules.yml" "$work/mailrelay.overrides.yml" >"$work/promtool.log" 2>&1 ||
  die "promtool check rules (see $work/promtool.log)"
mkdir -p "$work/central"
"$PROMETHEUS" --config.file="$work/central.yml" --storage.tsdb.path="$work/central" \
  --web.listen-address="127.0.0.1:$central_port" --web.enable-remote-write-receiver \
  >"$work/central.log" 2>&1 &
pids+=("$!")

# --- three servers: Exim + sink, exporter, Prometheus agent ------------------------------------
declare -A smtp exporter
for s in "${SERVERS[@]}"; do
  mkdir -p "$work/$s"
  exims+=("$s")
  smtp[$s]=$(exim_env_free_port)
  exim_env_start "$work/$s" "${smtp[$s]}" cpanel >/dev/null 2>"$work/$s.exim.log" ||
    die "exim_env_start $s (see $work/$s.exim.log)"
  # relay1 and shared1 deliver to their smarthost (the sink); mx1's own outbound mail stays
  # deferred in its queue.
  if [[ $s != mx1 ]]; then exim_env_start_sink "$work/$s" || die "SMTP sink of $s"; fi
  install -d -m 0750 -o root -g "$EXIM_ENV_MTA_USER" "$work/$s/spool/input"
  exporter[$s]=$(exim_env_free_port)
  extra=()
  case $s in
    shared1) extra=(--metrics.series-idle-timeout=15s) ;;
    mx1) extra=(--metrics.max-series-per-family=2 --exim.rejectlog="$work/$s/log/no-such-rejectlog") ;;
  esac
  if [[ $s != mx1 ]]; then
    # Exim creates its reject log with the first reject; these two may never reject anything.
    install -m 0640 -o root -g "$EXIM_ENV_MTA_USER" /dev/null "$(exim_env_rejectlog "$work/$s")"
    extra+=(--exim.rejectlog="$(exim_env_rejectlog "$work/$s")")
  fi
  "$bin" --web.listen-address="127.0.0.1:${exporter[$s]}" --exim.mainlog="$(exim_env_mainlog "$work/$s")" \
    --exim.spool-dir="$work/$s/spool" --relay.local-networks=127.0.0.1/32 \
    --no-relay.include-interface-addresses --tail.poll-interval=100ms "${extra[@]}" \
    >"$work/$s.exporter.log" 2>&1 &
  pids+=("$!")
  agent_port=$(exim_env_free_port)
  cat >"$work/$s.agent.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  external_labels:
    site: loopback
scrape_configs:
  - job_name: mailrelay
    static_configs:
      - targets: ['127.0.0.1:${exporter[$s]}']
        labels:
          instance: $s:9225
          mail_role: ${ROLE[$s]}
remote_write:
  - url: $prom/api/v1/write
    queue_config:
      batch_send_deadline: 1s
EOF
  mkdir -p "$work/$s/agent"
  "$PROMETHEUS" --enable-feature=agent --config.file="$work/$s.agent.yml" \
    --storage.agent.path="$work/$s/agent" --web.listen-address="127.0.0.1:$agent_port" \
    >"$work/$s.agent.log" 2>&1 &
  pids+=("$!")
done
say "3 Exims, exporters, agents; central $prom; alertmanager $am; webhook :$webhook_port; dir $work"

WAIT_TIMEOUT=60 wait_for curl -fs -o /dev/null "$prom/-/ready"
WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "$am/-/ready"
for s in "${SERVERS[@]}"; do
  WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "http://127.0.0.1:${exporter[$s]}/-/healthy"
done
wait_prom 60 'count(up{job="mailrelay"} == 1)' 3
wait_prom 30 'mailrelay:threshold:authrelay_recipients_per_hour{instance="relay1:9225"}' 1000
wait_prom 30 'mailrelay:threshold:authrelay_recipients_per_hour{instance="shared1:9225"}' 100
wait_prom 30 'mailrelay:threshold:relay_recipients_per_hour{instance="mx1:9225"}' 1000
say "the central Prometheus has the 3 servers (remote write) and their thresholds"

rcpts() {  # rcpts N PREFIX: N comma-separated remote addresses
  local i out=""
  for ((i = 1; i <= $1; i++)); do out+="${out:+,}$2$i@example.com"; done
  printf '%s\n' "$out"
}
swaks_as() {  # swaks_as SERVER SRC_IP USER FROM RCPTS SUBJECT
  swaks --server 127.0.0.1 --port "${smtp[$1]}" --local-interface "$2" --ehlo client.example.net \
    --auth PLAIN --auth-user "$3" --auth-password secret --from "$4" --to "$5" \
    --header "Subject: $6" --header "To: undisclosed-recipients:;" --timeout 30 </dev/null >>"$work/$1/log/swaks-fleet.log" 2>&1 ||
    die "swaks to $1 as $3 failed (see $work/$1/log/swaks-fleet.log)"
}
bob_series="mailrelay_auth_user_recipients_total{instance=\"shared1:9225\",user=\"$HIJACKED\"}"

# --- normal traffic ------------------------------------------------------------------------------
# shared1: bob sends one ordinary message, carol two and a cron job of hers one (U=carol).
swaks_as shared1 127.0.0.2 "$HIJACKED" "$HIJACKED" friend@example.org "lunch"
swaks_as shared1 127.0.0.2 carol carol@mx.example.test "$(rcpts 3 client)" "invoice"
swaks_as shared1 127.0.0.2 carol carol@mx.example.test "$(rcpts 2 supplier)" "order"
printf 'Subject: backup done\n\nnightly backup finished\n' |
  exim_env_exim "$work/shared1" -odi -oi -oMt carol -f carol@mx.example.test carol@mx.example.test ||
  die "local submission on shared1"
# relay1: the newsletter, 3 x 100 recipients.
for part in 1 2 3; do
  swaks_as relay1 127.0.0.2 "$NEWSLETTER" "$NEWSLETTER" "$(rcpts 100 "subscriber$part-")" "News, part $part"
done
# mx1: inbound mail from four remote hosts (more client IPs than its per-family cap of 2), an
# open-relay probe and a wrong password from a fifth, an unparsed line, a rotation.
for ip in 127.0.0.2 127.0.0.4 127.0.0.5 127.0.0.6; do
  swaks --server 127.0.0.1 --port "${smtp[mx1]}" --local-interface "$ip" --ehlo "sender-$ip.example.net" \
    --from "news@sender-$ip.example.net" --to alice@mx.example.test,carol@mx.example.test \
    --timeout 30 </dev/null >>"$work/mx1/log/swaks-fleet.log" 2>&1 || die "inbound mail from $ip to mx1"
done
for args in "--from probe@example.net --to victim@example.org" \
  "--auth PLAIN --auth-user carol --auth-password wrong --from carol@mx.example.test --to x@example.org"; do
  # shellcheck disable=SC2086 # the words of $args are swaks options
  if swaks --server 127.0.0.1 --port "${smtp[mx1]}" --local-interface 127.0.0.7 --ehlo probe.example.net \
    $args --timeout 30 </dev/null >>"$work/mx1/log/swaks-fleet.log" 2>&1; then
    die "mx1 accepted $args from 127.0.0.7"
  fi
done
echo "this is not an exim log line" >>"$(exim_env_mainlog "$work/mx1")"
mv "$(exim_env_mainlog "$work/mx1")" "$(exim_env_mainlog "$work/mx1").1"
swaks_as mx1 127.0.0.2 carol carol@mx.example.test after-rotation@example.com "after rotation"
wait_prom 30 "$bob_series" 1
wait_prom 30 "mailrelay_auth_user_recipients_total{instance=\"relay1:9225\",user=\"$NEWSLETTER\"}" 300
wait_prom 30 'sum(mailrelay_log_rotations_total{instance="mx1:9225"})' 1
say "normal traffic: bob 1 recipient on shared1, newsletter 300 on relay1, inbound mail on mx1"

# --- bob goes quiet past the series idle timeout (15s): his series expires ---------------------------
bob_gone() {
  metrics_fetch "http://127.0.0.1:${exporter[shared1]}/metrics" "$work/shared1.prom" &&
    ! grep -q "^mailrelay_auth_user_recipients_total{user=\"$HIJACKED\"}" "$work/shared1.prom"
}
WAIT_TIMEOUT=60 wait_for bob_gone || die "bob's series did not expire on shared1"
say "bob's series expired on shared1: a dormant account"

# --- the hijack: guesses and a relay probe from a foreign IP, then one message to 500 recipients ----
for pw in 123456 password; do
  swaks --server 127.0.0.1 --port "${smtp[shared1]}" --local-interface "$HIJACKER_IP" --ehlo "[$HIJACKER_IP]" \
    --auth PLAIN --auth-user "$HIJACKED" --auth-password "$pw" --from "$HIJACKED" --to x@example.org \
    --timeout 30 </dev/null >>"$work/shared1/log/swaks-fleet.log" 2>&1 && die "shared1 accepted password $pw"
done
swaks --server 127.0.0.1 --port "${smtp[shared1]}" --local-interface "$HIJACKER_IP" --ehlo "[$HIJACKER_IP]" \
  --from probe@example.net --to probe@example.org --timeout 30 </dev/null \
  >>"$work/shared1/log/swaks-fleet.log" 2>&1 && die "shared1 relayed for $HIJACKER_IP without AUTH"
burst_at=$(date +%s)
# Short addresses: Exim cuts a log line at 8 KiB, and the ` for ` list of 500 addresses of the
# usual length would be cut at about 370 (the exporter counts what the line lists).
short=""
for ((i = 1; i <= 500; i++)); do short+="${short:+,}v$i@t.test"; done
swaks_as shared1 "$HIJACKER_IP" "$HIJACKED" invoice@billing.example "$short" "Your invoice"
wait_prom 30 "$bob_series" 500
say "hijack: $HIJACKED sent one message to 500 recipients from $HIJACKER_IP"

# --- notifications --------------------------------------------------------------------------------
notifications() { grep -c . "$work/notifications.jsonl" || true; }
at_least() { (($(notifications) >= $1)); }
WAIT_TIMEOUT=120 wait_for at_least 1 || {
  promql 'ALERTS' >&2 || true
  curl -fsS "$prom/api/v1/alertmanagers" >&2 || true
  curl -fsS "$am/api/v2/alerts" >&2 || true
  die "no notification reached the webhook"
}
first_at=$SECONDS
say "first notification $(($(date +%s) - burst_at))s after the burst; watching 45s for more (group_interval 30s)"
WAIT_TIMEOUT=45 wait_for at_least 2 2>/dev/null || true
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
check "exactly one notification in $((SECONDS - first_at))s after the first (got $(notifications))" \
  test "$(notifications)" == 1
python3 - "$work/notifications.jsonl" >"$work/notification.txt" <<'PY'
import json, sys
n = json.loads(open(sys.argv[1]).readline())
g = n["groupLabels"]
print("receiver", n["receiver"])
print("status", n["status"])
print("group", g.get("instance", ""), g.get("user", ""))
for a in n["alerts"]:
    l, an = a["labels"], a["annotations"]
    print("alert", "|".join([l["alertname"], l.get("severity", ""), l.get("instance", ""), l.get("user", ""),
          l.get("ip", ""), an.get("runbook_url", ""), an.get("dashboard_url", "")]))
PY
sed 's/^/    /' "$work/notification.txt"
field() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$work/notification.txt"; }
check "it is a firing notification" test "$(field status)" == firing
check "it is grouped on instance shared1:9225 and user $HIJACKED" test "$(field group)" == "shared1:9225 $HIJACKED"
runbook=https://github.com/mailrelay-exporter/mailrelay_exporter/blob/main/docs/runbook.md#mailrelayauthrelayhigh
dash="$GRAFANA/d/mailrelay-drilldown?var-job=mailrelay&var-instance=shared1%3A9225&var-user=bob%40mx.example.test"
relay_alert=$(grep -E "^alert MailRelayAuthrelayHigh\|(warning|critical)\|shared1:9225\|$HIJACKED\|" "$work/notification.txt" | head -1 || true)
check "it carries MailRelayAuthrelayHigh for $HIJACKED on shared1:9225" test -n "$relay_alert"
check "with its runbook_url and the drilldown's dashboard_url" test "$(cut -d'|' -f6,7 <<<"$relay_alert")" == "$runbook|$dash"
check "every alert in it is bob's on shared1 (nothing else joined the page)" \
  test -z "$(awk -F'|' '/^alert / && ($3 != "shared1:9225" || $4 != "'"$HIJACKED"'")' "$work/notification.txt")"
check "it went to the $(field receiver) receiver, the tier of its alerts" \
  test "$(field receiver)" == "$(grep -q '^alert [^|]*|critical|' "$work/notification.txt" && echo pager || echo ticket)"

# Alertmanager holds the per-IP alert of the same incident, suppressed.
am_alerts() {
  curl -fsS --max-time 10 "$am/api/v2/alerts" | python3 -c '
import json, sys
for a in json.load(sys.stdin):
    l = a["labels"]
    print(l["alertname"], l.get("severity", ""), l.get("instance", ""), l.get("user", "-"), l.get("ip", "-"),
          a["status"]["state"])
'
}
am_alerts >"$work/am_alerts.txt"
sed 's/^/    /' "$work/am_alerts.txt"
check "MailRelayAuthrelayIPHigh for $HIJACKER_IP on shared1 reached Alertmanager and is suppressed" \
  grep -qE "^MailRelayAuthrelayIPHigh (warning|critical) shared1:9225 - $HIJACKER_IP suppressed$" "$work/am_alerts.txt"
check "no alert at all for the newsletter $NEWSLETTER (Alertmanager)" \
  test -z "$(grep -F " $NEWSLETTER " "$work/am_alerts.txt" || true)"
check "no alert, not even pending, for the newsletter (Prometheus ALERTS)" \
  test -z "$(promql "ALERTS{user=\"$NEWSLETTER\"}")"
check "no alert for relay1 or mx1" test -z "$(promql 'ALERTS{instance=~"relay1:9225|mx1:9225"}')"

# The central Prometheus saw bob's new series at 0 before its count (the exporter's contract).
samples=$(curl -fsS --max-time 10 "$prom/api/v1/query" \
  --data-urlencode "query=${bob_series}[10m]" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(" ".join(v for _, v in r[0]["values"]) if r else "")')
# Each new series is first exposed at 0: bob's first one (0, then 1), and the one his burst made
# after the expiry (0, then 500).
check "bob's samples centrally: 0 1 (expired) 0 500 (got $(tr ' ' '\n' <<<"$samples" | uniq | tr '\n' ' '))" \
  test "$(tr ' ' '\n' <<<"$samples" | uniq | tr '\n' ' ')" == "0 1 0 500 "

# --- the fleet dashboard's worst senders, then every panel query and the previews ----------------
worst=$(python3 - "$repo/dashboards/mailrelay-fleet.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = next(p for p in d["panels"] if p.get("title", "").startswith("Worst senders"))
print(p["targets"][0]["expr"].replace("$job", "mailrelay").replace("$instance", ".*"))
PY
)
promql "$worst" >"$work/worst.txt"
sed 's/^/    /' "$work/worst.txt"
check "fleet dashboard, worst senders: $HIJACKED on shared1:9225 first" \
  grep -qE "^instance=shared1:9225,.*user=$HIJACKED " <(head -1 "$work/worst.txt")
newsletter_ratio=$(awk -v u="user=$NEWSLETTER" '$1 ~ /^instance=relay1:9225,/ && index($1, u) { print $2 }' "$work/worst.txt")
# increase() extrapolates a little past the last sample: about 0.3 (300 of relay1's 1000).
check "fleet dashboard, worst senders: the newsletter ranks below, at ~30% of relay1's limit (${newsletter_ratio:-absent})" \
  awk -v r="${newsletter_ratio:-0}" 'BEGIN { exit !(r >= 0.28 && r < 0.4) }'
check "fleet dashboard, worst senders: bob above 100% of shared1's limit" \
  awk -v r="$(head -1 "$work/worst.txt" | awk '{ print $2 }')" 'BEGIN { exit !(r > 1) }'

mkdir -p "$preview_dir"
none="no log is lagging, stale or failing its queue scan in this fleet"
if ! python3 "$here/lib/dashboard_queries.py" --prometheus "$prom" --out "$preview_dir/results.json" \
  --range-seconds "$((SECONDS - START + 30))" --var job=mailrelay \
  --var instance=relay1:9225 --var instance=shared1:9225 --var instance=mx1:9225 \
  --var "user=$HIJACKED" --var user=carol --var "ip=$HIJACKER_IP" \
  --allow-empty "mailrelay-health/10=$none" --allow-empty "mailrelay-health/11=$none" \
  --allow-empty "mailrelay-health/20=$none" \
  --allow-empty "mailrelay-fleet/19=respond is not deployed here (e2e.respond_exim checks this panel)" \
  "$repo"/dashboards/*.json >"$work/dashboard_queries.log" 2>&1; then
  cat "$work/dashboard_queries.log" >&2
  failures=$((failures + 1))
  echo "  FAIL dashboard queries (above)" >&2
else
  echo "  ok   $(tail -1 "$work/dashboard_queries.log")"
fi
python3 "$here/lib/render_dashboards.py" --chromium "$CHROMIUM" "$preview_dir/results.json" "$preview_dir" \
  >"$work/render.log" 2>&1 || { cat "$work/render.log" >&2; die "rendering the previews failed"; }
for d in "$repo"/dashboards/*.json; do
  uid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uid"])' "$d")
  check "preview $preview_dir/$uid.png written" test -s "$preview_dir/$uid.png"
done

((failures == 0)) || die "$failures fleet e2e checks failed"
say "fleet e2e: all checks passed ($((SECONDS - START))s)"
