#!/usr/bin/env bash
# Runs every test: formatting, shellcheck, the unit/golden/corpus/lint tests under ASan+UBSan,
# every libFuzzer target for a bounded time, the release build (scripts/release.sh: static
# tarball, RPM and .deb in dist/), then the full suite (unit, golden, corpus, lint, end-to-end
# with a real Exim, packaging including the release's checks) in a normal build. The last thing
# printed is ctest's summary of the full suite.
#   scripts/test.sh          (as root: installs packages, runs a private Exim on loopback)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

"$root/scripts/install-deps.sh"

echo "== clang-format"
mapfile -t sources < <(find exporter tests bench -name '*.cc' -o -name '*.h' 2>/dev/null | sort)
clang-format --dry-run --Werror "${sources[@]}"

echo "== shellcheck"
mapfile -t scripts < <(find scripts tests .ci bench docker packaging -type f \( -name '*.sh' -o -name run \) | sort)
scripts+=(packaging/postinst packaging/prerm packaging/postrm packaging/setup-access)
shellcheck -x "${scripts[@]}"

echo "== sanitizer build (ASan+UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DMAILRELAY_SANITIZE="address;undefined" -DMAILRELAY_E2E=OFF -DMAILRELAY_BUILD_BENCH=OFF >/dev/null
ninja -C build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|golden|corpus|lint'

echo "== fuzzing (libFuzzer, clang, ASan+UBSan; ${MAILRELAY_FUZZ_SECONDS:-20} s per target)"
tests/fuzz/run_fuzzers.sh "${MAILRELAY_FUZZ_SECONDS:-20}"

echo "== release (scripts/release.sh): static tarball, RPM, .deb in dist/"
# The static third-party libraries are cached in build-release/deps/ (keyed by Debian's version
# and the flags); a clean clone builds them once. packaging.release* check what it wrote.
scripts/release.sh --build build-release --out dist
export MAILRELAY_REQUIRE_RELEASE=1

echo "== release build and full suite"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
