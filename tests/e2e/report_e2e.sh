#!/usr/bin/env bash
# End-to-end for `mailrelay_exporter report`: a private real Exim on 127.0.0.1
# (tests/e2e/lib/exim_env.sh) gets the standard workload plus a burst of authenticated mail from
# bob to remote recipients (deferred: remote delivery goes to a closed port, so it stays queued).
# The report over that mainlog and spool must
#   - name bob as the top auth user and the top offender, with exactly the messages and
#     recipients sent, from one IP, and every other auth user's counts as sent;
#   - count the workload's failed logins, rejects and spoofed message;
#   - show bob's queued messages (all of them: every one has a remote recipient);
#   - print commands that work against this Exim: the exipick count prints bob's queued
#     messages, the exiqgrep selection by sender lists the same ids, and after running the
#     printed freeze command every one of bob's messages is frozen (exim -bp and a second
#     report agree) while nobody else's is.
# `exim`/`exiqgrep` in the printed commands run through wrappers adding -C DIR/exim.conf.
#   report_e2e.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/exim_env.sh
source "$here/lib/exim_env.sh"

BOB=bob@mx.example.test
BOB_BURST=6
BOB_RCPTS=r1@example.com,r2@example.net,r3@example.org
BOB_BURST_RCPTS=3

failures=0
dir=""
cleanup() {
  local rc=$?
  if [[ -n $dir ]]; then
    exim_env_stop "$dir" >/dev/null 2>&1 || true
    if ((rc == 0 && failures == 0)); then
      rm -rf "$dir"
    else
      echo "kept $dir for inspection" >&2
    fi
  fi
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

dir=$(mktemp -d)
port=$(exim_env_free_port)
echo "== exim on 127.0.0.1:$port, dir $dir"
EXIM_ENV_QUEUE_INTERVAL=1h exim_env_start "$dir" "$port" >/dev/null
exim_env_send_traffic "$dir" "$port" >"$dir/expected.txt"
exim_env_send_burst "$dir" "$port" "$BOB_BURST" 127.0.0.2 "$BOB" "$BOB_RCPTS" "$BOB"
exim_env_wait_idle "$dir"
declare -A want=()
while read -r key value; do
  [[ -z $key || $key == \#* ]] && continue
  want[$key]=$value
done <"$dir/expected.txt"

# The window: from an hour ago to a minute from now (--until is exclusive; log time decides).
until_arg=$(date -d '+1 min' '+%Y-%m-%d %H:%M:%S')
report() {
  "$bin" report --exim.mainlog="$(exim_env_mainlog "$dir")" --exim.spool-dir="$dir/spool" \
    --relay.local-networks=127.0.0.1/32 --no-relay.include-interface-addresses \
    --since=1h --until="$until_arg" "$@"
}
report --format=json >"$dir/report.json"
report >"$dir/report.txt"
j() { jq -r "$1" "$dir/report.json"; }

bob_msgs=$((${want[auth_user/$BOB/messages]} + BOB_BURST))
bob_rcpts=$((${want[auth_user/$BOB/recipients]} + BOB_BURST * BOB_BURST_RCPTS))
echo "== report: top auth user and offender"
check "top auth user" "$BOB" "$(j '.auth_users.top[0].user')"
check "top auth user messages" "$bob_msgs" "$(j '.auth_users.top[0].messages')"
check "top auth user recipients" "$bob_rcpts" "$(j '.auth_users.top[0].recipients')"
check "top auth user IPs" 1 "$(j '.auth_users.top[0].ips')"
check "auth users seen" 4 "$(j '.auth_users.total')"
for user in alice@mx.example.test carol dave@mx.example.test; do
  check "auth user $user messages" "${want[auth_user/$user/messages]}" \
    "$(j ".auth_users.top[] | select(.user == \"$user\") | .messages")"
  check "auth user $user recipients" "${want[auth_user/$user/recipients]}" \
    "$(j ".auth_users.top[] | select(.user == \"$user\") | .recipients")"
done
check "top offender" "$BOB" "$(j '.top_offender.identity')"
check "top offender kind" auth_user "$(j '.top_offender.kind')"
check "top offender messages" "$bob_msgs" "$(j '.top_offender.messages')"
check "top offender recipients" "$bob_rcpts" "$(j '.top_offender.recipients')"
check "top offender sender" "$BOB" "$(j '.top_offender.sender')"
check "top offender queued" "$bob_msgs" "$(j '.top_offender.queued')"
check "top offender queued frozen" 0 "$(j '.top_offender.queued_frozen')"
check "text names the offender" "Top offender: $BOB (auth user)" \
  "$(grep -A1 '^Top offender' "$dir/report.txt" | head -n 1)"
check "text gives its counts" \
  "  in the window: $bob_msgs messages, $bob_rcpts recipients from 1 IP, usually as $BOB; queued now: $bob_msgs messages (0 frozen)" \
  "$(grep -A1 '^Top offender' "$dir/report.txt" | tail -n 1)"

echo "== report: abuse and queue"
check "auth failures" "${want[auth_failed/total]}" "$(j '.auth_failures.total')"
check "auth failures from 127.0.0.2" "${want[auth_failed/total]}" \
  "$(j '.auth_failures.top[] | select(.ip == "127.0.0.2") | .failures')"
check "rejects relay_denied" "${want[rejected_rcpt/relay_not_permitted]}" "$(j '.rejects.by_reason.relay_denied.rejects')"
check "rejects unrouteable" "${want[rejected_rcpt/unrouteable_address]}" "$(j '.rejects.by_reason.unrouteable.rejects')"
check "spoofed by alice as ceo@bank.example" "${want[sent/authrelay_alice_spoofed/messages]}" \
  "$(j '.spoofing.top[] | select(.identity == "alice@mx.example.test" and .sender == "ceo@bank.example") | .messages')"
check "queue read" true "$(j '.queue.read')"
check "queue messages = exim -bpc" "$(exim_env_exim "$dir" -bpc)" "$(j '.queue.messages')"
check "queue top owner" "$BOB" "$(j '.queue.owners.top[0].owner')"
check "queue top owner messages" "$bob_msgs" "$(j '.queue.owners.top[0].messages')"

echo "== the printed commands, run against this Exim"
mkdir -p "$dir/bin"
printf '#!/bin/sh\nexec %s -C %s "$@"\n' "$EXIM_ENV_BIN" "$dir/exim.conf" >"$dir/bin/exim"
printf '#!/bin/sh\nexec /usr/sbin/exiqgrep -E %s -C %s "$@"\n' "$dir/bin/exim" "$dir/exim.conf" \
  >"$dir/bin/exiqgrep"
chmod 0755 "$dir/bin/exim" "$dir/bin/exiqgrep"
cmd() { jq -r ".top_offender.commands[] | select(.what | startswith(\"$1\")) | .command" "$dir/report.json"; }
run() { PATH="$dir/bin:$PATH" bash -c "$1"; }
count_cmd=$(cmd "count the queued messages")
freeze_cmd=$(cmd "freeze them")
sender_cmd=$(cmd "or freeze by envelope sender")
echo "  count:  $count_cmd"
echo "  freeze: $freeze_cmd"
echo "  sender: $sender_cmd"
[[ $count_cmd == *"--spool '$dir/spool'"* ]] || { echo "  FAIL exipick has no --spool" >&2; failures=$((failures + 1)); }
check "exipick count of bob's queued messages" "$bob_msgs" "$(run "$count_cmd" | tr -d ' ')"
run "${freeze_cmd%% | xargs*}" | sort >"$dir/ids.auth"
run "${sender_cmd%% | xargs*}" | sort >"$dir/ids.sender"
check "ids selected by auth id" "$bob_msgs" "$(wc -l <"$dir/ids.auth")"
check "ids selected by sender = by auth id" "$(paste -sd' ' "$dir/ids.auth")" \
  "$(paste -sd' ' "$dir/ids.sender")"
frozen_before=$(exim_env_exim "$dir" -bp | grep -c '\*\*\* frozen \*\*\*' || true)
run "$freeze_cmd" >"$dir/freeze.out" 2>&1
exim_env_wait_idle "$dir"
frozen_after=$(exim_env_exim "$dir" -bp | grep -c '\*\*\* frozen \*\*\*' || true)
check "exim -bp: frozen messages after the freeze command" "$((frozen_before + bob_msgs))" "$frozen_after"
report --format=json >"$dir/report2.json"
check "second report: bob's queued messages all frozen" "$bob_msgs" \
  "$(jq -r '.top_offender.queued_frozen' "$dir/report2.json")"
check "second report: frozen in the queue" "$frozen_after" "$(jq -r '.queue.frozen' "$dir/report2.json")"
queued_before=$(exim_env_exim "$dir" -bpc)
remove_cmd=$(cmd "remove them")
echo "  remove: $remove_cmd"
run "$remove_cmd" >"$dir/remove.out" 2>&1
check "exim -bpc after the remove command" "$((queued_before - bob_msgs))" "$(exim_env_exim "$dir" -bpc)"
check "exipick count after the remove command" 0 "$(run "$count_cmd" | tr -d ' ')"

if ((failures > 0)); then
  echo "$failures report e2e checks failed" >&2
  cat "$dir/report.txt" >&2
  exit 1
fi
echo "e2e report: all checks passed"
