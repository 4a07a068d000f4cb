#!/usr/bin/env bash
# --web.config.file TLS settings over real connections (curl and openssl s_client on loopback):
#   - min_version / max_version: with min TLS13 a TLS 1.2-only client is refused and a TLS 1.3
#     client gets TLS 1.3; with max TLS12 a TLS 1.3-only client is refused and the connection is
#     TLS 1.2; the default (TLS12, no max) negotiates TLS 1.3 and accepts a TLS 1.2-only client.
#   - every client_auth_type, each with no client certificate, a self-signed ("rogue") one and
#     one signed by client_ca_file:
#       NoClientCert                no certificate asked for (no CertificateRequest); all 200
#       RequestClientCert           asked for, neither required nor verified: all 200
#       RequireAnyClientCert        required, not verified: none refused, rogue and signed 200
#       VerifyClientCertIfGiven     verified when given: none 200, rogue refused, signed 200
#       RequireAndVerifyClientCert  required and verified: only the signed one gets 200
#   tls_modes.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/ports.sh
source "$here/../lib/ports.sh"
work=$(mktemp -d)
pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

failures=0
ok() { echo "  ok   $*"; }
bad() {
  echo "  FAIL $*" >&2
  failures=$((failures + 1))
}

# shellcheck source=tests/http/test_certs.sh
source "$here/test_certs.sh"
make_test_certs rogue
: >mainlog

port=$(mr_free_port)
# start YAML_TLS_LINES: the exporter with a web config of those tls_server_config lines.
start() {
  if [[ -n $pid ]]; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
  printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n%s' "$1" >web.yml
  "$bin" --web.listen-address="127.0.0.1:$port" --web.config.file=web.yml \
    --exim.mainlog=mainlog --exim.rejectlog=none --exim.queue-source=none \
    --relay.include-interface-addresses=false >>exporter.log 2>&1 &
  pid=$!
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -5 exporter.log >&2; echo "exporter exited" >&2; exit 1; }
    # Any TLS answer from our port (a refused client certificate included) means it is up.
    openssl s_client -connect "127.0.0.1:$port" -brief </dev/null >probe.out 2>&1 || true
    if grep -q 'Protocol version\|alert' probe.out; then return 0; fi
    sleep 0.05
  done
  echo "exporter not up on $port" >&2
  exit 1
}
# status [curl args]: HTTP status of /-/healthy over HTTPS, 000 when the TLS handshake or the
# request was refused.
status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert ca.crt "$@" \
    "https://127.0.0.1:$port/-/healthy" || true
}
# tls_version [curl args]: the protocol curl negotiated ("TLSv1.3"), empty when refused.
tls_version() {
  curl -sv -o /dev/null --max-time 5 --cacert ca.crt "$@" "https://127.0.0.1:$port/-/healthy" 2>&1 |
    sed -n 's/^\* SSL connection using \(TLSv1\.[0-9]\).*/\1/p' | head -1
}
expect() {  # expect DESCRIPTION WANT GOT
  if [[ $2 == "$3" ]]; then ok "$1: $3"; else bad "$1: want '$2', got '$3'"; fi
}

echo "== protocol versions"
start ""
expect "default: TLS 1.3 client" TLSv1.3 "$(tls_version)"
expect "default: TLS 1.2-only client" TLSv1.2 "$(tls_version --tls-max 1.2)"
expect "default: TLS 1.2-only client status" 200 "$(status --tls-max 1.2)"
start "  min_version: TLS13
"
expect "min TLS13: TLS 1.3 client" TLSv1.3 "$(tls_version --tlsv1.3)"
expect "min TLS13: TLS 1.2-only client refused" 000 "$(status --tls-max 1.2)"
start "  max_version: TLS12
"
expect "max TLS12: negotiated" TLSv1.2 "$(tls_version)"
expect "max TLS12: TLS 1.3-only client refused" 000 "$(status --tlsv1.3)"
start "  min_version: TLS12
  max_version: TLS12
"
expect "min = max TLS12: negotiated" TLSv1.2 "$(tls_version)"

echo "== client certificates"
# requested: whether the server asked for a client certificate (a CertificateRequest
# handshake message in openssl s_client -msg's trace).
requested() {
  openssl s_client -msg -connect "127.0.0.1:$port" -CAfile ca.crt </dev/null >s_client.out 2>&1 || true
  if grep -q 'CertificateRequest' s_client.out; then echo yes; else echo no; fi
}
none=()
rogue=(--cert rogue.crt --key rogue.key)
signed=(--cert client.crt --key client.key)
mode() {  # mode TYPE WANT_ASKED WANT_NONE WANT_ROGUE WANT_SIGNED
  local ca=""
  [[ $1 == NoClientCert ]] || ca="  client_ca_file: ca.crt
"
  start "  client_auth_type: $1
$ca"
  expect "$1: certificate asked for" "$2" "$(requested)"
  expect "$1: no certificate" "$3" "$(status "${none[@]}")"
  expect "$1: self-signed certificate" "$4" "$(status "${rogue[@]}")"
  expect "$1: certificate signed by client_ca_file" "$5" "$(status "${signed[@]}")"
}
mode NoClientCert no 200 200 200
mode RequestClientCert yes 200 200 200
mode RequireAnyClientCert yes 000 200 200
mode VerifyClientCertIfGiven yes 200 000 200
mode RequireAndVerifyClientCert yes 000 000 200

if ((failures > 0)); then
  tail -20 exporter.log >&2
  echo "tls_modes: $failures check(s) failed" >&2
  exit 1
fi
echo "tls_modes: all checks passed"
