#!/usr/bin/env bash
# End to end, `mailrelay_exporter respond` with Postfix: a private real Postfix
# (tests/e2e/lib/postfix_env.sh: Debian's package unpacked, Cyrus sasldb AUTH, mail to remote
# domains stays deferred) configured with the SHIPPED snippets -- contrib/respond/postfix-main.cf
# (check_sasl_access on the hold list) and contrib/respond/postfix-master.cf (pickup's own
# cleanup with the held local users' uid table), only the hold-list path replaced and the chroot
# column set to n as in the rest of the private master.cf -- the exporter (--mta=postfix),
# Prometheus with the shipped rules (test-only for: / 10) and an override file, Alertmanager
# with the shipped policy and contrib/respond/alertmanager.yml merged in (as in
# respond_exim_e2e.sh), and respond in hold mode. Loopback only.
#   respond_postfix_e2e.sh BINARY
# Asserted:
#  1. a hijacked SMTP AUTH account's burst (bob@, from 127.0.0.3) pages; within a minute of the
#     notification every queued message of bob's is in the hold queue (postsuper -h), nobody
#     else's is; bob's next authenticated submission is accepted (250) and lands in the hold
#     queue (smtpd: "hold: ... SASL login name held"), alice's is not held;
#  2. a local user's page (made from the real notification, label changed: www-data, whose
#     sendmail mail is queued) holds www-data's queued mail and, through the pickup uid table
#     and `postfix reload`, its next sendmail message; nobody's local mail is not held;
#  3. respond release bob@ / www-data puts all their held messages back (postsuper -H) and
#     their next mail flows again (the map was rebuilt: postmap; the uid table emptied:
#     reload).
# Dry-run, refusals, status and metrics are MTA-neutral and asserted by respond_exim_e2e.sh.
# Oracle: postqueue -j (queue of each id) and postcat -q (sasl_username, or pickup's "from
# userid N"), not the exporter's reader. KEEP_E2E_DIR=1 keeps the directory.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 BINARY" >&2; exit 2; }
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/e2e/lib/postfix_env.sh
source "$here/lib/postfix_env.sh"
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"
# shellcheck source=tests/e2e/lib/prom_env.sh
source "$here/lib/prom_env.sh"
# shellcheck source=tests/e2e/lib/respond_env.sh
source "$here/lib/respond_env.sh"

PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
HIJACKED=bob@mx.example.test
START=$SECONDS
require_tools "$bin" "$PROMETHEUS" "$ALERTMANAGER" promtool amtool swaks curl python3 \
  saslpasswd2 apt-get dpkg setpriv getent
((EUID == 0)) || die "needs root (a private Postfix master, postsuper)"

work=$(mktemp -d /tmp/respond_postfix_e2e.XXXXXX)
pids=()
respond_pid=""
cleanup() {
  local rc=$? p
  postfix_env_stop "$work/pf" >/dev/null 2>&1 || true
  for p in "${pids[@]}" $respond_pid; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $respond_pid; do wait "$p" 2>/dev/null || true; done
  if ((rc != 0)) || [[ ${KEEP_E2E_DIR:-0} == 1 ]]; then
    echo "respond_postfix_e2e: logs and configs kept in $work" >&2
    if ((rc != 0)); then
      for p in respond exporter; do
        [[ -f $work/$p.log ]] && { echo "--- tail $p.log" >&2; tail -8 "$work/$p.log" >&2; }
      done
    fi
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "  ok   $what"
  else
    echo "  FAIL $what" >&2
    failures=$((failures + 1))
  fi
}

# --- Postfix with the shipped snippets -----------------------------------------------------------
pf=$work/pf
mkdir -p "$work/respond"
chmod 0755 "$work" "$work/respond"
hold_list=$work/respond/hold-list
snippet() { grep -v -e '^#' -e '^$' "$repo/contrib/respond/$1" | sed "s|/var/lib/mailrelay-exporter/hold-list|$hold_list|g"; }
main_cf=$(snippet postfix-main.cf)
grep -q "check_sasl_access hash:$hold_list" <<<"$main_cf" || die "contrib/respond/postfix-main.cf changed: no check_sasl_access"
smtp_port=$(postfix_env_free_port)
POSTFIX_ENV_MAIN_CF=$(printf 'enable_long_queue_ids = yes\n%s\n' "$main_cf") postfix_env_setup "$pf" "$smtp_port"
# master.cf: the snippet's pickup and cleanup services instead of the private pickup line;
# the chroot column n as everywhere in the private master.cf (no chroot tree here).
snippet postfix-master.cf | awk '!/^ / { $5 = "n" } { print }' >"$work/master.snippet"
if ! grep -q '^pickup ' "$work/master.snippet" ||
  ! grep -q "header_checks=regexp:$hold_list.pickup-uids.regexp" "$work/master.snippet"; then
  die "contrib/respond/postfix-master.cf changed: no pickup/cleanup lines"
fi
grep -v '^pickup ' "$pf/etc/master.cf" >"$work/master.cf"
cat "$work/master.snippet" >>"$work/master.cf"
cp "$work/master.cf" "$pf/etc/master.cf"
# As the docs say: the list and the pickup table exist before Postfix starts (respond's first
# sync in hold mode makes them; here respond starts after Postfix, so make them as an admin
# would).
install -m 0644 /dev/null "$hold_list"
install -m 0644 /dev/null "$hold_list.pickup-uids.regexp"
postfix_env_cmd "$pf" postmap "hash:$hold_list" 2>/dev/null
postfix_env_start "$pf"
pfc() { postfix_env_cmd "$pf" "$@" 2>/dev/null; }
check "postconf: check_sasl_access first in smtpd_sender_restrictions" \
  test "$(pfc postconf -h smtpd_sender_restrictions | awk '{ print $1 }')" == check_sasl_access
maillog=$pf/log/mail.log

# --- Prometheus, Alertmanager, the exporter, respond (hold mode) --------------------------------
exporter_port=$(postfix_env_free_port)
prom_port=$(postfix_env_free_port)
am_port=$(postfix_env_free_port)
respond_port=$(postfix_env_free_port)
capture_port=$(postfix_env_free_port)
target=127.0.0.1:$exporter_port
prom=http://127.0.0.1:$prom_port
am=http://127.0.0.1:$am_port
respond=http://127.0.0.1:$respond_port
respond_env_prometheus_config "$work" "$target" "$am_port"
respond_env_am_config "$work/alertmanager.yml" "$respond/webhook" "$target" "http://127.0.0.1:$capture_port"
amtool check-config "$work/alertmanager.yml" >"$work/amtool.log" 2>&1 || die "amtool check-config (see $work/amtool.log)"
: >"$work/captured.jsonl"
respond_env_capture "$capture_port" "$work/captured.jsonl"
pids+=("$!")
respond_env_start_am_prom "$work" "$am_port" "$prom_port"
"$bin" --mta=postfix --postfix.log="$maillog" --postfix.queue-source=none \
  --web.listen-address="$target" --relay.local-networks=127.0.0.1/32 \
  --no-relay.include-interface-addresses --tail.poll-interval=100ms >"$work/exporter.log" 2>&1 &
pids+=("$!")
respond_flags=(--mta=postfix --postfix.queue-directory="$pf/spool" --postfix.config-directory="$pf/etc"
  --respond.hold-list="$hold_list" --respond.audit-log="$work/audit.jsonl" --respond.mode=hold
  --respond.instance="$target" --respond.command-timeout=20s)
# postsuper, postmap and postfix are found in PATH: the private prefix's wrappers first.
PATH=$pf/bin:$PATH "$bin" respond --web.listen-address="127.0.0.1:$respond_port" "${respond_flags[@]}" \
  >"$work/respond.log" 2>&1 &
respond_pid=$!
WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "$respond/-/healthy" || die "respond did not start"
say "postfix :$smtp_port, exporter $target, prometheus $prom, alertmanager $am, respond $respond, dir $work"
WAIT_TIMEOUT=60 wait_for curl -fs -o /dev/null "$prom/-/ready"
WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "$am/-/ready"
wait_prom 60 "up{job=\"mailrelay\",instance=\"$target\"}" 1

# --- the oracle: postqueue -j and postcat -q ---------------------------------------------------
queue_state() {  # "id owner queue" per queued message, sorted
  local id queue owner uid
  pfc postqueue -j | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    print(m["queue_id"], m["queue_name"])
' | while read -r id queue; do
    pfc postcat -e -h -q "$id" >"$work/postcat.txt" || continue  # gone meanwhile
    owner=$(sed -n 's/^named_attribute: sasl_username=//p' "$work/postcat.txt")
    if [[ -z $owner ]] && ! grep -q '^named_attribute: client_address=' "$work/postcat.txt"; then
      uid=$(sed -n 's/^Received: by .* (Postfix, from userid \([0-9]*\))$/\1/p' "$work/postcat.txt" | sed -n 1p)
      [[ -z $uid ]] || owner=$(getent passwd "$uid" | cut -d: -f1)
    fi
    echo "$id ${owner:--} $queue"
  done | sort
}
held_ids() { awk -v o="$1" -v h="$2" '$2 == o && (($3 == "hold") == (h == 1)) { print $1 }' <<<"$3"; }
others() { awk -v o="$1" '$2 != o' <<<"$2"; }
smtp() {  # smtp SRC USER RCPTS: one authenticated message; prints its queue id
  swaks -s 127.0.0.1 -p "$smtp_port" --local-interface "$1" --timeout 15 -a PLAIN -au "$2" -ap secret \
    -f "$2" -t "$3" </dev/null >"$work/swaks.out" 2>&1 || { cat "$work/swaks.out" >&2; die "swaks as $2 failed"; }
  grep -oE '250 2\.0\.0 Ok: queued as [[:alnum:]]+' "$work/swaks.out" | awk '{ print $NF }'
}
local_mail() {  # local_mail USER RCPT: one sendmail message as USER
  printf 'Subject: from %s\n\nlocal mail\n' "$1" | postfix_env_sendmail "$pf" "$1" -f "$1@mx.example.test" "$2" 2>/dev/null ||
    die "sendmail as $1"
}
settled() {  # the queue has N messages and none in maildrop/incoming
  local state
  state=$(pfc postqueue -j | python3 -c 'import json, sys; q = [json.loads(l)["queue_name"] for l in sys.stdin]; print(len(q), sum(n in ("maildrop", "incoming") for n in q))')
  [[ $state == "$1 0" ]]
}

# --- traffic ---------------------------------------------------------------------------------------
smtp 127.0.0.2 alice@mx.example.test partner1@example.com,partner2@example.net >/dev/null
smtp 127.0.0.2 alice@mx.example.test partner3@example.com >/dev/null
smtp 127.0.0.2 carol@mx.example.test client@example.org >/dev/null
smtp 127.0.0.2 "$HIJACKED" friend@example.org >/dev/null
local_mail www-data customer@example.com
local_mail nobody list@example.org
rcpts=""
for ((i = 1; i <= 12; i++)); do rcpts+="${rcpts:+,}victim$i@example.com"; done
for ((i = 1; i <= 4; i++)); do smtp 127.0.0.3 "$HIJACKED" "$rcpts" >/dev/null; done
WAIT_TIMEOUT=30 wait_for settled 10 || die "expected 10 queued messages: $(pfc postqueue -p)"
before=$(queue_state)
bob_ids=$(awk -v o="$HIJACKED" '$2 == o { print $1 }' <<<"$before")
check "the oracle sees bob's 5 messages" test "$(wc -w <<<"$bob_ids")" == 5
check "the oracle sees www-data's message" test "$(awk '$2 == "www-data"' <<<"$before" | wc -l)" == 1
say "10 messages queued, 5 of them $HIJACKED's; waiting for the page"

# --- 1. the page holds bob ---------------------------------------------------------------------
# (grep -q on a here-string, not a pipe: an early exit must not SIGPIPE the writer under pipefail)
audit_has() { grep -qE "$1" <<<"$(respond_env_audit "$work/audit.jsonl")"; }
WAIT_TIMEOUT=120 wait_for audit_has "^hold\|[0-9]+\|hold\|(done|failed)\|\|$HIJACKED\|" || die "no hold of $HIJACKED"
hold_line=$(grep -m 1 -E '^hold\|' <<<"$(respond_env_audit "$work/audit.jsonl")")
check "the hold is done: $hold_line" test "$(cut -d'|' -f4,6,7 <<<"$hold_line")" == "done|$HIJACKED|added"
timing=$(python3 - "$work/audit.jsonl" <<'PY'
import datetime, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
hold = next(r for r in recs if r["event"] == "hold")
note = next(r for r in recs if r["event"] == "notification" and r["notification"] == hold["notification"])
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").timestamp()
print(int(t(hold["ts"]) - t(note["ts"])))
PY
)
check "held ${timing}s after the notification arrived (within a minute)" test "$timing" -le 60
check "the hold ran postsuper -h on bob's ids and postmap" python3 - "$work/audit.jsonl" "$bob_ids" <<'PY'
import json, sys
hold = next(json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["event"] == "hold")
argvs = [s["argv"] for s in hold["steps"] if "argv" in s]
held = sorted(a[i + 1] for a in argvs if a[0].endswith("/postsuper") for i, w in enumerate(a) if w == "-h")
assert held == sorted(sys.argv[2].split()), (held, sys.argv[2])
assert any(a[0].endswith("/postmap") and a[-1].startswith("hash:") for a in argvs), argvs
PY
after=$(queue_state)
check "every queued message of bob's is in the hold queue" \
  test "$(held_ids "$HIJACKED" 1 "$after" | sort)" == "$(sort <<<"$bob_ids")"
check "nobody else's message is held" test "$(others "$HIJACKED" "$after")" == "$(others "$HIJACKED" "$before")"
late=$(smtp 127.0.0.3 "$HIJACKED" late-victim@example.com)
check "bob's next submission $late was accepted (250)" test -n "$late"
WAIT_TIMEOUT=15 wait_for settled 11 || die "bob's late message did not settle"
check "bob's next submission is in the hold queue (check_sasl_access HOLD)" \
  test "$(awk -v i="$late" '$1 == i { print $3 }' <<<"$(queue_state)")" == hold
check "smtpd logged why" grep -q "hold: RCPT from .*<$HIJACKED>: SASL login name held by mailrelay_exporter respond" "$maillog"
alice_late=$(smtp 127.0.0.2 alice@mx.example.test partner4@example.com)
WAIT_TIMEOUT=15 wait_for settled 12 || die "alice's message did not settle"
check "alice's next submission is not held" test "$(awk -v i="$alice_late" '$1 == i { print $3 }' <<<"$(queue_state)")" != hold

# --- 2. a local user's page holds its queued and its next sendmail mail -------------------------
WAIT_TIMEOUT=20 wait_for grep -q '"path": "/respond"' "$work/captured.jsonl" || die "no captured notification"
code=$(respond_env_post "$respond/webhook" \
  "$(respond_env_craft "$work/captured.jsonl" alertname=MailRelayLocalrelayHigh class=localrelay user=www-data)")
check "POST of www-data's local-relay page: 200" test "$code" == 200
WAIT_TIMEOUT=30 wait_for audit_has "^hold\|[0-9]+\|hold\|done\|\|www-data\|added$" || die "www-data was not held"
check "the pickup table names www-data's uid" \
  grep -q "from userid $(id -u www-data)\\\\)/ HOLD held by mailrelay_exporter respond: local user www-data" "$hold_list.pickup-uids.regexp"
check "respond ran postfix reload for it" python3 - "$work/audit.jsonl" <<'PY'
import json, sys
hold = [json.loads(l) for l in open(sys.argv[1]) if '"account":"www-data"' in l and '"event":"hold"' in l][-1]
assert any(s.get("argv", [""])[-1] == "reload" and s["status"] == "ok" for s in hold["steps"]), hold["steps"]
PY
check "www-data's queued message is held" test "$(held_ids www-data 0 "$(queue_state)")" == ""
local_mail www-data customer2@example.com
local_mail nobody list2@example.org
WAIT_TIMEOUT=20 wait_for settled 14 || die "the local messages did not settle"
state=$(queue_state)
check "www-data's next sendmail message is held (pickup cleanup header_checks)" \
  test "$(held_ids www-data 0 "$state")" == ""
check "nobody's sendmail message is not held" test "$(held_ids nobody 1 "$state")" == ""
check "cleanup logged why" grep -q "hold: header Received: by .*from userid $(id -u www-data)).*held by mailrelay_exporter respond: local user www-data" "$maillog"

# --- 3. release ------------------------------------------------------------------------------------
PATH=$pf/bin:$PATH "$bin" respond release "$HIJACKED" "${respond_flags[@]}" >"$work/release.txt" 2>&1 ||
  die "respond release failed: $(cat "$work/release.txt")"
check "release reports done" grep -q "^release $HIJACKED: done$" "$work/release.txt"
state=$(queue_state)
check "all of bob's messages left the hold queue, the late one too" test "$(held_ids "$HIJACKED" 1 "$state")" == ""
check "www-data stays held" test -z "$(held_ids www-data 0 "$state")"
after_release=$(smtp 127.0.0.3 "$HIJACKED" after-release@example.com)
WAIT_TIMEOUT=15 wait_for settled 15 || die "bob's message after the release did not settle"
check "bob's mail after the release is not held (postmap rebuilt the map)" \
  test "$(awk -v i="$after_release" '$1 == i { print $3 }' <<<"$(queue_state)")" != hold
PATH=$pf/bin:$PATH "$bin" respond release www-data "${respond_flags[@]}" >>"$work/release.txt" 2>&1 ||
  die "respond release www-data failed"
local_mail www-data customer3@example.com
WAIT_TIMEOUT=20 wait_for settled 16 || die "www-data's message after the release did not settle"
check "www-data's mail after the release is not held (uid table emptied, reload)" \
  test "$(held_ids www-data 1 "$(queue_state)")" == ""

if ((failures > 0)); then
  die "$failures respond postfix e2e checks failed"
fi
say "respond postfix e2e: all checks passed ($((SECONDS - START))s)"
