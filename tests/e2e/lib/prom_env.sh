# shellcheck shell=bash
# Helpers of the end-to-end tests that run a real Prometheus (alerting_e2e.sh, fleet_e2e.sh).
# Source after metrics.sh (wait_for). They read $prom (the Prometheus base URL) and $START
# (the value of SECONDS when the test began).
#   say MSG...                      progress line with the elapsed seconds
#   die MSG...                      failure line with the elapsed seconds; exits 1
#   require_tools TOOL...           die, naming scripts/install-deps.sh, when one is not installed
#   promql EXPR                     "labels value" lines of an instant query (labels k=v,k=v sorted)
#   prom_value EXPR                 the first value of EXPR, or nothing
#   wait_prom SECONDS EXPR VALUE    poll until EXPR == VALUE; on timeout die showing the value

say() { printf '[%3ds] %s\n' "$((SECONDS - START))" "$*"; }
die() {
  printf '[%3ds] FAIL %s\n' "$((SECONDS - START))" "$*" >&2
  exit 1
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "missing $tool (scripts/install-deps.sh installs it)"
  done
  python3 -c 'import yaml' 2>/dev/null || die "missing python3-yaml"
}

# shellcheck disable=SC2154 # $prom is set by the sourcing test
promql() {
  curl -fsS --max-time 10 "$prom/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
res = d["result"] if d["resultType"] in ("vector", "matrix") else [{"metric": {}, "value": d["result"]}]
for r in res:
    print(",".join(f"{k}={v}" for k, v in sorted(r["metric"].items())) or "-", r["value"][1])
'
}
prom_value() { promql "$1" | awk 'NR == 1 { print $2 }'; }
prom_equals() { [[ $(prom_value "$1") == "$2" ]]; }
wait_prom() {
  WAIT_TIMEOUT=$1 wait_for prom_equals "$2" "$3" 2>/dev/null ||
    die "after ${1}s, $2 is '$(prom_value "$2" || true)', expected $3"
}
