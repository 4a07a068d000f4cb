#!/usr/bin/env bash
# Every flag in `mailrelay_exporter --help` has a row in README.md's flags table, and every row
# names a real flag; the same for respond's own flags (`respond --help`, before its shared
# ones) and the table of the README's "Respond" section.
#   readme_flags_check.sh BINARY README
# shellcheck disable=SC2016  # backticks below are literal markdown
set -euo pipefail
bin=$1
readme=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" --help | grep -oE '^  --[a-z0-9.-]+' | sed 's/^  //' | sort -u >"$work/help"
awk -v r="$work/respond.md" -v m="$work/main.md" \
  '/^## /{ in_respond = ($0 ~ /^## Respond/) } { print > (in_respond ? r : m) }' "$readme"
grep -oE '^\| `--[a-z0-9.-]+`' "$work/main.md" | sed 's/^| `//; s/`$//' | sort -u >"$work/readme"
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
# (To a file first: a reader that stops early would make respond die of SIGPIPE.)
"$bin" respond --help >"$work/respond_help.txt"
sed '/^Flags shared with the exporter/q' "$work/respond_help.txt" | grep -oE '^  --[a-z0-9.-]+' |
  sed 's/^  //' | grep -v '^--help$' | sort -u >"$work/respond_help"
grep -oE '^\| `--[a-z0-9.-]+`' "$work/respond.md" | sed 's/^| `//; s/`$//' | sort -u >"$work/respond_readme"
if comm -23 "$work/respond_help" "$work/respond_readme" | grep .; then
  echo "^ respond's own flag missing from the README's Respond table" >&2
  status=1
fi
if comm -13 "$work/respond_help" "$work/respond_readme" | grep .; then
  echo "^ in the README's Respond table but not a flag of respond" >&2
  status=1
fi
echo "README documents $(wc -l <"$work/readme") flags, and $(wc -l <"$work/respond_readme") of respond"
exit $status
