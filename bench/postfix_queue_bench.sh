#!/usr/bin/env bash
# Postfix queue benchmark: builds a synthetic queue_directory (bench/make_postfix_queue.py),
# runs a private Postfix (tests/e2e/lib/postfix_env.sh: Debian's package unpacked, loopback)
# whose master runs smtpd (for the start check), showq and postlogd only, so that no queue
# manager or pickup touches the queue, and runs bench/postfix_queue_bench.cc: the queue file
# reader's first scan and rescans against `postqueue -j` (showq's CPU included) in the same
# run. Prints a table and writes it into bench/README.md between
# <!-- postfix-queue-bench:start --> and <!-- postfix-queue-bench:end -->.
#
#   postfix_queue_bench.sh --bench PATH [--messages N] [--repeat N] [--readme FILE | --no-readme]
#                          [--keep]
#   postfix_queue_bench.sh --smoke --bench PATH   1000 messages, README untouched (ctest
#                                                 bench.postfix_queue_smoke; exit 77 if not root)
# Needs root (queue files owned by the mail user), the Debian archive (apt-get download
# postfix) and about 400 MB under /tmp for 100k messages (removed at exit unless --keep).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=""
messages=100000
repeat=3
readme=$here/README.md
keep=0
smoke=0
while (($#)); do
  case $1 in
    --bench) bench=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --readme) readme=$2; shift 2 ;;
    --no-readme) readme=""; shift ;;
    --keep) keep=1; shift ;;
    --smoke) smoke=1; messages=1000; readme=""; shift ;;
    *) echo "postfix_queue_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $bench && -x $bench ]] ||
  { echo "postfix_queue_bench.sh: --bench PATH (postfix_queue_bench) required" >&2; exit 2; }
((EUID == 0)) || { echo "postfix_queue_bench.sh: must run as root" >&2; ((smoke)) && exit 77; exit 2; }
# shellcheck source=tests/e2e/lib/postfix_env.sh
source "$here/../tests/e2e/lib/postfix_env.sh"

work=$(mktemp -d /tmp/postfix_queue_bench.XXXXXX)
cleanup() {
  postfix_env_stop "$work" || true
  if ((keep)); then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(postfix_env_free_port)
postfix_env_setup "$work" "$port"
postfix_version=$(postfix_env_cmd "$work" postconf -h mail_version)
cat >"$work/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
showq     unix  n - n -  - showq
postlog   unix-dgram n - n - 1 postlogd
EOF
echo "== generating $messages messages in $work/spool" >&2
t0=$SECONDS
python3 "$here/make_postfix_queue.py" --out "$work/spool" --messages "$messages" --owner mail \
  --manifest "$work/manifest"
echo "   generated in $((SECONDS - t0)) s" >&2
postfix_env_start "$work"
printf '#!/bin/sh\nMAIL_CONFIG=%s exec %s "$@"\n' "$work/etc" "$work/bin/postqueue" >"$work/postqueue"
chmod 755 "$work/postqueue"
"$work/postqueue" -j >/dev/null  # starts the showq daemon
showq_pid=$(pgrep -P "$(cat "$work/master.pid")" -x showq | head -n 1 || true)
[[ -n $showq_pid ]] || echo "postfix_queue_bench.sh: showq not found: its CPU is not counted" >&2

echo "== running $(basename "$bench")" >&2
rc=0
"$bench" --queue-directory "$work/spool" --postqueue "$work/postqueue" \
  --showq-pid "${showq_pid:-0}" --manifest "$work/manifest" --repeat "$repeat" \
  >"$work/result" || rc=$?
cat "$work/result" >&2
((rc == 0)) || { echo "postfix_queue_bench.sh: the bench failed (rc $rc)" >&2; exit 1; }
declare -A r=()
while read -r key value; do
  [[ $key == check_* || $key == checks ]] && continue
  [[ $value =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
    { echo "postfix_queue_bench.sh: $key: not a number: '$value'" >&2; exit 1; }
  r[$key]=$value
done <"$work/result"
for key in scan_messages scan_first_wall_seconds scan_first_cpu_seconds postqueue_wall_seconds \
  postqueue_cpu_seconds rescan_median_seconds rescan_max_seconds listed_rescan_median_seconds \
  rescan_cpu_median_seconds listed_rescan_cpu_median_seconds \
  ratio_postqueue_wall_over_first_scan ratio_postqueue_cpu_over_first_scan \
  ratio_postqueue_wall_over_rescan scan_first_bytes_read repeat \
  collector_refresh_median_seconds collector_refresh_cpu_median_seconds; do
  [[ -n ${r[$key]:-} ]] || { echo "postfix_queue_bench.sh: no $key in the output" >&2; exit 1; }
done
((smoke)) && { echo "postfix_queue_bench.sh: smoke run passed" >&2; exit 0; }

ms() { awk -v s="$1" 'BEGIN { v = s * 1000; printf (v < 10 ? "%.2f ms" : "%.0f ms"), v }'; }
sec() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
x() { awk -v s="$1" 'BEGIN { printf (s < 100 ? "%.1f×" : "%.0f×"), s }'; }
queue_bytes=$(du -sb "$work/spool" | cut -f1)
bytes_read=${r[scan_first_bytes_read]}
rounds=""
n_rounds=${r[repeat]}
for ((i = 1; i <= n_rounds; i++)); do
  rounds+=$(awk -v i="$i" -v sw="${r[scan_first_wall_seconds_round$i]}" \
    -v sc="${r[scan_first_cpu_seconds_round$i]}" -v pw="${r[postqueue_wall_seconds_round$i]}" \
    -v pc="${r[postqueue_cpu_seconds_round$i]}" \
    'BEGIN { printf " round %d: %.2f/%.2f, %.2f/%.2f;", i, sw, sc, pw, pc }')
done
section=$(
  cat <<EOF
<!-- postfix-queue-bench:start -->
## Postfix queue scan (queue files vs \`postqueue -j\`)

Generated by \`bench/postfix_queue_bench.sh\` (do not edit by hand). ${r[scan_messages]} synthetic
messages ($((queue_bytes / 1048576)) MiB of queue files) from \`bench/make_postfix_queue.py\`:
Postfix 3.7 record layout, SMTP AUTH from one hijacked and 300 other accounts, pickup from three
local users, unauthenticated SMTP, bounces, 1-5 recipients (some delivered), bodies of 1-4 kB and
3 % of 30 kB; 90 % in \`deferred/<hash>/\`, the rest in hold, active, incoming and maildrop.
\`postqueue -j\` is Debian's Postfix $postfix_version run privately, its master serving only
showq (no queue manager touches the queue); its CPU is postqueue's plus that of the showq daemon
(which reads the files). \`postfix_queue_bench\` reads every file once untimed, then
${r[repeat]} rounds of: the first \`PostfixQueueScanner::Scan()\` of a fresh reader (one thread,
plain system calls: openat, fstat, one pread of 16 KiB, close; a second pread for the 3 % of files
larger than that, past their content), then \`postqueue -j\`. Medians; wall and CPU. Then 20 rescans
of the unchanged queue (settled directories are not listed; active/ always is) and 20 with every
directory listed and every file \`stat\`-ed (the cost when the queue has changed). Page cache warm.
Every run checks that the reader, \`postqueue -j\` and the generator's manifest agree (messages,
recipients, bytes, per queue, top owner).

Environment: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs shared with other jobs (load
average $(cut -d' ' -f1-3 /proc/loadavg) at the end); $(uname -sr); queue on $(df -T "$work" | awk 'NR == 2 { print $2 }').

| messages | \`postqueue -j\` | first scan | \`postqueue -j\` ÷ first scan (wall / CPU) | rescan, unchanged (median, max; CPU) | rescan, listed (median; CPU) | \`postqueue -j\` ÷ unchanged rescan |
|---:|---:|---:|---:|---:|---:|---:|
| ${r[scan_messages]} | $(sec "${r[postqueue_wall_seconds]}") (CPU $(sec "${r[postqueue_cpu_seconds]}")) | $(sec "${r[scan_first_wall_seconds]}") (CPU $(sec "${r[scan_first_cpu_seconds]}")) | **$(x "${r[ratio_postqueue_wall_over_first_scan]}") / $(x "${r[ratio_postqueue_cpu_over_first_scan]}")** | $(ms "${r[rescan_median_seconds]}"), $(ms "${r[rescan_max_seconds]}"); CPU $(ms "${r[rescan_cpu_median_seconds]}") | $(ms "${r[listed_rescan_median_seconds]}"); CPU $(ms "${r[listed_rescan_cpu_median_seconds]}") | $(x "${r[ratio_postqueue_wall_over_rescan]}") |

Bytes read by the first scan: $((bytes_read / 1048576)) MiB of $((queue_bytes / 1048576)) MiB.
The exporter's background refresh of the unchanged queue (\`QueueCollector\` over the reader:
the rescan, the aggregation of every message per queue, owner and sender (top 20) and the
families, plus one scrape's copy of them): $(ms "${r[collector_refresh_median_seconds]}") median, CPU $(ms "${r[collector_refresh_cpu_median_seconds]}"), that is
$(ms "$(awk -v a="${r[collector_refresh_cpu_median_seconds]}" -v b="${r[rescan_cpu_median_seconds]}" 'BEGIN { print a - b }')") of CPU beyond the rescan; once every \`--queue.refresh-interval\` (15 s by default):
$(awk -v c="${r[collector_refresh_cpu_median_seconds]}" 'BEGIN { printf "%.2f", c / 15 * 100 }') % of one CPU.
Every round, wall/CPU seconds of the first scan, then of \`postqueue -j\`:$rounds

Rerun: \`bench/postfix_queue_bench.sh --bench BUILD/bench/postfix_queue_bench\` (as root; ctest
runs only the 1000-message smoke variant \`bench.postfix_queue_smoke\`).
<!-- postfix-queue-bench:end -->
EOF
)
echo
echo "$section"
if [[ -n $readme ]]; then
  python3 "$here/readme_section.py" "$readme" postfix-queue-bench <<<"$section"
  echo "wrote the postfix-queue-bench section of $readme" >&2
fi
