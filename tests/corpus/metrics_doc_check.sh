#!/usr/bin/env bash
# Every metric family the binary exposes is documented in docs/metrics.md, and every metric
# documented there is exposed (log-derived families are all registered at startup).
#   metrics_doc_check.sh BINARY CORPUS_DIR METRICS_MD
# shellcheck disable=SC2016  # backticks below are literal markdown
set -euo pipefail
bin=$1
corpus=$2
doc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Real lines that exercise every log-derived family (Appendix A of classification.md style).
cat "$corpus/exim-exporter/mainlog" "$corpus/exim-testsuite/mainlog/3400" >"$work/mainlog"
cat >>"$work/mainlog" <<'LOG'
2026-11-22 11:48:49 1xV63t-0004DN-0a <= ceo@bank.example H=(client.example.net) [192.0.2.2]:51135 P=esmtpsa A=dovecot_plain:alice@mx.example.test S=443 for victim@example.com
2026-11-22 11:48:55 1xV63z-0004Fq-1m <= ceo@bank.example U=www-data P=local S=356 for erin@example.com
2026-11-22 11:48:49 H=(client.example.net) [192.0.2.2]:60863 F=<spammer@example.net> rejected RCPT <victim@example.com>: relay not permitted
LOG
"$bin" --oneshot --exim.mainlog="$work/mainlog" --relay.include-interface-addresses=false \
  >"$work/out.prom"
# The Postfix mode adds its correlation self-metrics.
"$bin" --oneshot --mta=postfix --postfix.log="$corpus/fail2ban/postfix" \
  --relay.include-interface-addresses=false >>"$work/out.prom"
grep '^# TYPE ' "$work/out.prom" | awk '{print $3}' | sort -u >"$work/exposed"
grep -oE '^\| `mailrelay_[a-z0-9_]+`' "$doc" | tr -d '|` ' | sort -u >"$work/documented"
status=0
if comm -23 "$work/exposed" "$work/documented" | grep .; then
  echo "^ exposed but not in $doc" >&2
  status=1
fi
# Queue families (and the queue collector's mailrelay_collector_errors_total) only appear with a
# queue source configured; the SIGHUP reload families (mailrelay_config_*) exist in live mode
# only (tests/http checks them); the --rules.file self-metrics (mailrelay_rules_*) have series
# only with a rules file; mailrelay_respond_* are served by `respond` (checked by
# tests/e2e/respond_exim_e2e.sh).
if comm -13 "$work/exposed" "$work/documented" |
  grep -v -e '^mailrelay_queue_' -e '^mailrelay_config_' -e '^mailrelay_collector_' \
    -e '^mailrelay_rules_' -e '^mailrelay_respond_' |
  grep .; then
  echo "^ documented in $doc but not exposed" >&2
  status=1
fi
echo "exposed $(wc -l <"$work/exposed") families; documented $(wc -l <"$work/documented")"
exit $status
