#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz/ and runs
# each for SECONDS (default 20) with -max_len=65536, seeded from tests/testdata and, when it is
# there, ../shared/corpus (copied into build-fuzz/seeds/ at every run; nothing is committed).
# Fails on any crash, sanitizer report, leak, timeout or out-of-memory; the reproducer is kept
# as build-fuzz/artifacts/<target>-*, replay it with `build-fuzz/tests/fuzz/<target> <file>`.
#   run_fuzzers.sh [SECONDS] [TARGET...]
# Env: FUZZ_BUILD_DIR (default <repo>/build-fuzz), MAILRELAY_SHARED_DIR (default <repo>/../shared),
#      CXX_FUZZ (default clang++-14).
set -euo pipefail
seconds=${1:-20}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
corpus=${MAILRELAY_SHARED_DIR:-$root/../shared}/corpus

mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++-14}" -DMAILRELAY_FUZZ=ON \
  -DMAILRELAY_BUILD_TESTS=OFF -DMAILRELAY_BUILD_BENCH=OFF >"$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log" >&2; exit 1; }
ninja -C "$build" -j2 fuzzers

# Seed files per target: globs under tests/testdata (and files of the repository), then under
# the shared corpus (files that are not there are left out; the corpus is optional here).
testdata_seeds_for() {
  case $1 in
    exim_log_parser_fuzz) echo exim/*mainlog exim/*rejectlog ;;
    spool_header_fuzz) echo exim/spool/input/*-H exim/spool/input/*/*-H ;;
    exim_bp_fuzz) echo exim/bp/* ;;
    postqueue_json_fuzz) echo postfix/postqueue-j.jsonl ;;
    postfix_log_parser_fuzz) echo postfix/*.log ;;
    # Queue files the real Postfix wrote (tests/fixtures/postfix-queue/make_fixtures.sh).
    postfix_queue_file_fuzz) echo "$root"/tests/fixtures/postfix-queue/*.qf ;;
    rules_file_fuzz) echo "$root"/bench/rules/*.yml "$root"/docs/rules.example.yml ;;
    rules_line_fuzz) echo exim/*mainlog postfix/*.log ;;
    # Alertmanager notifications (one captured by tests/e2e/respond_exim_e2e.sh) and hold lists.
    respond_webhook_fuzz) echo "$root"/tests/fixtures/respond/* ;;
    *) ;;
  esac
}
seeds_for() {
  case $1 in
    exim_log_parser_fuzz)
      echo exim-testsuite/mainlog/* exim-testsuite/rejectlog/* exim-testsuite/paniclog/* \
        exim-exporter/mainlog exim-exporter/rejectlog exim-exporter/paniclog fail2ban/exim* \
        crowdsec/*exim* wazuh/* sshguard/* logstash-patterns-core/*
      ;;
    spool_header_fuzz)
      echo exim-testsuite/spool-header-dumps/* exim-testsuite/spool-input/*-H exim-exporter/input/*-H
      ;;
    exim_bp_fuzz) echo exim-testsuite/queue-listings/* ;;
    postqueue_json_fuzz) echo postqf/* ;;
    rules_line_fuzz)
      echo exim-testsuite/mainlog/* exim-exporter/mainlog fail2ban/exim* postfix-exporter/* \
        fail2ban/postfix*
      ;;
    postfix_log_parser_fuzz)
      echo postfix-exporter/* postfix-grok-patterns/* fail2ban/postfix* crowdsec/*postfix* \
        datadog/*
      ;;
    *) ;;
  esac
}

if (($# > 0)); then
  targets=("$@")
else
  targets=()
  for f in "$build"/tests/fuzz/*_fuzz; do targets+=("$(basename "$f")"); done
fi

mkdir -p "$build/artifacts"
failed=()
for t in "${targets[@]}"; do
  seeds=$build/seeds/$t
  work=$build/corpus/$t  # grows across runs: libFuzzer writes new inputs here
  rm -rf "$seeds"
  mkdir -p "$seeds" "$work"
  (
    cd "$root/tests/testdata"
    # shellcheck disable=SC2046  # the globs must split
    for f in $(testdata_seeds_for "$t"); do
      if [[ -f $f ]]; then cp "$f" "$seeds/testdata_$(echo "${f#"$root"/}" | tr / _)"; fi
    done
  )
  if [[ -d $corpus ]]; then
    (
      cd "$corpus"
      # shellcheck disable=SC2046  # the globs must split
      for f in $(seeds_for "$t"); do
        if [[ -f $f ]]; then cp "$f" "$seeds/$(echo "$f" | tr / _)"; fi
      done
    )
  fi
  n=$(find "$seeds" -type f | wc -l)
  echo "== $t: ${seconds}s, $n seed files"
  if ! "$build/tests/fuzz/$t" -max_len=65536 -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
    "$work" "$seeds" >"$build/$t.log" 2>&1; then
    failed+=("$t")
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$build/$t.log" >&2 || tail -20 "$build/$t.log" >&2
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb' \
    "$build/$t.log" | tr '\n' ' '
  echo
done

if ((${#failed[@]} > 0)); then
  echo "FAIL: ${failed[*]} (artifacts in $build/artifacts)" >&2
  exit 1
fi
echo "fuzzers passed: ${targets[*]}"
