#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need, from Debian 12's packages only.
# Idempotent: does nothing when every package is already installed. Needs root.
set -euo pipefail

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

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
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
