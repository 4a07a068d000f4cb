#!/usr/bin/env python3
"""Static checks of docker/ (no Docker engine needed), and extraction of the Dockerfile's steps.

  check_docker_files.py check REPO
      docker/compose.yaml, the Grafana provisioning YAML and docker/Dockerfile: every file or
      directory they reference exists in the repository; services, mounts, ports and flags agree.
  check_docker_files.py extract REPO OUTDIR
      Writes what docker_check.sh runs "as the Dockerfile does": build_env (the build stage's ENV
      and ARG, one NAME=VALUE a line), build_run.sh (the build stage's RUN commands that build,
      i.e. all but the apt-get ones), artifact (the file the runtime stage copies from the build
      stage), entrypoint_cmd (ENTRYPOINT + CMD, one argument a line), healthcheck (the HEALTHCHECK
      command, one argument a line), healthcheck_src (the repository file installed as it),
      runtime_packages and build_packages (the stages' apt-get install packages),
      compose_exporter_command (the exporter's `command:` in compose.yaml, one argument a line),
      prometheus_mounts (SRC<TAB>DST of the Prometheus service's bind mounts, SRC absolute).
"""
import json
import os
import re
import shlex
import sys

import yaml

errors = []


def fail(msg):
    errors.append(msg)


# ---------------------------------------------------------------------------------- Dockerfile
def parse_dockerfile(path):
    """[(INSTRUCTION, args)] with continuation lines joined and comments dropped."""
    out, cur = [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if cur and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            instr, _, args = cur.strip().partition(" ")
            out.append((instr.upper(), args.strip()))
            cur = ""
    return out


def stages(instructions):
    """[{'name': str|None, 'base': str, 'body': [(INSTR, args)]}]"""
    result = []
    for instr, args in instructions:
        if instr == "FROM":
            words = args.split()
            flags = [w for w in words if w.startswith("--")]
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            result.append({"name": name, "base": words[0], "flags": flags, "body": []})
        elif result:
            result[-1]["body"].append((instr, args))
        else:
            fail(f"Dockerfile: {instr} before the first FROM")
    return result


def kv_pairs(args):
    """ENV/ARG arguments: NAME=VALUE pairs (shell-quoted) or ARG NAME."""
    pairs = {}
    for word in shlex.split(args):
        name, eq, value = word.partition("=")
        pairs[name] = value if eq else ""
    return pairs


def exec_form(args, what):
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        fail(f"Dockerfile: {what} must use the exec (JSON array) form: {args}")
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"Dockerfile: {what} must be a JSON array of strings")
        return []
    return value


def analyse_dockerfile(repo, context):
    path = os.path.join(repo, "docker", "Dockerfile")
    st = stages(parse_dockerfile(path))
    info = {}
    if len(st) < 2:
        fail("Dockerfile: expected a multi-stage build (build + runtime)")
        return info
    for s in st:
        if s["base"] != "debian:bookworm-slim":
            fail(f"Dockerfile: stage {s['name']} is FROM {s['base']}, expected debian:bookworm-slim")
    build = next((s for s in st if s["name"] == "build"), None)
    runtime = st[-1]
    if build is None or build is runtime:
        fail("Dockerfile: no `FROM ... AS build` stage before the runtime stage")
        return info

    # Build stage: packages, ENV, COPY of the sources, the build RUNs.
    env = {}
    runs = []
    apt_build = set()
    src_copy = None
    for instr, args in build["body"]:
        if instr in ("ENV", "ARG"):
            env.update(kv_pairs(args))
        elif instr == "RUN":
            if "apt-get" in args:
                apt_build |= apt_packages(args)
            else:
                runs.append(args)
        elif instr == "COPY":
            words = args.split()
            if len(words) == 2 and words[0] == ".":
                src_copy = words[1]
            check_copy_sources(context, words, "build")
    if not runs or not any("cmake" in r for r in runs) or not any("ninja" in r for r in runs):
        fail("Dockerfile: the build stage has no cmake/ninja RUN")
    for r in runs:
        # The RUNs are run on the host with SRC/BUILD pointing elsewhere: no literal paths.
        for p in ("/src", "/build"):
            if re.search(re.escape(p) + r"\b", r):
                fail(f"Dockerfile: build RUN uses the literal {p}; use ${p[1:].upper()}: {r}")
    if src_copy is None or env.get("SRC") != src_copy:
        fail(f"Dockerfile: `COPY . DIR` in the build stage must copy to $SRC ({env.get('SRC')})")
    if not env.get("BUILD"):
        fail("Dockerfile: the build stage must set ENV BUILD (the CMake build directory)")

    # The build packages cover install-deps.sh's build dependencies (not the test-only ones).
    deps = install_deps_packages(repo)
    test_only = {"libgtest-dev", "libgmock-dev", "libbenchmark-dev", "clang-format"}
    wanted = {p for p in deps if p.endswith("-dev") and p not in test_only}
    wanted |= {"build-essential", "cmake", "ninja-build", "pkg-config"}
    missing = sorted(wanted - apt_build)
    if missing:
        fail(f"Dockerfile: build stage lacks install-deps.sh build packages: {' '.join(missing)}")

    # Runtime stage.
    artifact = None
    user = None
    entrypoint, cmd, health = [], [], []
    health_src = None
    apt_runtime = set()
    exposed = []
    runtime_env = {}
    copies = []
    for instr, args in runtime["body"]:
        if instr == "RUN" and "apt-get" in args:
            apt_runtime |= apt_packages(args)
        elif instr == "COPY":
            words = args.split()
            if words[0].startswith("--from="):
                if words[0] != "--from=build":
                    fail(f"Dockerfile: COPY {words[0]}: expected --from=build")
                artifact = words[1]
            else:
                check_copy_sources(context, words, "runtime")
                copies.append(words)
        elif instr == "USER":
            user = args
        elif instr == "EXPOSE":
            exposed += args.split()
        elif instr == "ENV":
            runtime_env.update(kv_pairs(args))
        elif instr == "ENTRYPOINT":
            entrypoint = exec_form(args, "ENTRYPOINT")
        elif instr == "CMD":
            cmd = exec_form(args, "CMD")
        elif instr == "HEALTHCHECK":
            m = re.search(r"\bCMD\s+(.*)$", args)
            if not m:
                fail("Dockerfile: HEALTHCHECK without CMD")
            else:
                health = exec_form(m.group(1), "HEALTHCHECK CMD")
    if user in (None, "root", "0", "0:0"):
        fail(f"Dockerfile: the runtime stage must run as a non-root USER (got {user})")
    if exposed != ["9225"]:
        fail(f"Dockerfile: EXPOSE {exposed}, expected 9225")
    if artifact is None or not artifact.startswith(env.get("BUILD", "/nonexistent") + "/"):
        fail(f"Dockerfile: COPY --from=build {artifact} is not under $BUILD")
    listen = [a for a in cmd if a.startswith("--web.listen-address=")]
    if not listen or not listen[0].endswith(":9225"):
        fail("Dockerfile: CMD must set --web.listen-address=...:9225 (the EXPOSEd port)")
    if runtime_env.get("MAILRELAY_HEALTHCHECK_PORT") != "9225":
        fail("Dockerfile: ENV MAILRELAY_HEALTHCHECK_PORT must be the EXPOSEd port 9225")
    if not health:
        fail("Dockerfile: no HEALTHCHECK")
    else:
        for words in copies:
            if words[-1] == health[0]:
                health_src = words[0]
        if health_src is None:
            fail(f"Dockerfile: HEALTHCHECK runs {health[0]}, which no COPY installs")
    if not entrypoint or not entrypoint[0].endswith("/mailrelay_exporter"):
        fail(f"Dockerfile: ENTRYPOINT {entrypoint} must be the exporter binary")
    info.update(env=env, runs=runs, apt_build=sorted(apt_build), artifact=artifact, entrypoint=entrypoint, cmd=cmd,
                health=health, health_src=health_src, apt_runtime=sorted(apt_runtime))
    return info


def apt_packages(run):
    pkgs = set()
    for m in re.finditer(r"apt-get\s+install\s+([^&;|]*)", run):
        pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pkgs


def install_deps_packages(repo):
    text = open(os.path.join(repo, "scripts", "install-deps.sh"), encoding="utf-8").read()
    m = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    if not m:
        fail("scripts/install-deps.sh: no packages=( ... ) list")
        return set()
    words = set()
    for line in m.group(1).splitlines():
        words |= set(line.split("#", 1)[0].split())
    return words


def check_copy_sources(context, words, stage):
    words = [w for w in words if not w.startswith("--")]
    for src in words[:-1]:
        if not os.path.exists(os.path.join(context, src)):
            fail(f"Dockerfile ({stage} stage): COPY source {src} does not exist in the context")


# ---------------------------------------------------------------------------------- compose
def bind_mounts(service, base):
    """[(host_abs_or_None, container, readonly, raw)] for the service's volumes."""
    mounts = []
    for v in service.get("volumes", []) or []:
        if isinstance(v, dict):
            src, dst = v.get("source"), v.get("target")
            ro = bool(v.get("read_only"))
            kind = v.get("type", "volume")
        else:
            parts = v.split(":")
            src, dst = parts[0], parts[1] if len(parts) > 1 else parts[0]
            ro = len(parts) > 2 and "ro" in parts[2].split(",")
            kind = "bind" if src.startswith((".", "/", "~")) else "volume"
        if kind == "bind":
            host = src if src.startswith("/") else os.path.normpath(os.path.join(base, src))
            mounts.append((host, dst, ro, src))
        else:
            mounts.append((None, dst, ro, src))
    return mounts


def flag_value(args, flag):
    for a in args or []:
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def container_to_host(mounts, path):
    best = None
    for host, dst, _ro, _raw in mounts:
        if host and (path == dst or path.startswith(dst.rstrip("/") + "/")):
            if best is None or len(dst) > len(best[1]):
                best = (host, dst)
    if best is None:
        return None
    return best[0] + path[len(best[1]):]


def check_compose(repo):
    docker = os.path.join(repo, "docker")
    compose_path = os.path.join(docker, "compose.yaml")
    with open(compose_path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    extra = set(compose) - {"name", "services", "volumes", "networks", "configs", "secrets"}
    if extra:
        fail(f"compose.yaml: unknown top-level keys {sorted(extra)}")
    services = compose.get("services") or {}
    declared_volumes = set((compose.get("volumes") or {}).keys())
    host_allowed = {"/", "/var/log", "/var/spool/exim4", "/etc/localtime"}
    info = {"services": services}
    for name, svc in services.items():
        if "image" not in svc and "build" not in svc:
            fail(f"compose.yaml: service {name} has neither image nor build")
        for host, dst, ro, raw in bind_mounts(svc, docker):
            if host is None:
                if raw not in declared_volumes:
                    fail(f"compose.yaml: {name}: volume {raw} is not declared under volumes:")
                continue
            if raw.startswith("/"):
                if raw not in host_allowed:
                    fail(f"compose.yaml: {name}: host path {raw} is not the host's root or a mail "
                         f"or time zone mount")
                if not ro:
                    fail(f"compose.yaml: {name}: host mount {raw} must be read-only (:ro)")
                continue
            if not os.path.exists(host):
                fail(f"compose.yaml: {name}: {raw} -> {host} does not exist in the repository")
            elif not os.path.realpath(host).startswith(os.path.realpath(repo) + os.sep):
                fail(f"compose.yaml: {name}: {raw} is outside the repository")
            if not ro:
                fail(f"compose.yaml: {name}: repository mount {raw} should be read-only")
        for dep in svc.get("depends_on", []) or []:
            if dep not in services:
                fail(f"compose.yaml: {name} depends on unknown service {dep}")

    # The exporter: built from docker/Dockerfile with the repository as context.
    exporter = [n for n, s in services.items() if "build" in s]
    if len(exporter) != 1:
        fail(f"compose.yaml: expected exactly one built service (the exporter), got {exporter}")
        return info
    ename = exporter[0]
    esvc = services[ename]
    build = esvc["build"]
    context = os.path.normpath(os.path.join(docker, build.get("context", ".")))
    dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
    if os.path.realpath(context) != os.path.realpath(repo):
        fail(f"compose.yaml: {ename} build context {context} is not the repository root")
    if os.path.realpath(dockerfile) != os.path.realpath(os.path.join(docker, "Dockerfile")):
        fail(f"compose.yaml: {ename} does not build docker/Dockerfile ({dockerfile})")
    emounts = {dst: (raw, ro) for _h, dst, ro, raw in bind_mounts(esvc, docker)}
    # The host's / at --path.rootfs (logs and spool autodetected there), and the host's time
    # zone (Exim logs local time without a zone).
    rootfs = flag_value(esvc.get("command"), "--path.rootfs")
    if not rootfs:
        fail(f"compose.yaml: {ename} has no --path.rootfs")
    elif emounts.get(rootfs) != ("/", True):
        fail(f"compose.yaml: {ename} must mount the host's / read-only at --path.rootfs ({rootfs})")
    if emounts.get("/etc/localtime") != ("/etc/localtime", True):
        fail(f"compose.yaml: {ename} must mount the host's /etc/localtime read-only there")
    if not any(str(p).split(":")[-1] == "9225" for p in esvc.get("ports", [])):
        fail(f"compose.yaml: {ename} does not publish port 9225")
    info.update(exporter=ename, context=context)

    # Prometheus: config file, rule files through the mounts, scrape job, alertmanager target.
    prom = services.get("prometheus")
    if not prom:
        fail("compose.yaml: no prometheus service")
        return info
    pmounts = bind_mounts(prom, docker)
    info["prometheus_mounts"] = [(h, d) for h, d, _ro, _raw in pmounts if h]
    pconf_in = flag_value(prom.get("command"), "--config.file") or "/etc/prometheus/prometheus.yml"
    pconf = container_to_host(pmounts, pconf_in)
    if not pconf or not os.path.isfile(pconf):
        fail(f"compose.yaml: prometheus --config.file {pconf_in} is not a mounted repository file")
        return info
    with open(pconf, encoding="utf-8") as f:
        pcfg = yaml.safe_load(f)
    rule_files = pcfg.get("rule_files") or []
    if not rule_files:
        fail("prometheus.yml: no rule_files")
    for rf in rule_files:
        cpath = rf if rf.startswith("/") else os.path.join(os.path.dirname(pconf_in), rf)
        hpath = container_to_host(pmounts, cpath)
        if hpath is None:
            fail(f"prometheus.yml: rule file {rf} ({cpath}) is not under a mount")
        elif not any(c in rf for c in "*?[") and not os.path.isfile(hpath):
            fail(f"prometheus.yml: rule file {rf} -> {hpath} does not exist")
    jobs = {j.get("job_name"): j for j in pcfg.get("scrape_configs") or []}
    if "mailrelay" not in jobs:
        fail("prometheus.yml: no scrape job `mailrelay` (the rules select job=\"mailrelay\")")
    else:
        targets = [t for sc in jobs["mailrelay"].get("static_configs", []) for t in sc["targets"]]
        if f"{ename}:9225" not in targets:
            fail(f"prometheus.yml: job mailrelay does not scrape {ename}:9225 ({targets})")
    am_targets = [t for am in (pcfg.get("alerting") or {}).get("alertmanagers", [])
                  for sc in am.get("static_configs", []) for t in sc.get("targets", [])]
    if "alertmanager" not in services:
        fail("compose.yaml: no alertmanager service")
    elif "alertmanager:9093" not in am_targets:
        fail(f"prometheus.yml: alerting does not target alertmanager:9093 ({am_targets})")
    else:
        am = services["alertmanager"]
        amounts = bind_mounts(am, docker)
        aconf_in = flag_value(am.get("command"), "--config.file") or \
            "/etc/alertmanager/alertmanager.yml"
        aconf = container_to_host(amounts, aconf_in)
        if not aconf or not os.path.isfile(aconf):
            fail(f"compose.yaml: alertmanager --config.file {aconf_in} is not a mounted file")
        else:
            info["alertmanager_config"] = aconf

    # Grafana: provisioning directory, datasource, dashboards provider.
    graf = services.get("grafana")
    if not graf:
        fail("compose.yaml: no grafana service")
        return info
    gmounts = bind_mounts(graf, docker)
    prov = container_to_host(gmounts, "/etc/grafana/provisioning")
    if not prov or not os.path.isdir(prov):
        fail("compose.yaml: grafana does not mount a provisioning directory at "
             "/etc/grafana/provisioning")
        return info
    check_grafana(repo, prov, gmounts, services)
    return info


def check_grafana(repo, prov, gmounts, services):
    ds_files = yaml_files(os.path.join(prov, "datasources"))
    db_files = yaml_files(os.path.join(prov, "dashboards"))
    if not ds_files:
        fail("grafana provisioning: no datasources/*.yaml")
    if not db_files:
        fail("grafana provisioning: no dashboards/*.yaml")
    prom_ds = []
    for path in ds_files:
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        if doc.get("apiVersion") != 1:
            fail(f"{path}: apiVersion must be 1")
        for ds in doc.get("datasources") or []:
            if ds.get("type") == "prometheus":
                prom_ds.append(ds)
                host = re.sub(r"^https?://", "", ds.get("url", "")).split(":")[0].split("/")[0]
                if host not in services:
                    fail(f"{path}: datasource url {ds.get('url')} is not a compose service")
    if len(prom_ds) != 1 or not prom_ds[0].get("isDefault"):
        fail("grafana provisioning: expected one default Prometheus datasource (the dashboards' "
             "`datasource` variable picks the default)")
    dashboards_seen = 0
    for path in db_files:
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        if doc.get("apiVersion") != 1:
            fail(f"{path}: apiVersion must be 1")
        for p in doc.get("providers") or []:
            cpath = (p.get("options") or {}).get("path")
            if p.get("type") != "file" or not cpath:
                fail(f"{path}: provider {p.get('name')} must be type file with options.path")
                continue
            hpath = container_to_host(gmounts, cpath)
            if not hpath or not os.path.isdir(hpath):
                fail(f"{path}: dashboards path {cpath} is not a mounted repository directory")
                continue
            if os.path.realpath(hpath) != os.path.realpath(os.path.join(repo, "dashboards")):
                fail(f"{path}: {cpath} is not the repository's dashboards/")
            for name in sorted(os.listdir(hpath)):
                if name.endswith(".json"):
                    d = json.load(open(os.path.join(hpath, name), encoding="utf-8"))
                    if not d.get("uid") or not d.get("title") or "panels" not in d:
                        fail(f"dashboards/{name}: not a Grafana dashboard (uid, title, panels)")
                    dashboards_seen += 1
    if dashboards_seen == 0:
        fail("grafana provisioning: no dashboard JSON reachable")
    print(f"grafana: {len(prom_ds)} Prometheus datasource, {dashboards_seen} dashboards provisioned")


def yaml_files(d):
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.endswith((".yaml", ".yml"))]


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("check", "extract"):
        print(__doc__, file=sys.stderr)
        return 2
    repo = os.path.abspath(sys.argv[2])
    cinfo = check_compose(repo)
    dinfo = analyse_dockerfile(repo, cinfo.get("context", repo))
    if errors:
        for e in errors:
            print("FAIL:", e, file=sys.stderr)
        return 1
    if sys.argv[1] == "check":
        print(f"compose: services {', '.join(cinfo['services'])}; every referenced path exists")
        print(f"Dockerfile: {len(dinfo['runs'])} build RUN(s), entrypoint {dinfo['entrypoint']}")
        return 0
    out = sys.argv[3]
    os.makedirs(out, exist_ok=True)

    def write(name, lines):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)

    write("build_env", [f"{k}={v}" for k, v in dinfo["env"].items()])
    write("build_run.sh", dinfo["runs"])
    write("artifact", [dinfo["artifact"]])
    write("entrypoint_cmd", dinfo["entrypoint"] + dinfo["cmd"])
    write("healthcheck", dinfo["health"])
    write("healthcheck_src", [os.path.join(cinfo["context"], dinfo["health_src"])])
    write("runtime_packages", dinfo["apt_runtime"])
    write("build_packages", dinfo["apt_build"])
    ecmd = cinfo["services"][cinfo["exporter"]].get("command") or []
    write("compose_exporter_command", ecmd)
    write("prometheus_mounts", [f"{h}\t{d}" for h, d in cinfo["prometheus_mounts"]])
    write("alertmanager_config", [cinfo["alertmanager_config"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
