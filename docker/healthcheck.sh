#!/usr/bin/env bash
# HEALTHCHECK of the image: GET /-/healthy over bash's /dev/tcp (no curl in the image).
# Exit 0 on HTTP 200, 1 otherwise. Port: $MAILRELAY_HEALTHCHECK_PORT (9225); host: $MAILRELAY_HEALTHCHECK_HOST.
set -euo pipefail
host=${MAILRELAY_HEALTHCHECK_HOST:-127.0.0.1}
port=${MAILRELAY_HEALTHCHECK_PORT:-9225}
exec 3<>"/dev/tcp/$host/$port"
printf 'GET /-/healthy HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
IFS= read -r -t 5 status <&3
exec 3<&-
[[ $status =~ ^HTTP/1\.[01]\ 200 ]]
