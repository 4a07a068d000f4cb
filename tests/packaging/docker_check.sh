#!/usr/bin/env bash
# docker/ without a Docker engine:
#   1. compose.yaml, prometheus.yml and the Grafana provisioning YAML parse, and every file or
#      directory they reference exists in the repository (check_docker_files.py);
#   2. `promtool check config` on prometheus.yml laid out as the compose mounts put it (so the
#      relative rule_files resolve to alerts/), and `amtool check-config` on alertmanager.yml;
#   3. dockerfilelint 1.8.0 (npm, installed outside the repository) on docker/Dockerfile;
#   4. the Dockerfile's build-stage RUN commands, verbatim, with $SRC = this checkout and
#      $BUILD = BUILD_DIR; the shared libraries the binary needs come from the runtime stage's
#      packages (or debian:bookworm-slim's own);
#   5. the binary started with the ENTRYPOINT + CMD flags (container paths moved under a temp
#      root, so --path.rootfs=/host finds a Debian host's Exim files there; the listen address
#      on 127.0.0.1:<free port>; as an unprivileged user), probed with the HEALTHCHECK's own
#      script; it must autodetect and count a log line, and the probe must fail once the
#      exporter is gone. compose.yaml's exporter flags must parse too.
#   docker_check.sh REPO BUILD_DIR
# BUILD_DIR is kept between runs (incremental build). The linter is cached in
# $MAILRELAY_TOOLS_DIR (default /tmp/mailrelay-tools).
set -euo pipefail
repo=$(cd "$1" && pwd)
build_dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${MAILRELAY_TOOLS_DIR:-/tmp/mailrelay-tools}
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
py=python3
if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  py=/usr/bin/python3 # Debian's python3-yaml
fi

echo "== compose and provisioning files"
"$py" "$here/check_docker_files.py" check "$repo"
"$py" "$here/check_docker_files.py" extract "$repo" "$work/x" >/dev/null

echo "== promtool check config (laid out as the prometheus service's mounts)"
root="$work/prom-root"
while IFS=$'\t' read -r host dst; do
  mkdir -p "$root$(dirname "$dst")"
  cp -r "$host" "$root$dst"
done <"$work/x/prometheus_mounts"
promtool check config "$root/etc/prometheus/prometheus.yml"

echo "== amtool check-config"
amtool check-config "$(cat "$work/x/alertmanager_config")"

echo "== dockerfilelint"
lint_dir="$tools/dockerfilelint-1.8.0"
lint="$lint_dir/node_modules/.bin/dockerfilelint"
if [[ ! -x $lint ]]; then
  mkdir -p "$lint_dir"
  npm install --prefix "$lint_dir" --no-audit --no-fund --no-save --loglevel=error \
    dockerfilelint@1.8.0 >"$work/npm.log" 2>&1 || {
    cat "$work/npm.log" >&2
    exit 1
  }
fi
# With docker/.dockerfilelintrc: no issue at all.
"$lint" "$repo/docker/Dockerfile"
# Without it: only the known false positive (HEALTHCHECK --start-period) that the rc turns off.
mkdir -p "$work/no-rc"
"$lint" -c "$work/no-rc" -j "$repo/docker/Dockerfile" >"$work/lint.json" || true
"$py" - "$work/lint.json" <<'EOF'
import json, sys
issues = [i for f in json.load(open(sys.argv[1]))["files"] for i in f["issues"]]
other = [i for i in issues
         if not (i["content"].startswith("HEALTHCHECK ") and i["title"] == "Invalid Argument Format")]
for i in other:
    print(f"FAIL: dockerfilelint without .dockerfilelintrc: line {i['line']}: {i['title']}: "
          f"{i['content']}", file=sys.stderr)
sys.exit(1 if other else 0)
EOF

echo "== the Dockerfile's build stage, run directly (SRC=$repo BUILD=$build_dir)"
build_env=()
while IFS= read -r kv; do build_env+=("$kv"); done <"$work/x/build_env"
build_env+=("SRC=$repo" "BUILD=$build_dir" "BUILD_JOBS=${MAILRELAY_BUILD_JOBS:-2}")
container_build=$(grep '^BUILD=' "$work/x/build_env" | tail -n1 | cut -d= -f2-)
while IFS= read -r run; do
  echo "+ $run"
  env "${build_env[@]}" sh -e -c "$run"
done <"$work/x/build_run.sh"
artifact=$(cat "$work/x/artifact")
bin="$build_dir${artifact#"$container_build"}"
[[ -x $bin ]] || {
  echo "FAIL: $artifact (host: $bin) was not built" >&2
  exit 1
}

echo "== build inputs come from the build stage's packages"
# This machine has more -dev packages than the build stage installs: every header the build
# read (ninja's deps), every library it linked and every CMake package config it loaded must
# belong to a package in the dependency closure of the build stage's apt-get install
# (debian:bookworm-slim's own packages: apt's closure).
mapfile -t build_pkgs <"$work/x/build_packages"
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "${build_pkgs[@]}" apt |
  sed -n 's/^\([a-z0-9][a-z0-9.+-]*\).*/\1/p' | sort -u >"$work/closure"
{
  ninja -C "$build_dir" -t deps | awk '/^ +\/usr\// {print $1}'
  ninja -C "$build_dir" -t commands "${artifact#"$container_build"/}" | tail -n1 | tr ' ' '\n' |
    grep -E '^/usr/lib/.*\.(so|a)(\.[0-9.]+)?$' || true
  sed -n 's#^[A-Za-z0-9_-]*_DIR:PATH=\(/usr/.*\)#\1#p' "$build_dir/CMakeCache.txt" |
    while IFS= read -r d; do find "$d" -maxdepth 1 -name '*.cmake' | head -n1; done
} | sort -u >"$work/inputs"
xargs dpkg -S <"$work/inputs" 2>"$work/dpkg-S.err" | cut -d: -f1 | tr -s ', ' '\n' | grep . |
  sort -u >"$work/input_pkgs" || true
if [[ -s $work/dpkg-S.err ]]; then
  echo "FAIL: build inputs owned by no package:" >&2
  cat "$work/dpkg-S.err" >&2
  exit 1
fi
if comm -23 "$work/input_pkgs" "$work/closure" | grep .; then
  echo "^ FAIL: the build used these packages, which the build stage does not install" >&2
  exit 1
fi
echo "$(wc -l <"$work/inputs") build inputs from: $(tr '\n' ' ' <"$work/input_pkgs")"

echo "== runtime libraries come from the runtime stage's packages"
# Present in debian:bookworm-slim itself (Essential or needed by apt).
base=(libc6 libgcc-s1 libstdc++6)
mapfile -t runtime_pkgs <"$work/x/runtime_packages"
status=0
while read -r lib; do
  path=$(ldd "$bin" | awk -v l="$lib" '$1 == l {print $3}')
  pkg=
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    if out=$(dpkg -S "$candidate" 2>/dev/null); then
      pkg=${out%%:*}
      break
    fi
  done
  if [[ -z $pkg ]]; then
    echo "FAIL: no package owns $lib ($path)" >&2
    status=1
  elif [[ " ${base[*]} ${runtime_pkgs[*]} " != *" $pkg "* ]]; then
    echo "FAIL: $lib is in $pkg, which the runtime stage does not install" >&2
    status=1
  else
    echo "$lib: $pkg"
  fi
done < <(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[[ $status -eq 0 ]] || exit 1

echo "== the ENTRYPOINT + CMD, run directly"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The CMD autodetects under --path.rootfs=/host: a Debian host's Exim files there.
fake_root="$work/root"
host="$fake_root/host"
mkdir -p "$host/var/log/exim4" "$host/var/spool/exim4/input"
: >"$host/var/log/exim4/mainlog"
: >"$host/var/log/exim4/rejectlog" # Debian's exim4 has both
mapfile -t entry <"$work/x/entrypoint_cmd"
args=()
for a in "${entry[@]:1}"; do
  case $a in
  --web.listen-address=*) args+=("--web.listen-address=127.0.0.1:$port") ;;
  --*=/*) args+=("${a%%=*}=$fake_root${a#*=}") ;;
  *) args+=("$a") ;;
  esac
done
# The compose service's flags parse (an unknown flag exits 2 before --version prints).
mapfile -t compose_args <"$work/x/compose_exporter_command"
"$bin" "${compose_args[@]}" --version >/dev/null
# As an unprivileged user, like the image's USER.
run_as=()
if [[ $(id -u) -eq 0 ]]; then
  chmod -R a+rX "$work"
  run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
echo "+ ${run_as[*]} $bin ${args[*]}"
"${run_as[@]}" "$bin" "${args[@]}" 2>"$work/exporter.log" &
pid=$!
healthcheck=$(cat "$work/x/healthcheck_src")
probe() { MAILRELAY_HEALTHCHECK_PORT=$port bash "$healthcheck" 2>/dev/null; }
healthy=0
for _ in $(seq 1 100); do
  if probe; then
    healthy=1
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ $healthy -ne 1 ]]; then
  echo "FAIL: the HEALTHCHECK probe never succeeded" >&2
  cat "$work/exporter.log" >&2
  exit 1
fi
echo "healthcheck: /-/healthy OK on 127.0.0.1:$port"
if ! curl -sS "http://127.0.0.1:$port/-/ready" >"$work/ready" || ! grep -qx Ready "$work/ready"; then
  echo "FAIL: /-/ready: $(cat "$work/ready")" >&2
  exit 1
fi
printf '%s\n' '2026-11-22 11:48:49 1xV63t-0004DL-0K <= alice@mx.example.test H=(client.example.net) [198.51.100.7] P=esmtpsa A=dovecot_plain:alice@mx.example.test S=1234 id=a@b T="hi" for bob@example.org' \
  >>"$host/var/log/exim4/mainlog"
counted=0
for _ in $(seq 1 50); do
  if curl -fsS "http://127.0.0.1:$port/metrics" | grep -q '^mailrelay_messages_received_total{class="authrelay"} 1$'; then
    counted=1
    break
  fi
  sleep 0.1
done
if [[ $counted -ne 1 ]]; then
  echo "FAIL: the exporter did not count a line appended to the mainlog" >&2
  curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^mailrelay_(messages_received|log_)' >&2 || true
  cat "$work/exporter.log" >&2
  exit 1
fi
echo "metrics: the appended line is counted (authrelay)"
if ! grep -qF "msg=\"reading log\" mta=exim log=exim_mainlog path=$host/var/log/exim4/mainlog " "$work/exporter.log"; then
  echo "FAIL: the CMD did not autodetect the main log under --path.rootfs" >&2
  cat "$work/exporter.log" >&2
  exit 1
fi
echo "autodetect: $host/var/log/exim4/mainlog found under --path.rootfs"
kill "$pid"
wait "$pid" || true
pid=
if probe; then
  echo "FAIL: the HEALTHCHECK probe succeeds with no exporter running" >&2
  exit 1
fi
echo "healthcheck: fails once the exporter has stopped"
echo "docker_check: OK"
