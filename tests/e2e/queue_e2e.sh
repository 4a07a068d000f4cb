#!/usr/bin/env bash
# End-to-end for the queue-state metrics (issue 3): a private real Exim on 127.0.0.1
# (tests/e2e/lib/exim_env.sh) gets the standard workload plus a burst of authenticated mail
# from bob to remote recipients (which stays deferred: remote delivery goes to a closed port)
# and null-sender messages; then one message and one bounce are frozen with `exim -Mf`.
# Three exporters read that spool:
#   spool   --exim.queue-source=spool (default top-k)
#   bp      --exim.queue-source=bp with --exim.binary = a wrapper running exim -C DIR/exim.conf
#   top1    --exim.queue-source=spool --queue.top-k=1, and the scan on one thread with plain
#           system calls (--queue.scan-threads=1 --no-queue.io-uring)
# and their queue gauges must equal what Exim itself reports for the spool: `exim -bpc`
# (count), `exim -bp` (frozen, null-sender bounces, frozen bounces, undelivered recipients,
# per-sender counts, sizes within -bp's print resolution) and, for the per-user families,
# `exim -Mvh` of every queued message (-auth_id, else -ident of a local submission).  bob must
# be the first and strictly largest mailrelay_queue_messages_by_auth_user series, and the only
# named one with --queue.top-k=1.
#   queue_e2e.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/exim_env.sh
source "$here/lib/exim_env.sh"
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"

BOB=bob@mx.example.test
BOB_BURST=6          # extra queued messages from bob (he has 2 from the workload, alice 4)
BOB_RCPTS=r1@example.com,r2@example.net,r3@example.org
NULL_BURST=2         # extra queued bounces (null sender, relayed from 127.0.0.1)

failures=0
dir=""
exporter_pids=()
cleanup() {
  local rc=$? p
  for p in "${exporter_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${exporter_pids[@]}"; do wait "$p" 2>/dev/null || true; done
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

check_le() {  # check_le DESCRIPTION A B: A <= B (both numbers)
  if [[ $2 =~ ^-?[0-9]+$ && $3 =~ ^-?[0-9]+$ ]] && (($2 <= $3)); then
    echo "  ok   $1 ($2 <= $3)"
  else
    echo "  FAIL $1: $2 > $3" >&2
    failures=$((failures + 1))
  fi
}

started=$SECONDS
dir=$(mktemp -d)
port=$(exim_env_free_port)
echo "== exim on 127.0.0.1:$port, dir $dir"
EXIM_ENV_QUEUE_INTERVAL=1h exim_env_start "$dir" "$port" >/dev/null

# --- traffic ------------------------------------------------------------------------------
exim_env_send_traffic "$dir" "$port" >"$dir/expected.txt"
exim_env_send_burst "$dir" "$port" "$BOB_BURST" 127.0.0.2 "$BOB" "$BOB_RCPTS" "$BOB"
exim_env_send_burst "$dir" "$port" "$NULL_BURST" 127.0.0.1 '<>' dsn@example.com
exim_env_wait_idle "$dir"

# Freeze the spoofed message of alice (sender ceo@bank.example) and one of the new bounces.
exim_env_exim "$dir" -bp >"$dir/bp.before"
freeze_ids=()
freeze_ids+=("$(awk '$1 ~ /^[0-9]+[mhd]$/ && / <ceo@bank\.example>/ { for (i = 3; i <= NF; i++) if ($i ~ /^</) { print $(i - 1); exit } }' "$dir/bp.before")")
freeze_ids+=("$(awk '$1 ~ /^[0-9]+[mhd]$/ && / <>( |$)/ && !/frozen/ { for (i = 3; i <= NF; i++) if ($i ~ /^</) { print $(i - 1); exit } }' "$dir/bp.before")")
for id in "${freeze_ids[@]}"; do
  [[ -n $id ]] || { echo "FAIL: no message to freeze in exim -bp" >&2; exit 1; }
  exim_env_exim "$dir" -Mf "$id" >>"$dir/log/freeze.out" 2>&1
done
exim_env_wait_idle "$dir"
echo "  traffic sent, froze ${freeze_ids[*]} ($((SECONDS - started)) s)"

# --- what Exim says -----------------------------------------------------------------------
bpc=$(exim_env_exim "$dir" -bpc)
exim_env_exim "$dir" -bp >"$dir/bp.txt"
# One line per message: id sender(<> = null) frozen(0/1) undelivered size_min size_max
# (size_* = the range of true sizes -bp's printed size stands for: "464", "1.6K", "25K", "2.9M").
awk '
  function flush() { if (id != "") print id, sender, frozen, undel, smin, smax; id = "" }
  function range(tok,   v, unit, step) {
    if (tok ~ /^[0-9]+$/) { smin = tok; smax = tok; return }
    unit = (tok ~ /K$/) ? 1024 : 1048576
    v = substr(tok, 1, length(tok) - 1)
    step = (v ~ /\./) ? 0.1 : 1
    smin = int((v - step / 2) * unit); smax = int((v + step / 2) * unit) + 1
  }
  $1 ~ /^[0-9]+[mhd]$/ {
    flush()
    for (i = 3; i <= NF; i++) if ($i ~ /^</) break
    id = $(i - 1); sender = $i; gsub(/[<>]/, "", sender); if (sender == "") sender = "<>"
    frozen = ($0 ~ /\*\*\* frozen \*\*\*/) ? 1 : 0
    undel = 0
    if (i == 4) range($2); else { smin = 0; smax = 0 }
    next
  }
  /^$/ { flush(); next }
  id != "" && $1 != "D" && $1 != "+D" { undel++ }
  END { flush() }
' "$dir/bp.txt" >"$dir/bp.msgs"

# Submitting user as Exim stored it, one `exim -Mvh` per message (run concurrently):
# -auth_id (or tainted --auth_id), else for a local submission (no -host_address) -ident;
# the option lines end at the first line not starting with "-".
mkdir -p "$dir/owners"
mvh_pids=()
while read -r id _; do
  exim_env_exim "$dir" -Mvh "$id" | awk -v out="$dir/owners/$id.time" '
    NR == 4 { print $1 > out; next }
    NR <= 4 { next }
    !/^-/ { exit }
    { name = $1; sub(/^--?/, "", name) }
    name == "auth_id" { auth = $2 }
    name == "host_address" { remote = 1 }
    name == "ident" { ident = $2 }
    END { if (auth != "") print auth; else if (!remote) print ident }' >"$dir/owners/$id" &
  mvh_pids+=($!)
done <"$dir/bp.msgs"
for p in "${mvh_pids[@]}"; do wait "$p"; done

declare -A sender_msgs=() owner_msgs=() owner_rcpts=()
bp_count=0 bp_frozen=0 bp_bounces=0 bp_frozen_bounces=0 bp_rcpts=0 size_min=0 size_max=0
while read -r id sender frozen undel smin smax; do
  bp_count=$((bp_count + 1))
  bp_frozen=$((bp_frozen + frozen))
  bp_rcpts=$((bp_rcpts + undel))
  size_min=$((size_min + smin))
  size_max=$((size_max + smax))
  if [[ $sender == "<>" ]]; then
    bp_bounces=$((bp_bounces + 1))
    bp_frozen_bounces=$((bp_frozen_bounces + frozen))
  fi
  sender_msgs[$sender]=$((${sender_msgs[$sender]:-0} + 1))
  owner=$(<"$dir/owners/$id")
  if [[ -n $owner ]]; then
    owner_msgs[$owner]=$((${owner_msgs[$owner]:-0} + 1))
    owner_rcpts[$owner]=$((${owner_rcpts[$owner]:-0} + undel))
  fi
done <"$dir/bp.msgs"
owned_total=0
for u in "${!owner_msgs[@]}"; do owned_total=$((owned_total + owner_msgs[$u])); done
# The oldest received time Exim has for a queued message (line 4 of its -H, via exim -Mvh).
oldest_received=$(sort -n "$dir"/owners/*.time | head -1)

echo "== exim: -bpc $bpc; -bp: $bp_count messages, $bp_frozen frozen, $bp_bounces bounces" \
  "($bp_frozen_bounces frozen), $bp_rcpts undelivered recipients; -Mvh owners:" \
  "$(for u in "${!owner_msgs[@]}"; do printf '%s=%s ' "$u" "${owner_msgs[$u]}"; done)"
# The scenario itself (so that the comparisons below are not vacuous).
want_queue=$(awk '$1 == "queue/messages" { print $2 }' "$dir/expected.txt")
want_frozen=$(awk '$1 == "queue/frozen" { print $2 }' "$dir/expected.txt")
check "exim -bpc = workload + bursts" "$((want_queue + BOB_BURST + NULL_BURST))" "$bpc"
check "exim -bp lists -bpc messages" "$bpc" "$bp_count"
check "exim -bp frozen = workload + 2 frozen with -Mf" "$((want_frozen + 2))" "$bp_frozen"
check "exim -bp null-sender messages = 1 frozen bounce + burst" "$((1 + NULL_BURST))" "$bp_bounces"
check "exim -Mvh: bob's queued messages" "$((2 + BOB_BURST))" "${owner_msgs[$BOB]:-0}"
for u in "${!owner_msgs[@]}"; do
  [[ $u == "$BOB" ]] || check_le "exim -Mvh: $u has fewer queued messages than bob" \
    "$((owner_msgs[$u] + 1))" "${owner_msgs[$BOB]:-0}"
done

# --- exporters ----------------------------------------------------------------------------
wrapper=$dir/exim-wrapper.sh
printf '#!/bin/sh\nexec %s -C %s "$@"\n' "$EXIM_ENV_BIN" "$dir/exim.conf" >"$wrapper"
chmod 0755 "$wrapper"

declare -A url=()
start_exporter() {  # start_exporter NAME ARGS...
  local name=$1 eport
  shift
  eport=$(exim_env_free_port)
  "$bin" --web.listen-address="127.0.0.1:$eport" --exim.mainlog="$(exim_env_mainlog "$dir")" \
    --exim.spool-dir="$dir/spool" "$@" >"$dir/exporter-$name.log" 2>&1 &
  exporter_pids+=($!)
  url[$name]="http://127.0.0.1:$eport"
}
start_exporter spool --exim.queue-source=spool
start_exporter bp --exim.queue-source=bp --exim.binary="$wrapper" --queue.command-timeout=20s \
  --queue.refresh-interval=1s
start_exporter top1 --exim.queue-source=spool --queue.top-k=1 --queue.scan-threads=1 \
  --no-queue.io-uring

queue_read() {  # queue_read NAME: scrape until the queue families are present
  metrics_fetch "${url[$1]}/metrics" "$dir/metrics-$1.prom" &&
    grep -q '^mailrelay_queue_messages{queue="input"}' "$dir/metrics-$1.prom"
}

# Series of a family as "label value" lines, in exposition order.
family() {  # family FILE NAME LABEL
  awk -v n="$2" -v l="$3" 'index($1, n "{" l "=\"") == 1 {
    v = substr($1, length(n) + length(l) + 4); sub(/"}$/, "", v); print v, $2 }' "$1"
}

# All series of a scrape in an associative array (one awk instead of one per check).
declare -A sample=()
load_samples() {  # load_samples FILE
  local k val
  sample=()
  while read -r k val; do sample[$k]=$val; done < <(awk '!/^#/ && NF >= 2 { print $1, $2 }' "$1")
}
v() {  # v SERIES: its value; "missing:SERIES" when the scrape has no such series
  if [[ -n ${sample[$1]+x} ]]; then echo "${sample[$1]}"; else echo "missing:$1"; fi
}

for name in spool bp top1; do
  echo "== exporter $name"
  WAIT_TIMEOUT=20 wait_until_ready "${url[$name]}"
  WAIT_TIMEOUT=20 wait_for queue_read "$name"
  m=$dir/metrics-$name.prom
  scrape_before=$(date +%s)
  metrics_fetch "${url[$name]}/metrics" "$m"
  scrape_after=$(date +%s)
  load_samples "$m"
  check "$name: messages = exim -bpc" "$bpc" "$(v 'mailrelay_queue_messages{queue="input"}')"
  check "$name: frozen = exim -bp *** frozen ***" "$bp_frozen" "$(v mailrelay_queue_frozen_messages)"
  check "$name: bounces = exim -bp <> senders" "$bp_bounces" "$(v mailrelay_queue_bounce_messages)"
  check "$name: frozen bounces = exim -bp" "$bp_frozen_bounces" "$(v mailrelay_queue_frozen_bounce_messages)"
  check "$name: recipients = exim -bp undelivered" "$bp_rcpts" "$(v 'mailrelay_queue_recipients{queue="input"}')"
  bytes=$(v 'mailrelay_queue_bytes{queue="input"}')
  bytes=${bytes%.*}
  check_le "$name: bytes >= lower bound of exim -bp sizes" "$size_min" "$bytes"
  check_le "$name: bytes <= upper bound of exim -bp sizes" "$bytes" "$size_max"
  age=$(v 'mailrelay_queue_oldest_message_age_seconds{queue="input"}')
  age=${age%.*}
  if [[ $name == bp ]]; then
    # exim -bp prints minutes: the age is a whole number of minutes, floor or round of the truth.
    check_le "$name: oldest age >= the true age - 60 s" "$((scrape_before - oldest_received - 61))" "$age"
    check_le "$name: oldest age <= the true age + 60 s" "$age" "$((scrape_after - oldest_received + 61))"
  else
    # A scan is served again for up to 1 s.
    check_le "$name: oldest age >= now - oldest received (exim -Mvh)" \
      "$((scrape_before - oldest_received - 2))" "$age"
    check_le "$name: oldest age <= now - oldest received" "$age" "$((scrape_after - oldest_received + 1))"
  fi
  check "$name: scrape errors" 0 "$(metric_sum "$m" mailrelay_queue_scrape_errors_total)"
  check "$name: truncated" 0 "$(v mailrelay_queue_scrape_truncated)"

  if [[ $name != top1 ]]; then
    for s in "${!sender_msgs[@]}"; do
      check "$name: messages by sender $s" "${sender_msgs[$s]}" \
        "$(v "mailrelay_queue_messages_by_sender{sender=\"$s\"}")"
    done
    check "$name: sender series" "${#sender_msgs[@]}" "$(family "$m" mailrelay_queue_messages_by_sender sender | wc -l)"
  fi

  case $name in
    spool)
      for u in "${!owner_msgs[@]}"; do
        check "$name: messages by auth user $u = exim -Mvh" "${owner_msgs[$u]}" \
          "$(v "mailrelay_queue_messages_by_auth_user{user=\"$u\"}")"
        check "$name: recipients by auth user $u" "${owner_rcpts[$u]}" \
          "$(v "mailrelay_queue_recipients_by_auth_user{user=\"$u\"}")"
      done
      check "$name: auth user series" "${#owner_msgs[@]}" \
        "$(family "$m" mailrelay_queue_messages_by_auth_user user | wc -l)"
      # Ranked as the top-k ranks (value, then label): bob first, strictly above the second.
      family "$m" mailrelay_queue_messages_by_auth_user user | sort -k2,2nr -k1,1 >"$dir/top.txt"
      check "$name: top messages_by_auth_user" "$BOB $((2 + BOB_BURST))" "$(head -1 "$dir/top.txt")"
      check_le "$name: runner-up has fewer messages than bob" \
        "$(($(awk 'NR == 2 { print $2 + 0 }' "$dir/top.txt") + 1))" "$((2 + BOB_BURST))"
      ;;
    bp)
      # exim -bp carries no authenticated id (docs/metrics.md): the families stay empty.
      check "$name: no auth user series" 0 "$(family "$m" mailrelay_queue_messages_by_auth_user user | wc -l)"
      ;;
    top1)
      check "$name: series with --queue.top-k=1" 2 "$(family "$m" mailrelay_queue_messages_by_auth_user user | wc -l)"
      check "$name: the one named user is bob" "$((2 + BOB_BURST))" \
        "$(v "mailrelay_queue_messages_by_auth_user{user=\"$BOB\"}")"
      check "$name: __other__ = every other user's messages" "$((owned_total - 2 - BOB_BURST))" \
        "$(v 'mailrelay_queue_messages_by_auth_user{user="__other__"}')"
      ;;
  esac
done

problems=$(promtool check metrics <"$dir/metrics-spool.prom" 2>&1) ||
  problems="promtool exit status $?: $problems"
check "promtool check metrics problems (spool)" "" "$problems"

# A message delivered/removed while the exporter runs: the next scan must follow (exim -Mrm).
victim=$(awk '$2 == "'"$BOB"'" { print $1; exit }' "$dir/bp.msgs")
exim_env_exim "$dir" -Mrm "$victim" >>"$dir/log/freeze.out" 2>&1
exim_env_wait_idle "$dir"
after=$(exim_env_exim "$dir" -bpc)
check "exim -bpc after -Mrm" "$((bpc - 1))" "$after"
removed_seen() {
  metrics_fetch "${url[spool]}/metrics" "$dir/metrics-spool.prom" &&
    [[ $(metric_value "$dir/metrics-spool.prom" 'mailrelay_queue_messages{queue="input"}') == "$after" ]]
}
if WAIT_TIMEOUT=10 wait_for removed_seen; then
  echo "  ok   spool: messages = exim -bpc after -Mrm ($after)"
  check "spool: bob after -Mrm" "$((1 + BOB_BURST))" \
    "$(metric_value "$dir/metrics-spool.prom" "mailrelay_queue_messages_by_auth_user{user=\"$BOB\"}")"
else
  echo "  FAIL spool: messages after -Mrm never became $after" >&2
  failures=$((failures + 1))
fi

if ((failures > 0)); then
  for name in spool bp top1; do
    echo "exporter $name log:" >&2
    tail -5 "$dir/exporter-$name.log" >&2
  done
  echo "$failures queue e2e checks failed ($((SECONDS - started)) s)" >&2
  exit 1
fi
echo "queue e2e: all checks passed ($((SECONDS - started)) s)"
