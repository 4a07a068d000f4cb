#!/usr/bin/env bash
# The demo: installs the Debian packages, builds the exporter, starts a private real Exim on
# 127.0.0.1 (tests/e2e/lib/exim_env.sh: nothing in /etc changes, no system service is used),
# feeds it real SMTP traffic with swaks (SMTP AUTH, failed logins, relay attempts,
# unauthenticated localhost mail) and local `exim -odi` submissions (the sendmail path), and
# runs mailrelay_exporter on its mainlog and spool. Runs until Ctrl-C, then cleans up.
#   scripts/demo.sh [--port 9225]          (as root)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=9225
if [[ "${1:-}" == "--port" && -n "${2:-}" ]]; then port=$2; fi

"$root/scripts/install-deps.sh"
echo "== building"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/build" mailrelay_exporter >/dev/null
bin="$root/build/exporter/mailrelay_exporter"

# shellcheck source=tests/e2e/lib/exim_env.sh
source "$root/tests/e2e/lib/exim_env.sh"
dir=$(mktemp -d /tmp/mailrelay-demo.XXXXXX)
exporter_pid=""
traffic_pid=""
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "== stopping the demo"
  [[ -n "$traffic_pid" ]] && kill "$traffic_pid" 2>/dev/null
  [[ -n "$exporter_pid" ]] && kill "$exporter_pid" 2>/dev/null
  wait 2>/dev/null || true
  exim_env_stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
  echo "cleaned up $dir"
}
trap cleanup INT TERM EXIT

if ss -Hltn "sport = :$port" | grep -q .; then
  port=$(exim_env_free_port 29000 29999)
  echo "port 9225 is busy; using $port"
fi
smtp_port=$(exim_env_free_port)
echo "== starting a private Exim on 127.0.0.1:$smtp_port (files in $dir)"
exim_env_start "$dir" "$smtp_port" cpanel >/dev/null

# 127.0.0.2 plays the remote clients of the demo, so only 127.0.0.1 counts as local.
"$bin" --web.listen-address="127.0.0.1:$port" \
  --exim.mainlog="$(exim_env_mainlog "$dir")" --exim.rejectlog="$(exim_env_rejectlog "$dir")" \
  --exim.spool-dir="$dir/spool" --exim.binary="$dir/exim-wrapper" \
  --relay.local-networks=127.0.0.1/32 --no-relay.include-interface-addresses &
exporter_pid=$!
cat >"$dir/exim-wrapper" <<WRAP
#!/bin/sh
exec /usr/sbin/exim4 -C "$dir/exim.conf" "\$@"
WRAP
chmod +x "$dir/exim-wrapper"

(
  round=1
  while true; do
    exim_env_send_traffic "$dir" "$smtp_port" >"$dir/traffic-$round.txt" 2>&1 || true
    round=$((round + 1))
    sleep 10
  done
) &
traffic_pid=$!

cat <<MSG

mailrelay_exporter demo is running.
  metrics:      http://127.0.0.1:$port/metrics
  landing page: http://127.0.0.1:$port/
  Exim mainlog: $(exim_env_mainlog "$dir")
Every ~20 s a new round of traffic arrives: authenticated submissions (alice, bob, carol),
a spoofed sender, failed logins, relay attempts from 127.0.0.2, localhost and local mail.
Try:  curl -s http://127.0.0.1:$port/metrics | grep -E '^mailrelay_(messages_received|auth_user_messages|queue_messages)'
Press Ctrl-C to stop and clean up.
MSG
wait "$exporter_pid"
