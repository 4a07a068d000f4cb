#!/usr/bin/env bash
# End to end, `mailrelay_exporter respond` with Exim: a private real Exim
# (tests/e2e/lib/exim_env.sh) whose configuration includes the SHIPPED ACL snippets
# (contrib/respond/exim-hold.acl in the DATA ACL, contrib/respond/exim-not-smtp.acl as the
# non-SMTP ACL; only their hold-list path is replaced by the test's), the exporter, a real
# Prometheus with the shipped rules (test-only copy: every `for:` divided by 10, as
# fleet_e2e.sh does) and an override file (SMTP AUTH limit 20/h, page factor 2: the page tier
# at 40), and a real Alertmanager with the shipped policy plus contrib/respond/alertmanager.yml
# merged in as its comment says (test-only: respond's route posts to the test's respond over
# plain HTTP and repeats every 15s; the other routes' timings divided as in fleet_e2e.sh).
# Loopback only.
#   respond_exim_e2e.sh BINARY
#
# Story: the fixed workload of exim_env.sh (alice, bob, carol, dave, local scripts; remote mail
# stays queued), then bob@'s password is used from 127.0.0.3 for a burst of spam (48
# recipients): MailRelayAuthrelayHigh pages for bob. Asserted:
#  1. dry-run (respond's default): the page reaches respond, which audits a hold with the exact
#     exim -Mf command naming every queued message of bob's and nothing else; nothing changes
#     (every message's frozen flag as before, no hold list);
#  2. hold mode (respond restarted; the next repeat notification reaches it): within a minute
#     of the notification every queued message of bob's is frozen, the others' are untouched;
#     bob's next authenticated submission is accepted (250) and frozen by the shipped ACL;
#     repeats are audited "unchanged"; a resolved notification releases nothing;
#  3. refusals, each audited with its reason and changing nothing (notifications made from the
#     real one respond got, labels changed): an account in --respond.never, a malformed user
#     label, an alert name respond was not told to act on, and the hourly cap (2: bob, then
#     carol held through a local-relay page, whose local submission is frozen by the shipped
#     non-SMTP ACL; then dave refused);
#  4. respond status lists bob and carol; respond's /metrics has exactly the families of
#     docs/metrics.md's respond section (promtool check metrics), and the fleet dashboard's
#     "Accounts held by respond" query returns bob and carol from Prometheus;
#  5. respond release bob@ thaws every message of his, the ACL-frozen one included, and takes
#     him off the list; the next repeat of the same alert is refused ("released").
# Oracle for "frozen": Exim's own -H files (the -frozen line) and owners (-auth_id, or --ident
# of a local submission), read by a few lines of Python here, not by the exporter's reader.
# KEEP_E2E_DIR=1 keeps the directory. RESPOND_FIXTURE=FILE copies the notification respond got
# there (how tests/fixtures/respond/alertmanager_v4_page.json was made).
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 BINARY" >&2; exit 2; }
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/e2e/lib/exim_env.sh
source "$here/lib/exim_env.sh"
# shellcheck source=tests/e2e/lib/metrics.sh
source "$here/lib/metrics.sh"
# shellcheck source=tests/e2e/lib/prom_env.sh
source "$here/lib/prom_env.sh"
# shellcheck source=tests/e2e/lib/respond_env.sh
source "$here/lib/respond_env.sh"

PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
HIJACKED=bob@mx.example.test
HIJACKER_IP=127.0.0.3
START=$SECONDS
require_tools "$bin" "$PROMETHEUS" "$ALERTMANAGER" promtool amtool swaks curl python3

work=$(mktemp -d /tmp/respond_exim_e2e.XXXXXX)
chmod 0755 "$work"
pids=()
respond_pid=""
exim_started=0
cleanup() {
  local rc=$? p
  for p in "${pids[@]}" $respond_pid; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $respond_pid; do wait "$p" 2>/dev/null || true; done
  if ((exim_started)); then exim_env_stop "$work/exim" >/dev/null 2>&1 || true; fi
  if ((rc != 0)) || [[ ${KEEP_E2E_DIR:-0} == 1 ]]; then
    echo "respond_exim_e2e: logs and configs kept in $work" >&2
    if ((rc != 0)); then
      for p in respond-dry respond-hold exporter alertmanager; do
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

# --- ports, the shipped snippets with the test's hold list -------------------------------------
smtp_port=$(exim_env_free_port)
exporter_port=$(exim_env_free_port)
prom_port=$(exim_env_free_port)
am_port=$(exim_env_free_port)
respond_port=$(exim_env_free_port)
capture_port=$(exim_env_free_port)
target=127.0.0.1:$exporter_port
prom=http://127.0.0.1:$prom_port
am=http://127.0.0.1:$am_port
respond=http://127.0.0.1:$respond_port
mkdir -p "$work/exim" "$work/respond" "$work/prometheus" "$work/alertmanager"
chmod 0755 "$work/respond"
hold_list=$work/respond/hold-list
for f in exim-hold.acl exim-not-smtp.acl; do
  sed "s|/var/lib/mailrelay-exporter/hold-list|$hold_list|g" "$repo/contrib/respond/$f" >"$work/$f"
  grep -q "$hold_list" "$work/$f" || die "contrib/respond/$f does not name the default hold list"
done
# The complete non-SMTP ACL is exim-hold.acl's statement plus `accept`.
diff <(grep -v '^#' "$work/exim-hold.acl") <(grep -v -e '^#' -e '^  accept$' "$work/exim-not-smtp.acl") ||
  die "contrib/respond/exim-not-smtp.acl's statement differs from exim-hold.acl's"
cat >"$work/conf_hook.sh" <<EOF
#!/bin/sh
# Adds the shipped snippets to exim_env.sh's configuration: a DATA ACL that includes
# exim-hold.acl, and exim-not-smtp.acl as the non-SMTP ACL (the file form, as on Debian).
python3 - "\$1" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("acl_smtp_rcpt = acl_check_rcpt\n",
              "acl_smtp_rcpt = acl_check_rcpt\nacl_smtp_data = acl_check_data\n"
              "acl_not_smtp = $work/exim-not-smtp.acl\n", 1)
s = s.replace("begin acl\n", "begin acl\n\nacl_check_data:\n.include $work/exim-hold.acl\n  accept\n", 1)
assert s.count("exim-hold.acl") == 1 and s.count("exim-not-smtp.acl") == 1
open(p, "w").write(s)
PY
EOF
chmod 0755 "$work/conf_hook.sh"

# --- Prometheus (shipped rules, test-only for:) and Alertmanager (shipped policy + respond) -----
respond_env_prometheus_config "$work" "$target" "$am_port" "127.0.0.1:$respond_port"
promtool check rules "$work/mailrelay.rules.yml" "$work/mailrelay.overrides.yml" >"$work/promtool.log" 2>&1 ||
  die "promtool check rules (see $work/promtool.log)"
respond_env_am_config "$work/alertmanager.yml" "$respond/webhook" "$target" "http://127.0.0.1:$capture_port"
amtool check-config "$work/alertmanager.yml" >"$work/amtool.log" 2>&1 ||
  { cat "$work/amtool.log" >&2; die "amtool check-config of the policy with contrib/respond/alertmanager.yml"; }
# Only the page tier of the per-account alerts reaches respond (and the pager still pages).
routes() { amtool config routes test --config.file="$work/alertmanager.yml" "$@" 2>/dev/null; }
check "route: the account page goes to respond and the pager" \
  test "$(routes alertname=MailRelayAuthrelayHigh severity=critical instance="$target" user=x)" == "respond-mx1,pager"
check "route: the account warning does not go to respond" \
  test "$(routes alertname=MailRelayAuthrelayHigh severity=warning instance="$target" user=x)" == "ticket"
check "route: the per-IP page does not go to respond" \
  test "$(routes alertname=MailRelayAuthrelayIPHigh severity=critical instance="$target" ip=x)" == "pager"

: >"$work/captured.jsonl"
respond_env_capture "$capture_port" "$work/captured.jsonl"
pids+=("$!")
respond_env_start_am_prom "$work" "$am_port" "$prom_port"

# --- Exim with the snippets, the exporter, respond in dry-run ---------------------------------
exim_started=1
EXIM_ENV_CONF_HOOK=$work/conf_hook.sh exim_env_start "$work/exim" "$smtp_port" cpanel >/dev/null
mainlog=$(exim_env_mainlog "$work/exim")
install -d -m 0750 -o root -g "$EXIM_ENV_MTA_USER" "$work/exim/spool/input"
"$bin" --web.listen-address="$target" --exim.mainlog="$mainlog" \
  --exim.rejectlog="$(exim_env_rejectlog "$work/exim")" --exim.spool-dir="$work/exim/spool" \
  --relay.local-networks=127.0.0.1/32 --no-relay.include-interface-addresses \
  --tail.poll-interval=100ms >"$work/exporter.log" 2>&1 &
pids+=("$!")
respond_flags=(--web.listen-address="127.0.0.1:$respond_port" --mta=exim
  --exim.spool-dir="$work/exim/spool" --exim.config-file="$work/exim/exim.conf"
  --exim.binary="$EXIM_ENV_BIN" --exim.whmapi1-binary=none --respond.hold-list="$hold_list"
  --respond.instance="$target" --respond.never=alice@mx.example.test
  --respond.max-actions-per-hour=2 --respond.command-timeout=20s)
start_respond() {  # start_respond NAME FLAGS...
  local name=$1
  shift
  "$bin" respond "${respond_flags[@]}" --respond.audit-log="$work/$name.jsonl" "$@" \
    >"$work/$name.log" 2>&1 &
  respond_pid=$!
  WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "$respond/-/healthy" || die "respond ($name) did not start"
}
start_respond respond-dry  # --respond.mode defaults to dry-run
say "exim :$smtp_port, exporter $target, prometheus $prom, alertmanager $am, respond $respond, dir $work"
WAIT_TIMEOUT=60 wait_for curl -fs -o /dev/null "$prom/-/ready"
WAIT_TIMEOUT=30 wait_for curl -fs -o /dev/null "$am/-/ready"
wait_prom 60 "up{job=\"mailrelay\",instance=\"$target\"}" 1
wait_prom 30 "mailrelay:threshold:authrelay_recipients_per_hour_page{instance=\"$target\"}" 40

# --- the oracle: Exim's own spool files ----------------------------------------------------------
# spool_state: one line per queued message, "id owner frozen(0/1)", sorted.
spool_state() {
  python3 - "$work/exim/spool/input" <<'PY'
import os, re, sys
root = sys.argv[1]
out = []
for d, _, files in os.walk(root):
    for f in files:
        if not f.endswith("-H"):
            continue
        try:
            text = open(os.path.join(d, f), errors="replace").read()
        except FileNotFoundError:
            continue  # delivered meanwhile
        def field(name):
            m = re.search(r"^-{1,2}" + name + r" (.*)$", text, re.M)
            return m.group(1) if m else ""
        owner = field("auth_id") or ("" if field("host_address") else field("ident"))
        frozen = 1 if re.search(r"^-frozen ", text, re.M) else 0
        out.append(f"{f[:-2]} {owner or '-'} {frozen}")
for line in sorted(out):
    print(line)
PY
}
ids_of() { awk -v o="$1" -v f="${2:-}" '$2 == o && (f == "" || $3 == f) { print $1 }' <<<"$3"; }
others_of() { awk -v o="$1" '$2 != o' <<<"$2"; }

# --- traffic: the workload, then the hijacked account's burst ----------------------------------
exim_env_send_traffic "$work/exim" "$smtp_port" >"$work/expected.txt"
rcpts=""
for ((i = 1; i <= 12; i++)); do rcpts+="${rcpts:+,}victim$i@example.com"; done
exim_env_send_burst "$work/exim" "$smtp_port" 4 "$HIJACKER_IP" invoice@billing.example "$rcpts" "$HIJACKED"
exim_env_wait_idle "$work/exim"
before=$(spool_state)
bob_ids=$(ids_of "$HIJACKED" "" "$before")
bob_count=$(wc -w <<<"$bob_ids")
((bob_count >= 6)) || die "expected bob's 2 workload messages and 4 burst messages queued, got $bob_count"
say "queued: $(wc -l <<<"$before") messages, $bob_count of them $HIJACKED's; waiting for the page"

# --- 1. dry-run ------------------------------------------------------------------------------------
# (grep -q on a here-string, not a pipe: an early exit must not SIGPIPE the writer under pipefail)
audit_has() { grep -qE "$2" <<<"$(respond_env_audit "$1")"; }
WAIT_TIMEOUT=120 wait_for audit_has "$work/respond-dry.jsonl" "^hold\|[0-9]+\|dry-run\|dry_run\|\|$HIJACKED\|would add$" ||
  die "no dry-run hold of $HIJACKED in the audit log"
say "the page reached respond (dry-run)"
dry_argv=$(python3 - "$work/respond-dry.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "hold":
        for s in r["steps"]:
            if "argv" in s:
                print(s["status"] + "|" + " ".join(s["argv"]))
        break
PY
)
want_argv="not run (dry-run)|$EXIM_ENV_BIN -C $work/exim/exim.conf -Mf $(sort <<<"$bob_ids" | tr '\n' ' ' | sed 's/ $//')"
got_argv=$(python3 -c '
import sys
for line in sys.stdin:
    status, _, argv = line.rstrip("\n").partition("|")
    words = argv.split()
    i = words.index("-Mf") + 1
    print(status + "|" + " ".join(words[:i] + sorted(words[i:])))
' <<<"$dry_argv")
check "dry-run audit holds the would-be command: exim -C ... -Mf <every queued message of $HIJACKED>" \
  test "$got_argv" == "$want_argv"
check "dry-run changed nothing in the spool" test "$(spool_state)" == "$before"
check "dry-run wrote no hold list" test ! -e "$hold_list"
dry_metrics=$(curl -fsS "$respond/metrics")
# A count of at least 1 (a missing series prints missing:..., which must fail too, not pass as != 0).
dry_holds=$(metric_value <(echo "$dry_metrics") 'mailrelay_respond_actions_total{action="hold",result="dry_run"}' || true)
check "respond counts the dry-run hold ($dry_holds)" grep -qxE '[1-9][0-9]*' <<<"$dry_holds"
if [[ -n ${RESPOND_FIXTURE:-} ]]; then
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    b = json.loads(l)
    if b.pop("path") == "/respond":
        json.dump(b, open(sys.argv[2], "w"), indent=2)
        open(sys.argv[2], "a").write("\n")
        break
' "$work/captured.jsonl" "$RESPOND_FIXTURE"
fi

# --- 2. hold mode --------------------------------------------------------------------------------
kill "$respond_pid"
wait "$respond_pid" 2>/dev/null || true
start_respond respond-hold --respond.mode=hold
check "hold mode at start: the hold list exists (empty) for the ACL" test -f "$hold_list"
WAIT_TIMEOUT=60 wait_for audit_has "$work/respond-hold.jsonl" "^hold\|[0-9]+\|hold\|(done|failed)\|" ||
  die "no hold by the hold-mode respond (a repeat notification should have come within 20s)"
hold_line=$(grep -m 1 -E '^hold\|' <<<"$(respond_env_audit "$work/respond-hold.jsonl")")
check "the hold is done: $hold_line" test "$(cut -d'|' -f4,6,7 <<<"$hold_line")" == "done|$HIJACKED|added"
timing=$(python3 - "$work/respond-hold.jsonl" <<'PY'
import datetime, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
hold = next(r for r in recs if r["event"] == "hold")
note = next(r for r in recs if r["event"] == "notification" and r["notification"] == hold["notification"])
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").timestamp()
print(int(t(hold["ts"]) - t(note["ts"])))
PY
)
check "held ${timing}s after the notification arrived (within a minute)" test "$timing" -le 60
after=$(spool_state)
check "every queued message of $HIJACKED is frozen ($bob_count)" \
  test "$(ids_of "$HIJACKED" 1 "$after" | sort)" == "$(sort <<<"$bob_ids")"
check "the other accounts' messages are untouched" \
  test "$(others_of "$HIJACKED" "$after")" == "$(others_of "$HIJACKED" "$before")"
check "the hold list names $HIJACKED" grep -q "^$HIJACKED HOLD held by mailrelay_exporter respond since=" "$hold_list"

# bob's next authenticated submission: accepted and frozen by the shipped ACL.
swaks --server 127.0.0.1 --port "$smtp_port" --local-interface "$HIJACKER_IP" --ehlo spam.example.net \
  --auth PLAIN --auth-user "$HIJACKED" --auth-password secret --from invoice@billing.example \
  --to late-victim@example.com --timeout 15 </dev/null >"$work/swaks-late.log" 2>&1 ||
  die "bob's submission after the hold was not accepted (see $work/swaks-late.log)"
late_id=$(grep -oE '250 OK id=[[:alnum:]-]+' "$work/swaks-late.log" | cut -d= -f2)
[[ -n $late_id ]] || die "no queue id in $work/swaks-late.log"
exim_env_wait_idle "$work/exim"
check "bob's new submission $late_id was accepted (250) and frozen by the ACL" \
  grep -qE "^[0-9: -]+ $late_id frozen by ACL$" "$mainlog"
check "the ACL logged why" grep -q "$late_id mailrelay_exporter respond: $HIJACKED is held, message frozen" "$mainlog"
check "$late_id is frozen in the spool" test "$(awk -v i="$late_id" '$1 == i { print $3 }' <<<"$(spool_state)")" == 1
swaks --server 127.0.0.1 --port "$smtp_port" --local-interface 127.0.0.2 --ehlo client.example.net \
  --auth PLAIN --auth-user alice@mx.example.test --auth-password secret --from alice@mx.example.test \
  --to partner9@example.com --timeout 15 </dev/null >"$work/swaks-alice.log" 2>&1 || die "alice's submission"
alice_id=$(grep -oE '250 OK id=[[:alnum:]-]+' "$work/swaks-alice.log" | cut -d= -f2)
exim_env_wait_idle "$work/exim"
check "alice's new submission $alice_id is not frozen" \
  test "$(awk -v i="$alice_id" '$1 == i { print $3 }' <<<"$(spool_state)")" == 0

# Repeats are unchanged; a resolved notification releases nothing.
WAIT_TIMEOUT=40 wait_for audit_has "$work/respond-hold.jsonl" "^hold\|[0-9]+\|hold\|unchanged\|\|$HIJACKED\|present$" ||
  die "no repeat notification answered unchanged"
check "a repeat notification is unchanged" true
resolved=$(respond_env_craft "$work/captured.jsonl" status=resolved)
check "POST of a resolved notification: 200" test "$(respond_env_post "$respond/webhook" "$resolved")" == 200
WAIT_TIMEOUT=15 wait_for audit_has "$work/respond-hold.jsonl" "^ignored\|[0-9]+\|\|\|resolved\|$HIJACKED\|$" ||
  die "the resolved notification was not audited as ignored"
check "the resolved notification released nothing" test "$(ids_of "$HIJACKED" 0 "$(spool_state)")" == ""

# --- 3. refusals (from the notification respond got, labels changed) ---------------------------
refusals() { respond_env_audit "$work/respond-hold.jsonl" | grep -c "^refusal|.*|$1|" || true; }
more_refusals() { (($(refusals "$1") > $2)); }
refusal() {  # refusal REASON WHAT KEY=VALUE...
  local reason=$1 what=$2 n
  shift 2
  n=$(refusals "$reason")
  check "POST ($what): 200" test "$(respond_env_post "$respond/webhook" "$(respond_env_craft "$work/captured.jsonl" "$@")")" == 200
  WAIT_TIMEOUT=15 wait_for more_refusals "$reason" "$n" || die "no audited refusal '$reason' for $what"
  check "refusal '$reason' audited for $what" true
}
state_before_refusals=$(spool_state)
refusal never "alice@, in --respond.never" user=alice@mx.example.test
refusal implausible_account "a user label with a newline and a path" "user=bob@mx.example.test
../../etc/passwd"
refusal alert_not_listed "MailSpoofedSender, not in --respond.alerts" alertname=MailSpoofedSender
# The cap (2 an hour): carol is held through a local-relay page, then dave is refused.
check "POST (carol's local-relay page): 200" test "$(respond_env_post "$respond/webhook" \
  "$(respond_env_craft "$work/captured.jsonl" alertname=MailRelayLocalrelayHigh class=localrelay user=carol)")" == 200
WAIT_TIMEOUT=30 wait_for audit_has "$work/respond-hold.jsonl" "^hold\|[0-9]+\|hold\|done\|\|carol\|added$" ||
  die "carol (second action of the hour) was not held"
refusal rate_limited "dave@, a third account within the hour" user=dave@mx.example.test
after_refusals=$(spool_state)
check "the refusals changed nothing (alice's and dave's mail, carol's aside)" \
  test "$(awk '$2 != "carol"' <<<"$after_refusals")" == "$(awk '$2 != "carol"' <<<"$state_before_refusals")"
check "the hold list has bob and carol only" \
  test "$(grep -v '^#' "$hold_list" | awk '{ print $1 }' | sort | tr '\n' ' ')" == "$HIJACKED carol "
audit_file=$work/respond-hold.jsonl
check "the malformed label is audited as sent (hex of the raw bytes)" \
  grep -q '"account_hex":"626f62406d782e6578616d706c652e746573740a2e2e2f2e2e2f6574632f706173737764"' "$audit_file"
# carol's local submission (sendmail, U=carol) is frozen by the non-SMTP ACL.
printf 'Subject: cron\n\nhello\n' | exim_env_exim "$work/exim" -odi -oi -oMt carol -f carol@mx.example.test someone@example.com ||
  die "carol's local submission"
carol_id=$(grep -E " <= carol@mx.example.test U=carol P=local .* for someone@example.com$" "$mainlog" | tail -1 | awk '{ print $3 }')
check "carol's local submission ${carol_id:-?} was frozen by the non-SMTP ACL" \
  grep -qE "^[0-9: -]+ ${carol_id:-none} frozen by ACL$" "$mainlog"

# --- 4. status, metrics, the dashboard panel -------------------------------------------------
"$bin" respond status "${respond_flags[@]}" >"$work/status.txt" 2>&1 || die "respond status failed: $(cat "$work/status.txt")"
check "respond status: 2 accounts held" grep -q ": 2 account(s) held$" "$work/status.txt"
check "respond status: bob since when, by which alert" \
  grep -qE "^$HIJACKED +[0-9T:Z-]+ +$((bob_count + 1)) +$((bob_count + 1)) +MailRelayAuthrelayHigh$" "$work/status.txt"
check "respond status: carol (local-relay page)" grep -qE "^carol +[0-9T:Z-]+ +[0-9]+ +[0-9]+ +MailRelayLocalrelayHigh$" "$work/status.txt"
curl -fsS "$respond/metrics" >"$work/respond.metrics"
check "respond's /metrics passes promtool check metrics" promtool check metrics <"$work/respond.metrics"
grep '^# TYPE mailrelay_respond_' "$work/respond.metrics" | awk '{ print $3 }' | sort >"$work/respond.families"
# shellcheck disable=SC2016 # backticks are markdown
sed -n '/^## respond/,/^## /p' "$repo/docs/metrics.md" | grep -oE '^\| `mailrelay_respond_[a-z_]+`' | tr -d '|` ' |
  sort >"$work/respond.documented"
check "respond exposes exactly the families docs/metrics.md lists for it" diff "$work/respond.families" "$work/respond.documented"
mv_() { metric_value "$work/respond.metrics" "$1"; }
check "held_accounts 2" test "$(mv_ mailrelay_respond_held_accounts)" == 2
check "hold done 2" test "$(mv_ 'mailrelay_respond_actions_total{action="hold",result="done"}')" == 2
for r in never implausible_account alert_not_listed rate_limited; do
  check "refusals{reason=$r} 1" test "$(mv_ "mailrelay_respond_refusals_total{reason=\"$r\"}")" == 1
done
panel_expr=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(next(p for p in d["panels"] if p["title"] == "Accounts held by respond")["targets"][0]["expr"])
' "$repo/dashboards/mailrelay-fleet.json")
held_in_prom() { [[ $(promql "$panel_expr" | grep -oE 'user=[^, ]+' | sort | tr '\n' ' ') == "user=$HIJACKED user=carol " ]]; }
WAIT_TIMEOUT=30 wait_for held_in_prom || die "the dashboard's held-accounts query does not list bob and carol: $(promql "$panel_expr")"
check "dashboard 'Accounts held by respond' lists bob and carol" true

# --- 5. release -------------------------------------------------------------------------------------
"$bin" respond release "$HIJACKED" "${respond_flags[@]}" --respond.audit-log="$audit_file" \
  >"$work/release.txt" 2>&1 || die "respond release failed: $(cat "$work/release.txt")"
check "release reports done" grep -q "^release $HIJACKED: done$" "$work/release.txt"
released=$(spool_state)
check "every message of $HIJACKED is thawed, the ACL-frozen $late_id too" \
  test "$(ids_of "$HIJACKED" 1 "$released")" == ""
check "carol stays held" test -n "$(ids_of carol 1 "$released")"
check "the hold list no longer names $HIJACKED" test -z "$(grep "^$HIJACKED " "$hold_list" || true)"
check "the audit has the release by the operator" \
  audit_has "$audit_file" "^release\|\|hold\|done\|\|$HIJACKED\|removed$"
n_released=$(refusals released)
WAIT_TIMEOUT=40 wait_for more_refusals released "$n_released" ||
  die "the next repeat of bob's page was not refused as released"
check "the next repeat of the same page is refused (released), bob's mail stays thawed" \
  test "$(ids_of "$HIJACKED" 1 "$(spool_state)")" == ""
"$bin" respond release carol "${respond_flags[@]}" --respond.audit-log="$audit_file" >>"$work/release.txt" 2>&1 ||
  die "respond release carol failed"
check "carol released" test "$(ids_of carol 1 "$(spool_state)")" == ""

if ((failures > 0)); then
  die "$failures respond e2e checks failed"
fi
say "respond exim e2e: all checks passed ($((SECONDS - START))s)"
