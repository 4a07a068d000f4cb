# shellcheck shell=bash
# Helpers for the reliability tests (sourced).
#   rel_free_port                      print a loopback TCP port reserved for this test
#                                      (tests/lib/ports.py, the suite's one allocator)
#   rel_scrape URL FILE                save /metrics
#   rel_sum FILE NAME                  sum of every series of metric NAME (integer)
#   rel_wait_up URL                    wait until the exporter of URL (.../metrics) says /-/ready
#                                      (every log open), 20 s at most
#   rel_kill PID                       kill -9 a process we started and reap it

# shellcheck source=tests/lib/ports.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)/ports.sh"

rel_free_port() {
  mr_free_port
}

rel_scrape() {
  curl -fsS --max-time 5 "$1" >"$2"
}

rel_sum() {
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }' "$1"
}

rel_wait_up() {
  local i ready=${1%/metrics}/-/ready
  for ((i = 0; i < 200; i++)); do
    if [[ $(curl -s --max-time 1 "$ready" 2>/dev/null) == Ready ]]; then
      return 0
    fi
    sleep 0.1
  done
  echo "exporter not ready at $ready" >&2
  return 1
}

rel_kill() {
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
