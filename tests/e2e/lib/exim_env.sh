# shellcheck shell=bash
#
# exim_env.sh -- a private, loopback-only Exim for mailrelay_exporter end-to-end tests.
#
# Source this file (bash >= 4.3); it only defines functions and defaults.
#
#   exim_env_free_port [LO [HI]]             print a free TCP port reserved for this test
#                                            until it exits (tests/lib/ports.py, the suite's
#                                            one allocator; LO and HI are ignored)
#   exim_env_start DIR PORT [PROFILE]        write DIR/exim.conf, start the daemon on
#                                            127.0.0.1:PORT, wait until it listens
#   exim_env_stop DIR                        stop the daemon and every exim process still
#                                            running with DIR/exim.conf; keep logs and spool
#   exim_env_send_traffic DIR PORT           send the fixed workload (below), wait until
#                                            the mainlog shows all of it, print the expected
#                                            counts on stdout as "key value" lines
#   exim_env_exim DIR ARGS...                run exim with DIR's config (e.g. -bpc, -bp, -Mvh)
#   exim_env_mainlog DIR / exim_env_rejectlog DIR / exim_env_paniclog DIR   print the path
#
# PROFILE (log_selector):
#   cpanel (default)  +all minus noisy bits (the selector of classification.md Appendix A):
#                     has " for rcpt..." (received_recipients), " from <..>" (received_sender),
#                     T="subject", [ip]:port + I=[ip]:port (incoming_port/interface),
#                     cwd=... N args: (arguments), SMTP connection lines, QT=/DT=/RT=, ...
#   debian            Debian's default MAIN_LOG_SELECTOR: +smtp_protocol_error
#                     +smtp_syntax_error +tls_certificate_verified +tls_peerdn
#                     (no " for ", no T=, no ports, no cwd= lines)
#   full              +all (adds [pid] and .mmm milliseconds to every line)
#
# Layout under DIR (the caller creates DIR, e.g. with mktemp -d; it must not have been used
# by exim_env_start before):
#   DIR/exim.conf      the configuration           DIR/exim.pid   daemon pid (-oP)
#   DIR/spool/         spool_directory (input/, msglog/, db/)
#   DIR/log/mainlog    main log (log_file_path = DIR/log/%slog), also rejectlog (created empty
#                      at start), paniclog
#   DIR/log/swaks.log  transcript of every SMTP session sent by exim_env_send_traffic
#   DIR/log/daemon.out stdout/stderr of the daemon start
#   DIR/mail/<user>    local deliveries (appendfile, mbox format)
#   DIR/www/public_html  cwd of the www-data submissions (shows up in cwd= lines)
#   DIR/state          key=value state (port, sink port, profile, privilege mode)
#
# Mail setup (see _exim_env_conf_template):
#   - listens on 127.0.0.1:PORT only; host_lookup, rfc1413 (ident) and TLS are off, so no DNS
#     and no certificates are needed.  127.0.0.2 plays a remote client (swaks
#     --local-interface 127.0.0.2), 127.0.0.1 is localhost.
#   - local domain mx.example.test with a fixed user list: alice bob carol dave postmaster
#     www-data nobody, delivered to DIR/mail/<user>.  Any other local part is unrouteable:
#     over SMTP it is refused at RCPT ("rejected RCPT <x>: Unrouteable address"), for local
#     submissions it fails ("** x ... Unrouteable address") and produces a bounce.
#   - every other domain goes (manualroute, self = send) to 127.0.0.1 on a port nobody
#     listens on, so remote deliveries are deferred ("== ... defer (111): Connection refused",
#     later "defer (-54) ... retry time not reached") and stay on the queue; nothing leaves
#     the machine.
#   - authenticators dovecot_login (LOGIN) and dovecot_plain (PLAIN), plaintext, advertised
#     to every host without TLS; server_set_id = the user name.  Valid logins, password
#     "secret": alice@mx.example.test bob@mx.example.test carol dave@mx.example.test.
#   - RCPT ACL: unknown local user -> reject (Unrouteable address); local domain -> accept;
#     relay_from_hosts (127.0.0.1) -> accept; authenticated -> accept; otherwise
#     "relay not permitted".
#
# Privileges (why nothing in /etc is changed by default):
#   Exim keeps root privilege for "-C file" only if the real uid is root, or if it is the exim
#   user (Debian-exim) and the file is listed in /etc/exim4/trusted_configs (Debian's
#   TRUSTED_CONFIG_LIST; exim.c, case 'C').  The daemon re-executes itself as the exim user
#   for every delivery and queue run, so with exim_user = Debian-exim those children run
#   unprivileged and log "exim user lost privilege for using -C option" to the mainlog AND the
#   paniclog on every re-exec.  Default mode (EXIM_ENV_TRUSTED_CONFIG=0) therefore sets
#   exim_user = root (exim_group = Debian-exim): every re-exec has real uid root, privilege
#   is kept, logs are clean and /etc is untouched.  The transports run as Debian-exim (root
#   is in Debian's FIXED_NEVER_USERS); the smtp transport locks/reads the hints databases,
#   so DIR/spool/db is pre-created root:Debian-exim 2770 with group-writable lock files
#   (without that every remote attempt logs "failed to open database lock file ...").
#   Visible difference from a stock Debian host: locally generated bounces are logged
#   "<= <> R=<id> U=root P=local" instead of "U=Debian-exim"; spool and log files are owned
#   by root (group Debian-exim, mode 0640).
#   EXIM_ENV_TRUSTED_CONFIG=1 keeps the compiled exim user (Debian-exim) and instead adds
#   DIR/exim.conf to /etc/exim4/trusted_configs (created root:root 0644 if missing; the line
#   is added idempotently under a lock and removed again by exim_env_stop, and the file is
#   deleted if we created it and it became empty).  Then lines are exactly those of a stock
#   Debian host (bounces U=Debian-exim).
#   Local submissions: an unprivileged caller (runuser -u www-data -- exim4 -C ...) always
#   loses privilege with -C (trusted_configs only helps root and the exim user) and then
#   cannot write or chown spool files, so it cannot work without making the spool world
#   writable.  Instead root submits and sets the login name with -oMt (trusted callers may
#   set the sender ident); the log line is the same as a real submission by that user:
#   "<= www-data@mx.example.test U=www-data P=local ...".
#
# Environment knobs (defaults in brackets):
#   EXIM_ENV_BIN [/usr/sbin/exim4]  EXIM_ENV_SWAKS [swaks]  EXIM_ENV_MTA_USER [Debian-exim]
#   EXIM_ENV_QUEUE_INTERVAL [30s]   daemon -q interval.  A queue run logs "Start queue run",
#                                   one "== ... defer (-54)" per queued remote recipient and
#                                   "Message is frozen" (cpanel/full) -- so deferral counts
#                                   printed by exim_env_send_traffic are minimums.  Use e.g. 1h
#                                   for exact counts (the daemon still runs once at start).
#   EXIM_ENV_TRUSTED_CONFIG [0]     see "Privileges".
#   EXIM_ENV_TIMEOUT [30]           seconds to wait for the daemon / for the log to settle.
#   EXIM_ENV_IPV6 [0]               1: also listen on [::1]:PORT (IPv6 clients, swaks -6 with
#                                   --local-interface ::1); ::1 is not in relay_from_hosts.
#   EXIM_ENV_CONF_HOOK []           a command run as HOOK DIR/exim.conf after the configuration
#                                   is written and before it is checked and the daemon starts
#                                   (e.g. to add ACLs: tests/e2e/respond_exim_e2e.sh).
#
# The workload of exim_env_send_traffic is documented just above that function.

: "${EXIM_ENV_BIN:=/usr/sbin/exim4}"
: "${EXIM_ENV_SWAKS:=swaks}"
: "${EXIM_ENV_MTA_USER:=Debian-exim}"
: "${EXIM_ENV_QUEUE_INTERVAL:=30s}"
: "${EXIM_ENV_TRUSTED_CONFIG:=0}"
: "${EXIM_ENV_TIMEOUT:=30}"
: "${EXIM_ENV_IPV6:=0}"

EXIM_ENV_TRUSTED_LIST=/etc/exim4/trusted_configs
EXIM_ENV_LOCK=/tmp/exim_env.trusted_configs.lock

_exim_env_msg() { printf 'exim_env: %s\n' "$*" >&2; }
_exim_env_die() { _exim_env_msg "ERROR: $*"; return 1; }

exim_env_mainlog() { printf '%s\n' "$1/log/mainlog"; }
exim_env_rejectlog() { printf '%s\n' "$1/log/rejectlog"; }
exim_env_paniclog() { printf '%s\n' "$1/log/paniclog"; }

# _exim_env_state DIR KEY -> value from DIR/state
_exim_env_state() {
    local line
    [[ -f $1/state ]] || { _exim_env_die "$1/state missing (exim_env_start not run?)"; return 1; }
    while IFS= read -r line; do
        if [[ $line == "$2="* ]]; then
            printf '%s\n' "${line#*=}"
            return 0
        fi
    done <"$1/state"
    _exim_env_die "no $2 in $1/state"
}

exim_env_exim() {
    local dir=$1
    shift
    "$EXIM_ENV_BIN" -C "$dir/exim.conf" "$@"
}

# _exim_env_port_busy PORT: true if any TCP socket (any state, any address) uses PORT locally.
_exim_env_port_busy() {
    [[ -n $(ss -Htan "sport = :$1") ]]
}

# _exim_env_listening PORT: true if something listens on 127.0.0.1:PORT.
_exim_env_listening() {
    [[ -n $(ss -Htln "sport = :$1" | awk '$4 == "127.0.0.1:'"$1"'"') ]]
}

# One allocator for the whole suite: ports below the ephemeral range, reserved under a lock
# while the calling test script runs ($$ is the script even inside $(...)).
_EXIM_ENV_PORTS_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../lib" && pwd)/ports.py"
exim_env_free_port() {
    python3 "$_EXIM_ENV_PORTS_PY" alloc --owner "$$" ||
        { _exim_env_die "no free port (tests/lib/ports.py)"; return 1; }
}

_exim_env_selector() {
    case $1 in
        cpanel) printf '%s\n' '+all -dnssec -tls_sni -pipelining -protocol_detail -millisec -8bitmime -dkim_verbose -pid' ;;
        debian) printf '%s\n' '+smtp_protocol_error +smtp_syntax_error +tls_certificate_verified +tls_peerdn' ;;
        full) printf '%s\n' '+all' ;;
        *)
            _exim_env_die "unknown selector profile '$1' (cpanel|debian|full)"
            return 1
            ;;
    esac
}

# The configuration.  @NAME@ placeholders are substituted by _exim_env_write_conf; everything
# else ($local_part_data, ${if ...}) is Exim syntax, hence the quoted here-document.
_exim_env_conf_template() {
    cat <<'EOF'
# Generated by tests/e2e/lib/exim_env.sh: private Exim for mailrelay_exporter e2e tests.
# Listens on 127.0.0.1:@PORT@ only (and [::1] with EXIM_ENV_IPV6=1); nothing is delivered off
# this machine.
@EXIM_USER_LINE@
@EXIM_GROUP_LINE@
primary_hostname = mx.example.test
qualify_domain = mx.example.test
domainlist local_domains = mx.example.test
hostlist relay_from_hosts = 127.0.0.1
TEST_USERS = alice@mx.example.test : bob@mx.example.test : carol : dave@mx.example.test

spool_directory = @DIR@/spool
log_file_path = @DIR@/log/%slog
pid_file_path = @DIR@/exim.pid
log_selector = @LOG_SELECTOR@

daemon_smtp_ports = @PORT@
local_interfaces = <; [127.0.0.1]:@PORT@@IPV6_INTERFACE@
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
auth_advertise_hosts = *
keep_environment =
trusted_users = root
never_users = root

acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  accept  hosts = :
  deny    domains = +local_domains
          !verify = recipient
  accept  domains = +local_domains
  accept  hosts = +relay_from_hosts
  accept  authenticated = *
  deny    message = relay not permitted

begin routers

remote:
  driver = manualroute
  domains = ! +local_domains
  route_list = * 127.0.0.1::@SINK_PORT@
  self = send
  transport = remote_smtp
  no_more

local_user:
  driver = accept
  domains = +local_domains
  local_parts = alice : bob : carol : dave : postmaster : www-data : nobody
  transport = local_delivery

begin transports

remote_smtp:
  driver = smtp
  user = @MTA_USER@

local_delivery:
  driver = appendfile
  file = @DIR@/mail/$local_part_data
  user = @MTA_USER@
  group = @MTA_USER@
  mode = 0640
  delivery_date_add
  envelope_to_add
  return_path_add

begin retry

*   *   F,2h,15m; G,16h,1h,1.5; F,4d,6h

begin authenticators

dovecot_login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and{{inlist{$auth1}{TEST_USERS}}{eq{$auth2}{secret}}}}
  server_set_id = $auth1
  server_advertise_condition = true

dovecot_plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and{{inlist{$auth2}{TEST_USERS}}{eq{$auth3}{secret}}}}
  server_set_id = $auth2
  server_advertise_condition = true
EOF
}

_exim_env_write_conf() {
    local dir=$1 port=$2 sink=$3 profile=$4 trusted=$5 selector user_line group_line
    local ipv6_interface=""
    [[ $EXIM_ENV_IPV6 == 1 ]] && ipv6_interface=" ; [::1]:$port"
    selector=$(_exim_env_selector "$profile") || return 1
    if [[ $trusted == 1 ]]; then
        user_line="# exim_user/exim_group: compiled default ($EXIM_ENV_MTA_USER); config in $EXIM_ENV_TRUSTED_LIST"
        group_line="#"
    else
        # root so that the daemon's re-executions keep privilege with -C (see exim_env.sh)
        user_line="exim_user = root"
        group_line="exim_group = $EXIM_ENV_MTA_USER"
    fi
    _exim_env_conf_template | sed \
        -e "s|@IPV6_INTERFACE@|${ipv6_interface}|" \
        -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@SINK_PORT@|$sink|g" \
        -e "s|@LOG_SELECTOR@|$selector|g" -e "s|@MTA_USER@|$EXIM_ENV_MTA_USER|g" \
        -e "s|@EXIM_USER_LINE@|$user_line|" -e "s|@EXIM_GROUP_LINE@|$group_line|" \
        >"$dir/exim.conf"
    chmod 0644 "$dir/exim.conf"
}

# Add/remove DIR/exim.conf in Debian's TRUSTED_CONFIG_LIST (only with EXIM_ENV_TRUSTED_CONFIG=1).
_exim_env_trust() {
    local conf=$1
    (
        flock -x 9
        if [[ ! -e $EXIM_ENV_TRUSTED_LIST ]]; then
            install -m 0644 -o root -g root /dev/null "$EXIM_ENV_TRUSTED_LIST"
            printf '%s\n' "$conf" >"$(dirname "$conf")/trusted_list_created"
        fi
        grep -qxF -- "$conf" "$EXIM_ENV_TRUSTED_LIST" || printf '%s\n' "$conf" >>"$EXIM_ENV_TRUSTED_LIST"
    ) 9>"$EXIM_ENV_LOCK"
}

_exim_env_untrust() {
    local conf=$1 tmp
    [[ -f $EXIM_ENV_TRUSTED_LIST ]] || return 0
    (
        flock -x 9
        if grep -qxF -- "$conf" "$EXIM_ENV_TRUSTED_LIST"; then
            tmp=$(mktemp)
            grep -vxF -- "$conf" "$EXIM_ENV_TRUSTED_LIST" >"$tmp" || true
            cat "$tmp" >"$EXIM_ENV_TRUSTED_LIST"
            rm -f "$tmp"
        fi
        if [[ -f $(dirname "$conf")/trusted_list_created && ! -s $EXIM_ENV_TRUSTED_LIST ]]; then
            rm -f "$EXIM_ENV_TRUSTED_LIST"
        fi
    ) 9>"$EXIM_ENV_LOCK"
}

exim_env_start() {
    local dir=${1:?usage: exim_env_start DIR PORT [PROFILE]} port=${2:?usage: exim_env_start DIR PORT [PROFILE]}
    local profile=${3:-cpanel} trusted=$EXIM_ENV_TRUSTED_CONFIG sink pid deadline
    [[ $dir == /* ]] || { _exim_env_die "DIR must be absolute: $dir"; return 1; }
    [[ -d $dir ]] || { _exim_env_die "DIR does not exist: $dir"; return 1; }
    [[ ! -e $dir/spool ]] || { _exim_env_die "$dir was already used by exim_env_start"; return 1; }
    [[ $dir != *[[:space:]\|]* ]] || { _exim_env_die "DIR must not contain blanks or '|': $dir"; return 1; }
    [[ $port =~ ^[0-9]+$ ]] || { _exim_env_die "bad port: $port"; return 1; }
    ((EUID == 0)) || { _exim_env_die "must run as root (exim -C keeps privilege only for root)"; return 1; }
    _exim_env_selector "$profile" >/dev/null || return 1
    id "$EXIM_ENV_MTA_USER" >/dev/null 2>&1 || { _exim_env_die "no user $EXIM_ENV_MTA_USER"; return 1; }
    if _exim_env_port_busy "$port"; then
        _exim_env_die "port $port is in use"
        return 1
    fi
    # Remote deliveries go to a port with no listener.
    sink=$(exim_env_free_port) || return 1

    # The transports run as the MTA user: it must reach DIR/mail.
    chmod 0755 "$dir"
    mkdir -p "$dir/spool" "$dir/log" "$dir/mail" "$dir/www/public_html"
    chown "$EXIM_ENV_MTA_USER:" "$dir/mail"
    if [[ $trusted == 1 ]]; then
        chown "$EXIM_ENV_MTA_USER:" "$dir/spool" "$dir/log"
    else
        # exim_user = root, but the smtp transport runs as the MTA user and reads/locks the
        # hints databases: shared group dir, lock files writable by both.
        install -d -m 2770 -o root -g "$EXIM_ENV_MTA_USER" "$dir/spool/db"
        local db
        for db in retry misc wait-remote_smtp callout ratelimit seen tls; do
            install -m 0660 -o "$EXIM_ENV_MTA_USER" -g "$EXIM_ENV_MTA_USER" /dev/null "$dir/spool/db/$db.lockfile"
        done
    fi
    # The reject log exists from the start, as on a host where logrotate created it: Exim
    # would create it only at the first rejection, and an exporter waits (not ready) for
    # every log it follows.
    local log_owner=root
    [[ $trusted == 1 ]] && log_owner=$EXIM_ENV_MTA_USER
    install -m 0640 -o "$log_owner" -g "$EXIM_ENV_MTA_USER" /dev/null "$dir/log/rejectlog"
    if ! runuser -u "$EXIM_ENV_MTA_USER" -- test -w "$dir/mail"; then
        _exim_env_die "$EXIM_ENV_MTA_USER cannot write $dir/mail (a parent directory is not searchable?)"
        return 1
    fi
    printf '%s\n' "port=$port" "sink_port=$sink" "profile=$profile" "trusted_config=$trusted" >"$dir/state"
    _exim_env_write_conf "$dir" "$port" "$sink" "$profile" "$trusted" || return 1
    if [[ -n ${EXIM_ENV_CONF_HOOK:-} ]]; then
        "$EXIM_ENV_CONF_HOOK" "$dir/exim.conf" || { _exim_env_die "EXIM_ENV_CONF_HOOK failed"; return 1; }
    fi
    if [[ $trusted == 1 ]]; then
        # Needed only in this mode: lets the Debian-exim re-executions keep privilege.
        _exim_env_trust "$dir/exim.conf" || return 1
    fi
    if ! "$EXIM_ENV_BIN" -C "$dir/exim.conf" -bV >"$dir/log/bV.out" 2>&1; then
        cat "$dir/log/bV.out" >&2
        _exim_env_die "configuration check failed"
        return 1
    fi

    # -bd daemonizes (its pid goes to DIR/exim.pid via -oP); stdio detached so that a caller
    # reading our stdout through a pipe is not held open by the daemon.
    (cd "$dir" && "$EXIM_ENV_BIN" -C "$dir/exim.conf" -bd -q"$EXIM_ENV_QUEUE_INTERVAL" \
        -oP "$dir/exim.pid" </dev/null >>"$dir/log/daemon.out" 2>&1) || {
        cat "$dir/log/daemon.out" >&2
        _exim_env_die "exim -bd failed"
        return 1
    }
    deadline=$((SECONDS + EXIM_ENV_TIMEOUT))
    while :; do
        pid=""
        [[ -s $dir/exim.pid ]] && read -r pid <"$dir/exim.pid"
        if [[ -n $pid ]] && _exim_env_listening "$port"; then
            break
        fi
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            cat "$dir/log/daemon.out" "$dir/log/paniclog" >&2 2>/dev/null || true
            _exim_env_die "exim daemon $pid died"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            cat "$dir/log/daemon.out" "$dir/log/paniclog" >&2 2>/dev/null || true
            _exim_env_die "daemon not listening on 127.0.0.1:$port after ${EXIM_ENV_TIMEOUT}s"
            return 1
        fi
        sleep 0.05
    done
    printf '%s\n' "daemon_pid=$pid" >>"$dir/state"
    _exim_env_msg "exim daemon pid $pid on 127.0.0.1:$port (profile $profile, sink port $sink, dir $dir)"
}

# PIDs of all processes whose argv contains DIR/exim.conf as one argument (the daemon, its
# SMTP/queue-run children and any delivery process they re-executed).
_exim_env_pids() {
    local conf=$1 f p a
    local -a argv
    for f in /proc/[0-9]*/cmdline; do
        p=${f#/proc/}
        p=${p%/cmdline}
        [[ $p == "$BASHPID" ]] && continue
        argv=()
        { mapfile -d '' -t argv <"$f"; } 2>/dev/null || continue
        for a in "${argv[@]}"; do
            if [[ $a == "$conf" ]]; then
                printf '%s\n' "$p"
                break
            fi
        done
    done
}

# _exim_env_is_ours PID CONF: true if PID's argv contains CONF.
_exim_env_is_ours() {
    local a
    local -a argv=()
    { mapfile -d '' -t argv <"/proc/$1/cmdline"; } 2>/dev/null || return 1
    for a in "${argv[@]}"; do
        [[ $a == "$2" ]] && return 0
    done
    return 1
}

exim_env_stop() {
    local dir=${1:?usage: exim_env_stop DIR} pid deadline
    local -a pids=()
    [[ -f $dir/exim.conf ]] || return 0
    if [[ -s $dir/exim.pid ]]; then
        read -r pid <"$dir/exim.pid"
        # the daemon first, so that it starts nothing new
        if [[ -n $pid ]] && _exim_env_is_ours "$pid" "$dir/exim.conf"; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    fi
    mapfile -t pids < <(_exim_env_pids "$dir/exim.conf")
    ((${#pids[@]} == 0)) || kill -TERM "${pids[@]}" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while :; do
        mapfile -t pids < <(_exim_env_pids "$dir/exim.conf")
        ((${#pids[@]} == 0)) && break
        if ((SECONDS >= deadline)); then
            kill -KILL "${pids[@]}" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    if [[ $(_exim_env_state "$dir" trusted_config 2>/dev/null) == 1 ]]; then
        _exim_env_untrust "$dir/exim.conf"
    fi
    rm -f "$dir/exim.pid"
    _exim_env_msg "stopped exim for $dir (logs kept in $dir/log)"
}

# ------------------------------------------------------------------------------------------
# Workload
#
# Sent by exim_env_send_traffic; every SMTP session is one swaks run (one message, or one
# failed attempt).  HELO is client.example.net unless noted.  "rcpt" = envelope recipients.
#
#  item                         n  via / source       auth (A=)                   envelope sender      rcpts per message
#  authrelay_alice_login        3  SMTP 127.0.0.2     dovecot_login:alice@mx.example.test  alice@mx.example.test  partner1@example.com partner2@example.net
#  authrelay_alice_spoofed      1  SMTP 127.0.0.2     dovecot_plain:alice@mx.example.test  ceo@bank.example       finance@example.org
#  authrelay_bob_plain          2  SMTP 127.0.0.2     dovecot_plain:bob@mx.example.test    bob@mx.example.test    client@example.com    (HELO bobs-laptop.example.net)
#  authrelay_carol_plain        1  SMTP 127.0.0.2     dovecot_plain:carol                  carol@mx.example.test  a1@example.com a2@example.net a3@example.org alice@mx.example.test
#  authrelay_dave_localhost     1  SMTP 127.0.0.1     dovecot_plain:dave@mx.example.test   dave@mx.example.test   grace@example.com bob@mx.example.test  (HELO webmail.mx.example.test;
#                                                                                                                   lfd calls this LOCALHOSTRELAY, classification.md 1.5.1)
#  relay_inbound_alice          1  SMTP 127.0.0.2     -                           sender@example.net   alice@mx.example.test
#  relay_inbound_tricky         1  SMTP 127.0.0.2     -                           sender@example.net   bob@mx.example.test carol@mx.example.test
#                                  HELO "[10.9.8.7]" (so H=([10.9.8.7]) [127.0.0.2]) and
#                                  Subject "fwd: A=dovecot_login:mallory P=esmtpa for x@y.example"
#                                  (field look-alikes inside T="..."; a parser must not see them)
#  relay_inbound_null_sender    1  SMTP 127.0.0.2     -                           <> (bounce)          dave@mx.example.test
#  localhostrelay_app_one       1  SMTP 127.0.0.1     -                           app@mx.example.test  dave@example.com   (HELO localhost)
#  localhostrelay_app_two       1  SMTP 127.0.0.1     -                           app@mx.example.test  erin@example.com frank@example.net  (HELO localhost)
#  localrelay_www-data_contact  1  local U=www-data   -                           www-data@mx.example.test  customer@example.com alice@mx.example.test
#  localrelay_www-data_unknown  1  local U=www-data   -                           www-data@mx.example.test  ghost@mx.example.test  -> ** + bounce to www-data (delivered)
#  localrelay_nobody            1  local U=nobody     -                           nobody@mx.example.test    list@example.org bob@mx.example.test
#  localrelay_root              1  local U=root       -                           ghost-sender@mx.example.test  ghost2@mx.example.test -> ** + bounce to
#                                                                                 ghost-sender, which fails too (**) -> bounce frozen
#  Failed attempts (no message):
#  auth_failed                  4  SMTP 127.0.0.2: dovecot_plain set_id=alice@mx.example.test x2, dovecot_login
#                                  set_id=alice@mx.example.test x1, dovecot_plain set_id=mallory x1 (all "535")
#  relay_denied                 2  SMTP 127.0.0.2 unauthenticated, spammer@example.net -> victim@example.com
#                                  ("rejected RCPT <victim@example.com>: relay not permitted")
#  unknown_user                 1  SMTP 127.0.0.2 unauthenticated, sender@example.net -> ghost@mx.example.test
#                                  ("rejected RCPT <ghost@mx.example.test>: Unrouteable address")
#  Local submissions run "exim -C DIR/exim.conf -odi -oi [-oMt LOGIN] -f SENDER RCPT..." as root
#  (cwd DIR/www/public_html for www-data, DIR otherwise).
#
# Output (stdout; "#" lines are comments; one "key value" per line, keys have no blanks):
#  profile, port
#  sent/<item>/messages, sent/<item>/recipients       per item above; sent/<attempt>/sessions
#  auth_user/<A= id>/{messages,recipients}             accepted messages per authenticated id
#  auth_mech/<authenticator>/{messages,recipients}     ... per authenticator
#  auth_failed/{total,set_id/<id>,mech/<authenticator>}   "authenticator failed ... 535" lines
#  rejected_rcpt/{total,relay_not_permitted,unrouteable_address}
#  arrivals/total (all "<=" lines), arrivals/smtp, arrivals/local (submissions + local
#    bounces), arrivals/null_sender ("<= <>"), arrivals/local_bounces,
#    arrivals/local_bounce_user (U= of the local bounces: root, or Debian-exim in trusted mode)
#  deliveries/remote_recipients: recipients outside mx.example.test (each gets one "==" at
#    reception: the first attempt on the closed port "(111)", later ones "(-54) retry time not
#    reached" while the host is in its retry period)
#  deliveries/local ("=>"), deliveries/failed ("**"), deliveries/deferred_min ("==": one per
#    remote recipient at reception -- the first one "(111): Connection refused", the rest
#    "(-54) ... retry time not reached" -- plus one per queued remote recipient per queue run)
#  completed ("Completed"), frozen ("Frozen (delivery error message)")
#  queue/messages, queue/frozen       what "exim -bpc" / the spool hold afterwards (fresh env)
#  smtp/connections                   SMTP sessions opened (logged only with smtp_connection)
#  lfd/<CLASS>/<key>/lines, lfd/<CLASS>/<key>/count   what csf/lfd's relaycheck + counter would
#    give (classification.md 1.2/1.3): lines = "<=" lines, count = recipients after " for "
#    (1 per line without it, i.e. profile debian); keys root/mailnull omitted as lfd skips
#    them; 127.0.0.1 taken as the only local IP (real lfd: all of 127.0.0.0/8).
# All counts are for one call on a fresh environment; the function returns only when the
# mainlog (from the byte offset at which it started) shows every expected line.
# ------------------------------------------------------------------------------------------

# name|count|via|source(ip or login)|helo|mech|user|sender|rcpts(comma separated)|subject
_exim_env_workload() {
    cat <<'EOF'
authrelay_alice_login|3|smtp|127.0.0.2|client.example.net|LOGIN|alice@mx.example.test|alice@mx.example.test|partner1@example.com,partner2@example.net|Quarterly report
authrelay_alice_spoofed|1|smtp|127.0.0.2|client.example.net|PLAIN|alice@mx.example.test|ceo@bank.example|finance@example.org|Urgent wire transfer
authrelay_bob_plain|2|smtp|127.0.0.2|bobs-laptop.example.net|PLAIN|bob@mx.example.test|bob@mx.example.test|client@example.com|Meeting notes
authrelay_carol_plain|1|smtp|127.0.0.2|client.example.net|PLAIN|carol|carol@mx.example.test|a1@example.com,a2@example.net,a3@example.org,alice@mx.example.test|Team lunch
authrelay_dave_localhost|1|smtp|127.0.0.1|webmail.mx.example.test|PLAIN|dave@mx.example.test|dave@mx.example.test|grace@example.com,bob@mx.example.test|Sent from webmail
relay_inbound_alice|1|smtp|127.0.0.2|client.example.net|-|-|sender@example.net|alice@mx.example.test|Hello Alice
relay_inbound_tricky|1|smtp|127.0.0.2|[10.9.8.7]|-|-|sender@example.net|bob@mx.example.test,carol@mx.example.test|fwd: A=dovecot_login:mallory P=esmtpa for x@y.example
relay_inbound_null_sender|1|smtp|127.0.0.2|client.example.net|-|-|<>|dave@mx.example.test|Delivery Status Notification (Failure)
localhostrelay_app_one|1|smtp|127.0.0.1|localhost|-|-|app@mx.example.test|dave@example.com|cron report
localhostrelay_app_two|1|smtp|127.0.0.1|localhost|-|-|app@mx.example.test|erin@example.com,frank@example.net|order confirmation
localrelay_www-data_contact|1|local|www-data|-|-|-|www-data@mx.example.test|customer@example.com,alice@mx.example.test|Contact form
localrelay_www-data_unknown|1|local|www-data|-|-|-|www-data@mx.example.test|ghost@mx.example.test|Newsletter
localrelay_nobody|1|local|nobody|-|-|-|nobody@mx.example.test|list@example.org,bob@mx.example.test|Nightly job
localrelay_root|1|local|root|-|-|-|ghost-sender@mx.example.test|ghost2@mx.example.test|cron failure
EOF
}

# _exim_env_swaks DIR PORT EXPECT(ok|fail) SRC_IP HELO SWAKS_ARGS...
_exim_env_swaks() {
    local dir=$1 port=$2 expect=$3 src=$4 helo=$5 rc=0
    shift 5
    {
        printf '=== swaks from %s expecting %s: %s\n' "$src" "$expect" "$*"
        "$EXIM_ENV_SWAKS" --server 127.0.0.1 --port "$port" --local-interface "$src" \
            --ehlo "$helo" --timeout 15 "$@" </dev/null 2>&1 || rc=$?
        printf '=== rc=%s\n' "$rc"
    } >>"$dir/log/swaks.log"
    if [[ $expect == ok && $rc != 0 ]] || [[ $expect == fail && $rc == 0 ]]; then
        _exim_env_die "swaks $* (from $src) exited $rc, expected $expect; see $dir/log/swaks.log"
        return 1
    fi
}

# _exim_env_local DIR LOGIN SENDER SUBJECT RCPT...
_exim_env_local() {
    local dir=$1 login=$2 sender=$3 subject=$4 cwd=$1
    shift 4
    local -a ident=()
    [[ $login == root ]] || ident=(-oMt "$login")
    [[ $login == www-data ]] && cwd=$dir/www/public_html
    (
        cd "$cwd"
        printf 'Subject: %s\n\nLocal submission as %s.\n' "$subject" "$login" |
            "$EXIM_ENV_BIN" -C "$dir/exim.conf" -odi -oi "${ident[@]}" -f "$sender" "$@"
    ) </dev/null >>"$dir/log/local_submit.log" 2>&1 || {
        _exim_env_die "local submission as $login failed; see $dir/log/local_submit.log"
        return 1
    }
}

# _exim_env_count FILE OFFSET ERE -> number of matching lines after byte OFFSET
_exim_env_count() {
    tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -cE -- "$3" || true
}

# Matches the message-id token (old 1xVPxQ-0002GH-0N and 4.97+ long ids) followed by a flag.
_EXIM_ENV_ID='[[:alnum:]]{6}-[[:alnum:]]{6,11}-[[:alnum:]]{2,4}'

exim_env_send_traffic() {
    local dir=${1:?usage: exim_env_send_traffic DIR PORT} port=${2:?usage: exim_env_send_traffic DIR PORT}
    local log offset profile trusted has_for name count via src helo mech user sender rcpts subject
    local i r nr lines cnt key deadline pending bounce_user remote=0
    local -a rcpt_list=() auth=() lfd_order=()
    local -A sum=() lfd_lines=() lfd_count=()
    log=$(exim_env_mainlog "$dir")
    profile=$(_exim_env_state "$dir" profile) || return 1
    trusted=$(_exim_env_state "$dir" trusted_config) || return 1
    [[ $(_exim_env_state "$dir" port) == "$port" ]] || { _exim_env_die "port $port is not the port of $dir"; return 1; }
    has_for=1
    [[ $profile == debian ]] && has_for=0
    offset=$(stat -c %s "$log" 2>/dev/null || echo 0)

    # lfd_add CLASS KEY NRCPT: what lfd's relaycheck + counting (classification.md 1.2/1.3)
    # does with one "<=" line; root and mailnull are never counted by lfd.  Assumption: only
    # 127.0.0.1 is a local address (real lfd treats all of 127.0.0.0/8 as local, which would
    # make 127.0.0.2 LOCALHOSTRELAY too; configure the exporter's local networks accordingly).
    lfd_add() {
        local k="$1/$2"
        [[ $2 == root || $2 == mailnull ]] && return 0
        [[ -n ${lfd_lines[$k]+x} ]] || lfd_order+=("$k")
        lfd_lines[$k]=$((${lfd_lines[$k]:-0} + 1))
        if ((has_for)); then cnt=$3; else cnt=1; fi
        lfd_count[$k]=$((${lfd_count[$k]:-0} + cnt))
    }

    echo "# exim_env workload: key value (see tests/e2e/lib/exim_env.sh)"
    echo "# lfd/* assume 127.0.0.1 is the only local IP (127.0.0.2 = remote client)"
    echo "profile $profile"
    echo "port $port"
    while IFS='|' read -r name count via src helo mech user sender rcpts subject; do
        IFS=',' read -r -a rcpt_list <<<"$rcpts"
        nr=${#rcpt_list[@]}
        for ((i = 0; i < count; i++)); do
            if [[ $via == smtp ]]; then
                auth=()
                [[ $mech != - ]] && auth=(--auth "$mech" --auth-user "$user" --auth-password secret)
                _exim_env_swaks "$dir" "$port" ok "$src" "$helo" --from "$sender" --to "$rcpts" \
                    --header "Subject: $subject" "${auth[@]}" || return 1
            else
                _exim_env_local "$dir" "$src" "$sender" "$subject" "${rcpt_list[@]}" || return 1
            fi
            # lfd view of this message
            if [[ $via == local ]]; then
                lfd_add LOCALRELAY "$src" "$nr"
            elif [[ $src == 127.0.0.1 ]]; then
                lfd_add LOCALHOSTRELAY "$src" "$nr"
            elif [[ $mech != - ]]; then
                lfd_add AUTHRELAY "$src" "$nr"
            else
                lfd_add RELAY "$src" "$nr"
            fi
            if [[ $mech != - ]]; then
                key="dovecot_${mech,,}"
                sum[auth_user/$user/messages]=$((${sum[auth_user/$user/messages]:-0} + 1))
                sum[auth_user/$user/recipients]=$((${sum[auth_user/$user/recipients]:-0} + nr))
                sum[auth_mech/$key/messages]=$((${sum[auth_mech/$key/messages]:-0} + 1))
                sum[auth_mech/$key/recipients]=$((${sum[auth_mech/$key/recipients]:-0} + nr))
            fi
        done
        echo "sent/$name/messages $count"
        echo "sent/$name/recipients $((count * nr))"
        for r in "${rcpt_list[@]}"; do
            [[ $r == *@mx.example.test ]] || remote=$((remote + count))
        done
    done < <(_exim_env_workload)

    # failed logins
    _exim_env_swaks "$dir" "$port" fail 127.0.0.2 client.example.net --from alice@mx.example.test \
        --to partner1@example.com --auth PLAIN --auth-user alice@mx.example.test --auth-password wrong1 || return 1
    _exim_env_swaks "$dir" "$port" fail 127.0.0.2 client.example.net --from alice@mx.example.test \
        --to partner1@example.com --auth PLAIN --auth-user alice@mx.example.test --auth-password wrong2 || return 1
    _exim_env_swaks "$dir" "$port" fail 127.0.0.2 client.example.net --from alice@mx.example.test \
        --to partner1@example.com --auth LOGIN --auth-user alice@mx.example.test --auth-password wrong3 || return 1
    _exim_env_swaks "$dir" "$port" fail 127.0.0.2 client.example.net --from mallory@example.net \
        --to partner1@example.com --auth PLAIN --auth-user mallory --auth-password letmein || return 1
    # relay attempts and an unknown local user
    for i in 1 2; do
        _exim_env_swaks "$dir" "$port" fail 127.0.0.2 client.example.net --from spammer@example.net \
            --to victim@example.com --header "Subject: cheap pills $i" || return 1
    done
    _exim_env_swaks "$dir" "$port" fail 127.0.0.2 client.example.net --from sender@example.net \
        --to ghost@mx.example.test --header "Subject: hello ghost" || return 1

    # Bounces generated locally: for ghost@ (-> www-data) and ghost2@ (-> ghost-sender@, which
    # fails and is frozen).  lfd sees them as LOCALRELAY of the exim user (root is excluded).
    bounce_user=root
    [[ $trusted == 1 ]] && bounce_user=$EXIM_ENV_MTA_USER
    lfd_add LOCALRELAY "$bounce_user" 1
    lfd_add LOCALRELAY "$bounce_user" 1

    echo "deliveries/remote_recipients $remote"
    echo "sent/auth_failed/sessions 4"
    echo "sent/relay_denied/sessions 2"
    echo "sent/unknown_user/sessions 1"
    for key in "${!sum[@]}"; do echo "$key ${sum[$key]}"; done | sort
    cat <<EOF
auth_failed/total 4
auth_failed/set_id/alice@mx.example.test 3
auth_failed/set_id/mallory 1
auth_failed/mech/dovecot_plain 3
auth_failed/mech/dovecot_login 1
rejected_rcpt/total 3
rejected_rcpt/relay_not_permitted 2
rejected_rcpt/unrouteable_address 1
arrivals/total 19
arrivals/smtp 13
arrivals/local 6
arrivals/null_sender 3
arrivals/local_bounces 2
arrivals/local_bounce_user $bounce_user
deliveries/local 9
deliveries/failed 3
deliveries/deferred_min 18
completed 6
frozen 1
queue/messages 13
queue/frozen 1
smtp/connections 20
EOF
    for key in "${lfd_order[@]}"; do
        echo "lfd/$key/lines ${lfd_lines[$key]}"
        echo "lfd/$key/count ${lfd_count[$key]}"
    done
    unset -f lfd_add

    # Wait until the log shows everything (deliveries run asynchronously in the daemon).
    local -a want=(
        "arrivals|19|eq| $_EXIM_ENV_ID <= "
        "null-sender arrivals|3|eq| $_EXIM_ENV_ID <= <> "
        "auth failures|4|eq| authenticator failed for .*: 535 "
        "rejected RCPT|3|eq| rejected RCPT "
        "local deliveries|9|eq| $_EXIM_ENV_ID => "
        "failures|3|eq| $_EXIM_ENV_ID \*\* "
        "deferrals|18|ge| $_EXIM_ENV_ID == "
        "completed|6|eq| $_EXIM_ENV_ID Completed"
        "frozen|1|ge| $_EXIM_ENV_ID Frozen"
    )
    local what n op re got
    deadline=$((SECONDS + EXIM_ENV_TIMEOUT))
    while :; do
        pending=""
        for lines in "${want[@]}"; do
            IFS='|' read -r what n op re <<<"$lines"
            got=$(_exim_env_count "$log" "$offset" "$re")
            if [[ $op == eq ]] && ((got > n)); then
                _exim_env_die "more $what than expected in $log: $got > $n"
                return 1
            fi
            ((got >= n)) || pending+=" $what($got/$n)"
        done
        [[ -z $pending ]] && break
        if ((SECONDS >= deadline)); then
            _exim_env_die "mainlog incomplete after ${EXIM_ENV_TIMEOUT}s:$pending"
            return 1
        fi
        sleep 0.1
    done
    _exim_env_msg "workload logged completely in $log"
}

# ------------------------------------------------------------------------------------------
# Extra traffic and queue helpers (queue end-to-end test, tests/e2e/queue_e2e.sh)
#
#   exim_env_send_burst DIR PORT COUNT SRC_IP SENDER RCPTS [AUTH_USER]
#       send COUNT messages over SMTP from SRC_IP (127.0.0.1 = relay_from_hosts, 127.0.0.2 =
#       remote client) with envelope SENDER ("<>" for a bounce) to RCPTS (comma separated);
#       with AUTH_USER, each session authenticates (PLAIN, password "secret").  Remote
#       recipients stay on the queue (deferred).  Transcripts go to DIR/log/swaks.log.
#       Returns when every swaks run is done (deliveries may still be running: see below).
#       EXIM_ENV_BURST_PARALLEL [4] sessions run at a time.
#   exim_env_wait_idle DIR [TIMEOUT]
#       wait until no process of DIR's Exim is left but the daemon and no -J journal is in
#       the spool, i.e. every delivery attempt has ended and the spool is stable.
# ------------------------------------------------------------------------------------------

: "${EXIM_ENV_BURST_PARALLEL:=4}"

exim_env_send_burst() {
    local dir=${1:?usage: exim_env_send_burst DIR PORT COUNT SRC_IP SENDER RCPTS [AUTH_USER]}
    local port=${2:?} count=${3:?} src=${4:?} sender=${5:?} rcpts=${6:?} user=${7:-}
    local i j rc failed=0 out
    local -a auth=() pids=()
    [[ -n $user ]] && auth=(--auth PLAIN --auth-user "$user" --auth-password secret)
    [[ $(_exim_env_state "$dir" port) == "$port" ]] || { _exim_env_die "port $port is not the port of $dir"; return 1; }
    out=$(mktemp -d "$dir/log/burst.XXXXXX")
    # EXIM_ENV_BURST_PARALLEL sessions at a time; each transcript is appended to swaks.log
    # in one piece afterwards.
    for ((i = 1; i <= count; i += EXIM_ENV_BURST_PARALLEL)); do
        pids=()
        for ((j = i; j < i + EXIM_ENV_BURST_PARALLEL && j <= count; j++)); do
            "$EXIM_ENV_SWAKS" --server 127.0.0.1 --port "$port" --local-interface "$src" \
                --ehlo client.example.net --timeout 15 --from "$sender" --to "$rcpts" \
                --header "Subject: burst $j of $count from ${user:-$sender}" "${auth[@]}" \
                </dev/null >"$out/$j" 2>&1 &
            pids+=($!)
        done
        for ((j = 0; j < ${#pids[@]}; j++)); do
            rc=0
            wait "${pids[$j]}" || rc=$?
            {
                printf '=== swaks burst %s/%s from %s expecting ok: --from %s --to %s%s\n' \
                    "$((i + j))" "$count" "$src" "$sender" "$rcpts" "${user:+ --auth-user $user}"
                cat "$out/$((i + j))"
                printf '=== rc=%s\n' "$rc"
            } >>"$dir/log/swaks.log"
            ((rc == 0)) || failed=$((failed + 1))
        done
    done
    rm -rf "$out"
    if ((failed > 0)); then
        _exim_env_die "$failed of $count burst sessions failed; see $dir/log/swaks.log"
        return 1
    fi
}

exim_env_wait_idle() {
    local dir=${1:?usage: exim_env_wait_idle DIR [TIMEOUT]} timeout=${2:-$EXIM_ENV_TIMEOUT}
    local daemon="" deadline p busy
    local -a pids=() journals=()
    [[ -s $dir/exim.pid ]] && read -r daemon <"$dir/exim.pid"
    deadline=$((SECONDS + timeout))
    while :; do
        busy=""
        mapfile -t pids < <(_exim_env_pids "$dir/exim.conf")
        for p in "${pids[@]}"; do
            [[ $p == "$daemon" ]] || busy+=" $p"
        done
        journals=("$dir"/spool/input/*-J "$dir"/spool/input/?/*-J)
        for p in "${journals[@]}"; do
            [[ -e $p ]] && busy+=" ${p##*/}"
        done
        [[ -z $busy ]] && return 0
        if ((SECONDS >= deadline)); then
            _exim_env_die "Exim of $dir still busy after ${timeout}s:$busy"
            return 1
        fi
        sleep 0.05
    done
}

# ------------------------------------------------------------------------------------------
#   exim_env_start_sink DIR
#       start an SMTP sink on DIR's sink port (where remote deliveries go, see "Mail setup"):
#       it accepts every message, so remote deliveries succeed (`=>`) instead of deferring,
#       as on an outbound relay whose smarthost answers. Returns once it listens; its pid is
#       in DIR/sink.pid and the number of messages it took in DIR/log/sink.count. The caller
#       stops it (kill "$(cat DIR/sink.pid)"); exim_env_stop does not.
# ------------------------------------------------------------------------------------------
exim_env_start_sink() {
    local dir=${1:?usage: exim_env_start_sink DIR} port deadline
    port=$(_exim_env_state "$dir" sink_port) || return 1
    python3 - "$port" "$dir/log/sink.count" >>"$dir/log/sink.out" 2>&1 <<'PY' &
import socketserver, sys, threading
port, count_path = int(sys.argv[1]), sys.argv[2]
lock, count = threading.Lock(), [0]
class Session(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
    def handle(self):
        self.reply("220 sink.example.test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                self.reply("250 sink.example.test")
            elif cmd == b"DATA":
                self.reply("354 go ahead")
                while self.rfile.readline() not in (b".\r\n", b".\n", b""):
                    pass
                with lock:
                    count[0] += 1
                    with open(count_path, "w") as f:
                        f.write(f"{count[0]}\n")
                self.reply("250 OK queued")
            elif cmd == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
Server(("127.0.0.1", port), Session).serve_forever()
PY
    printf '%s\n' "$!" >"$dir/sink.pid"
    deadline=$((SECONDS + EXIM_ENV_TIMEOUT))
    until _exim_env_listening "$port"; do
        if ! kill -0 "$(cat "$dir/sink.pid")" 2>/dev/null || ((SECONDS >= deadline)); then
            cat "$dir/log/sink.out" >&2 2>/dev/null || true
            _exim_env_die "SMTP sink did not listen on 127.0.0.1:$port"
            return 1
        fi
        sleep 0.05
    done
}
