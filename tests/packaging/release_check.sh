#!/usr/bin/env bash
# The release that scripts/release.sh wrote into DIST (run it first; scripts/test.sh does):
#   tarball  one top directory mailrelay_exporter-VERSION.linux-amd64/ with the binary, LICENSE
#            (when the repository has one), THIRD_PARTY_NOTICES, README.md, the unit, the web
#            config example, setup-access, alerts/ and dashboards/; file(1) calls the binary
#            statically linked; its --help states the static build's limits; inside a chroot that
#            holds nothing but the unpacked tarball and an Exim log (no /lib, /usr, /bin, /etc,
#            /proc, /dev) its --oneshot output equals the reviewed golden of that log
#            (tests/golden/exim_full.prom over tests/testdata); chrooted the same way it serves /metrics on a
#            numeric loopback address;
#   rpm      rpm -qp --requires lists no shared library; rpm -qpl has the binary, the unit and
#            /etc/sysconfig/mailrelay-exporter (a %config(noreplace) file); the scriptlets create
#            the user (%pre) and run setup-access (%post) and remove its access (%preun);
#            rpmlint reports no error; rpm --root DIR -i --nodeps --noscripts installs it, and
#            systemd-analyze verify --root=DIR accepts the unit with the drop-in that the
#            package's setup-access writes for a cPanel layout in DIR;
#   deb      Depends is only adduser; the packaged binary is the tarball's (same bytes).
# In the chroot also: --exim.log-timezone (and TZ) naming a zone whose file is not there is an
# error at startup; with TZDIR pointing at a copy of the file, the DST fall-back is read right.
# Needs root (chroot, rpm --root). Skips (77) when not root, or when DIST holds no release
# unless MAILRELAY_REQUIRE_RELEASE=1 (scripts/test.sh sets it: there a missing release fails).
#   release_check.sh REPO DIST TESTDATA_DIR
set -euo pipefail
repo=$(cd "$1" && pwd)
dist=$2
testdata=$3
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
if [[ $(id -u) -ne 0 ]]; then
  echo "release_check: needs root (chroot, rpm --root); skipped"
  exit 77
fi
shopt -s nullglob
tarballs=("$dist"/mailrelay_exporter-*.linux-amd64.tar.gz)
if [[ ${#tarballs[@]} -ne 1 ]]; then
  if [[ ${MAILRELAY_REQUIRE_RELEASE:-0} == 1 ]]; then
    fail "expected one release tarball in $dist, found ${#tarballs[@]} (scripts/release.sh)"
  fi
  echo "release_check: no release in $dist (run scripts/release.sh); skipped"
  exit 77
fi
tarball=${tarballs[0]}
name=$(basename "$tarball" .tar.gz)
version=${name#mailrelay_exporter-}
version=${version%.linux-amd64}
rpmfile="$dist/mailrelay-exporter-$version-1.x86_64.rpm"
debfile="$dist/mailrelay-exporter_${version}_amd64.deb"
[[ -f $rpmfile ]] || fail "no $(basename "$rpmfile") in $dist"
[[ -f $debfile ]] || fail "no $(basename "$debfile") in $dist"
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== tarball $(basename "$tarball")"
tar -tzf "$tarball" >"$work/list"
[[ $(cut -d/ -f1 "$work/list" | sort -u) == "$name" ]] ||
  fail "not one top directory $name/: $(cut -d/ -f1 "$work/list" | sort -u | tr '\n' ' ')"
expect=(mailrelay_exporter LICENSE THIRD_PARTY_NOTICES README.md mailrelay-exporter.service
  web-config.example.yml setup-access alerts/mailrelay.rules.yml)
for f in "$repo"/contrib/respond/*; do expect+=("respond/$(basename "$f")"); done
for f in "$repo"/dashboards/*.json; do expect+=("dashboards/$(basename "$f")"); done
for f in "${expect[@]}"; do
  grep -qx "$name/$f" "$work/list" || fail "$f is not in the tarball"
done
! grep -q "^$name/alerts/bench/" "$work/list" || fail "alerts/bench/ (development only) is in the tarball"
echo "${#expect[@]} expected files present"
tar -tvzf "$tarball" | awk '$2 != "0/0" { bad = 1 } END { exit bad }' || fail "files not owned by 0/0"

root="$work/root"
mkdir -p "$root"
tar -xzf "$tarball" -C "$root"
bin="$root/$name/mailrelay_exporter"
kind=$(file -b "$bin")
echo "file: $kind"
[[ $kind == *"statically linked"* ]] || fail "the binary is not statically linked"
"$bin" --help >"$work/help"
grep -q 'statically linked release binary' "$work/help" || fail "--help does not state the static build's limits"
grep -q 'journalctl -o export' "$work/help" || fail "--help does not say how the journal is read"
# shellcheck disable=SC2016 # a literal $ARGS
grep -qx 'ExecStart=/usr/local/bin/mailrelay_exporter $ARGS' "$root/$name/mailrelay-exporter.service" ||
  fail "the tarball's unit does not run /usr/local/bin/mailrelay_exporter"

echo "== --oneshot in a chroot with nothing but the tarball and the log"
while read -r kind value; do
  if [[ $kind == mainlog ]]; then cat "$testdata/$value" >>"$root/mainlog"; fi
done <"$repo/tests/golden/exim_full.args"
[[ -s $root/mainlog ]] || fail "no Exim log assembled from exim_full.args"
entries=$(find "$root" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')
[[ $entries == "$name mainlog " ]] || fail "the chroot holds more than the tarball and the log: $entries"
TZ=UTC chroot "$root" "/$name/mailrelay_exporter" --oneshot --relay.include-interface-addresses=false \
  --exim.rejectlog=none --exim.mainlog=/mainlog >"$work/raw.prom" 2>"$work/oneshot.log" || {
  cat "$work/oneshot.log" >&2
  fail "the static binary failed in the chroot"
}
grep -Ev '^mailrelay_build_info[{ ]' "$work/raw.prom" >"$work/actual.prom" || true
diff -u "$repo/tests/golden/exim_full.prom" "$work/actual.prom" ||
  fail "--oneshot in the chroot differs from tests/golden/exim_full.prom"
echo "golden output: $(grep -c '^mailrelay_' "$work/actual.prom") series, identical"

echo "== serving /metrics from the chroot (numeric address, no NSS, no /etc)"
# shellcheck source=tests/lib/ports.sh
source "$repo/tests/lib/ports.sh"
port=$(mr_free_port)  # reserved until this script exits
chroot "$root" "/$name/mailrelay_exporter" --exim.mainlog=/mainlog --exim.rejectlog=none \
  --relay.include-interface-addresses=false --tail.from-beginning \
  --web.listen-address="127.0.0.1:$port" >"$work/live.log" 2>&1 &
pid=$!
got=""
for _ in $(seq 1 100); do
  if got=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) &&
    grep -q '^mailrelay_log_lines_total{log="exim_mainlog"} [1-9]' <<<"$got"; then
    break
  fi
  got=""
  sleep 0.1
done
[[ -n $got ]] || { cat "$work/live.log" >&2; fail "no /metrics with the log's lines from the chrooted exporter"; }
want=$(grep -c '' "$root/mainlog")
grep -q "^mailrelay_log_lines_total{log=\"exim_mainlog\"} $want\$" <<<"$got" ||
  fail "lines_total is not $want: $(grep '^mailrelay_log_lines_total' <<<"$got")"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""
echo "/metrics served from the chroot: $want lines read"

echo "== the log's time zone in the chroot (no /usr/share/zoneinfo there)"
# A named zone cannot be found: an error at startup naming where it was looked for, never UTC.
printf '%s\n' '2026-10-25 02:30:00 1xV63t-0004DL-0K Completed' \
  '2026-10-25 02:30:00 1xV63t-0004DM-0K Completed' >"$root/dst.log"
status=0
chroot "$root" "/$name/mailrelay_exporter" --oneshot --exim.mainlog=/dst.log --exim.rejectlog=none \
  --exim.log-timezone=Europe/Berlin >/dev/null 2>"$work/tz.err" || status=$?
[[ $status -eq 2 ]] || fail "--exim.log-timezone without zone files: exit $status, expected 2"
grep -qF "unknown time zone 'Europe/Berlin': no /usr/share/zoneinfo/Europe/Berlin" "$work/tz.err" ||
  fail "no clear message for a zone without its file: $(cat "$work/tz.err")"
status=0
TZ=Europe/Berlin chroot "$root" "/$name/mailrelay_exporter" --oneshot --exim.mainlog=/dst.log \
  --exim.rejectlog=none >/dev/null 2>"$work/tz.err" || status=$?
[[ $status -eq 2 ]] || fail "TZ=Europe/Berlin without zone files: exit $status, expected 2"
grep -qF "TZ=Europe/Berlin names no time zone here" "$work/tz.err" ||
  fail "no clear message for TZ without its file: $(cat "$work/tz.err")"
# With the zone's file (TZDIR): the repeated hour's two 02:30 lines are 00:30Z then 01:30Z.
mkdir -p "$root/zoneinfo/Europe"
cp /usr/share/zoneinfo/Europe/Berlin "$root/zoneinfo/Europe/Berlin"
TZ=UTC TZDIR=/zoneinfo chroot "$root" "/$name/mailrelay_exporter" --oneshot --exim.mainlog=/dst.log \
  --exim.rejectlog=none --exim.log-timezone=Europe/Berlin >"$work/tz.prom" 2>"$work/tz.err" ||
  fail "--exim.log-timezone with TZDIR in the chroot: $(cat "$work/tz.err")"
grep -qx 'mailrelay_log_last_line_timestamp_seconds{log="exim_mainlog"} 1792891800' "$work/tz.prom" ||
  fail "last line time: $(grep '^mailrelay_log_last_line_timestamp' "$work/tz.prom")"
rm -rf "$root/zoneinfo" "$root/dst.log"
echo "zone files read at run time: a clear error without them, Europe/Berlin's fall-back right with them"

echo "== rpm $(basename "$rpmfile")"
rpm -qp --requires "$rpmfile" >"$work/requires"
echo "requires: $(tr '\n' ' ' <"$work/requires")"
if grep -E '\.so|^lib' "$work/requires"; then fail "the rpm requires shared libraries"; fi
rpm -qpl "$rpmfile" >"$work/rpm-files"
for f in /usr/bin/mailrelay_exporter /usr/lib/systemd/system/mailrelay-exporter.service \
  /etc/sysconfig/mailrelay-exporter /usr/libexec/mailrelay-exporter/setup-access \
  /usr/share/man/man1/mailrelay_exporter.1.gz /usr/share/mailrelay-exporter/alerts/mailrelay.rules.yml; do
  grep -qx "$f" "$work/rpm-files" || fail "$f is not in the rpm"
done
rpm -qp --configfiles "$rpmfile" | grep -qx /etc/sysconfig/mailrelay-exporter || fail "sysconfig is not %config"
rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpmfile" |
  grep -q '^/etc/sysconfig/mailrelay-exporter cn$' || fail "sysconfig is not %config(noreplace)"
rpm -qp --scripts "$rpmfile" >"$work/scripts"
grep -q 'useradd -r' "$work/scripts" || fail "%pre does not create the system user"
grep -q 'setup-access || :' "$work/scripts" || fail "%post does not run setup-access"
grep -q 'setup-access --remove' "$work/scripts" || fail "%preun does not remove the access"
# The scriptlets are sh: check them like the Debian ones.
awk '/^(pre|post|preun|postun)install scriptlet/ { n++; f = sprintf("%s/scriptlet%d.sh", dir, n); print "#!/bin/sh" > f; next } n { print >> f }' \
  dir="$work" "$work/scripts"
shellcheck -s sh "$work"/scriptlet*.sh
echo "rpmlint:"
# The filters (static binary, unsigned build) are explained in the rpmlintrc.
rpmlint -r "$repo/packaging/rpm/mailrelay-exporter.rpmlintrc" "$rpmfile" >"$work/rpmlint.log" 2>&1 || true
cat "$work/rpmlint.log"
grep -Eq '[^0-9]0 errors' "$work/rpmlint.log" || fail "rpmlint reports errors"

echo "== rpm --root DIR -i --nodeps --noscripts; systemd-analyze verify --root=DIR"
rroot="$work/rpmroot"
mkdir -p "$rroot"
rpm --root "$rroot" --initdb
rpm --root "$rroot" -i --nodeps --noscripts "$rpmfile"
[[ -x $rroot/usr/bin/mailrelay_exporter ]] || fail "rpm -i did not install the binary"
cmp "$rroot/usr/bin/mailrelay_exporter" "$bin" || fail "the rpm's binary is not the tarball's"
unit="$rroot/usr/lib/systemd/system/mailrelay-exporter.service"
grep -qx 'EnvironmentFile=-/etc/sysconfig/mailrelay-exporter' "$unit" || fail "the rpm unit does not read /etc/sysconfig"
# What an EL host has besides the package: systemd's own units, /usr/bin/kill (ExecReload) with
# /bin -> usr/bin, and here a cPanel layout whose log belongs to the group mail, so that the
# package's setup-access writes a drop-in for verify to load.
cp -rn /lib/systemd/system/. "$rroot/usr/lib/systemd/system/"
cp /usr/bin/kill "$rroot/usr/bin/kill"
ln -sfn usr/bin "$rroot/bin"
mkdir -p "$rroot/etc" "$rroot/var/log"
printf 'root:x:0:0::/root:/bin/bash\nmailrelay-exporter:x:990:990::/nonexistent:/sbin/nologin\n' >"$rroot/etc/passwd"
printf 'root:x:0:\nmail:x:12:\nmailrelay-exporter:x:990:\n' >"$rroot/etc/group"
install -m 0640 -o 47 -g 12 /dev/null "$rroot/var/log/exim_mainlog"
"$rroot/usr/libexec/mailrelay-exporter/setup-access" --root "$rroot" >/dev/null
dropin="$rroot/etc/systemd/system/mailrelay-exporter.service.d/access.conf"
grep -qx 'SupplementaryGroups=mail' "$dropin" || fail "setup-access in the rpm root: $(cat "$dropin")"
# verify --root: loads the unit and its drop-in from DIR, checks ExecStart and ExecReload there.
# (The man page of Documentation= cannot be looked up inside DIR: checked as a file.)
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$rroot" --man=no mailrelay-exporter.service \
  >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; fail "systemd-analyze verify of the rpm's unit"; }
if grep -v '^$' "$work/verify.log"; then fail "systemd-analyze verify printed warnings for the rpm's unit"; fi
[[ -f $rroot/usr/share/man/man1/mailrelay_exporter.1.gz ]] || fail "no man page for Documentation=man:"
echo "systemd-analyze verify: OK"

echo "== deb $(basename "$debfile")"
depends=$(dpkg-deb -f "$debfile" Depends)
[[ $depends == adduser ]] || fail "the release .deb depends on more than adduser: $depends"
dpkg-deb -x "$debfile" "$work/deb"
cmp "$work/deb/usr/bin/mailrelay_exporter" "$bin" || fail "the .deb's binary is not the tarball's"
[[ -x $work/deb/usr/libexec/mailrelay-exporter/setup-access ]] || fail "no setup-access in the .deb"
echo "release_check: OK"
