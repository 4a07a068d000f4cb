#!/bin/sh
# Checks the shipped alert rules and runs their unit tests:
#   promtool check rules alerts/mailrelay.rules.yml
#   promtool test rules alerts/tests/*.yml
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
# promtool resolves rule_files relative to each test file.
"$promtool" test rules tests/*.yml
