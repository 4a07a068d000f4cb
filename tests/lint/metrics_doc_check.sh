#!/usr/bin/env bash
# docs/metrics.md is the metric contract: every family the binary can expose is documented there
# with the type it has, and every documented family is exposed. The binary runs in every mode
# that adds families: --oneshot over the Exim fixtures with a spool (queue and queue-collector
# families), over the Postfix fixtures with a postqueue (correlation families), and live with a
# --rules.file (SIGHUP reload families, which --oneshot leaves out, and the rules' own), scraped
# once /-/ready says the logs are open; and `respond` (the webhook receiver, in dry-run, which
# serves the mailrelay_respond_* families on its own /metrics). A counter rule's family
# mailrelay_rule_<name>_total is checked against its row in docs/rules.md.
#   metrics_doc_check.sh BINARY TESTDATA_DIR METRICS_MD (docs/rules.md is read beside it)
# shellcheck disable=SC2016  # backticks below are literal markdown
set -euo pipefail
bin=$1
data=$2
doc=$3
rules_doc=$(dirname "$doc")/rules.md
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
pid=""
respond_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  for p in $pid $respond_pid; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/lib/ports.sh
source "$here/../lib/ports.sh"

cp -r "$data/exim/spool" "$work/spool"
printf '#!/bin/sh\nexec cat %q\n' "$data/postfix/postqueue-j.jsonl" >"$work/postqueue"
chmod +x "$work/postqueue"
"$bin" --oneshot --exim.mainlog="$data/exim/cpanel_mainlog" \
  --exim.rejectlog="$data/exim/cpanel_rejectlog" --exim.spool-dir="$work/spool" \
  --relay.include-interface-addresses=false >"$work/exim.prom"
"$bin" --oneshot --mta=postfix --postfix.log="$data/postfix/mail.log" \
  --postfix.queue-source=postqueue --postfix.postqueue-binary="$work/postqueue" \
  --relay.include-interface-addresses=false >"$work/postfix.prom"
port=$(mr_free_port)
cp "$data/exim/cpanel_mainlog" "$work/mainlog"
cat >"$work/rules.yml" <<'EOF'
reject_reasons:
  - name: doc_check_reject
    mta: exim
    pattern: 'not welcome here'
    reason: rbl
counters:
  - name: doc_check_protocols
    mta: exim
    pattern: ' P=(?P<protocol>[a-z]+) '
EOF
"$bin" --web.listen-address="127.0.0.1:$port" --exim.mainlog="$work/mainlog" \
  --exim.rejectlog=none --exim.spool-dir="$work/spool" --relay.include-interface-addresses=false \
  --rules.file="$work/rules.yml" --tail.poll-interval=50ms \
  >"$work/live.log" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
  [[ $(curl -s --max-time 2 "http://127.0.0.1:$port/-/ready" 2>/dev/null) == Ready ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/live.log" >&2; echo "the exporter exited" >&2; exit 1; }
  sleep 0.1
done
# One line for the counter rule, written once the log is open; its series shows 0 in the first
# scrape that has it (docs/metrics.md, First count of a new series), then 1.
grep -m1 ' P=esmtpa ' "$data/exim/cpanel_mainlog" >>"$work/mainlog"
counted=""
for ((i = 0; i < 100; i++)); do
  curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/live.prom" ||
    { cat "$work/live.log" >&2; echo "no live scrape" >&2; exit 1; }
  if grep -q '^mailrelay_rule_doc_check_protocols_total{protocol="esmtpa"} 1$' "$work/live.prom"; then
    counted=yes
    break
  fi
  sleep 0.1
done

# respond in dry-run (it only answers webhooks; nothing is held), scraped once it is up.
rport=$(mr_free_port)
"$bin" respond --web.listen-address="127.0.0.1:$rport" --mta=exim --exim.spool-dir="$work/spool" \
  --exim.whmapi1-binary=none --respond.hold-list="$work/hold-list" \
  --respond.audit-log="$work/audit.jsonl" >"$work/respond.log" 2>&1 &
respond_pid=$!
for ((i = 0; i < 100; i++)); do
  curl -fsS --max-time 2 "http://127.0.0.1:$rport/metrics" >"$work/respond.prom" 2>/dev/null && break
  kill -0 "$respond_pid" 2>/dev/null || { cat "$work/respond.log" >&2; echo "respond exited" >&2; exit 1; }
  sleep 0.1
done
[[ -s $work/respond.prom ]] || { cat "$work/respond.log" >&2; echo "no scrape of respond" >&2; exit 1; }

cat "$work"/{exim,postfix,live,respond}.prom | awk '$1 == "#" && $2 == "TYPE" { print $3, $4 }' |
  sort -u >"$work/exposed.all"
status=0
# The counter rule's family: exposed (it counted the appended line) with the type of
# the mailrelay_rule_<name>_total row of docs/rules.md; the other families go to the comparison.
rule_type=$(grep -E '^\| `mailrelay_rule_<name>_total` \| ' "$rules_doc" |
  awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
if [[ -z $counted ]] ||
  ! grep -qx "mailrelay_rule_doc_check_protocols_total ${rule_type:-none}" "$work/exposed.all"; then
  echo "mailrelay_rule_doc_check_protocols_total did not count the line within 10 s, or is not" \
    "exposed with the type of the mailrelay_rule_<name>_total row of $rules_doc (${rule_type:-no row})" >&2
  status=1
fi
grep -v '^mailrelay_rule_doc_check_protocols_total ' "$work/exposed.all" >"$work/exposed"
# | `name` | type | ... rows of the tables
grep -E '^\| `mailrelay_[a-z0-9_]+` \| [a-z]+ \|' "$doc" |
  awk -F'|' '{ gsub(/[` ]/, "", $2); gsub(/ /, "", $3); print $2, $3 }' | sort -u >"$work/documented"
if comm -23 "$work/exposed" "$work/documented" | grep .; then
  echo "^ exposed (name type) but not documented so in $doc" >&2
  status=1
fi
if comm -13 "$work/exposed" "$work/documented" | grep .; then
  echo "^ documented in $doc but exposed in no mode (or with another type)" >&2
  status=1
fi
echo "exposed $(wc -l <"$work/exposed") families; documented $(wc -l <"$work/documented")"
exit $status
