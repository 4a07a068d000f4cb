#!/usr/bin/env bash
# Runs every test: formatting, shellcheck, the unit/golden/corpus/lint tests under ASan+UBSan
# (with line coverage, printed per directory), every libFuzzer target for a bounded time, the
# mutation check, the release build (scripts/release.sh: static tarball, RPM and .deb in dist/),
# then the full suite (unit, golden, corpus, lint, end-to-end with a real Exim, packaging
# including the release's checks) in a normal build. The corpus tests read ../shared/corpus
# (MAILRELAY_SHARED_DIR) and fail when it is missing. The last thing printed is ctest's summary
# of the full suite.
#   scripts/test.sh          (as root: installs packages, runs a private Exim on loopback)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

"$root/scripts/install-deps.sh"

echo "== clang-format (at ${SECONDS} s)"
mapfile -t sources < <(find exporter tests bench -name '*.cc' -o -name '*.h' 2>/dev/null | sort)
clang-format --dry-run --Werror "${sources[@]}"

echo "== shellcheck (at ${SECONDS} s)"
mapfile -t scripts < <(find scripts tests .ci bench docker packaging -type f \( -name '*.sh' -o -name run \) | sort)
scripts+=(packaging/postinst packaging/prerm packaging/postrm packaging/setup-access)
shellcheck -x "${scripts[@]}"

echo "== sanitizer build (ASan+UBSan, with gcov coverage) (at ${SECONDS} s)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMAILRELAY_CORPUS_TESTS=ON \
  -DMAILRELAY_SANITIZE="address;undefined" -DMAILRELAY_E2E=OFF -DMAILRELAY_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage >/dev/null
ninja -C build-asan -j "$jobs"
find build-asan -name '*.gcda' -delete  # coverage of this run only
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j "$jobs" -L 'unit|golden|corpus|lint'

echo "== line coverage of exporter/ by the unit, golden, corpus and lint tests (gcovr) (at ${SECONDS} s)"
python3 tests/coverage_report.py build-asan --min "${MAILRELAY_MIN_COVERAGE:-85}"

echo "== fuzzing (libFuzzer, clang, ASan+UBSan; ${MAILRELAY_FUZZ_SECONDS:-20} s per target) (at ${SECONDS} s)"
tests/fuzz/run_fuzzers.sh "${MAILRELAY_FUZZ_SECONDS:-20}"

echo "== mutation check (tests/mutation/mutations.txt: the unit and golden tests must catch each) (at ${SECONDS} s)"
python3 tests/mutation/run_mutations.py --jobs "$jobs"

echo "== release (scripts/release.sh): static tarball, RPM, .deb in dist/ (at ${SECONDS} s)"
# The static third-party libraries are cached in build-release/deps/ (keyed by Debian's version
# and the flags); a clean clone builds them once. packaging.release* check what it wrote.
scripts/release.sh --build build-release --out dist
export MAILRELAY_REQUIRE_RELEASE=1

echo "== release build and full suite (at ${SECONDS} s)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILRELAY_CORPUS_TESTS=ON >/dev/null
ninja -C build -j "$jobs"
ctest --test-dir build --output-on-failure --no-tests=error -j "$jobs"
