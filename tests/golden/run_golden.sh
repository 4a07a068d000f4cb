#!/usr/bin/env bash
# Golden test: run `mailrelay_exporter --oneshot` over corpus files and compare the whole
# exposition with a reviewed .prom file.
#   run_golden.sh BINARY CORPUS_DIR CASE.args
# CASE.args lines: `mainlog <path>` / `rejectlog <path>` (paths relative to CORPUS_DIR; several
# mainlog lines are concatenated in order), `postfixlog <path>` (the same for a Postfix syslog
# file; the case then runs with --mta=postfix), `flag <--flag=value>`, `volatile <metric name>`
# (dropped before comparing, e.g. timestamps of syslog lines, which carry no year), `# comment`.
# The expected output is CASE.prom beside CASE.args; UPDATE_GOLDEN=1 rewrites it.
set -euo pipefail

bin=$1
corpus=$2
args_file=$3
expected=${args_file%.args}.prom
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags=(--oneshot --relay.include-interface-addresses=false --exim.rejectlog=none)
volatile=(mailrelay_build_info)
: >"$work/mainlog"
log_flags=(--exim.mainlog="$work/mainlog")
while read -r kind value; do
  case "$kind" in
    ''|'#'*) ;;
    mainlog) cat "$corpus/$value" >>"$work/mainlog" ;;
    rejectlog)
      cat "$corpus/$value" >>"$work/rejectlog"
      flags+=(--exim.rejectlog="$work/rejectlog")
      ;;
    postfixlog)
      # A file may lack its last newline: keep lines of consecutive files apart.
      { cat "$corpus/$value"; [[ -z $(tail -c1 "$corpus/$value") ]] || echo; } >>"$work/postfixlog"
      log_flags=(--mta=postfix --postfix.log="$work/postfixlog")
      ;;
    flag) flags+=("$value") ;;
    volatile) volatile+=("$value") ;;
    *) echo "bad line in $args_file: $kind $value" >&2; exit 2 ;;
  esac
done <"$args_file"

filter=$(printf '%s|' "${volatile[@]}")
filter="^(${filter%|})[{ ]"
TZ=UTC "$bin" "${flags[@]}" "${log_flags[@]}" >"$work/raw.prom"
grep -Ev "$filter" "$work/raw.prom" >"$work/actual.prom" || true

if [[ "${UPDATE_GOLDEN:-0}" == 1 ]]; then
  cp "$work/actual.prom" "$expected"
  echo "updated $expected"
  exit 0
fi
if ! diff -u "$expected" "$work/actual.prom"; then
  echo "golden mismatch for $args_file (UPDATE_GOLDEN=1 to accept after review)" >&2
  exit 1
fi
echo "golden ok: $(basename "$args_file")"
