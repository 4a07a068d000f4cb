# shellcheck shell=bash
# Helpers for reading a running exporter's /metrics in end-to-end tests.
#   metrics_fetch URL FILE                 save the exposition text
#   metric_value FILE 'name{a="x",b="y"}'  print the value; a missing series prints
#                                          "missing:<series>" and returns 1, so that comparing
#                                          it with an expected number fails, and so does
#                                          arithmetic on it (a renamed or lost series is a
#                                          failure, never a 0)
#   metric_value_or_zero FILE SERIES       the same, 0 when the series is absent: only for
#                                          series that may legitimately not exist (say why)
#   metric_sum FILE NAME                   sum of every series of family NAME; "missing:NAME"
#                                          and status 1 when the family has no series
#   wait_until_ready URL                   poll URL/-/ready until it says Ready (every log
#                                          open at its end: only then may traffic start)
#   wait_for CMD... (with WAIT_TIMEOUT)    poll a command until it succeeds

metrics_fetch() {
  curl -fsS --max-time 5 "$1" >"$2"
}

metric_value() {
  local file=$1 series=$2
  awk -v s="$series" '$1 == s { v = $2; found = 1 }
    END { if (!found) { print "missing:" s; exit 1 } print v }' "$file"
}

metric_value_or_zero() {
  local file=$1 series=$2
  awk -v s="$series" '$1 == s { v = $2; found = 1 } END { print found ? v : 0 }' "$file"
}

metric_sum() {
  local file=$1 name=$2
  awk -v n="$name" '$1 == n || index($1, n "{") == 1 { s += $2; found = 1 }
    END { if (!found) { print "missing:" n; exit 1 } printf "%.15g\n", s }' "$file"
}

metrics_ready() {  # metrics_ready URL: /-/ready answers Ready now
  [[ $(curl -s --max-time 2 "$1/-/ready" 2>/dev/null) == Ready ]]
}

wait_until_ready() {
  wait_for metrics_ready "$1"
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
