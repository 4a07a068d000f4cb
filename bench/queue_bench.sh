#!/usr/bin/env bash
# Queue scan benchmark: builds synthetic Exim spools (bench/make_spool.py; flat and split
# layouts), runs bench/queue_scan_bench.cc on each (exporter spool reader: first scan and
# rescans of the unchanged queue, against the real `exim -bp` and `exim -bpc` with a minimal
# -C configuration whose spool_directory is the synthetic spool), prints a table and writes it
# into bench/README.md between <!-- queue-bench:start --> and <!-- queue-bench:end -->.
#
#   queue_bench.sh --bench PATH [--messages N] [--layouts "flat split"] [--readme FILE |
#                  --no-readme] [--workdir DIR] [--keep]
#   queue_bench.sh --smoke --bench PATH      1000 messages, both layouts, README untouched
#                                            (ctest bench.queue_smoke; exit 77 without exim)
# Needs root (exim -C keeps privilege only for root) and about 1 GB in the work directory
# for 100k messages per layout (removed at exit unless --keep).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=""
messages=100000
layouts="flat split"
readme=$here/README.md
workdir=""
keep=0
smoke=0
exim=${EXIM_BIN:-/usr/sbin/exim4}

while (($#)); do
  case $1 in
    --bench) bench=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --layouts) layouts=$2; shift 2 ;;
    --readme) readme=$2; shift 2 ;;
    --no-readme) readme=""; shift ;;
    --workdir) workdir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --smoke) smoke=1; messages=1000; readme=""; shift ;;
    *) echo "queue_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $bench && -x $bench ]] || { echo "queue_bench.sh: --bench PATH (queue_scan_bench) required" >&2; exit 2; }
if [[ ! -x $exim ]]; then
  echo "queue_bench.sh: $exim not found" >&2
  ((smoke)) && exit 77
  exit 2
fi
((EUID == 0)) || { echo "queue_bench.sh: must run as root (exim -C)" >&2; ((smoke)) && exit 77; exit 2; }

created_workdir=0
if [[ -z $workdir ]]; then
  workdir=$(mktemp -d /tmp/queue_bench.XXXXXX)
  created_workdir=1
fi
cleanup() {
  if ((keep)); then
    echo "kept $workdir" >&2
  elif ((created_workdir)); then
    rm -rf "$workdir"
  else
    local l
    for l in $layouts; do rm -rf "${workdir:?}/$l"; done
  fi
}
trap cleanup EXIT

declare -A r=()   # r[layout/key] = value
num_re='^[0-9]+(\.[0-9]+)?$'
for layout in $layouts; do
  d=$workdir/$layout
  [[ ! -e $d ]] || { echo "queue_bench.sh: $d exists" >&2; exit 2; }
  mkdir -p "$d/log"
  split_opt=()
  split=false
  if [[ $layout == split ]]; then split_opt=(--split); split=true; fi
  [[ $layout == flat || $layout == split ]] || { echo "queue_bench.sh: layout flat|split" >&2; exit 2; }
  echo "== $layout: generating $messages messages in $d/spool" >&2
  t0=$SECONDS
  python3 "$here/make_spool.py" --out "$d/spool" --messages "$messages" "${split_opt[@]}" \
    --manifest "$d/manifest"
  echo "   generated in $((SECONDS - t0)) s" >&2
  cat >"$d/exim.conf" <<EOF
# queue_bench.sh: only for exim -bp / -bpc on the synthetic spool.
primary_hostname = bench.example.test
spool_directory = $d/spool
split_spool_directory = $split
log_file_path = $d/log/%slog
exim_user = root
exim_group = root
keep_environment =
EOF
  echo "== $layout: running $(basename "$bench")" >&2
  rc=0
  "$bench" --spool "$d/spool" --exim "$exim" --config "$d/exim.conf" --manifest "$d/manifest" \
    >"$d/result" || rc=$?
  cat "$d/result" >&2
  ((rc == 0)) || { echo "queue_bench.sh: bench failed for $layout (rc $rc)" >&2; exit 1; }
  while read -r key value; do
    [[ $key == check_* || $key == checks ]] && continue
    [[ $value =~ $num_re ]] || { echo "queue_bench.sh: $layout $key: not a number: '$value'" >&2; exit 1; }
    r[$layout/$key]=$value
  done <"$d/result"
  for key in exim_bpc_wall_seconds exim_bp_wall_seconds scan_first_wall_seconds rescan_median_seconds \
    listed_rescan_median_seconds ratio_bp_wall_over_first_scan ratio_bp_cpu_over_first_scan \
    ratio_bpc_wall_over_rescan ratio_bp_wall_over_rescan scan_messages scan_first_cpu_seconds exim_bp_cpu_seconds; do
    [[ -n ${r[$layout/$key]:-} ]] || { echo "queue_bench.sh: $layout: no $key in the output" >&2; exit 1; }
  done
done

ms() { awk -v s="$1" 'BEGIN { v = s * 1000; printf (v < 10 ? "%.3f ms" : "%.0f ms"), v }'; }
sec() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
x() { awk -v s="$1" 'BEGIN { printf (s < 100 ? "%.1f×" : "%.0f×"), s }'; }

table() {
  local l
  echo "| layout | messages | \`exim -bpc\` | \`exim -bp\` | first scan | rescan, unchanged (median) | rescan, dir listed (median) | \`-bp\` ÷ first scan (wall / CPU) | \`-bp\` ÷ unchanged rescan | \`-bpc\` ÷ unchanged rescan |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for l in $layouts; do
    printf '| %s | %s | %s | %s (CPU %s) | %s (CPU %s) | %s | %s | %s / %s | %s | %s |\n' \
      "$l" "${r[$l/scan_messages]}" \
      "$(sec "${r[$l/exim_bpc_wall_seconds]}")" \
      "$(sec "${r[$l/exim_bp_wall_seconds]}")" "$(sec "${r[$l/exim_bp_cpu_seconds]}")" \
      "$(sec "${r[$l/scan_first_wall_seconds]}")" "$(sec "${r[$l/scan_first_cpu_seconds]}")" \
      "$(ms "${r[$l/rescan_median_seconds]}")" "$(ms "${r[$l/listed_rescan_median_seconds]}")" \
      "$(x "${r[$l/ratio_bp_wall_over_first_scan]}")" "$(x "${r[$l/ratio_bp_cpu_over_first_scan]}")" \
      "$(x "${r[$l/ratio_bp_wall_over_rescan]}")" \
      "$(x "${r[$l/ratio_bpc_wall_over_rescan]}")"
  done
}

verdict() {
  local l
  for l in $layouts; do
    awk -v l="$l" -v bp="${r[$l/ratio_bp_wall_over_first_scan]}" -v re="${r[$l/rescan_median_seconds]}" 'BEGIN {
      printf "- %s: first scan %s 3× faster than `exim -bp` (%.1f×); unchanged rescan %s 50 ms (%.3f ms)\n",
        l, (bp >= 3 ? "is ≥" : "is NOT ≥"), bp, (re < 0.05 ? "<" : "NOT <"), re * 1000 }'
  done
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
env_line="$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs shared with other jobs (load average $load at the end);
$("$exim" -bV 2>/dev/null | head -1 | sed 's/ built.*//'); $(uname -sr); spool on $(df -T "$workdir" | awk 'NR == 2 { print $2 }')"

section=$(
  cat <<EOF
<!-- queue-bench:start -->
## Queue scan

Generated by \`bench/queue_bench.sh\` (do not edit by hand). $messages synthetic messages per
layout from \`bench/make_spool.py\` (Exim 4.96 \`-H\`/\`-D\` files: authenticated, unauthenticated and
local submissions, one hijacked account with 20-200 recipients per message, local and remote
bounces, ACL variables before \`-frozen\`, partly delivered messages with a non-recipients tree,
DSN recipient suffixes; split layout = \`input/<6th char of id>/\`). \`queue_scan_bench\` times, in
this order: \`exim -bpc\`, the first \`EximSpoolScanner::Scan()\` of a fresh reader (every \`-H\`
opened and parsed), \`exim -bp\` (real \`/usr/sbin/exim4 -C\` with a minimal configuration whose
\`spool_directory\` is the synthetic spool), 20 rescans of the unchanged spool (directories
untouched: only their \`stat\`), and 5 rescans with \`trust_directory_mtime = false\` (every
directory listed and every \`-H\` stat-ed, parsed results from the cache: the cost when the queue
has changed). Wall-clock times; CPU = user + system time of the scanning thread's process or of
the exim child. The page cache is warm for all (files just written, none evicted). Every run
checks that \`exim -bpc\`, \`exim -bp\` (count, frozen, \`<>\` senders, undelivered recipients),
the reader and the generator's manifest agree.

Environment: $env_line.

$(table)

Targets (issue 3): first scan ≥ 3× faster than \`exim -bp\`, unchanged rescan < 50 ms.
$(verdict)

Rerun: \`bench/queue_bench.sh --bench BUILD/bench/queue_scan_bench\` (as root; about 1 GB of
scratch space under /tmp; ctest runs only the 1000-message smoke variant \`bench.queue_smoke\`).
<!-- queue-bench:end -->
EOF
)

echo
echo "$section"

if [[ -n $readme ]]; then
  SECTION=$section python3 - "$readme" <<'PY'
import os, sys
path = sys.argv[1]
section = os.environ["SECTION"].rstrip("\n") + "\n"
start, end = "<!-- queue-bench:start -->", "<!-- queue-bench:end -->"
try:
    with open(path) as f:
        text = f.read()
except FileNotFoundError:
    text = "# Benchmarks\n\nEach section is written by its own script; keep them between their markers.\n"
if start in text and end in text and text.index(start) < text.index(end):
    a = text.index(start)
    b = text.index(end) + len(end)
    if text[b:b + 1] == "\n":
        b += 1
    text = text[:a] + section + text[b:]
else:
    text = text.rstrip("\n") + "\n\n" + section
with open(path + ".tmp", "w") as f:
    f.write(text)
os.replace(path + ".tmp", path)
PY
  echo "wrote the queue-bench section of $readme" >&2
fi
