#!/usr/bin/env bash
# End-to-end: the Postfix queue read from the queue files (PostfixQueueScanner) against a real
# Postfix (tests/e2e/lib/postfix_env.sh: Debian's package unpacked privately, loopback only,
# Cyrus sasldb AUTH, relayhost a closed port so mail stays deferred; here with
# hash_queue_depth = 2 and long queue ids, unlike the fixtures).
#   1. A leaked account's burst (alice, SMTP AUTH from 127.0.0.2) sits in the deferred queue
#      beside other senders: bob (AUTH), unauthenticated SMTP, sendmail as www-data and as
#      nobody (pickup), and a bounce. The reader's owner of EVERY queued id equals what
#      `postcat -q` shows for it (sasl_username, or pickup's "from userid N" resolved with
#      getent), its per-owner counts equal what the test sent, and its queue, recipients and
#      sizes equal `postqueue -j`'s.
#   2. Least privilege: as nobody the queue is unreadable (ok 0, a "Permission denied" status,
#      no message); as nobody with only CAP_DAC_READ_SEARCH as an ambient capability and
#      no_new_privs (what the systemd unit grants, docs/postfix-queue.md) it reads the same as
#      root, and still cannot write to the queue.
#   3. The printed postsuper commands for alice, run with sh, hold exactly alice's messages
#      (postqueue -j: every held id is alice's, every alice id is held); release puts them
#      back; bob's delete command deletes bob's messages only.
# Until the exporter binary wires the reader, it is driven through the test-only CLI
# tests/e2e/postfix_queue_scan.cc.
#   postfix_queue_e2e.sh POSTFIX_QUEUE_SCAN
set -euo pipefail
scan_src=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib/postfix_env.sh
source "$here/lib/postfix_env.sh"
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"

die() { echo "postfix_queue_e2e: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (a private Postfix master, postsuper)"
for tool in swaks saslpasswd2 apt-get dpkg setpriv getent python3; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/install-deps.sh)"
done

work=$(mktemp -d /tmp/mailrelay-pfqueue-e2e.XXXXXX)
cleanup() {
  postfix_env_stop "$work" || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# A copy nobody can run whatever the permissions of the build tree.
scan_bin=$work/postfix_queue_scan
install -m 755 "$scan_src" "$scan_bin"

failures=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "  ok   $1 = $3"
  else
    echo "  FAIL $1: expected $2, got $3" >&2
    failures=$((failures + 1))
  fi
}

port=$(postfix_env_free_port)
POSTFIX_ENV_MAIN_CF=$'hash_queue_depth = 2\nhash_queue_names = deferred, defer, hold\nenable_long_queue_ids = yes' \
  postfix_env_setup "$work" "$port"
postfix_env_start "$work"
spool=$work/spool
pf() { postfix_env_cmd "$work" "$@"; }
smtp() { postfix_env_smtp "$work" "$@"; }
echo "== postfix $(pf postconf -h mail_version) on 127.0.0.1:$port, queue $spool"

# --- the workload ------------------------------------------------------------------------------
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

# --- 1. the reader against postqueue -j, postcat and the workload -------------------------------
"$scan_bin" --queue-directory "$spool" --top-k 100 >"$work/scan.txt"
field() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$work/scan.txt"; }
by_owner() { awk -F'\t' -v o="$1" '$1 == "by_owner" && $2 == o { print $3 }' "$work/scan.txt"; }
echo "== the queue files (as root)"
check "scan ok" 1 "$(field ok)"
check "scan status" OK "$(field status)"
for reason in directory open vanished parse; do
  check "errors $reason" 0 "$(awk -F'\t' -v r="$reason" '$1 == "error" && $2 == r { print $3 }' "$work/scan.txt")"
done
check "messages" "$expected" "$(grep -c '^message' "$work/scan.txt")"
check "alice's messages (the burst sent)" "$alice_burst" "$(by_owner alice@mx.example.test)"
check "alice's recipients (sent)" "$alice_rcpts" \
  "$(awk -F'\t' '$1 == "recipients_by_owner" && $2 == "alice@mx.example.test" { print $3 }' "$work/scan.txt")"
check "bob's messages" 3 "$(by_owner bob@mx.example.test)"
check "www-data's messages (pickup)" 4 "$(by_owner www-data)"
check "nobody's messages (pickup)" 2 "$(by_owner nobody)"
check "messages of no owner (2 unauthenticated, 1 bounce)" 3 \
  "$(grep -c $'^message\t[^\t]*\t[^\t]*\t-\t' "$work/scan.txt")"

# Every queued id: queue, recipients and size as postqueue -j says; owner as postcat -q says.
python3 - "$work/postqueue.json" >"$work/expected_listing.txt" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    print(m["queue_name"], m["queue_id"], len(m["recipients"]), m["message_size"])
EOF
awk -F'\t' '$1 == "message" { print $2, $3, $5, $6 }' "$work/scan.txt" | sort >"$work/listing.txt"
sort -o "$work/expected_listing.txt" "$work/expected_listing.txt"
check "queue, id, recipients, size of every message = postqueue -j" \
  "$(md5sum <"$work/expected_listing.txt")" "$(md5sum <"$work/listing.txt")"
while read -r _ id _ _; do
  pf postcat -e -h -q "$id" >"$work/postcat.txt"
  owner=$(sed -n 's/^named_attribute: sasl_username=//p' "$work/postcat.txt")
  if [[ -z $owner ]] && ! grep -q '^named_attribute: client_address=' "$work/postcat.txt"; then
    uid=$(sed -n 's/^Received: by .* (Postfix, from userid \([0-9]*\))$/\1/p' "$work/postcat.txt" |
      head -n 1)
    [[ -z $uid ]] || owner=$(getent passwd "$uid" | cut -d: -f1)
  fi
  echo "$id ${owner:--}"
done <"$work/expected_listing.txt" | sort >"$work/postcat_owners.txt"
awk -F'\t' '$1 == "message" { print $3, $4 }' "$work/scan.txt" | sort >"$work/owners.txt"
check "owner of every queued id = postcat -q" "$(md5sum <"$work/postcat_owners.txt")" \
  "$(md5sum <"$work/owners.txt")"
check "postcat shows alice on the burst" "$alice_burst" \
  "$(grep -c ' alice@mx.example.test$' "$work/postcat_owners.txt")"

# --- 2. least privilege ------------------------------------------------------------------------
echo "== least privilege"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody "$scan_bin" --queue-directory "$spool" >"$work/scan_nobody.txt"
check "as nobody: ok" 0 "$(awk -F'\t' '$1 == "ok" { print $2 }' "$work/scan_nobody.txt")"
# The first queue read is active/ (postfix-owned 0700, as every queue but the maildrop).
check "as nobody: status" "permission denied: cannot open $spool/active: Permission denied" \
  "$(awk -F'\t' '$1 == "status" { print $2 }' "$work/scan_nobody.txt")"
check "as nobody: messages" 0 "$(grep -c '^message' "$work/scan_nobody.txt" || true)"
# shellcheck disable=SC2054  # setpriv takes comma-separated capability lists
cap=(--no-new-privs --inh-caps=+dac_read_search --ambient-caps=+dac_read_search --bounding-set=-all,+dac_read_search)
as_nobody "${cap[@]}" "$scan_bin" --queue-directory "$spool" --top-k 100 >"$work/scan_cap.txt"
check "as nobody + CAP_DAC_READ_SEARCH: ok" 1 "$(awk -F'\t' '$1 == "ok" { print $2 }' "$work/scan_cap.txt")"
check "as nobody + CAP_DAC_READ_SEARCH: the same messages and owners as root" \
  "$(grep -E '^(message|by_owner|queue)' "$work/scan.txt" | sort | md5sum)" \
  "$(grep -E '^(message|by_owner|queue)' "$work/scan_cap.txt" | sort | md5sum)"
deferred_dir=$(find "$spool/deferred" -mindepth 2 -maxdepth 2 -type d | head -n 1)
if as_nobody "${cap[@]}" touch "$deferred_dir/written-by-nobody" 2>/dev/null; then
  check "as nobody + CAP_DAC_READ_SEARCH: the queue stays read-only" "refused" "written"
else
  check "as nobody + CAP_DAC_READ_SEARCH: the queue stays read-only" "refused" "refused"
fi

# --- 3. the postsuper commands -------------------------------------------------------------------
echo "== postsuper commands"
commands() {  # commands OWNER: the scan's command lines for OWNER, as "what<TAB>command"
  "$scan_bin" --queue-directory "$spool" --owner "$1" --config-directory "$work/etc" |
    awk -F'\t' '$1 == "command" { print $2 "\t" $3 }'
}
command_for() {  # command_for OWNER WORD: the command line whose description starts with WORD
  commands "$1" | awk -F'\t' -v w="$2" 'index($1, w) == 1 { print $2 }'
}
ids_in() {  # ids_in QUEUE: the queue ids postqueue -j lists in QUEUE, sorted
  pf postqueue -j | python3 -c '
import json, sys
print("\n".join(sorted(m["queue_id"] for m in map(json.loads, sys.stdin) if m["queue_name"] == sys.argv[1])))' "$1"
}
alice_ids=$(awk -F'\t' '$1 == "message" && $4 == "alice@mx.example.test" { print $3 }' "$work/scan.txt" | sort)
hold=$(command_for alice@mx.example.test hold)
[[ $hold == *"postsuper -c "*" -h -" ]] || die "no hold command: $hold"
PATH=$work/bin:$PATH sh -c "$hold" 2>"$work/postsuper.log"
check "held: exactly alice's messages" "$(md5sum <<<"$alice_ids")" "$(ids_in hold | md5sum)"
check "still deferred: all the others" $((expected - alice_burst)) "$(ids_in deferred | grep -c .)"
"$scan_bin" --queue-directory "$spool" --top-k 100 >"$work/scan.txt"
check "the reader sees alice's messages in hold" "$alice_burst" \
  "$(awk -F'\t' '$1 == "message" && $2 == "hold" && $4 == "alice@mx.example.test"' "$work/scan.txt" | grep -c .)"
release=$(command_for alice@mx.example.test release)
PATH=$work/bin:$PATH sh -c "$release" 2>>"$work/postsuper.log"
check "released: hold is empty" 0 "$(ids_in hold | grep -c . || true)"
check "released: all deferred again" "$expected" "$(ids_in deferred | grep -c .)"
bob_ids=$(awk -F'\t' '$1 == "message" && $4 == "bob@mx.example.test" { print $3 }' "$work/scan.txt" | sort)
delete=$(command_for bob@mx.example.test delete)
PATH=$work/bin:$PATH sh -c "$delete" 2>>"$work/postsuper.log"
remaining=$(ids_in deferred)
check "deleted: bob's messages are gone" 0 "$(comm -12 <(echo "$bob_ids") <(echo "$remaining") | grep -c . || true)"
check "deleted: nothing else" $((expected - 3)) "$(echo "$remaining" | grep -c .)"

if [[ $failures -ne 0 ]]; then
  echo "--- scan" >&2
  cat "$work/scan.txt" >&2
  echo "--- postsuper" >&2
  cat "$work/postsuper.log" >&2
  echo "postfix_queue_e2e: $failures check(s) failed" >&2
  exit 1
fi
echo "postfix_queue_e2e: all checks passed"
