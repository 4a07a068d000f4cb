# shellcheck shell=bash
# Helpers for reading a running exporter's /metrics in end-to-end tests.
#   metrics_fetch URL FILE                 save the exposition text
#   metric_value FILE 'name{a="x",b="y"}'  print the value (0 when the series is absent)
#   wait_for CMD... (with WAIT_TIMEOUT)    poll a command until it succeeds

metrics_fetch() {
  curl -fsS --max-time 5 "$1" >"$2"
}

metric_value() {
  local file=$1 series=$2
  awk -v s="$series" '$1 == s { v = $2 } END { if (v == "") v = 0; print v }' "$file"
}

wait_for() {
  local deadline=$((SECONDS + ${WAIT_TIMEOUT:-30}))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "timed out waiting for: $*" >&2
      return 1
    fi
    sleep 0.2
  done
}
