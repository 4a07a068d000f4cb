#!/usr/bin/env bash
# Rule-evaluation cost of alerts/mailrelay.rules.yml on a synthetic fleet (alerts/README.md,
# "Rule evaluation cost"). Not run in CI: it writes gigabytes and takes minutes.
#   rule_cost.sh [INSTANCES [KEYS [STEP_SECONDS]]]     defaults: 300 20 30
# 1. synthetic_fleet.py writes 65 minutes of OpenMetrics samples, one every STEP_SECONDS, of
#    every per-key family the recording rules read (KEYS keys per family per instance, 1% of
#    them over every limit) plus up{job="mailrelay"}, ending a few minutes from now;
# 2. `promtool tsdb create-blocks-from openmetrics` backfills them into a fresh TSDB;
# 3. once the data's end has passed (so that the rules' results can be appended to the head), a
#    real Prometheus (Debian's) evaluates the shipped rules every 30 s on that TSDB; after 100 s
#    the script prints each group's and each per-key rule's last evaluation time from
#    /api/v1/rules, the series count and the Prometheus RSS.
# Work files go to $RULE_COST_DIR (default a new /tmp/rule_cost.XXXXXX, removed at the end).
set -euo pipefail
instances=${1:-300}
keys=${2:-20}
step=${3:-30}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rules=$(realpath "$here/../mailrelay.rules.yml")
work=${RULE_COST_DIR:-$(mktemp -d /tmp/rule_cost.XXXXXX)}
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
end=$((start + 240)) # generation and import take about 2 minutes
python3 "$here/synthetic_fleet.py" "$instances" "$keys" "$step" $((end - 3900)) "$end" "$work/fleet.om"
echo "synthetic fleet: $instances instances x $keys keys x 10 families, a sample every ${step}s;" \
  "$(du -h "$work/fleet.om" | cut -f1) of OpenMetrics"
/usr/bin/time -f "backfill: %e s, %M KiB peak" promtool tsdb create-blocks-from openmetrics \
  "$work/fleet.om" "$work/tsdb" >"$work/import.log" 2>"$work/import.time" ||
  { cat "$work/import.log" "$work/import.time" >&2; exit 1; }
tail -1 "$work/import.time"
rm -f "$work/fleet.om"
while (($(date +%s) <= end + 5)); do sleep 1; done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'global:\n  evaluation_interval: 30s\nrule_files:\n  - %s\n' "$rules" >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
pid=$!
sleep 100
python3 - "http://127.0.0.1:$port" <<'PY'
import json, sys, urllib.parse, urllib.request
base = sys.argv[1]
def query(q):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    r = json.load(urllib.request.urlopen(url))["data"]["result"]
    return r[0]["value"][1] if r else "0"
print("per-key series: %s" % query('count({__name__=~"mailrelay_.*_total"})'))
for g in json.load(urllib.request.urlopen(base + "/api/v1/rules"))["data"]["groups"]:
    print("group %-22s %9.1f ms" % (g["name"], g["evaluationTime"] * 1000))
    if g["name"] == "mailrelay_increase":
        for r in g["rules"]:
            print("   %-60s %8.1f ms  %s" % (r["name"], r["evaluationTime"] * 1000, r["health"]))
PY
echo "prometheus RSS: $(($(ps -o rss= -p "$pid") / 1024)) MiB; out-of-bounds appends: $(grep -c 'out of bounds' "$work/prometheus.log" || true)"
