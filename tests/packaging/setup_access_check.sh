#!/usr/bin/env bash
# packaging/setup-access (what the deb postinst and the rpm %post run) on fake hosts, each a
# directory with its own etc/passwd, etc/group and the mail layout of one platform, files owned
# by that platform's ids:
#   Debian/Ubuntu Exim      -> SupplementaryGroups=adm Debian-exim
#   Debian, Postfix only    -> adm postdrop              (no Debian-exim: it is not named)
#   cPanel (AlmaLinux)      -> mail
#   DirectAdmin             -> mail
#   EL Postfix              -> postdrop, and a read ACL for the user on the root-only
#                              /var/log/maillog and its rotated copy; the ACL is still on the
#                              new maillog after a real logrotate run with `create`
#   no MTA at all           -> no SupplementaryGroups line (nothing to fail with 216/GROUP)
#   a group without a name  -> not named (noted)
# and --remove takes the drop-in and the ACL entries back. Needs root (chown, setfacl).
#   setup_access_check.sh REPO
set -euo pipefail
repo=$(cd "$1" && pwd)
setup="$repo/packaging/setup-access"
if [[ $(id -u) -ne 0 ]]; then
  echo "setup_access_check: needs root (chown); skipped"
  exit 77
fi
for tool in setfacl getfacl logrotate; do
  command -v "$tool" >/dev/null || { echo "setup_access_check: $tool is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "  ok   $1: $3"
  else
    echo "  FAIL $1: expected '$2', got '$3'" >&2
    failures=$((failures + 1))
  fi
}

uid=990  # mailrelay-exporter in every fake host
# host NAME GROUP:GID...: a fake root with passwd (root, the service user) and these groups.
host() {
  local r="$work/$1"
  shift
  mkdir -p "$r/etc"
  printf 'root:x:0:0:root:/root:/bin/bash\nmailrelay-exporter:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' \
    "$uid" "$uid" >"$r/etc/passwd"
  printf 'root:x:0:\n' >"$r/etc/group"
  local g
  for g in "$@"; do printf '%s:x:%s:\n' "${g%%:*}" "${g#*:}" >>"$r/etc/group"; done
  echo "$r"
}
# node ROOT PATH MODE UID:GID [dir]: a file (or directory) of the layout.
node() {
  local p="$1$2"
  if [[ ${5:-} == dir ]]; then mkdir -p "$p"; else mkdir -p "$(dirname "$p")" && : >"$p"; fi
  chmod "$3" "$p"
  chown "$4" "$p"
}
capabilities_of() {  # the CapabilityBoundingSet= and AmbientCapabilities= values of ROOT's drop-in
  local d="$1/etc/systemd/system/mailrelay-exporter.service.d/access.conf"
  sed -n 's/^\(CapabilityBoundingSet\|AmbientCapabilities\)=//p' "$d" | tr '\n' ' ' | sed 's/ $//'
}
groups_of() {  # the SupplementaryGroups= value of ROOT's drop-in ("-" when there is none)
  local d="$1/etc/systemd/system/mailrelay-exporter.service.d/access.conf"
  [[ -f $d ]] || { echo "no drop-in"; return; }
  sed -n 's/^SupplementaryGroups=//p' "$d" | grep . || echo "-"
}
run() { "$setup" --root "$1" >"$1.log" 2>&1 || { cat "$1.log" >&2; echo "setup-access failed" >&2; exit 1; }; }

echo "== Debian/Ubuntu with Exim"
r=$(host debian-exim adm:4 Debian-exim:106)
node "$r" /var/log/exim4 2750 106:4 dir
node "$r" /var/log/exim4/mainlog 640 106:4
node "$r" /var/log/exim4/rejectlog 640 106:4
node "$r" /var/log/mail.log 640 0:4
node "$r" /var/spool/exim4 750 106:106 dir
node "$r" /var/spool/exim4/input 750 106:106 dir
run "$r"
check "Debian Exim groups" "adm Debian-exim" "$(groups_of "$r")"

echo "== Debian with Postfix and no Exim (no Debian-exim group)"
r=$(host debian-postfix adm:4 postfix:107 postdrop:108)
node "$r" /var/log/mail.log 640 0:4
node "$r" /var/spool/postfix 755 0:0 dir
node "$r" /var/spool/postfix/public 2710 107:108 dir
node "$r" /var/spool/postfix/deferred 700 107:0 dir
node "$r" /var/spool/postfix/active 700 107:0 dir
run "$r"
check "Debian Postfix groups" "adm postdrop" "$(groups_of "$r")"
check "Debian Postfix queue capability" "CAP_DAC_READ_SEARCH CAP_DAC_READ_SEARCH" \
  "$(capabilities_of "$r")"

echo "== cPanel (AlmaLinux/CloudLinux)"
r=$(host cpanel mail:12 mailnull:47)
node "$r" /var/log/exim_mainlog 640 47:12
node "$r" /var/log/exim_rejectlog 640 47:12
node "$r" /var/spool/exim 750 47:12 dir
node "$r" /var/spool/exim/input 750 47:12 dir
run "$r"
check "cPanel groups" "mail" "$(groups_of "$r")"
check "cPanel (Exim): no capability" "" "$(capabilities_of "$r")"

echo "== DirectAdmin"
r=$(host directadmin mail:12)
node "$r" /var/log/exim 750 8:12 dir
node "$r" /var/log/exim/mainlog 640 8:12
node "$r" /var/log/exim/rejectlog 640 8:12
node "$r" /var/spool/exim 750 8:12 dir
node "$r" /var/spool/exim/input 750 8:12 dir
run "$r"
check "DirectAdmin groups" "mail" "$(groups_of "$r")"

echo "== EL Postfix: root-only /var/log/maillog"
r=$(host el-postfix postfix:89 postdrop:90)
node "$r" /var/log/maillog 600 0:0
node "$r" /var/log/maillog-20261122 600 0:0
node "$r" /var/spool/postfix 755 0:0 dir
node "$r" /var/spool/postfix/public 710 89:90 dir
run "$r"
check "EL Postfix groups" "postdrop" "$(groups_of "$r")"
acl_of() { getfacl -cn "$1" 2>/dev/null | grep "^user:$uid:" || echo none; }
check "ACL on maillog" "user:$uid:r--" "$(acl_of "$r/var/log/maillog")"
check "ACL on the rotated maillog" "user:$uid:r--" "$(acl_of "$r/var/log/maillog-20261122")"
# logrotate as EL configures it for syslog files (`create` without a mode): the new file gets
# the old one's ACL.
echo "line before rotation" >"$r/var/log/maillog"
cat >"$work/logrotate.conf" <<EOF
$r/var/log/maillog {
    create
    rotate 4
    dateext
    dateformat -rotated
}
EOF
logrotate --force --state "$work/logrotate.state" "$work/logrotate.conf"
check "logrotate rotated" yes "$([[ -f $r/var/log/maillog-rotated ]] && echo yes || echo no)"
check "new maillog is empty (rotated)" 0 "$(stat -c %s "$r/var/log/maillog")"
check "ACL on the new maillog after logrotate" "user:$uid:r--" "$(acl_of "$r/var/log/maillog")"
check "mode of the new maillog" 640 "$(stat -c %a "$r/var/log/maillog")"  # group bits = ACL mask

echo "== no MTA"
r=$(host bare adm:4 mail:8)
node "$r" /var/log/syslog 640 0:4
run "$r"
check "no groups named" "-" "$(groups_of "$r")"

echo "== a group without a name in /etc/group"
r=$(host unnamed adm:4)
node "$r" /var/log/exim4 2750 106:4 dir
node "$r" /var/log/exim4/mainlog 640 106:4
node "$r" /var/spool/exim4 750 106:4242 dir
run "$r"
check "only named groups" "adm" "$(groups_of "$r")"
grep -q '/var/spool/exim4: its group 4242 has no name' "$r.log" || {
  echo "  FAIL no note about gid 4242" >&2
  failures=$((failures + 1))
}

echo "== --remove"
r="$work/el-postfix"
"$setup" --root "$r" --remove >/dev/null
check "drop-in removed" "no drop-in" "$(groups_of "$r")"
check "ACL removed" none "$(acl_of "$r/var/log/maillog")"

if [[ $failures -ne 0 ]]; then
  echo "setup_access_check: $failures check(s) failed" >&2
  exit 1
fi
echo "setup_access_check: all checks passed"
