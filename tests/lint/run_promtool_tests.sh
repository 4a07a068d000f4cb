#!/bin/sh
# Checks the shipped alert rules and runs their unit tests:
#   promtool check rules alerts/mailrelay.rules.yml alerts/tests/fixtures/*.yml
#   promtool test rules alerts/tests/<each>.yml     (one promtool per file, two at a time)
# Usage: tests/lint/run_promtool_tests.sh [repo-dir]   (PROMTOOL=/path/to/promtool to override)
set -eu
repo=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
promtool=${PROMTOOL:-promtool}
command -v "$promtool" >/dev/null 2>&1 || {
  echo "run_promtool_tests: $promtool not found (apt-get install -y prometheus)" >&2
  exit 2
}
cd "$repo/alerts"
"$promtool" check rules mailrelay.rules.yml tests/fixtures/*.yml
# promtool resolves rule_files relative to each test file. Each file evaluates every rule group
# once a minute of test time (tens of seconds of CPU in all): two files at a time.
printf '%s\n' tests/*.yml | xargs -P 2 -n 1 "$promtool" test rules
