#!/usr/bin/env bash
# Every flag in `mailrelay_exporter --help` has a row in README.md's flags table, and every row
# names a real flag.
#   readme_flags_check.sh BINARY README
# shellcheck disable=SC2016  # backticks below are literal markdown
set -euo pipefail
bin=$1
readme=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" --help | grep -oE '^  --[a-z0-9.-]+' | sed 's/^  //' | sort -u >"$work/help"
grep -oE '^\| `--[a-z0-9.-]+`' "$readme" | sed 's/^| `//; s/`$//' | sort -u >"$work/readme"
# The help/version row lists two flags in one cell.
grep -q '`--help`, `--version`' "$readme" && printf -- '--help\n--version\n' >>"$work/readme"
sort -u -o "$work/readme" "$work/readme"
status=0
if comm -23 "$work/help" "$work/readme" | grep .; then
  echo "^ in --help but missing from the README flags table" >&2
  status=1
fi
if comm -13 "$work/help" "$work/readme" | grep .; then
  echo "^ in the README flags table but not a flag of the binary" >&2
  status=1
fi
echo "README documents $(wc -l <"$work/readme") flags"
exit $status
