#!/usr/bin/env bash
# End-to-end: the Postfix queue read from the queue files by the real exporter
# (--postfix.queue-source=files, the default) and by `report`, against a real Postfix
# (tests/e2e/lib/postfix_env.sh: Debian's package unpacked privately, loopback only, Cyrus
# sasldb AUTH, relayhost a closed port so mail stays deferred; here with hash_queue_depth = 2
# and long queue ids, unlike the fixtures).
#   1. A leaked account's burst (alice, SMTP AUTH from 127.0.0.2) sits in the deferred queue
#      beside other senders: bob (AUTH), unauthenticated SMTP, sendmail as www-data and as
#      nobody (pickup), and a bounce. The exporter (as root; the queue directory found through
#      `postconf -h queue_directory`) must show on /metrics: per owner (SASL user, else the
#      pickup user) the messages and recipients the test sent, equal to the per-owner sums of
#      what `postcat -q` says for EVERY queued id (sasl_username, or pickup's "from userid N"
#      resolved with getent); per queue the messages, recipients and bytes of `postqueue -j`.
#      --postfix.queue-source=postqueue shows the same queues (no owners).
#   2. Least privilege: the exporter as nobody cannot read the queue: the queue families are
#      absent, mailrelay_queue_source_up 0, /-/ready 503 saying "Permission denied", the reason
#      logged, and it keeps running; as nobody with only CAP_DAC_READ_SEARCH as an ambient
#      capability and no_new_privs (what setup-access's drop-in grants, docs/postfix-queue.md)
#      it shows the same queue families as root, and the capability writes nothing to the queue.
#   3. `report` over the Postfix log and queue names alice as top offender; its printed
#      commands, run with sh, list exactly alice's queued ids (as postcat says), hold exactly
#      them (and the exporter then shows them in hold), release them. The report's queue-owner
#      fallback (a window with no submission, --relay.ignore-users for the owners already seen)
#      gives every other owner's exact queued ids; bob's delete command deletes his only.
#   postfix_queue_e2e.sh BINARY
set -euo pipefail
bin_src=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/postfix_env.sh
source "$here/lib/postfix_env.sh"
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"

die() { echo "postfix_queue_e2e: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (a private Postfix master, postsuper)"
for tool in swaks saslpasswd2 apt-get dpkg setpriv getent python3 curl jq; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/install-deps.sh)"
done

work=$(mktemp -d /tmp/mailrelay-pfqueue-e2e.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  postfix_env_stop "$work" || true
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# A copy nobody can run whatever the permissions of the build tree.
bin=$work/mailrelay_exporter
install -m 755 "$bin_src" "$bin"

failures=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "  ok   $1 = ${3//$'\n'/ | }"
  else
    echo "  FAIL $1: expected ${2//$'\n'/ | }, got ${3//$'\n'/ | }" >&2
    failures=$((failures + 1))
  fi
}

port=$(postfix_env_free_port)
POSTFIX_ENV_MAIN_CF=$'hash_queue_depth = 2\nhash_queue_names = deferred, defer, hold\nenable_long_queue_ids = yes' \
  postfix_env_setup "$work" "$port"
postfix_env_start "$work"
spool=$work/spool etc=$work/etc maillog=$work/log/mail.log
pf() { postfix_env_cmd "$work" "$@"; }
smtp() { postfix_env_smtp "$work" "$@"; }
echo "== postfix $(pf postconf -h mail_version) on 127.0.0.1:$port, queue $spool"

# --- the workload ------------------------------------------------------------------------------
since=$(date -d "@$(($(date +%s) - 1))" '+%Y-%m-%d %H:%M:%S')
alice_burst=30
alice_rcpts=0
for i in $(seq "$alice_burst"); do
  n=$((i % 3 + 1))  # 1 to 3 recipients
  rcpts=$(for j in $(seq "$n"); do printf 'v%d-%d@example.com,' "$i" "$j"; done)
  smtp --local-interface 127.0.0.2 -a PLAIN -au alice@mx.example.test -ap secret \
    -f "offer$i@bank.example" -t "${rcpts%,}"
  alice_rcpts=$((alice_rcpts + n))
done
for i in 1 2 3; do
  smtp --local-interface 127.0.0.2 -a LOGIN -au bob@mx.example.test -ap secret \
    -f bob@mx.example.test -t "friend$i@example.org"
done
smtp -f app@mx.example.test -t one@example.com
smtp -f app@mx.example.test -t two@example.com,three@example.com
smtp -f app@mx.example.test -t ghost@bounce.example.test  # fails: a bounce to app@
for i in 1 2 3 4; do
  printf 'Subject: php %d\n\nhello\n' "$i" |
    postfix_env_sendmail "$work" www-data -f "wordpress@mx.example.test" "reader$i@example.net"
done
for i in 1 2; do
  printf 'Subject: cron %d\n\nhello\n' "$i" |
    postfix_env_sendmail "$work" nobody -f "cron@mx.example.test" "admin$i@example.net"
done
# alice 30 + bob 3 + 2 unauthenticated + www-data 4 + nobody 2 + 1 bounce, all deferred.
expected=$((alice_burst + 3 + 2 + 4 + 2 + 1))
deferred() { [[ $(pf postqueue -j | grep -c '"queue_name": "deferred"') -eq $expected ]]; }
WAIT_TIMEOUT=60 wait_for deferred || { pf postqueue -j >&2; die "the queue did not settle"; }
pf postqueue -j >"$work/postqueue.json"

# --- what postqueue -j and postcat -q say --------------------------------------------------------
queue_series() {  # queue_series POSTQUEUE_JSON: the per-queue families postqueue -j implies
  python3 - "$1" <<'EOF'
import json, sys
queues = {q: [0, 0, 0] for q in ("active", "deferred", "hold", "incoming", "maildrop")}
for line in open(sys.argv[1]):
    m = json.loads(line)
    q = queues[m["queue_name"]]
    q[0] += 1
    q[1] += len(m["recipients"])
    q[2] += m["message_size"]
for name, family in (("messages", 0), ("recipients", 1), ("bytes", 2)):
    for q, v in sorted(queues.items()):
        print(f'mailrelay_queue_{name}{{queue="{q}"}} {v[family]}')
EOF
}
queue_series "$work/postqueue.json" | sort >"$work/expected_queues.txt"
# Every queued id: its owner as postcat -q shows it, and its undelivered recipients.
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["queue_id"])' "$work/postqueue.json" | sort >"$work/ids.txt"
while read -r id; do
  pf postcat -e -h -q "$id" >"$work/postcat.txt"
  owner=$(sed -n 's/^named_attribute: sasl_username=//p' "$work/postcat.txt")
  if [[ -z $owner ]] && ! grep -q '^named_attribute: client_address=' "$work/postcat.txt"; then
    uid=$(sed -n 's/^Received: by .* (Postfix, from userid \([0-9]*\))$/\1/p' "$work/postcat.txt" |
      head -n 1)
    [[ -z $uid ]] || owner=$(getent passwd "$uid" | cut -d: -f1)
  fi
  echo "$id ${owner:--} $(grep -c '^recipient: ' "$work/postcat.txt" || true)"
done <"$work/ids.txt" >"$work/postcat_owners.txt"
postcat_by_owner() {  # postcat_by_owner FIELD FAMILY: per-owner sums as exposition lines
  awk -v f="$1" -v fam="$2" '$2 != "-" { s[$2] += (f == 0 ? 1 : $f) }
    END { for (o in s) printf "%s{user=\"%s\"} %d\n", fam, o, s[o] }' "$work/postcat_owners.txt" | sort
}
postcat_ids() {  # postcat_ids OWNER: the queued ids postcat -q shows for OWNER, sorted
  awk -v o="$1" '$2 == o { print $1 }' "$work/postcat_owners.txt" | sort
}
check "postcat shows alice on the burst" "$alice_burst" "$(postcat_ids alice@mx.example.test | grep -c .)"

# --- the exporters -------------------------------------------------------------------------------
family() {  # family FILE NAME: NAME's series, "name{labels} value" sorted, values as integers
  awk -v f="$2" 'index($1, f "{") == 1 || $1 == f { printf "%s %d\n", $1, $2 }' "$1" | sort
}
declare -A exporter_port exporter_pid
start_exporter() {  # start_exporter NAME [setpriv options --] FLAGS...: background, log in NAME.log
  local name=$1 eport prefix=()
  shift
  if [[ $1 == --as-nobody ]]; then
    shift
    prefix=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    while [[ $1 != -- ]]; do prefix+=("$1"); shift; done
    shift
  fi
  eport=$(postfix_env_free_port)
  # PATH and MAIL_CONFIG: postconf and postqueue find the private Postfix, as on a host with
  # a second Postfix instance.
  env PATH="$work/bin:$PATH" MAIL_CONFIG="$etc" "${prefix[@]}" "$bin" --mta=postfix \
    --queue.refresh-interval=500ms --web.listen-address="127.0.0.1:$eport" \
    --relay.local-networks=127.0.0.1/32 --no-relay.include-interface-addresses "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  exporter_port[$name]=$eport
  exporter_pid[$name]=$!  # setpriv executes the exporter in its own process
}
url_of() { echo "http://127.0.0.1:${exporter_port[$1]}"; }
running_as() {  # running_as NAME: the user the exporter NAME runs as, or "gone"
  ps -o user= -p "${exporter_pid[$1]}" 2>/dev/null || echo gone
}
ready() { curl -fsS -o /dev/null --max-time 5 "$(url_of "$1")/-/ready"; }
scrape() { metrics_fetch "$(url_of "$1")/metrics" "$work/$1.prom"; }

# As root, queue directory autodetected; the log is only there because the exporter needs one.
echo "== the exporter (queue files, as root)"
start_exporter root --postfix.log="$maillog" --tail.from-beginning
start_exporter postqueue --postfix.log="$maillog" --postfix.queue-source=postqueue \
  --postfix.postqueue-binary="$work/bin/postqueue"
# As nobody: a log nobody can read, so that only the queue can make it unready.
touch "$work/nobody.log" && chmod 644 "$work/nobody.log"
start_exporter nobody --as-nobody -- --postfix.log="$work/nobody.log" \
  --postfix.queue-directory="$spool"
# shellcheck disable=SC2054  # setpriv takes comma-separated capability lists
cap=(--no-new-privs --inh-caps=+dac_read_search --ambient-caps=+dac_read_search --bounding-set=-all,+dac_read_search)
start_exporter nobody_cap --as-nobody "${cap[@]}" -- --postfix.log="$work/nobody.log" \
  --postfix.queue-directory="$spool"

WAIT_TIMEOUT=60 wait_for ready root || die "the exporter (root) is not ready: $(cat "$work/root.log")"
scrape root
m=$work/root.prom
v() { metric_value "$m" "$1"; }
check "queue source up" 1 "$(family "$m" mailrelay_queue_source_up | awk '{print $2}')"
check "queue read errors" "" "$(family "$m" mailrelay_queue_scrape_errors_total | awk '$2 != 0')"
check "queue directory found with postconf" 1 \
  "$(grep -c "reading the queue.*queue files $spool" "$work/root.log" || true)"
check "alice's queued messages (the burst sent)" "$alice_burst" \
  "$(v 'mailrelay_queue_messages_by_auth_user{user="alice@mx.example.test"}')"
check "alice's queued recipients (sent)" "$alice_rcpts" \
  "$(v 'mailrelay_queue_recipients_by_auth_user{user="alice@mx.example.test"}')"
check "bob's queued messages" 3 "$(v 'mailrelay_queue_messages_by_auth_user{user="bob@mx.example.test"}')"
check "www-data's queued messages (pickup)" 4 "$(v 'mailrelay_queue_messages_by_auth_user{user="www-data"}')"
check "nobody's queued messages (pickup)" 2 "$(v 'mailrelay_queue_messages_by_auth_user{user="nobody"}')"
check "messages by owner = postcat -q of every queued id" \
  "$(postcat_by_owner 0 mailrelay_queue_messages_by_auth_user)" \
  "$(family "$m" mailrelay_queue_messages_by_auth_user)"
check "recipients by owner = postcat -q of every queued id" \
  "$(postcat_by_owner 3 mailrelay_queue_recipients_by_auth_user)" \
  "$(family "$m" mailrelay_queue_recipients_by_auth_user)"
check "queued ids with no owner (2 unauthenticated, 1 bounce)" 3 \
  "$(awk '$2 == "-"' "$work/postcat_owners.txt" | grep -c .)"
check "messages, recipients, bytes per queue = postqueue -j" "$(cat "$work/expected_queues.txt")" \
  "$(for f in messages recipients bytes; do family "$m" "mailrelay_queue_$f"; done | sort)"
check "bounces" 1 "$(v mailrelay_queue_bounce_messages)"

echo "== the exporter (postqueue -j, as root)"
WAIT_TIMEOUT=60 wait_for ready postqueue || die "the exporter (postqueue) is not ready"
scrape postqueue
check "messages, recipients, bytes per queue = postqueue -j" "$(cat "$work/expected_queues.txt")" \
  "$(for f in messages recipients bytes; do family "$work/postqueue.prom" "mailrelay_queue_$f"; done | sort)"
check "messages by sender = the queue files'" "$(family "$m" mailrelay_queue_messages_by_sender)" \
  "$(family "$work/postqueue.prom" mailrelay_queue_messages_by_sender)"
check "no owner from postqueue -j" "" \
  "$(family "$work/postqueue.prom" mailrelay_queue_messages_by_auth_user)"

# --- 2. least privilege --------------------------------------------------------------------------
echo "== the exporter as nobody, no capability"
denied="queue: cannot open $spool/active: Permission denied"
ready_text() { curl -sS --max-time 5 -w ' %{http_code}' "$(url_of "$1")/-/ready" || true; }
denied_ready() { [[ $(ready_text nobody) == *"$denied"* ]]; }
WAIT_TIMEOUT=60 wait_for denied_ready || true
check "/-/ready" "Not ready: $denied 503" "$(ready_text nobody | tr -d '\n')"
# Two scans at least, and it is still serving.
two_scans() {
  scrape nobody && [[ $(metric_value "$work/nobody.prom" 'mailrelay_queue_scrape_errors_total{reason="directory"}') -ge 2 ]]
}
WAIT_TIMEOUT=30 wait_for two_scans || true
check "queue source up" 0 "$(family "$work/nobody.prom" mailrelay_queue_source_up | awk '{print $2}')"
check "queue families" "" "$(grep -E '^mailrelay_queue_(messages|recipients|bytes|bounce_messages|frozen_messages)' "$work/nobody.prom" || true)"
check "directory errors counted (2 scans or more)" yes \
  "$(awk '$1 == "mailrelay_queue_scrape_errors_total{reason=\"directory\"}" { print ($2 >= 2 ? "yes" : $2) }' "$work/nobody.prom")"
check "the reason logged (once)" 1 "$(grep -c 'Permission denied' "$work/nobody.log" || true)"
check "still running, as nobody" nobody "$(running_as nobody)"

echo "== the exporter as nobody + CAP_DAC_READ_SEARCH (ambient, no_new_privs)"
WAIT_TIMEOUT=60 wait_for ready nobody_cap || die "the exporter (nobody + capability) is not ready: $(cat "$work/nobody_cap.log")"
scrape nobody_cap
queue_state() {  # queue_state FILE: every queue family but the per-scan ones (ages, durations)
  grep -E '^mailrelay_queue_(messages|recipients|bytes|bounce_messages|frozen_messages|frozen_bounce_messages|source_up|scrape_errors_total)' "$1" |
    sort
}
check "the queue families = as root" "$(queue_state "$m" | md5sum)" \
  "$(queue_state "$work/nobody_cap.prom" | md5sum)"
# CapAmb 0: the exporter cleared its ambient set, so the commands it runs do not inherit it.
check "running as nobody, only CAP_DAC_READ_SEARCH effective, no ambient, no_new_privs" \
  "nobody 0000000000000004 0000000000000000 1" \
  "$(running_as nobody_cap) $(awk '$1 == "NoNewPrivs:" || $1 == "CapEff:" || $1 == "CapAmb:" { printf "%s ", $2 }' \
    "/proc/${exporter_pid[nobody_cap]}/status" | sed 's/ $//')"
deferred_dir=$(find "$spool/deferred" -mindepth 2 -maxdepth 2 -type d | head -n 1)
if setpriv --reuid=nobody --regid=nogroup --clear-groups "${cap[@]}" \
  touch "$deferred_dir/written-by-nobody" 2>/dev/null; then
  check "as nobody + CAP_DAC_READ_SEARCH: the queue stays read-only" "refused" "written"
else
  check "as nobody + CAP_DAC_READ_SEARCH: the queue stays read-only" "refused" "refused"
fi

# --- 3. report and its postsuper commands --------------------------------------------------------
echo "== report"
until_time=$(date -d "@$(($(date +%s) + 60))" '+%Y-%m-%d %H:%M:%S')
report() {  # report ARGS...: JSON on stdout; the queue directory found with postconf
  env PATH="$work/bin:$PATH" MAIL_CONFIG="$etc" "$bin" report --mta=postfix \
    --postfix.log="$maillog" --relay.local-networks=127.0.0.1/32 \
    --no-relay.include-interface-addresses --format=json "$@"
}
report --since="$since" --until="$until_time" >"$work/report.json"
j() { jq -r "$1" "$work/report.json"; }
check "top offender" "alice@mx.example.test auth_user" "$(j '.top_offender | "\(.identity) \(.kind)"')"
check "top offender: messages, recipients, queued" "$alice_burst $alice_rcpts $alice_burst" \
  "$(j '.top_offender | "\(.messages) \(.recipients) \(.queued)"')"
check "report: queue owners = the exporter's" \
  "$(family "$m" mailrelay_queue_messages_by_auth_user | sed -E 's/.*user="([^"]*)"\} /\1 /')" \
  "$(j '.queue.owners.top[] | select(.owner != "") | "\(.owner) \(.messages)"' | sort)"
cmd() {  # cmd REPORT_JSON WHAT_PREFIX: the printed command whose description starts so
  jq -r --arg w "$2" '.top_offender.commands[] | select(.what | startswith($w)) | .command' "$1"
}
run() { env PATH="$work/bin:$PATH" MAIL_CONFIG="$etc" sh -c "$1"; }
ids_in() {  # ids_in QUEUE: the queue ids postqueue -j lists in QUEUE, sorted
  pf postqueue -j | python3 -c '
import json, sys
print("\n".join(sorted(m["queue_id"] for m in map(json.loads, sys.stdin) if m["queue_name"] == sys.argv[1])))' "$1"
}
alice_ids=$(postcat_ids alice@mx.example.test)
check "the printed queue ids = alice's (postcat -q)" "$(md5sum <<<"$alice_ids")" \
  "$(run "$(cmd "$work/report.json" "the queue ids")" | sort | md5sum)"
hold=$(cmd "$work/report.json" hold)
[[ $hold == *"| postsuper -h -" ]] || die "no hold command: $hold"
run "$hold" 2>"$work/postsuper.log"
check "held: exactly alice's messages" "$(md5sum <<<"$alice_ids")" "$(ids_in hold | md5sum)"
check "still deferred: all the others" $((expected - alice_burst)) "$(ids_in deferred | grep -c .)"
held_seen() { scrape root && [[ $(metric_value "$m" 'mailrelay_queue_messages{queue="hold"}') == "$alice_burst" ]]; }
WAIT_TIMEOUT=30 wait_for held_seen || true
check "the exporter: hold, deferred" "$alice_burst $((expected - alice_burst))" \
  "$(v 'mailrelay_queue_messages{queue="hold"}') $(v 'mailrelay_queue_messages{queue="deferred"}')"
check "the exporter: alice's messages still hers" "$alice_burst" \
  "$(v 'mailrelay_queue_messages_by_auth_user{user="alice@mx.example.test"}')"
run "$(cmd "$work/report.json" release)" 2>>"$work/postsuper.log"
check "released: hold is empty" 0 "$(ids_in hold | grep -c . || true)"
check "released: all deferred again" "$expected" "$(ids_in deferred | grep -c .)"

# No submission in the window: the top offender is the top queue owner not ignored. Each owner
# in turn gives its exact queued ids.
echo "== report: every queue owner's ids"
ignored=""
for owner in alice@mx.example.test www-data bob@mx.example.test nobody; do
  report --since=2000-01-01 --until=2000-01-02 --relay.ignore-users="$ignored" \
    >"$work/report-$owner.json"
  check "queue owner next" "$owner queue_owner" \
    "$(jq -r '.top_offender | "\(.identity) \(.kind)"' "$work/report-$owner.json")"
  check "$owner: the printed queue ids = postcat -q's" "$(postcat_ids "$owner" | md5sum)" \
    "$(run "$(cmd "$work/report-$owner.json" "the queue ids")" | sort | md5sum)"
  ignored=${ignored:+$ignored,}$owner
done
bob_ids=$(postcat_ids bob@mx.example.test)
run "$(cmd "$work/report-bob@mx.example.test.json" delete)" 2>>"$work/postsuper.log"
remaining=$(ids_in deferred)
check "deleted: bob's messages are gone" 0 "$(comm -12 <(echo "$bob_ids") <(echo "$remaining") | grep -c . || true)"
check "deleted: nothing else" $((expected - 3)) "$(echo "$remaining" | grep -c .)"
bob_gone() { scrape root && ! grep -q '^mailrelay_queue_messages_by_auth_user{user="bob@' "$m"; }
WAIT_TIMEOUT=30 wait_for bob_gone || true
check "the exporter: queued messages after the delete" $((expected - 3)) \
  "$(awk '/^mailrelay_queue_messages\{/ { s += $2 } END { print s + 0 }' "$m")"
check "the exporter: bob owns nothing queued" "" \
  "$(family "$m" mailrelay_queue_messages_by_auth_user | grep 'user="bob@' || true)"

if [[ $failures -ne 0 ]]; then
  for f in root nobody nobody_cap postqueue; do
    echo "--- exporter $f" >&2
    tail -20 "$work/$f.log" >&2
  done
  echo "--- postsuper" >&2
  cat "$work/postsuper.log" >&2
  echo "postfix_queue_e2e: $failures check(s) failed" >&2
  exit 1
fi
echo "postfix_queue_e2e: all checks passed"
