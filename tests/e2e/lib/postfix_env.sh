# shellcheck shell=bash
#
# postfix_env.sh -- a private, loopback-only Postfix for tests that need real queue files.
#
# Source this file (bash >= 4.3); it only defines functions. Needs root, apt-get (Debian's
# postfix package is downloaded and unpacked with dpkg -x, because exim4-daemon-heavy conflicts
# with it), sasl2-bin (saslpasswd2), libsasl2-modules-db, swaks and setpriv.
#
#   postfix_env_free_port          print a free TCP port reserved for this test until it exits
#                                  (tests/lib/ports.sh, the suite's one allocator)
#   postfix_env_setup DIR PORT     unpack Postfix into DIR/root, write DIR/etc/main.cf and
#                                  master.cf (smtpd on 127.0.0.1:PORT), make the queue
#                                  directories and a Cyrus sasldb with alice, bob, carol and
#                                  dave (password "secret", realm mx.example.test)
#   postfix_env_start DIR          start master in the foreground (background job), wait for
#                                  the SMTP port and the log
#   postfix_env_stop DIR           stop master and its children (by the pid it started)
#   postfix_env_cmd DIR TOOL ARGS  run a Postfix command (postqueue, postcat, postsuper, ...)
#                                  with DIR's configuration
#   postfix_env_sendmail DIR USER ARGS   run sendmail as USER (stdin: the message)
#   postfix_env_smtp DIR ARGS      swaks to the private smtpd; fails when swaks fails
#
# Mail setup: every recipient domain goes to relayhost [127.0.0.1]:9 where nothing listens, so
# mail stays deferred in the queue (queue_run_delay 1h: no retry during a test); the domain
# discard.example.test is delivered by discard(8) at once (a recipient marked done in a queue
# file whose other recipients stay deferred); bounce.example.test fails (error(8)), which makes a
# bounce (null sender). Layout under DIR: root/ (unpacked package), etc/ (main.cf, master.cf,
# sasl/), bin/ (wrappers of root/usr/sbin/* that set LD_LIBRARY_PATH), spool/ (queue_directory),
# data/, log/mail.log (maillog_file through postlogd), master.out, master.pid.
# Environment: POSTFIX_ENV_MAIN_CF  extra main.cf lines (e.g. hash_queue_depth = 2).

# shellcheck source=tests/lib/ports.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../lib" && pwd)/ports.sh"

_postfix_env_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The suite's one allocator (tests/lib/ports.py): below the ephemeral range, reserved for the
# calling test script until it exits.
postfix_env_free_port() {
  mr_free_port || { echo "postfix_env: no free port (tests/lib/ports.py)" >&2; return 1; }
}

postfix_env_setup() {
  local dir=$1 port=$2
  local root=$dir/root etc=$dir/etc spool=$dir/spool lib
  mkdir -p "$dir" "$etc/sasl" "$spool" "$dir/data" "$dir/log" "$dir/bin"
  chmod 755 "$dir"  # unprivileged sendmail/postdrop must reach the wrappers and the maildrop
  if [[ ! -d $root/usr/sbin ]]; then
    (cd "$dir" && apt-get download -q postfix >"$dir/download.log" 2>&1) ||
      { cat "$dir/download.log" >&2; return 1; }
    dpkg -x "$(ls "$dir"/postfix_*.deb)" "$root"
  fi
  lib=$root/usr/lib/postfix
  if LD_LIBRARY_PATH=$lib ldd "$lib/sbin/smtpd" | grep 'not found' >&2; then
    echo "postfix_env: libraries Postfix needs are missing (scripts/install-deps.sh)" >&2
    return 1
  fi
  # mail_owner, default_privs and setgid_group must be distinct existing accounts.
  cat >"$etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $spool
data_directory = $dir/data
daemon_directory = $lib/sbin
command_directory = $dir/bin
shlib_directory = $lib
meta_directory = $etc
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME LD_LIBRARY_PATH=$lib
mail_owner = mail
default_privs = nobody
setgid_group = users
myhostname = mx.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
relay_domains = mx.example.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
relayhost = [127.0.0.1]:9
transport_maps = inline:{discard.example.test=discard:, bounce.example.test=error:5.1.1_no_such_user}
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
smtpd_reject_unlisted_recipient = no
alias_maps =
alias_database =
maillog_file = $dir/log/mail.log
maillog_file_prefixes = $dir/log
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $etc/sasl
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtp_tls_security_level = none
queue_run_delay = 1h
biff = no
${POSTFIX_ENV_MAIN_CF:-}
EOF
  cat >"$etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
  echo "$port" >"$dir/port"
  touch "$etc/dynamicmaps.cf"
  # sendmail runs $command_directory/postdrop with a cleaned environment: wrappers put the
  # unpacked libraries back on the search path.
  local tool
  for tool in "$root"/usr/sbin/*; do
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$lib" "$tool" >"$dir/bin/${tool##*/}"
    chmod 755 "$dir/bin/${tool##*/}"
  done
  (
    cd "$spool" || exit 1
    for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
      mkdir -p "$d" && chown mail "$d" && chmod 700 "$d"
    done
    mkdir -p maildrop public pid
    # A setgid postdrop would not see LD_LIBRARY_PATH (secure execution), so instead of the
    # setgid_group scheme the maildrop is world-writable (sticky), as in old Postfix releases.
    chown mail maildrop public && chmod 1733 maildrop && chmod 755 public
  ) || return 1
  chown mail "$dir/data"
  cat >"$etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $etc/sasl/sasldb2
EOF
  local u
  for u in alice bob carol dave; do
    echo secret | saslpasswd2 -p -f "$etc/sasl/sasldb2" -u mx.example.test -c "$u" || return 1
  done
  chown -R mail "$etc/sasl"
  chmod 640 "$etc/sasl/sasldb2"
}

postfix_env_start() {
  local dir=$1 port i
  port=$(cat "$dir/port")
  LD_LIBRARY_PATH=$dir/root/usr/lib/postfix \
    "$dir/root/usr/lib/postfix/sbin/master" -c "$dir/etc" -d >"$dir/master.out" 2>&1 &
  echo $! >"$dir/master.pid"
  for ((i = 0; i < 200; i++)); do
    if _postfix_env_port_open "$port" && [[ -s $dir/log/mail.log ]]; then return 0; fi
    sleep 0.1
  done
  echo "postfix_env: Postfix did not start" >&2
  cat "$dir/master.out" >&2
  return 1
}

postfix_env_stop() {
  local dir=$1 pid i
  [[ -f $dir/master.pid ]] || return 0
  pid=$(cat "$dir/master.pid")
  rm -f "$dir/master.pid"
  # master -d stops its children when it gets SIGTERM.
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

postfix_env_cmd() {
  local dir=$1 tool=$2
  shift 2
  MAIL_CONFIG=$dir/etc "$dir/bin/$tool" "$@"
}

postfix_env_sendmail() {
  local dir=$1 user=$2
  shift 2
  setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
    env MAIL_CONFIG="$dir/etc" "$dir/bin/sendmail" "$@"
}

postfix_env_smtp() {
  local dir=$1
  shift
  if ! swaks -s 127.0.0.1 -p "$(cat "$dir/port")" --timeout 10 --silent 2 "$@" \
    >"$dir/swaks.out" 2>&1; then
    cat "$dir/swaks.out" >&2
    echo "postfix_env: swaks $* failed" >&2
    return 1
  fi
}
