#!/usr/bin/env bash
# Golden test: run `mailrelay_exporter --oneshot` over log files (and a queue) and compare the
# whole exposition with a reviewed .prom file.
#   run_golden.sh BINARY BASE_DIR CASE.args
# BASE_DIR is tests/testdata for the goldens of tests/golden/ and ../shared/corpus for those of
# tests/corpus/golden/. CASE.args lines (paths relative to BASE_DIR):
#   mainlog <path>      appended to the Exim main log of the run (several are concatenated)
#   rejectlog <path>    the same for the Exim reject log
#   postfixlog <path>   the same for a Postfix syslog file (the case then runs with --mta=postfix)
#   journal <path>      a journal export file (systemd-journal-export format), written to a
#                       journal file by systemd-journal-remote and read with --postfix.journal
#   relayhosts <path>   --relay.relayhosts=<path>
#   spool <dir>         an Exim spool holding input/ (copied; --exim.spool-dir)
#   eximbp <path>       `exim -bp` output: a stand-in exim prints it (--exim.queue-source=bp)
#   postqueue <path>    `postqueue -j` output: a stand-in postqueue prints it
#   flag <--flag=value> passed as is
#   volatile <metric>   dropped before comparing (e.g. timestamps of syslog lines, which carry
#                       no year, and the queue's ages, which depend on the time of the run)
#   # comment
# The expected output is CASE.prom beside CASE.args; UPDATE_GOLDEN=1 rewrites it (refused
# when CI is set: CI compares, it never accepts).
set -euo pipefail

bin=$(realpath "$1")
base=$(realpath "$2")
args_file=$(realpath "$3")
expected=${args_file%.args}.prom
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags=(--oneshot --relay.include-interface-addresses=false --exim.rejectlog=none)
volatile=(mailrelay_build_info)
: >"$work/mainlog"
log_flags=(--exim.mainlog="$work/mainlog")
stub() {  # stub NAME FILE: an executable that prints FILE, whatever its arguments
  printf '#!/bin/sh\nexec cat %q\n' "$2" >"$work/$1"
  chmod +x "$work/$1"
}
while read -r kind value; do
  case "$kind" in
    '' | '#'*) ;;
    mainlog) cat "$base/$value" >>"$work/mainlog" ;;
    rejectlog)
      cat "$base/$value" >>"$work/rejectlog"
      flags+=(--exim.rejectlog="$work/rejectlog")
      ;;
    postfixlog)
      # A file may lack its last newline: keep lines of consecutive files apart.
      { cat "$base/$value"; [[ -z $(tail -c1 "$base/$value") ]] || echo; } >>"$work/postfixlog"
      log_flags=(--mta=postfix --postfix.log="$work/postfixlog")
      ;;
    journal)
      remote=""
      for p in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
        if [[ -x $p ]]; then remote=$p; fi
      done
      [[ -n $remote ]] || { echo "systemd-journal-remote is not installed" >&2; exit 1; }
      mkdir -p "$work/journal"
      "$remote" --output="$work/journal/postfix.journal" "$base/$value" 2>"$work/remote.log" ||
        { cat "$work/remote.log" >&2; exit 1; }
      log_flags=(--mta=postfix --postfix.journal --postfix.journal-path="$work/journal")
      ;;
    relayhosts) flags+=(--relay.relayhosts="$base/$value") ;;
    spool)
      mkdir -p "$work/spool"
      cp -r "$base/$value/input" "$work/spool/"
      flags+=(--exim.spool-dir="$work/spool")
      ;;
    eximbp)
      stub exim "$base/$value"
      mkdir -p "$work/spool/input"
      flags+=(--exim.queue-source=bp --exim.binary="$work/exim" --exim.spool-dir="$work/spool")
      ;;
    postqueue)
      stub postqueue "$base/$value"
      flags+=(--postfix.queue-source=postqueue --postfix.postqueue-binary="$work/postqueue")
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
  if [[ -n ${CI:-} ]]; then
    echo "UPDATE_GOLDEN=1 is refused under CI (CI=$CI): goldens are reviewed and committed by hand" >&2
    exit 1
  fi
  cp "$work/actual.prom" "$expected"
  echo "updated $expected"
  exit 0
fi
if ! diff -u "$expected" "$work/actual.prom"; then
  echo "golden mismatch for $args_file (UPDATE_GOLDEN=1 to accept after review)" >&2
  exit 1
fi
echo "golden ok: $(basename "$args_file")"
