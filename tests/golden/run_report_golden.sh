#!/usr/bin/env bash
# Golden test of `mailrelay_exporter report`: run it over log files with a fixed window and
# compare the text and the JSON output with reviewed files.
#   run_report_golden.sh BINARY BASE_DIR CASE.args
# CASE.args lines (paths relative to BASE_DIR: tests/testdata, or ../shared/corpus for the
# goldens in tests/corpus/golden/):
#   mainlog <path>      appended to the Exim main log of the run (several are concatenated)
#   postfixlog <path>   the same for a Postfix syslog file (the case then runs with --mta=postfix)
#   spool <dir>         an Exim spool directory holding input/ (copied; --exim.spool-dir)
#   postqueue <file>    `postqueue -j` output: a stand-in postqueue prints it
#   flag <--flag=value> passed as is (one argument, blanks included)
#   # comment
# Without spool/postqueue lines the queue is left out (--no-queue). The run happens in a
# scratch directory with relative paths and TZ=UTC, so the output depends on nothing but the
# input files and the flags. Expected output: CASE.txt and CASE.json beside CASE.args;
# UPDATE_GOLDEN=1 rewrites them (refused when CI is set).
set -euo pipefail

bin=$(realpath "$1")
base=$(realpath "$2")
args_file=$(realpath "$3")
expected_txt=${args_file%.args}.txt
expected_json=${args_file%.args}.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags=(--relay.include-interface-addresses=false)
log_flags=()
queue=0
while read -r kind value; do
  case "$kind" in
    '' | '#'*) ;;
    mainlog)
      cat "$base/$value" >>"$work/mainlog"
      log_flags=(--mta=exim --exim.mainlog=mainlog)
      ;;
    postfixlog)
      # A file may lack its last newline: keep lines of consecutive files apart.
      { cat "$base/$value"; [[ -z $(tail -c1 "$base/$value") ]] || echo; } >>"$work/mail.log"
      log_flags=(--mta=postfix --postfix.log=mail.log)
      ;;
    spool)
      mkdir -p "$work/spool"
      cp -r "$base/$value/input" "$work/spool/"
      flags+=(--exim.spool-dir=spool)
      queue=1
      ;;
    postqueue)
      printf '#!/bin/sh\nexec cat %q\n' "$base/$value" >"$work/postqueue"
      chmod +x "$work/postqueue"
      flags+=(--postfix.queue-source=postqueue --postfix.postqueue-binary=./postqueue)
      queue=1
      ;;
    flag) flags+=("$value") ;;
    *)
      echo "bad line in $args_file: $kind $value" >&2
      exit 2
      ;;
  esac
done <"$args_file"
((queue)) || flags+=(--no-queue)

cd "$work"
TZ=UTC "$bin" report "${log_flags[@]}" "${flags[@]}" >"$work/actual.txt"
TZ=UTC "$bin" report "${log_flags[@]}" "${flags[@]}" --format=json >"$work/actual.json"
python3 -m json.tool "$work/actual.json" >/dev/null || {
  echo "report --format=json printed invalid JSON" >&2
  exit 1
}

if [[ "${UPDATE_GOLDEN:-0}" == 1 ]]; then
  if [[ -n ${CI:-} ]]; then
    echo "UPDATE_GOLDEN=1 is refused under CI (CI=$CI): goldens are reviewed and committed by hand" >&2
    exit 1
  fi
  cp "$work/actual.txt" "$expected_txt"
  cp "$work/actual.json" "$expected_json"
  echo "updated $expected_txt $expected_json"
  exit 0
fi
status=0
diff -u "$expected_txt" "$work/actual.txt" || status=1
diff -u "$expected_json" "$work/actual.json" || status=1
if ((status != 0)); then
  echo "golden mismatch for $args_file (UPDATE_GOLDEN=1 to accept after review)" >&2
  exit 1
fi
echo "golden ok: $(basename "$args_file")"
