#!/usr/bin/env bash
# Builds a release of mailrelay_exporter into dist/ (run as root on Debian 12):
#   mailrelay_exporter-VERSION.linux-amd64.tar.gz   statically linked binary, LICENSE, README,
#                                                   systemd unit, web config example, alerts/,
#                                                   dashboards/, respond/ (runs on any x86-64 Linux)
#   mailrelay-exporter-VERSION-1.x86_64.rpm         EL8/EL9 (AlmaLinux, CloudLinux, Rocky, RHEL):
#                                                   the same binary; requires no distribution library
#   mailrelay-exporter_VERSION_amd64.deb            Debian/Ubuntu: the same binary (cpack -G DEB)
#   SHA256SUMS
#
# Everything comes from Debian 12: the packages below (apt-get), and the static libraries that
# Debian ships only as shared objects (prometheus-cpp, CivetWeb), built here from Debian's own
# source packages (apt-get source; a deb-src entry is added next to the Debian sources if there
# is none). Those builds are cached in BUILD/deps/<package>-<version>-<flags hash>/ and reused
# while Debian's version and the flags stay the same; the exporter is built in BUILD/static.
#
#   scripts/release.sh [--build DIR] [--out DIR]      (defaults: build-release/, dist/)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$repo/build-release"
out="$repo/dist"
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$(realpath -m "$2"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
jobs=$(nproc 2>/dev/null || echo 2)
started=$SECONDS
step() { echo "== [$((SECONDS - started))s] $*"; }
die() { echo "release.sh: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (it installs Debian packages)"
# shellcheck source=/dev/null
. /etc/os-release
[[ ${ID:-} == debian && ${VERSION_ID:-} == 12 ]] ||
  die "needs Debian 12 (this is ${PRETTY_NAME:-unknown}); the release is built from its packages"

step "Debian packages"
packages=(
  build-essential cmake ninja-build pkg-config git dpkg-dev file
  libre2-dev zlib1g-dev libssl-dev libyaml-cpp-dev libcrypt-dev
  help2man rpm
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
export DEBIAN_FRONTEND=noninteractive
if [[ ${#missing[@]} -gt 0 ]]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's source packages need a deb-src entry: a copy of the Debian entries with
# Types: deb-src (deb822 sources), or deb-src lines (one-line sources.list).
have_deb_src() {
  grep -Eqs '^[[:space:]]*Types:.*deb-src' /etc/apt/sources.list.d/*.sources ||
    grep -Eqs '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}
if ! have_deb_src; then
  step "adding deb-src entries for apt-get source"
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      >/etc/apt/sources.list.d/mailrelay-release-deb-src.sources
  elif [[ -f /etc/apt/sources.list ]]; then
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list \
      >/etc/apt/sources.list.d/mailrelay-release-deb-src.list
  fi
  have_deb_src || die "no Debian apt sources found to derive deb-src entries from"
  apt-get update -qq
elif ! apt-cache showsrc prometheus-cpp 2>/dev/null | grep -q '^Version:'; then
  apt-get update -qq
fi

# The compiler flags of Debian's own packages (hardening=+all), for the libraries and the
# exporter alike.
# -Wdate-time is left out: --version prints __DATE__, made reproducible by SOURCE_DATE_EPOCH
# (the commit's time), which also dates the files of the tarball and the packages.
export DEB_BUILD_MAINT_OPTIONS="hardening=+all"
SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
cppflags=$(dpkg-buildflags --get CPPFLAGS | sed 's/-Wdate-time//')
CFLAGS="$(dpkg-buildflags --get CFLAGS) $cppflags"
CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $cppflags"
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
export CFLAGS CXXFLAGS LDFLAGS
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

# build_dep SOURCE_PACKAGE CMAKE_ARGS...: builds Debian's source package SOURCE_PACKAGE (its
# candidate version, with Debian's patches) as static libraries into $build/deps/<key>/prefix
# and prints that prefix. Skipped when that prefix is complete already.
build_dep() {
  local name=$1
  shift
  local version key dir
  version=$(apt-cache showsrc --only-source "$name" | sed -n 's/^Version: //p' | sort -V | tail -n 1)
  [[ -n $version ]] || die "apt-cache showsrc $name: no version (deb-src entries missing?)"
  key="$name-$version-$(printf '%s\n' "$@" "$CFLAGS" "$(gcc -dumpfullversion)" | sha256sum | cut -c1-12)"
  dir="$build/deps/$key"
  if [[ -f $dir/prefix/.complete ]]; then
    step "$name $version: cached in $dir" >&2
    echo "$dir/prefix"
    return
  fi
  step "$name $version: apt-get source and static build in $dir" >&2
  rm -rf "$dir"
  mkdir -p "$dir/src"
  (cd "$dir/src" && apt-get source -qq "$name=$version" >/dev/null 2>"$dir/apt-get-source.log") || {
    cat "$dir/apt-get-source.log" >&2
    die "apt-get source $name=$version"
  }
  local srcdir
  srcdir=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  [[ -d $srcdir ]] || die "apt-get source $name=$version unpacked nothing"
  cmake -S "$srcdir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$dir/prefix" -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF \
    "${launcher[@]}" "$@" >"$dir/configure.log" 2>&1 || {
    cat "$dir/configure.log" >&2
    die "configuring $name"
  }
  nice -n 10 ninja -C "$dir/build" -j "$jobs" install >"$dir/build.log" 2>&1 || {
    tail -n 50 "$dir/build.log" >&2
    die "building $name"
  }
  touch "$dir/prefix/.complete"
  echo "$dir/prefix"
}

# prometheus-cpp: the core library only (the exporter serves HTTP with CivetWeb itself).
prom_prefix=$(build_dep prometheus-cpp -DENABLE_PULL=OFF -DENABLE_PUSH=OFF \
  -DENABLE_COMPRESSION=OFF -DENABLE_TESTING=OFF -DUSE_THIRDPARTY_LIBRARIES=OFF \
  -DGENERATE_PKGCONFIG=OFF)
# CivetWeb: Debian's options, but static and with OpenSSL 3 linked in (libssl.a, libcrypto.a)
# instead of dlopen()ed, through its OpenSSL 3 API (OPENSSL_API_3_0; its CMake options only
# know 1.0 and 1.1).
civetweb_prefix=$(build_dep civetweb "-DCMAKE_C_FLAGS=$CFLAGS -DOPENSSL_API_3_0" -DCIVETWEB_BUILD_TESTING=OFF \
  -DCIVETWEB_ENABLE_SERVER_EXECUTABLE=OFF -DCIVETWEB_ENABLE_CXX=OFF \
  -DCIVETWEB_ENABLE_WEBSOCKETS=ON -DCIVETWEB_ENABLE_SSL=ON \
  -DCIVETWEB_ENABLE_SSL_DYNAMIC_LOADING=OFF -DCIVETWEB_SSL_OPENSSL_API_1_1=OFF \
  -DCIVETWEB_ALLOW_WARNINGS=ON -DCIVETWEB_ENABLE_ASAN=OFF -DOPENSSL_USE_STATIC_LIBS=TRUE)

step "static mailrelay_exporter in $build/static"
cmake -S "$repo" -B "$build/static" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAILRELAY_STATIC=ON \
  -DCMAKE_PREFIX_PATH="$prom_prefix;$civetweb_prefix" -DMAILRELAY_BUILD_TESTS=OFF \
  -DBUILD_TESTING=OFF -DMAILRELAY_BUILD_BENCH=OFF "${launcher[@]}" >"$build/static-configure.log" 2>&1 || {
  cat "$build/static-configure.log" >&2
  die "configuring the static build"
}
nice -n 10 ninja -C "$build/static" -j "$jobs" >"$build/static-build.log" 2>&1 || {
  tail -n 60 "$build/static-build.log" >&2
  die "building the static binary"
}
bin="$build/static/exporter/mailrelay_exporter"
file -b "$bin" | grep -q 'statically linked' || die "$bin is not statically linked: $(file -b "$bin")"
version=$("$bin" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
[[ -n $version ]] || die "no version in $bin --version"
# glibc warns at link time about every function that needs NSS or dlopen at run time in a static
# binary; keep the list for the README's limits (none of them is reached through the
# exporter's own code paths with numeric addresses).
grep -o "Using '[a-z_0-9]*' in statically linked" "$build/static-build.log" | sort -u \
  >"$build/static-nss-warnings.txt" || true

rm -rf "$out"
mkdir -p "$out"
stage="$build/stage"
rm -rf "$stage"
mkdir -p "$stage"

# Licence texts: the project's, and Debian's copyright file of every library linked in.
notices() {  # notices FILE: the copyright files of the statically linked Debian packages
  local p
  {
    echo "mailrelay_exporter is statically linked with the following libraries; their"
    echo "copyright and licence notices follow (from Debian 12's packages)."
    for p in libc6 libstdc++6 libgcc-s1 libssl3 libre2-9 zlib1g libyaml-cpp0.7 libcrypt1 \
      prometheus-cpp civetweb; do
      local f="/usr/share/doc/$p/copyright"
      case $p in
        prometheus-cpp) f=$(find "$build/deps" -path '*prometheus-cpp-*/src/*/debian/copyright' | head -n 1) ;;
        civetweb) f=$(find "$build/deps" -path '*civetweb-*/src/*/debian/copyright' | head -n 1) ;;
      esac
      [[ -f $f ]] || die "no copyright file for $p"
      printf '\n==============================================================================\n'
      printf '%s\n==============================================================================\n' "$p"
      cat "$f"
    done
  } >"$1"
}

step "tarball"
name="mailrelay_exporter-$version.linux-amd64"
top="$stage/$name"
mkdir -p "$top"
install -m 0755 "$bin" "$top/mailrelay_exporter"
strip "$top/mailrelay_exporter"  # as cpack's CPACK_STRIP_FILES: the .deb gets the same bytes
install -m 0644 "$repo/LICENSE" "$top/LICENSE"
notices "$top/THIRD_PARTY_NOTICES"
install -m 0644 "$repo/README.md" "$top/README.md"
install -m 0644 "$build/static/packaging/tarball/mailrelay-exporter.service" "$top/"
install -m 0644 "$repo/docs/web-config.example.yml" "$top/web-config.example.yml"
mkdir -p "$top/alerts" "$top/dashboards" "$top/respond"
cp -r "$repo/alerts/." "$top/alerts/"
rm -rf "$top/alerts/bench" # the rules' cost benchmark is for development, not for hosts
install -m 0644 "$repo"/contrib/respond/* "$top/respond/"
install -m 0644 "$repo"/dashboards/*.json "$top/dashboards/"
install -m 0755 "$repo/packaging/setup-access" "$top/setup-access"
tarball="$out/$name.tar.gz"
# Reproducible: fixed owner, order and times (the commit's).
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -C "$stage" -cf - "$name" |
  gzip -9n >"$tarball"

step "rpm"
# License: of the project (Apache-2.0, LICENSE) and of the libraries linked in (glibc and
# libxcrypt LGPL, libstdc++ GPL with the runtime exception, OpenSSL Apache, re2 BSD, zlib,
# prometheus-cpp/CivetWeb/yaml-cpp MIT).
license_tag="Apache-2.0 AND LGPL-2.1-or-later AND GPL-3.0-or-later WITH GCC-exception-3.1 AND BSD-3-Clause AND Zlib AND MIT"
rpmtop="$build/rpmbuild"
rm -rf "$rpmtop"
mkdir -p "$rpmtop"/{BUILD,RPMS,SOURCES,SPECS,SRPMS}
# The spec installs from this directory (no rebuild inside rpmbuild: the binary is the tarball's).
rpm_files="$stage/rpm-files"
mkdir -p "$rpm_files"
cp "$top/mailrelay_exporter" "$top/README.md" "$top/THIRD_PARTY_NOTICES" "$rpm_files/"
cp "$top/LICENSE" "$rpm_files/"
cp "$build/static/packaging/rpm/mailrelay-exporter.service" "$repo/packaging/setup-access" \
  "$repo/docs/web-config.example.yml" "$repo/docs/metrics.md" "$repo/docs/runbook.md" "$rpm_files/"
# /etc/sysconfig/mailrelay-exporter: the same flags file as Debian's /etc/default one.
cp "$repo/packaging/mailrelay-exporter.default" "$rpm_files/mailrelay-exporter.sysconfig"
cp "$build/static/man/mailrelay_exporter.1.gz" "$rpm_files/"
cp -r "$top/alerts" "$top/dashboards" "$top/respond" "$rpm_files/"
rpmbuild -bb --quiet \
  --define "_topdir $rpmtop" \
  --define "mailrelay_version $version" \
  --define "mailrelay_files $rpm_files" \
  --define "mailrelay_license_tag $license_tag" \
  --define "_buildhost release.mailrelay-exporter" \
  --define "source_date_epoch_from_changelog 0" \
  --define "use_source_date_epoch_as_buildtime 1" \
  --define "clamp_mtime_to_source_date_epoch 1" \
  "$repo/packaging/rpm/mailrelay-exporter.spec" >"$build/rpmbuild.log" 2>&1 || {
  cat "$build/rpmbuild.log" >&2
  die "rpmbuild"
}
find "$rpmtop/RPMS" -name '*.rpm' -exec cp {} "$out/" \;
[[ -f $out/mailrelay-exporter-$version-1.x86_64.rpm ]] || die "rpmbuild made no mailrelay-exporter-$version-1.x86_64.rpm"

step "deb"
cpack -G DEB --config "$build/static/CPackConfig.cmake" -B "$build/cpack" >"$build/cpack.log" 2>&1 || {
  cat "$build/cpack.log" >&2
  die "cpack -G DEB"
}
cp "$build/cpack/mailrelay-exporter_${version}_amd64.deb" "$out/"

(cd "$out" && sha256sum -- *.tar.gz *.rpm *.deb >SHA256SUMS)
step "done: $out"
ls -l "$out"
