#!/usr/bin/env bash
# End-to-end: a private real Exim on 127.0.0.1 (tests/e2e/lib/exim_env.sh), real SMTP traffic
# from swaks and local `exim -odi` submissions, and the exporter following the live mainlog and
# reading the spool. Every class/user/IP count on /metrics must equal what the workload sent;
# deliveries to the closed remote port must be retry waits while the host is in its retry
# period and real deferrals when forced (exim -M); the queue gauges must equal what Exim lists;
# then the mainlog is rotated under the running Exim and one more message must be counted from
# the new file. Every expected series must exist (a missing one fails).
#   exim_e2e.sh BINARY [PROFILE...]     (profiles: cpanel debian; default both)
set -euo pipefail
bin=$(realpath "$1")
shift
profiles=("$@")
[[ ${#profiles[@]} -gt 0 ]] || profiles=(cpanel debian)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/exim_env.sh
source "$here/lib/exim_env.sh"
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"

failures=0
cleanup_dirs=()
cleanup_pids=()
cleanup() {
  local p d
  for p in "${cleanup_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${cleanup_dirs[@]}"; do exim_env_stop "$d" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "  ok   $1 = $3"
  else
    echo "  FAIL $1: expected $2, got $3" >&2
    failures=$((failures + 1))
  fi
}
check_gt() {  # check_gt DESCRIPTION VALUE BOUND: VALUE > BOUND
  if [[ $2 =~ ^[0-9]+$ ]] && (($2 > $3)); then
    echo "  ok   $1 = $2 (> $3)"
  else
    echo "  FAIL $1: $2, want more than $3" >&2
    failures=$((failures + 1))
  fi
}
check_between() {  # check_between DESCRIPTION VALUE LO HI
  if [[ $2 =~ ^[0-9]+$ ]] && (($3 <= $2 && $2 <= $4)); then
    echo "  ok   $1 = $2 (in $3..$4)"
  else
    echo "  FAIL $1: $2, want $3..$4" >&2
    failures=$((failures + 1))
  fi
}

run_profile() {
  local profile=$1
  local dir port eport exporter_pid=""
  dir=$(mktemp -d)
  port=$(exim_env_free_port)
  eport=$(exim_env_free_port)
  cleanup_dirs+=("$dir")
  echo "== profile $profile: exim on 127.0.0.1:$port, exporter on 127.0.0.1:$eport"
  # The daemon also listens on [::1]: IPv6 clients, end to end (below).
  EXIM_ENV_IPV6=1 EXIM_ENV_QUEUE_INTERVAL=1h exim_env_start "$dir" "$port" "$profile" >/dev/null
  local mainlog rejectlog
  mainlog=$(exim_env_mainlog "$dir")
  rejectlog=$(exim_env_rejectlog "$dir")
  # Put the remote host (the closed sink port) in its retry period: one message to a remote
  # recipient, whose delivery fails with "defer (111): Connection refused". For the next 15
  # minutes (retry rule F,2h,15m) every remote delivery of the workload is then a "retry time
  # not reached" (-54) line, deterministically; real deferrals are forced below with exim -M.
  local prime_sent
  prime_sent=$(date +%s)
  swaks --silent 2 --server "127.0.0.1:$port" --local-interface 127.0.0.1 --helo localhost \
    --from prime@mx.example.test --to prime@example.com >/dev/null
  primed() { grep -q ' == prime@example.com .* defer (111)' "$mainlog"; }
  wait_for primed
  local primed_at
  primed_at=$(date +%s)
  # The daemon's queue run at start logs asynchronously; the exporter starts at the end of the
  # log, and the line count below must be taken at that same point: wait until Exim is idle
  # and the log has not grown for a second.
  exim_env_wait_idle "$dir"
  log_settled() {
    local before
    before=$(stat -c %s "$mainlog")
    sleep 1
    [[ $(stat -c %s "$mainlog") == "$before" ]]
  }
  wait_for log_settled

  # 127.0.0.2 plays a remote client, so only 127.0.0.1 is local here.
  "$bin" --web.listen-address="127.0.0.1:$eport" --exim.mainlog="$mainlog" \
    --exim.rejectlog="$rejectlog" --exim.spool-dir="$dir/spool" \
    --relay.local-networks=127.0.0.1/32 --no-relay.include-interface-addresses \
    --tail.poll-interval=100ms >"$dir/exporter.log" 2>&1 &
  exporter_pid=$!
  cleanup_pids+=("$exporter_pid")
  local url="http://127.0.0.1:$eport"
  # Healthy is not ready: traffic starts once every log is open at its end.
  wait_until_ready "$url"
  local start_lines
  start_lines=$(wc -l <"$mainlog")

  exim_env_send_traffic "$dir" "$port" >"$dir/expected.txt"
  local -A want=()
  local key value
  while read -r key value; do
    [[ -z "$key" || "$key" == \#* ]] && continue
    want[$key]=$value
  done <"$dir/expected.txt"
  s() {  # s ITEM messages|recipients: what the workload sent (a missing key is a test bug)
    if [[ -z ${want[sent/$1/$2]+x} ]]; then
      echo "no sent/$1/$2 in the workload output" >&2
      echo "missing:sent/$1/$2"  # fails any comparison, and arithmetic on it stops the test
      return 1
    fi
    echo "${want[sent/$1/$2]}"
  }

  # Wait until the exporter has read every line written so far.
  lines_read() {
    metrics_fetch "$url/metrics" "$dir/metrics.prom" || return 1
    local total read_lines
    total=$(($(wc -l <"$mainlog") - start_lines))
    read_lines=$(metric_value "$dir/metrics.prom" 'mailrelay_log_lines_total{log="exim_mainlog"}')
    [[ "$read_lines" == "$total" ]]
  }
  WAIT_TIMEOUT=30 wait_for lines_read
  # A new per-user/per-IP series shows 0 in the first scrape that has it (docs/metrics.md, First
  # count of a new series); the scrape after that has every count.
  metrics_fetch "$url/metrics" "$dir/metrics.prom"
  local m="$dir/metrics.prom"
  v() { metric_value "$m" "$1"; }
  # Debian's default log_selector lists no recipients: one per message.
  r() { if [[ $profile == debian ]]; then echo "$1"; else echo "$2"; fi; }

  local a_msgs=$(($(s authrelay_alice_login messages) + $(s authrelay_alice_spoofed messages) + \
    $(s authrelay_bob_plain messages) + $(s authrelay_carol_plain messages)))
  local a_rcpts=$(($(s authrelay_alice_login recipients) + $(s authrelay_alice_spoofed recipients) + \
    $(s authrelay_bob_plain recipients) + $(s authrelay_carol_plain recipients)))
  local lh_msgs=$(($(s authrelay_dave_localhost messages) + $(s localhostrelay_app_one messages) + \
    $(s localhostrelay_app_two messages)))
  local lh_rcpts=$(($(s authrelay_dave_localhost recipients) + \
    $(s localhostrelay_app_one recipients) + $(s localhostrelay_app_two recipients)))
  local r_msgs=$(($(s relay_inbound_alice messages) + $(s relay_inbound_tricky messages)))
  local r_rcpts=$(($(s relay_inbound_alice recipients) + $(s relay_inbound_tricky recipients)))
  local www_msgs=$(($(s localrelay_www-data_contact messages) + $(s localrelay_www-data_unknown messages)))
  local www_rcpts=$(($(s localrelay_www-data_contact recipients) + \
    $(s localrelay_www-data_unknown recipients)))
  local l_msgs=$((www_msgs + $(s localrelay_nobody messages) + $(s localrelay_root messages)))
  local l_rcpts=$((www_rcpts + $(s localrelay_nobody recipients) + $(s localrelay_root recipients)))

  check "authrelay messages" "$a_msgs" "$(v 'mailrelay_messages_received_total{class="authrelay"}')"
  check "authrelay recipients" "$(r "$a_msgs" "$a_rcpts")" "$(v 'mailrelay_recipients_received_total{class="authrelay"}')"
  check "localhostrelay messages" "$lh_msgs" "$(v 'mailrelay_messages_received_total{class="localhostrelay"}')"
  check "localhostrelay recipients" "$(r "$lh_msgs" "$lh_rcpts")" "$(v 'mailrelay_recipients_received_total{class="localhostrelay"}')"
  check "relay messages" "$r_msgs" "$(v 'mailrelay_messages_received_total{class="relay"}')"
  check "relay recipients" "$(r "$r_msgs" "$r_rcpts")" "$(v 'mailrelay_recipients_received_total{class="relay"}')"
  check "localrelay messages" "$l_msgs" "$(v 'mailrelay_messages_received_total{class="localrelay"}')"
  check "localrelay recipients" "$(r "$l_msgs" "$l_rcpts")" "$(v 'mailrelay_recipients_received_total{class="localrelay"}')"
  check "poprelay messages" 0 "$(v 'mailrelay_messages_received_total{class="poprelay"}')"
  check "bounces ignored" "${want[arrivals/null_sender]}" "$(v 'mailrelay_messages_ignored_total{reason="bounce"}')"
  check "bounces generated" "${want[arrivals/local_bounces]}" "$(v 'mailrelay_bounces_generated_total')"

  local user
  for user in alice@mx.example.test bob@mx.example.test carol dave@mx.example.test; do
    check "auth user $user messages" "${want[auth_user/$user/messages]}" \
      "$(v "mailrelay_auth_user_messages_total{user=\"$user\"}")"
    check "auth user $user recipients" \
      "$(r "${want[auth_user/$user/messages]}" "${want[auth_user/$user/recipients]}")" \
      "$(v "mailrelay_auth_user_recipients_total{user=\"$user\"}")"
  done
  check "source ip authrelay 127.0.0.2" "$a_msgs" "$(v 'mailrelay_source_ip_messages_total{class="authrelay",ip="127.0.0.2"}')"
  check "source ip relay 127.0.0.2" "$r_msgs" "$(v 'mailrelay_source_ip_messages_total{class="relay",ip="127.0.0.2"}')"
  check "source ip localhostrelay 127.0.0.1" "$lh_msgs" "$(v 'mailrelay_source_ip_messages_total{class="localhostrelay",ip="127.0.0.1"}')"
  check "source ip authrelay recipients" "$(r "$a_msgs" "$a_rcpts")" "$(v 'mailrelay_source_ip_recipients_total{class="authrelay",ip="127.0.0.2"}')"
  check "local user www-data" "$www_msgs" "$(v 'mailrelay_local_user_messages_total{user="www-data"}')"
  check "local user www-data recipients" "$(r "$www_msgs" "$www_rcpts")" "$(v 'mailrelay_local_user_recipients_total{user="www-data"}')"
  check "local user nobody" "$(s localrelay_nobody messages)" "$(v 'mailrelay_local_user_messages_total{user="nobody"}')"
  check "local user root" "$(s localrelay_root messages)" "$(v 'mailrelay_local_user_messages_total{user="root"}')"

  check "spoofed authrelay" "$(s authrelay_alice_spoofed messages)" "$(v 'mailrelay_spoofed_messages_total{class="authrelay"}')"
  check "spoofed by alice" "$(s authrelay_alice_spoofed messages)" "$(v 'mailrelay_spoofed_user_messages_total{user="alice@mx.example.test"}')"
  check "spoofed localrelay (root as ghost-sender@)" "$(s localrelay_root messages)" "$(v 'mailrelay_spoofed_messages_total{class="localrelay"}')"

  check "auth failures from 127.0.0.2" "${want[auth_failed/total]}" "$(v 'mailrelay_auth_failure_ip_total{ip="127.0.0.2"}')"
  check "auth failures dovecot_plain" "${want[auth_failed/mech/dovecot_plain]}" "$(v 'mailrelay_auth_failures_total{authenticator="dovecot_plain"}')"
  check "auth failures dovecot_login" "${want[auth_failed/mech/dovecot_login]}" "$(v 'mailrelay_auth_failures_total{authenticator="dovecot_login"}')"
  check "auth failures set_id alice" "${want[auth_failed/set_id/alice@mx.example.test]}" "$(v 'mailrelay_auth_failure_user_total{user="alice@mx.example.test"}')"
  check "auth failures set_id mallory" "${want[auth_failed/set_id/mallory]}" "$(v 'mailrelay_auth_failure_user_total{user="mallory"}')"
  check "rejects relay_denied" "${want[rejected_rcpt/relay_not_permitted]}" "$(v 'mailrelay_rejects_total{reason="relay_denied"}')"
  check "rejects unrouteable" "${want[rejected_rcpt/unrouteable_address]}" "$(v 'mailrelay_rejects_total{reason="unrouteable"}')"
  check "rejects relay_denied from 127.0.0.2" "${want[rejected_rcpt/relay_not_permitted]}" "$(v 'mailrelay_reject_ip_total{ip="127.0.0.2",reason="relay_denied"}')"
  check "deliveries delivered" "${want[deliveries/local]}" "$(v 'mailrelay_deliveries_total{result="delivered"}')"
  check "deliveries failed" "${want[deliveries/failed]}" "$(v 'mailrelay_deliveries_total{result="failed"}')"
  check "completed" "${want[completed]}" "$(v 'mailrelay_messages_completed_total')"
  check "frozen" "${want[frozen]}" "$(v 'mailrelay_messages_frozen_total')"
  check "unparsed mainlog lines" 0 "$(v 'mailrelay_log_unparsed_lines_total{log="exim_mainlog"}')"
  check "label overflow" 0 "$(metric_sum "$m" mailrelay_label_overflow_total)"
  check "rejectlog read" 1 "$(v 'mailrelay_log_file_open{log="exim_rejectlog"}')"

  # Remote deliveries: every remote recipient got one "==" while the host was in its retry
  # period: retry waits, not deferrals.
  local remote=${want[deliveries/remote_recipients]}
  check "remote recipients in the workload" 18 "$remote"
  check "retry waits (remote recipients, host in its retry period)" "$remote" \
    "$(v 'mailrelay_deliveries_retry_wait_total')"
  check "deferrals before the forced run" 0 "$(v 'mailrelay_deliveries_total{result="deferred"}')"

  # Bytes per class: the S= sizes of the arrival lines of the messages this test sent, told
  # apart by what it sent them with (client address, AUTH, local user); the exporter must file
  # each under the same class. Every class of the workload has bytes.
  local -A bytes=()
  local cls b
  while read -r cls b; do bytes[$cls]=$b; done < <(tail -n +"$((start_lines + 1))" "$mainlog" | awk '
    / <= / {
      gsub(/"[^"]*"/, "\"\"")  # quoted values (T="...") hold field look-alikes
      s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^S=[0-9]+$/) s = substr($i, 3)
      if ($0 ~ / <= <> /) next
      if ($0 ~ / U=[^ ]+ P=local /) c = "localrelay"
      else if ($0 ~ / H=[^=]*\[127\.0\.0\.1\]/) c = "localhostrelay"
      else if ($0 ~ / A=dovecot_(login|plain):/) c = "authrelay"
      else c = "relay"
      sum[c] += s
    }
    END { for (c in sum) print c, sum[c] }')
  for cls in authrelay localhostrelay relay localrelay; do
    check_gt "$cls bytes in the log" "${bytes[$cls]:-0}" 0
    check "$cls received bytes" "${bytes[$cls]:-0}" \
      "$(v "mailrelay_received_bytes_total{class=\"$cls\"}")"
  done

  # The queue, from the spool: what exim -bpc counts. The oldest message is the priming one,
  # received between prime_sent and primed_at (a queue scan may be served from a 1 s cache).
  local bpc before after age
  bpc=$(exim_env_exim "$dir" -bpc)
  check_gt "messages queued (exim -bpc)" "$bpc" 0
  check "queue messages = exim -bpc" "$bpc" "$(v 'mailrelay_queue_messages{queue="input"}')"
  check "frozen messages" "${want[frozen]}" "$(v 'mailrelay_queue_frozen_messages')"
  before=$(date +%s)
  metrics_fetch "$url/metrics" "$m"
  after=$(date +%s)
  age=$(v 'mailrelay_queue_oldest_message_age_seconds{queue="input"}')
  age=${age%.*}
  check_between "oldest message age (the priming message)" "$age" \
    "$((before - primed_at - 2))" "$((after - prime_sent + 1))"

  local problems
  problems=$(promtool check metrics <"$m" 2>&1) || problems="promtool exit status $?: $problems"
  check "promtool check metrics problems" "" "$problems"
  check "landing page links the metrics" yes \
    "$(curl -fsS "$url/" | grep -q 'href="/metrics"' && echo yes || echo no)"
  check "/-/ready" Ready "$(curl -fsS "$url/-/ready")"

  # A real delivery attempt ignoring the retry time: each remote recipient of the forced
  # message is a deferral ("defer (111)"), not a retry wait.
  local forced
  forced=$(exim_env_exim "$dir" -bp | awk '/^ *[0-9]+[mhd] / && / <alice@mx\.example\.test>/ { id = $3 }
    END { print id }')
  check_gt "a queued message of alice to force (exim -bp)" "${#forced}" 0
  exim_env_exim "$dir" -M "$forced" >>"$dir/log/force.out" 2>&1 || true
  forced_seen() {
    metrics_fetch "$url/metrics" "$m" &&
      [[ $(v 'mailrelay_deliveries_total{result="deferred"}') == 2 ]]
  }
  WAIT_TIMEOUT=20 wait_for forced_seen || true
  check "deferrals after exim -M of alice's 2-recipient message" 2 \
    "$(v 'mailrelay_deliveries_total{result="deferred"}')"
  check "retry waits unchanged" "$remote" "$(v 'mailrelay_deliveries_retry_wait_total')"

  # IPv6 clients end to end: SMTP over [::1] (not local for this exporter: only 127.0.0.1 is),
  # an authenticated message, a relay attempt and a failed login; the address is the label.
  swaks6() { swaks --silent 2 -6 --server ::1 --port "$port" --local-interface ::1 --helo v6.example.net "$@"; }
  swaks6 --auth PLAIN --auth-user alice@mx.example.test --auth-password secret \
    --from alice@mx.example.test --to bob@mx.example.test >/dev/null
  swaks6 --from spammer@example.net --to victim@example.com >/dev/null 2>&1 &&
    check "relay from ::1 refused" refused accepted
  swaks6 --auth PLAIN --auth-user alice@mx.example.test --auth-password wrong \
    --from alice@mx.example.test --to bob@mx.example.test >/dev/null 2>&1 &&
    check "wrong password from ::1 refused" refused accepted
  ipv6_seen() {
    metrics_fetch "$url/metrics" "$m" &&
      [[ $(metric_value_or_zero "$m" 'mailrelay_auth_failure_ip_total{ip="::1"}') == 1 ]]
  }
  WAIT_TIMEOUT=20 wait_for ipv6_seen || true
  check "authrelay from ::1" 1 "$(v 'mailrelay_source_ip_messages_total{class="authrelay",ip="::1"}')"
  check "relay denied to ::1" 1 "$(v 'mailrelay_reject_ip_total{ip="::1",reason="relay_denied"}')"
  check "auth failure from ::1" 1 "$(v 'mailrelay_auth_failure_ip_total{ip="::1"}')"

  # Rotation under the live Exim: rename the mainlog; the next Exim process starts a new file.
  mv "$mainlog" "$mainlog.1"
  swaks --silent 2 --server "127.0.0.1:$port" --local-interface 127.0.0.2 --helo client.example.net \
    --auth LOGIN --auth-user bob@mx.example.test --auth-password secret \
    --from bob@mx.example.test --to after-rotation@example.com >/dev/null
  rotated() {
    metrics_fetch "$url/metrics" "$m" || return 1
    [[ "$(v 'mailrelay_auth_user_messages_total{user="bob@mx.example.test"}')" == \
       "$((${want[auth_user/bob@mx.example.test/messages]} + 1))" ]]
  }
  if WAIT_TIMEOUT=20 wait_for rotated; then
    echo "  ok   message after rename rotation counted"
  else
    echo "  FAIL message after rotation not counted" >&2
    failures=$((failures + 1))
  fi
  check "rotations seen" 1 "$(v 'mailrelay_log_rotations_total{log="exim_mainlog"}')"

  kill "$exporter_pid"
  wait "$exporter_pid" || true
  exporter_pid=""
  if ((failures > 0)); then
    echo "exporter log:" >&2
    tail -20 "$dir/exporter.log" >&2
  fi
  exim_env_stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}

for p in "${profiles[@]}"; do
  run_profile "$p"
done
if ((failures > 0)); then
  echo "$failures e2e checks failed" >&2
  exit 1
fi
echo "e2e: all checks passed for profiles: ${profiles[*]}"
