#!/usr/bin/env bash
# exim_smoke.sh [PROFILE...] -- smoke test of tests/e2e/lib/exim_env.sh against the real Exim.
#
# For each PROFILE (default: cpanel debian; also: full) it starts a private Exim on a free
# 127.0.0.1 port in a mktemp directory, sends the fixed workload, prints the expected counts
# and the mainlog, and checks with grep that every kind of line the exporter relies on is
# there.  Needs root, exim4-daemon-heavy and swaks.  Exit status 0 = all profiles passed.
# EXIM_SMOKE_KEEP=1 keeps the directories (they are always kept when a profile fails).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/exim_env.sh disable=SC1091
source "$here/lib/exim_env.sh"

fails=0
check() { # check DESCRIPTION ERE [MIN_COUNT]
    local n
    n=$(grep -cE -- "$2" "$log" || true)
    if ((n >= ${3:-1})); then
        printf 'ok    %-62s (%s)\n' "$1" "$n"
    else
        printf 'FAIL  %-62s (%s, want >= %s)\n' "$1" "$n" "${3:-1}"
        fails=$((fails + 1))
    fi
}
check_eq() { # check_eq DESCRIPTION GOT WANT
    if [[ $2 == "$3" ]]; then
        printf 'ok    %-62s (%s)\n' "$1" "$2"
    else
        printf 'FAIL  %-62s (got %s, want %s)\n' "$1" "$2" "$3"
        fails=$((fails + 1))
    fi
}
expected() { awk -v k="$1" '$1 == k { print $2 }' "$dir/expected.txt"; }

run_profile() {
    local profile=$1 port id
    dir=$(mktemp -d /tmp/exim_smoke.XXXXXX)
    trap 'exim_env_stop "$dir"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    port=$(exim_env_free_port)
    log=$(exim_env_mainlog "$dir")
    echo "##### profile $profile: dir $dir port $port"
    exim_env_start "$dir" "$port" "$profile"
    exim_env_send_traffic "$dir" "$port" >"$dir/expected.txt"
    echo "----- expected counts"
    cat "$dir/expected.txt"
    echo "----- $log"
    cat "$log"
    echo "----- checks ($profile)"
    id=$_EXIM_ENV_ID
    check "<= A=dovecot_login:alice@mx.example.test P=esmtpa from [127.0.0.2]" \
        " $id <= alice@mx\.example\.test H=\(client\.example\.net\) \[127\.0\.0\.2\](:[0-9]+)? .*P=esmtpa .*A=dovecot_login:alice@mx\.example\.test " 3
    check "<= A=dovecot_plain: (spoofed sender ceo@bank.example)" \
        " $id <= ceo@bank\.example .*P=esmtpa .*A=dovecot_plain:alice@mx\.example\.test "
    check "<= A=dovecot_plain:carol (bare user)" " $id <= carol@mx\.example\.test .*A=dovecot_plain:carol "
    check "<= A=dovecot_plain:dave from [127.0.0.1]" " $id <= dave@mx\.example\.test H=\(webmail\.mx\.example\.test\) \[127\.0\.0\.1\].* P=esmtpa .*A=dovecot_plain:dave@mx\.example\.test "
    check "<= U=www-data P=local" " $id <= www-data@mx\.example\.test U=www-data P=local " 2
    check "<= U=nobody P=local" " $id <= nobody@mx\.example\.test U=nobody P=local "
    check "<= U=root P=local" " $id <= ghost-sender@mx\.example\.test U=root P=local "
    check "<= <> R=<id> U=<exim user> P=local (local bounces)" " $id <= <> R=$id U=[^ ]+ P=local " 2
    check "<= P=esmtp from [127.0.0.2]" " $id <= [^ ]+ H=[^=]*\[127\.0\.0\.2\](:[0-9]+)? .*P=esmtp " 3
    check "<= H=([10.9.8.7]) [127.0.0.2] P=esmtp (IP-literal HELO)" " $id <= sender@example\.net H=\(\[10\.9\.8\.7\]\) \[127\.0\.0\.2\](:[0-9]+)? .*P=esmtp "
    check "<= <> from [127.0.0.2] P=esmtp (inbound bounce)" " $id <= <> H=\(client\.example\.net\) \[127\.0\.0\.2\](:[0-9]+)? .*P=esmtp "
    check "<= P=esmtp from [127.0.0.1]" " $id <= app@mx\.example\.test H=\(localhost\) \[127\.0\.0\.1\](:[0-9]+)? .*P=esmtp " 2
    check "authenticator failed ... 535 (set_id=alice@mx.example.test)" \
        " dovecot_(plain|login) authenticator failed for \(client\.example\.net\) \[127\.0\.0\.2\].*: 535 Incorrect authentication data \(set_id=alice@mx\.example\.test\)" 3
    check "authenticator failed ... 535 (set_id=mallory)" \
        " dovecot_plain authenticator failed for .*\[127\.0\.0\.2\].*: 535 Incorrect authentication data \(set_id=mallory\)"
    check "rejected RCPT ... relay not permitted" \
        " H=\(client\.example\.net\) \[127\.0\.0\.2\].* F=<spammer@example\.net> rejected RCPT <victim@example\.com>: relay not permitted" 2
    check "rejected RCPT ... Unrouteable address" " rejected RCPT <ghost@mx\.example\.test>: Unrouteable address"
    check "=> local delivery" " $id => alice <alice@mx\.example\.test> .*R=local_user T=local_delivery" 3
    check "** Unrouteable address" " $id \*\* ghost2?@mx\.example\.test[ :].*Unrouteable address" 2
    check "== defer (111) Connection refused" " $id == [^ ]+ R=remote T=remote_smtp defer \(111\): Connection refused"
    check "Frozen (delivery error message)" " $id Frozen \(delivery error message\)"
    if [[ $profile != debian ]]; then
        check "cpanel/full: ' for ' recipients on <=" " $id <= alice@mx\.example\.test .* for partner1@example\.com partner2@example\.net$" 3
        check "cpanel/full: T=\"subject\" with field look-alikes" 'T="fwd: A=dovecot_login:mallory P=esmtpa for x@y\.example"'
        check "cpanel/full: cwd= N args: lines" " cwd=$dir/www/public_html [0-9]+ args: .* -oMt www-data " 2
        check "cpanel/full: [ip]:port and I=[127.0.0.1]:$port" " \[127\.0\.0\.2\]:[0-9]+ I=\[127\.0\.0\.1\]:$port "
    else
        check_eq "debian: no ' for ' on <= lines" "$(grep -cE " $id <= .* for " "$log" || true)" 0
        check "debian: no ports, no I=" " $id <= alice@mx\.example\.test H=\(client\.example\.net\) \[127\.0\.0\.2\] P=esmtpa " 3
    fi
    if [[ $profile == full ]]; then
        check "full: [pid] and milliseconds" "^[0-9-]+ [0-9:]+\.[0-9]{3} \[[0-9]+\] $id <= " 19
    fi
    check_eq "exim -bpc == queue/messages" "$(exim_env_exim "$dir" -bpc)" "$(expected queue/messages)"
    check_eq "paniclog empty" "$(cat "$(exim_env_paniclog "$dir")" 2>/dev/null || true)" ""
    check_eq "daemon alive after traffic" "$(kill -0 "$(cat "$dir/exim.pid")" && echo yes)" yes
    exim_env_stop "$dir"
    trap - EXIT
    check_eq "no exim process left for $dir" "$(_exim_env_pids "$dir/exim.conf" | wc -l)" 0
    if ((fails > 0)); then
        echo "##### profile $profile: $fails check(s) FAILED; files kept in $dir"
        return 1
    fi
    echo "##### profile $profile: all checks passed ($SECONDS s so far)"
    if [[ ${EXIM_SMOKE_KEEP:-0} == 1 ]]; then
        echo "kept $dir"
    else
        rm -rf "$dir"
    fi
}

(($# > 0)) || set -- cpanel debian
for profile in "$@"; do
    # one subshell per profile, so each has its own EXIT trap that stops its daemon
    (run_profile "$profile")
done
echo "exim_smoke: all profiles passed: $* (${SECONDS}s)"
