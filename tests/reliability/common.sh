# shellcheck shell=bash
# Helpers for the reliability tests (sourced).
#   rel_free_port                      print a free TCP port on 127.0.0.1
#   rel_scrape URL FILE                save /metrics
#   rel_sum FILE NAME                  sum of every series of metric NAME (integer)
#   rel_wait_up URL                    wait until the exporter answers (10 s)
#   rel_kill PID                       kill -9 a process we started and reap it

rel_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rel_scrape() {
  curl -fsS --max-time 5 "$1" >"$2"
}

rel_sum() {
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }' "$1"
}

rel_wait_up() {
  local i
  for ((i = 0; i < 100; i++)); do
    if curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "exporter did not come up at $1" >&2
  return 1
}

rel_kill() {
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
