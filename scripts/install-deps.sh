#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need, from Debian 12's packages only.
# Idempotent: does nothing when every package is already installed. Needs root.
set -euo pipefail

# Build, run and test dependencies (tests/packaging/check_docker_files.py reads this list: its
# -dev packages must be in the Dockerfile's build stage).
packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  prometheus-cpp-dev libcivetweb-dev libre2-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  exim4-daemon-heavy swaks curl ca-certificates
  libsystemd-dev systemd-journal-remote
  libssl-dev libyaml-cpp-dev libcrypt-dev openssl
  sasl2-bin libsasl2-modules libsasl2-modules-db libdb5.3 libicu72 libnsl2
  prometheus prometheus-alertmanager
  python3 python3-yaml shellcheck chromium
  help2man
  acl logrotate rpm rpmlint file
  mtail time
  tzdata  # zone files: --exim.log-timezone and the DST tests (Europe/Berlin, America/New_York)
)
# Tools only the tests use: every tool a test runs is installed here, none is assumed.
test_tools=(
  # e2e: swaks over IPv6 (IO::Socket::INET6), ss for the Exim helper, journalctl, jq for the
  # report commands, flock/runuser/setpriv
  libio-socket-inet6-perl iproute2 systemd jq util-linux
  # fuzzers: clang 14 with libFuzzer and the sanitizer runtimes
  clang clang-14 libclang-rt-14-dev
  # the coverage step of scripts/test.sh
  gcovr
  # packaging tests: .deb shared-library dependencies (dpkg-shlibdeps, file), man
  dpkg-dev file man-db
)
packages+=("${test_tools[@]}")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Commands that may come from outside Debian's archive too (a nodesource nodejs brings its own
# npm, which Debian's npm package would conflict with): installed only when missing.
declare -A commands=([npm]=npm)
for c in "${!commands[@]}"; do
  command -v "$c" >/dev/null || missing+=("${commands[$c]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages ${missing[*]}; run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Do not let package scripts start system daemons (exim4, prometheus...): tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
