#!/usr/bin/env bash
# --web.config.file on loopback, with certificates made here by openssl:
#   - HTTPS + basic auth: no credentials, a wrong password and an unknown user get 401 with
#     `WWW-Authenticate: Basic` on every endpoint; the right password gets 200 and the metrics;
#     curl verifies the server certificate against the test CA (--cacert); plain HTTP to the TLS
#     port gets no HTTP answer.
#   - bad web configs (unknown key, missing certificate, key of another certificate, a password
#     that is not a bcrypt hash) stop the exporter at startup with a clear message, exit 2/1.
#   - SIGHUP: a new web config requiring client certificates (RequireAndVerifyClientCert) applies
#     to the next connection: no certificate and a self-signed one are refused, one signed by the
#     client CA is accepted; an invalid config is refused, logged and counted and the previous
#     one stays; the relayhosts file is re-read even when its size and mtime did not change.
#   - a fresh start in RequireAndVerifyClientCert mode refuses a client without a certificate.
#   - SIGTERM: exit 0, the state file holds the end of the log, the port is closed.
#   - /-/ready names a log the exporter cannot read (Permission denied), which is also logged
#     and counted, and turns Ready once the log is readable.
#   web_config_tls.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  if [[ -f $work/exporter.log ]]; then tail -n 20 "$work/exporter.log" >&2; fi
  exit 1
}
ok() { echo "  ok   $*"; }
# shellcheck source=tests/lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/ports.sh"
# shellcheck source=tests/http/test_certs.sh
source "$(dirname "${BASH_SOURCE[0]}")/test_certs.sh"
free_port() { mr_free_port; }
cd "$work"

# --- certificates: a CA signing the server and a client certificate; self-signed "rogue" and
# "other" ones.
make_test_certs rogue other

# htpasswd -nbBC 4 bob hunter2 (apache2-utils); literal, not expanded
# shellcheck disable=SC2016
hash='$2y$04$.ZTL/85LYcEBRq4e5ivFq.eaVqgEEmXaywJJMlqCBCOVBTA/4eij6'
cat >web.yml <<YAML
tls_server_config:
  cert_file: server.crt
  key_file: $work/server.key
basic_auth_users:
  bob: '$hash'
YAML

printf '192.0.2.10\n' >relayhosts
: >mainlog
port=$(free_port)
base=https://127.0.0.1:$port
# started PID LOG: waits until the process answers on $port; false when it exited because the
# port was taken meanwhile (other tests run on this machine too), so the caller picks another.
started() {
  local i
  for ((i = 0; i < 100; i++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1" 2>/dev/null || true
      grep -q 'cannot listen on' "$2" && return 1
      fail "exporter exited at startup"
    fi
    # Answering and still alive: it is ours (a foreign server would have made ours exit).
    if curl -s -o /dev/null --max-time 1 -k --cert client.crt --key client.key \
      "https://127.0.0.1:$port/" 2>/dev/null ||
      curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null; then
      sleep 0.2
      kill -0 "$1" 2>/dev/null && return 0
    fi
    sleep 0.1
  done
  fail "exporter did not come up on port $port"
}
start() {
  local attempt
  for ((attempt = 0; attempt < 5; attempt++)); do
    "$bin" --web.listen-address="127.0.0.1:$port" --web.config.file="$1" \
      --exim.mainlog="$work/mainlog" --exim.rejectlog=none --exim.queue-source=none \
      --relay.relayhosts="$work/relayhosts" --relay.include-interface-addresses=false \
      --tail.from-beginning --tail.poll-interval=50ms --state.file="$work/state" \
      --state.interval=100ms >start.log 2>&1 &
    pid=$!
    if started "$pid" start.log; then
      mv -f start.log exporter.log  # the process keeps writing to it under the new name
      return 0
    fi
    port=$(free_port)
    base=https://127.0.0.1:$port
  done
  fail "no free port after 5 attempts"
}
# code PATH [curl args...]: the HTTP status, or 000 when there was no HTTP answer.
code() {
  local path=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert ca.crt "$@" "$base$path" || true
}
metric() {
  curl -fsS --max-time 5 --cacert ca.crt --cert client.crt --key client.key -u bob:hunter2 \
    "$base/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

echo "== HTTPS + basic auth"
start "$work/web.yml"
for path in /metrics / /-/healthy /-/ready; do
  [[ $(code "$path") == 401 ]] || fail "$path without credentials: want 401"
  [[ $(code "$path" -u bob:hunter3) == 401 ]] || fail "$path with a wrong password: want 401"
  [[ $(code "$path" -u mallory:hunter2) == 401 ]] || fail "$path with an unknown user: want 401"
  [[ $(code "$path" -u bob:hunter2) == 200 ]] || fail "$path with the right password: want 200"
done
ok "401 without credentials, wrong password, unknown user; 200 with the right one (4 endpoints)"
curl -s -D headers -o /dev/null --cacert ca.crt "$base/metrics" || true
grep -qi '^WWW-Authenticate: Basic' headers || fail "401 without WWW-Authenticate: Basic"
ok "401 carries WWW-Authenticate: Basic"
curl -fsS --cacert ca.crt -u bob:hunter2 "$base/metrics" >metrics.txt ||
  fail "HTTPS scrape with the CA certificate (curl --cacert) failed"
grep -q '^mailrelay_build_info{' metrics.txt || fail "no exposition over HTTPS"
curl -fsS --cacert ca.crt -u bob:hunter2 --resolve "localhost:$port:127.0.0.1" \
  "https://localhost:$port/-/healthy" >/dev/null || fail "HTTPS by name (localhost) failed"
ok "TLS handshake verified against the test CA (curl --cacert), by IP and by name"
if curl -fsS -o /dev/null --max-time 5 --cacert other.crt -u bob:hunter2 "$base/metrics" 2>/dev/null; then
  fail "a client trusting another CA accepted the server"
fi
plain=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u bob:hunter2 \
  "http://127.0.0.1:$port/metrics" || true)
[[ $plain == 000 ]] || fail "plain HTTP to the TLS port answered $plain"
ok "plain HTTP to the TLS port fails (no HTTP answer)"

echo "== SIGHUP"
# The same size and mtime: only an explicit re-read notices the change.
touch -r relayhosts stamp
printf '192.0.2.11\n' >relayhosts
touch -r stamp relayhosts
cat >web.yml <<YAML
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
basic_auth_users:
  bob: '$hash'
YAML
kill -HUP "$pid"
for ((i = 0; i < 50; i++)); do
  grep -q 'msg="web config reloaded"' exporter.log && break
  sleep 0.1
done
grep -q 'msg="web config reloaded"' exporter.log || fail "no reload logged after SIGHUP"
[[ $(code /metrics -u bob:hunter2) == 000 ]] || fail "a client without a certificate was accepted"
[[ $(code /metrics -u bob:hunter2 --cert rogue.crt --key rogue.key) == 000 ]] ||
  fail "a self-signed client certificate was accepted"
[[ $(code /metrics --cert client.crt --key client.key) == 401 ]] ||
  fail "a client certificate without the password was accepted"
[[ $(code /metrics -u bob:hunter2 --cert client.crt --key client.key) == 200 ]] ||
  fail "the CA-signed client certificate with the password was refused"
ok "after SIGHUP: client certificates required (none and self-signed refused, CA-signed accepted)"
[[ $(metric mailrelay_config_reloads_total) == 1 ]] || fail "mailrelay_config_reloads_total != 1"
[[ $(metric mailrelay_config_last_reload_successful) == 1 ]] || fail "last reload not successful"
printf '%s\n' \
  '2026-11-22 11:48:49 1xV63t-0004DN-0a <= a@example.org H=(c.example.net) [192.0.2.11]:51135 P=esmtp S=443 for v@example.com' \
  >>mainlog
for ((i = 0; i < 50; i++)); do
  [[ $(metric 'mailrelay_messages_received_total{class="poprelay"}') == 1 ]] && break
  sleep 0.1
done
[[ $(metric 'mailrelay_messages_received_total{class="poprelay"}') == 1 ]] ||
  fail "relayhosts not re-read on SIGHUP (192.0.2.11 is not poprelay)"
ok "relayhosts re-read on SIGHUP (same size and mtime)"

cp web.yml web.good
printf 'basic_auth_users:\n  bob: hunter2\n' >web.yml
kill -HUP "$pid"
for ((i = 0; i < 50; i++)); do
  grep -q 'reload failed, keeping the previous web config' exporter.log && break
  sleep 0.1
done
grep -q 'level=error msg="reload failed, keeping the previous web config".*not a bcrypt hash' \
  exporter.log || fail "an invalid web config on SIGHUP was not logged as an error"
[[ $(code /metrics -u bob:hunter2 --cert client.crt --key client.key) == 200 ]] ||
  fail "the previous web config was not kept"
[[ $(code /metrics -u bob:hunter2) == 000 ]] || fail "client certificates no longer required"
[[ $(metric mailrelay_config_reload_errors_total) == 1 ]] || fail "reload error not counted"
[[ $(metric mailrelay_config_last_reload_successful) == 0 ]] || fail "last reload marked successful"
ok "invalid web config on SIGHUP: logged, counted, the previous config stays"

echo "== SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[[ $status == 0 ]] || fail "exit status $status after SIGTERM"
grep -q 'msg="shutting down"' exporter.log || fail "no shutdown logged"
size=$(stat -c %s mainlog)
grep -q "^log .* $size [0-9a-f]* .* $work/mainlog\$" state || fail "state file does not hold offset $size: $(cat state)"
if curl -s -o /dev/null --max-time 2 --cacert ca.crt "$base/-/healthy"; then
  fail "port still answers after SIGTERM"
fi
ok "SIGTERM: exit 0, state saved at the end of the log ($size bytes), port closed"

echo "== fresh start requiring client certificates"
cp web.good web.yml
start "$work/web.yml" with-client-cert
[[ $(code /-/healthy -u bob:hunter2) == 000 ]] || fail "a client without a certificate was accepted"
[[ $(code /-/healthy -u bob:hunter2 --cert client.crt --key client.key) == 200 ]] ||
  fail "the CA-signed client certificate was refused"
kill -TERM "$pid"
wait "$pid" || true
pid=
ok "RequireAndVerifyClientCert at startup: no certificate refused, CA-signed accepted"

echo "== /-/ready names an unreadable log (exporter run as nobody; root reads any file)"
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  chmod 755 "$work"
  : >denied.log
  chmod 600 denied.log
  for ((attempt = 0; attempt < 5; attempt++)); do
    port=$(free_port)
    setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" --web.listen-address="127.0.0.1:$port" \
      --exim.mainlog="$work/denied.log" --exim.rejectlog=none --exim.queue-source=none \
      --tail.poll-interval=50ms >ready.log 2>&1 &
    pid=$!
    started "$pid" ready.log && break
  done
  rport=$port
  # Until the first poll has tried the log (then /-/ready names it), 10 s at most.
  for ((i = 0; i < 100; i++)); do
    curl -s -o ready.txt --max-time 2 "http://127.0.0.1:$rport/-/ready" || true
    grep -q "Permission denied" ready.txt && break
    sleep 0.1
  done
  grep -q "Not ready: exim_mainlog: $work/denied.log: Permission denied" ready.txt ||
    fail "/-/ready does not name the unreadable log: $(cat ready.txt)"
  grep -q 'level=warn msg="cannot open log file".*err="Permission denied"' ready.log ||
    fail "the open error is not logged"
  curl -fsS "http://127.0.0.1:$rport/metrics" >ready.prom
  grep -q '^mailrelay_log_open_errors_total{log="exim_mainlog"} 1$' ready.prom ||
    fail "the open error is not counted"
  grep -q '^mailrelay_log_file_open{log="exim_mainlog"} 0$' ready.prom || fail "file_open != 0"
  chmod 644 denied.log
  for ((i = 0; i < 50; i++)); do
    [[ $(curl -s "http://127.0.0.1:$rport/-/ready") == Ready ]] && break
    sleep 0.1
  done
  [[ $(curl -s "http://127.0.0.1:$rport/-/ready") == Ready ]] || fail "not ready once readable"
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  chmod 700 "$work"
  ok "/-/ready 503 'Permission denied' naming the log, logged and counted; Ready once readable"
else
  fail "needs root and setpriv (the exporter must run as a user that cannot read the log)"
fi

echo "== bad web configs fail at startup"
expect_startup_failure() {
  local want=$1 rc=0
  timeout 10 "$bin" --web.listen-address="127.0.0.1:$port" --web.config.file="$work/bad.yml" \
    --exim.mainlog="$work/mainlog" --exim.queue-source=none >bad.out 2>&1 || rc=$?
  [[ $rc != 0 && $rc != 124 ]] || fail "bad config ($want) did not fail at startup (rc=$rc)"
  grep -qF -- "$want" bad.out || fail "bad config: want '$want' in: $(cat bad.out)"
  ok "exit $rc: $(head -c 150 bad.out)"
}
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  bogus: 1\n' >bad.yml
expect_startup_failure "unknown key tls_server_config.bogus"
printf 'tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n' >bad.yml
expect_startup_failure "cert_file $work/nope.crt: No such file or directory"
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n' >bad.yml
expect_startup_failure "does not match the certificate"
printf 'tls_server_config:\n  cert_file: ca.key\n  key_file: server.key\n' >bad.yml
expect_startup_failure "no PEM certificate"
printf 'basic_auth_users:\n  bob: hunter2\n' >bad.yml
expect_startup_failure "basic_auth_users.bob: not a bcrypt hash"
rm -f bad.yml
expect_startup_failure "bad.yml: No such file or directory"
echo "PASS"
