#!/usr/bin/env bash
# The Debian package, built with cpack from BUILD_DIR (output and staging in a temp dir), then
# installed on this machine with dpkg -i and removed again (dpkg -r, then purged in a trap):
#   - file name mailrelay-exporter_<version>_amd64.deb, control fields, shlibdeps Depends,
#     conffiles, maintainer scripts (shellcheck -s sh);
#   - contents: /usr/bin binary, man page, unit, defaults file, every dashboard and the alerts;
#   - everything below runs in a private mount namespace whose /etc is a copy of this machine's
#     without the group Debian-exim, and with an empty /var/spool/exim4: a host without Exim's
#     group (dpkg there sees its statoverride file without Debian-exim's lines);
#   - after dpkg -i: the system user exists; postinst wrote the drop-in access.conf naming only
#     groups that exist (never Debian-exim here; adm when /var/log/exim4 is there); `systemd-analyze
#     verify` accepts the installed unit with its drop-in and no warning at all (it checks the
#     ExecStart binary and the man: Documentation= too);
#     `systemd-analyze security --offline=true` rates it OK; the hardening directives are set;
#     /usr/bin/mailrelay_exporter --version runs; the defaults file's $ARGS parse; man renders;
#   - dpkg -r removes the binary and the drop-in, and keeps the conffile.
# Needs root. Skips (77) when not root.
#   deb_check.sh REPO BUILD_DIR
set -euo pipefail
repo=$(cd "$1" && pwd)
build_dir=$(cd "$2" && pwd)
if [[ $(id -u) -ne 0 ]]; then
  echo "deb_check: needs root (dpkg -i); skipped"
  exit 77
fi
if [[ -z ${MAILRELAY_DEB_CHECK_NS:-} ]]; then
  exec unshare --mount --propagation private env MAILRELAY_DEB_CHECK_NS=1 "$0" "$@"
fi
work=$(mktemp -d)
installed=0
cleanup() {
  if [[ $installed -eq 1 ]]; then
    dpkg --purge mailrelay-exporter >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# dpkg holds a lock that apt-get runs by others hold too: wait for it instead of failing.
dpkg_locked() {
  local i out
  for i in $(seq 1 60); do
    if out=$(dpkg "$@" 2>&1); then
      printf '%s\n' "$out"
      return 0
    fi
    if ! grep -q 'lock' <<<"$out" || [[ $i -eq 60 ]]; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    sleep 2
  done
}

if dpkg-query -W -f='${Status}' mailrelay-exporter 2>/dev/null | grep -q 'install ok installed'; then
  fail "mailrelay-exporter is already installed on this machine; not touching it"
fi

echo "== a host without the group Debian-exim (this namespace's /etc)"
cp -a /etc "$work/etc"
sed -i '/^Debian-exim:/d' "$work/etc/group"
[[ -f $work/etc/gshadow ]] && sed -i '/^Debian-exim:/d' "$work/etc/gshadow"
mount --bind "$work/etc" /etc
# dpkg refuses to run while its statoverride file names a group that does not exist (exim4's
# spool overrides): this namespace sees a copy without those lines.
if [[ -f /var/lib/dpkg/statoverride ]]; then
  grep -v ' Debian-exim ' /var/lib/dpkg/statoverride >"$work/statoverride" || true
  mount --bind "$work/statoverride" /var/lib/dpkg/statoverride
fi
if getent group Debian-exim >/dev/null; then fail "Debian-exim still resolves"; fi
# No Exim spool either (this machine's belongs to Exim's tests); its logs under /var/log stay.
if [[ -d /var/spool/exim4 ]]; then
  mkdir "$work/no-exim-spool"
  mount --bind "$work/no-exim-spool" /var/spool/exim4
fi

echo "== cpack -G DEB"
version=$("$build_dir/exporter/mailrelay_exporter" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
[[ -n $version ]] || fail "no version in mailrelay_exporter --version"
cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log" >&2
  fail "cpack"
}
deb="$work/out/mailrelay-exporter_${version}_amd64.deb"
[[ -f $deb ]] || fail "no $(basename "$deb"); cpack made: $(ls "$work/out")"
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"

echo "== control"
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == mailrelay-exporter ]] || fail "Package: $(field Package)"
[[ $(field Version) == "$version" ]] || fail "Version: $(field Version)"
[[ $(field Architecture) == amd64 ]] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
for dep in adduser libc6 libprometheus-cpp-core1.0 libcivetweb1; do
  [[ ", $depends," == *", $dep"[\ ,]* ]] || fail "Depends lacks $dep: $depends"
done
echo "Depends: $depends"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/default/mailrelay-exporter "$work/control/conffiles" || fail "conffiles"
for s in postinst prerm postrm; do
  [[ -x $work/control/$s ]] || fail "$s missing or not executable"
done
if command -v shellcheck >/dev/null; then
  shellcheck -s sh "$work/control/postinst" "$work/control/prerm" "$work/control/postrm"
fi

echo "== contents"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#' >"$work/contents"
expect=(
  /usr/bin/mailrelay_exporter
  /usr/share/man/man1/mailrelay_exporter.1.gz
  /lib/systemd/system/mailrelay-exporter.service
  /etc/default/mailrelay-exporter
  /usr/share/mailrelay-exporter/alerts/mailrelay.rules.yml
  /usr/share/doc/mailrelay-exporter/runbook.md
  /usr/libexec/mailrelay-exporter/setup-access
)
for f in "$repo"/dashboards/*.json; do
  expect+=("/usr/share/mailrelay-exporter/dashboards/$(basename "$f")")
done
for f in "${expect[@]}"; do
  grep -qx -- "$f" "$work/contents" || fail "$f is not in the package"
done
echo "${#expect[@]} expected files present"

echo "== dpkg -i"
installed=1
dpkg_locked -i "$deb"
getent passwd mailrelay-exporter >/dev/null || fail "postinst did not create the user"
uid=$(id -u mailrelay-exporter)
[[ $uid -lt 1000 ]] || fail "mailrelay-exporter is not a system user (uid $uid)"
[[ $(getent passwd mailrelay-exporter | cut -d: -f7) == */nologin ]] || fail "user has a shell"

echo "== the drop-in written by postinst (setup-access)"
dropin=/etc/systemd/system/mailrelay-exporter.service.d/access.conf
[[ -f $dropin ]] || fail "postinst wrote no $dropin"
cat "$dropin"
groups=$(sed -n 's/^SupplementaryGroups=//p' "$dropin")
for g in $groups; do
  getent group "$g" >/dev/null || fail "the drop-in names the group $g, which does not exist (216/GROUP)"
done
[[ " $groups " != *" Debian-exim "* ]] || fail "the drop-in names Debian-exim"
if [[ -d /var/log/exim4 && $(stat -c %G /var/log/exim4) == adm ]]; then
  [[ " $groups " == *" adm "* ]] || fail "the drop-in lacks adm, which owns /var/log/exim4"
fi
echo "SupplementaryGroups: ${groups:-(none)}, all existing"

echo "== the installed unit"
unit=/lib/systemd/system/mailrelay-exporter.service
# Offline (systemd is not PID 1 here): verify loads the unit with its drop-ins (named, so it is
# looked up in the unit path), checks that ExecStart is executable and that the man page of
# Documentation= exists. It only warns (exit 0) about directives it cannot parse, so any
# output fails too.
systemd-analyze verify mailrelay-exporter.service >"$work/verify.log" 2>&1 || {
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify $unit"
}
if [[ -s $work/verify.log ]]; then
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify printed warnings"
fi
echo "systemd-analyze verify: OK"
systemd-analyze security --offline=true --no-pager "$unit" >"$work/security.log" 2>&1 || true
overall=$(grep 'Overall exposure level' "$work/security.log" || true)
echo "${overall:-no security rating}"
[[ $overall == *" OK"* ]] || {
  cat "$work/security.log" >&2
  fail "systemd-analyze security does not rate the unit OK"
}
# shellcheck disable=SC2016 # literal $ARGS
for directive in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
  'ReadOnlyPaths=.*/var/log.*/var/spool/exim4' 'InaccessiblePaths=-/var/mail' \
  User=mailrelay-exporter EnvironmentFile=-/etc/default/mailrelay-exporter \
  'ExecStart=/usr/bin/mailrelay_exporter \$ARGS'; do
  grep -qE "^$directive" "$unit" || fail "the unit lacks $directive"
done

echo "== the installed binary"
/usr/bin/mailrelay_exporter --version
# The defaults file's flags parse as ExecStart passes them (word-split $ARGS).
# shellcheck disable=SC2016 # $ARGS expands in that sh
env -i sh -c '. /etc/default/mailrelay-exporter && exec /usr/bin/mailrelay_exporter $ARGS --version' \
  >/dev/null || fail "the ARGS of /etc/default/mailrelay-exporter do not parse"
MANPAGER=cat MANWIDTH=100 man mailrelay_exporter 2>/dev/null >"$work/man.txt" ||
  man -l /usr/share/man/man1/mailrelay_exporter.1.gz >"$work/man.txt"
grep -q -- '--web.listen-address' "$work/man.txt" || fail "the man page lacks the flags"
grep -q '/etc/default/mailrelay-exporter' "$work/man.txt" || fail "the man page lacks FILES"
echo "man mailrelay_exporter: $(wc -l <"$work/man.txt") lines"

echo "== dpkg -r"
dpkg_locked -r mailrelay-exporter
[[ ! -e /usr/bin/mailrelay_exporter ]] || fail "dpkg -r left /usr/bin/mailrelay_exporter"
[[ ! -e $dropin ]] || fail "dpkg -r left $dropin"
[[ -f /etc/default/mailrelay-exporter ]] || fail "dpkg -r removed the conffile (only purge should)"
dpkg_locked --purge mailrelay-exporter
installed=0
[[ ! -e /etc/default/mailrelay-exporter ]] || fail "purge left /etc/default/mailrelay-exporter"
echo "deb_check: OK"
