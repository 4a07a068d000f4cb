# shellcheck shell=bash
# Helpers of the respond end-to-end tests (respond_exim_e2e.sh, respond_postfix_e2e.sh). Source
# after metrics.sh and prom_env.sh.
#   respond_env_rules SRC DST           the shipped rules with every `for:` divided by 10 (2m ->
#                                       12s): the test-only copy of fleet_e2e.sh, nothing else
#                                       changed
#   respond_env_prometheus_config DIR TARGET AM_PORT [RESPOND_TARGET]
#                                       DIR/prometheus.yml scraping TARGET (and respond at
#                                       RESPOND_TARGET) every second with respond_env_rules'
#                                       copy of the shipped rules (DIR/mailrelay.rules.yml) and
#                                       the test's threshold overrides (20 recipients an hour,
#                                       page at 2x: DIR/mailrelay.overrides.yml), alerting to
#                                       127.0.0.1:AM_PORT
#   respond_env_start_am_prom DIR AM_PORT PROM_PORT
#                                       Alertmanager (DIR/alertmanager.yml) and Prometheus
#                                       (DIR/prometheus.yml) in the background, their pids
#                                       appended to the caller's pids array
#   respond_env_am_config OUT RESPOND_URL INSTANCE CAPTURE_URL
#                                       the shipped Alertmanager policy with
#                                       contrib/respond/alertmanager.yml merged in as its docs
#                                       say; test-only: the respond route matches INSTANCE and
#                                       posts to RESPOND_URL (plain HTTP, no auth), group_interval
#                                       5s and repeat_interval 15s (so that a restarted respond
#                                       gets the next notification soon), the other routes'
#                                       group_wait 3s / group_interval 30s, the pager and ticket
#                                       receivers post to CAPTURE_URL/NAME, and respond's
#                                       receiver to CAPTURE_URL/respond too
#   respond_env_capture PORT FILE       a webhook receiver appending every notification body (one
#                                       JSON line) to FILE; runs in the background ($! is its pid)
#   respond_env_audit FILE              the audit records, one per line:
#                                       event|notification|mode|result|reason|account|hold_list
#   respond_env_craft FILE KEY=VALUE... the first notification in FILE (a capture) with the first
#                                       alert's
#                                       labels changed (KEY=VALUE; status=resolved changes the
#                                       statuses instead; startsAt=T the alert's start), as JSON
#   respond_env_post URL JSON           POST a notification; prints the HTTP status

respond_env_rules() {
  python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def scale(m):
    seconds = int(m.group(2)) * {"s": 1, "m": 60, "h": 3600}[m.group(3)]
    return f"{m.group(1)}{max(1, seconds // 10)}s"
out, n = re.subn(r"^(\s+for: )(\d+)([smh])$", scale, text, flags=re.M)
assert n > 20, n
open(sys.argv[2], "w").write(out)
PY
}

# shellcheck disable=SC2154 # $repo is set by the sourcing test
respond_env_prometheus_config() {
  local dir=$1 target=$2 am_port=$3 respond_target=${4:-}
  respond_env_rules "$repo/alerts/mailrelay.rules.yml" "$dir/mailrelay.rules.yml"
  cat >"$dir/mailrelay.overrides.yml" <<EOF
groups:
  - name: mailrelay_threshold_overrides
    rules:
      - record: mailrelay:threshold_override:authrelay_recipients_per_hour
        expr: vector(20)
      - record: mailrelay:threshold_override:relay_page_factor
        expr: vector(2)
EOF
  cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $dir/mailrelay.rules.yml
  - $dir/mailrelay.overrides.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
scrape_configs:
  - job_name: mailrelay
    static_configs:
      - targets: ['$target']
EOF
  if [[ -n $respond_target ]]; then
    cat >>"$dir/prometheus.yml" <<EOF
  - job_name: mailrelay-respond
    static_configs:
      - targets: ['$respond_target']
EOF
  fi
}

# shellcheck disable=SC2154 # pids is the sourcing test's array of background processes
respond_env_start_am_prom() {
  local dir=$1 am_port=$2 prom_port=$3
  mkdir -p "$dir/alertmanager" "$dir/prometheus"
  "$ALERTMANAGER" --config.file="$dir/alertmanager.yml" --storage.path="$dir/alertmanager" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$dir/alertmanager.log" 2>&1 &
  pids+=("$!")
  "$PROMETHEUS" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus" \
    --web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
  pids+=("$!")
}

# shellcheck disable=SC2154 # $repo is set by the sourcing test
respond_env_am_config() {
  python3 - "$repo/alerts/alertmanager.example.yml" "$repo/contrib/respond/alertmanager.yml" \
    "$@" <<'PY'
import sys, yaml
policy_path, fragment_path, out, respond_url, instance, capture_url = sys.argv[1:]
cfg = yaml.safe_load(open(policy_path))
frag = yaml.safe_load(open(fragment_path))
# As the fragment's comment says: its route first under route.routes, its receiver added.
(route,) = frag["route"]["routes"]
(receiver,) = frag["receivers"]
assert route["continue"] is True and route["group_wait"] == "0s", route
assert {"severity=\"critical\"", "alertname=~\"MailRelayAuthrelayHigh|MailRelayLocalrelayHigh\""} <= set(route["matchers"])
cfg["route"]["routes"].insert(0, route)
cfg["receivers"].append(receiver)
# Test-only rewrites.
route["matchers"] = [m if not m.startswith("instance=") else f'instance="{instance}"' for m in route["matchers"]]
route["group_interval"], route["repeat_interval"] = "5s", "15s"
for r in [cfg["route"]] + cfg["route"]["routes"][1:]:
    r["group_wait"], r["group_interval"] = "3s", "30s"
for rc in cfg["receivers"]:
    for w in rc["webhook_configs"]:
        if rc is receiver:
            w["url"] = respond_url
            w.pop("http_config")
        else:
            w["url"] = f"{capture_url}/{rc['name']}"
# The capture receiver also gets exactly what respond gets.
receiver["webhook_configs"].append({"url": f"{capture_url}/respond", "send_resolved": False})
yaml.safe_dump(cfg, open(out, "w"), sort_keys=False)
PY
}

respond_env_capture() {
  python3 - "$1" "$2" <<'PY' &
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
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
}

respond_env_audit() {
  python3 - "$1" <<'PY'
import json, sys
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    r = json.loads(line)  # every line must be one JSON object
    print("|".join(str(r.get(k, "")) for k in
                   ("event", "notification", "mode", "result", "reason", "account", "hold_list")))
PY
}

respond_env_craft() {
  python3 - "$@" <<'PY'
import json, sys
path, changes = sys.argv[1], sys.argv[2:]
body = next(json.loads(l) for l in open(path) if json.loads(l).get("path") == "/respond")
body.pop("path", None)
for c in changes:
    key, _, value = c.partition("=")
    if key == "status":
        body["status"] = value
        for a in body["alerts"]:
            a["status"] = value
    elif key == "startsAt":
        body["alerts"][0]["startsAt"] = value
    else:
        body["alerts"][0]["labels"][key] = value
print(json.dumps(body))
PY
}

respond_env_post() {
  curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 -H 'Content-Type: application/json' \
    --data-binary "$2" "$1"
}
