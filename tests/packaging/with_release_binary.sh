#!/usr/bin/env bash
# Runs a test script of the project with the release tarball's static binary instead of the
# build's: with_release_binary.sh DIST SCRIPT [ARGS...] runs `SCRIPT <binary> ARGS...`, the binary
# extracted from DIST/mailrelay_exporter-*.linux-amd64.tar.gz (scripts/release.sh). So the
# static build's own paths (OpenSSL and CivetWeb linked in, the journal through journalctl) run
# the same checks as the dynamic build's. Skips (77) without a release, unless
# MAILRELAY_REQUIRE_RELEASE=1.
set -euo pipefail
dist=$1
script=$2
shift 2
shopt -s nullglob
tarballs=("$dist"/mailrelay_exporter-*.linux-amd64.tar.gz)
if [[ ${#tarballs[@]} -ne 1 ]]; then
  if [[ ${MAILRELAY_REQUIRE_RELEASE:-0} == 1 ]]; then
    echo "FAIL: expected one release tarball in $dist, found ${#tarballs[@]}" >&2
    exit 1
  fi
  echo "with_release_binary: no release in $dist (run scripts/release.sh); skipped"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name=$(basename "${tarballs[0]}" .tar.gz)
tar -xzf "${tarballs[0]}" -C "$work" "$name/mailrelay_exporter"
bin="$work/$name/mailrelay_exporter"
file -b "$bin" | grep -q 'statically linked' || { echo "FAIL: $bin is not static" >&2; exit 1; }
echo "with the release binary $name/mailrelay_exporter: $script"
"$script" "$bin" "$@"
