#!/usr/bin/env python3
"""Checks the shipped Alertmanager policy (alerts/alertmanager.example.yml, docker/alertmanager.yml).

  1. `amtool check-config` accepts both files;
  2. both carry the same policy: identical `route` and `inhibit_rules` (receivers may differ);
  3. `amtool config routes test`: critical alerts reach `pager`, the rest `ticket`, and every
     route groups by instance and user (one notification per server and account);
  4. inhibition on a real Alertmanager (loopback, no cluster): a hijacked account's incident --
     the page and warning tiers, its client IP's alerts, spoofing, its queue share, the queue
     size and bounces of its server -- leaves only the account's page uninhibited, while the
     same kinds of alert on another server, an IP page with no account page, and a lone
     warning stay; exporter down silences its own log/queue alerts but not other servers'.

Usage: tests/lint/alertmanager_check.py [--repo DIR] [--amtool PATH] [--alertmanager PATH]
Exit 0 when everything holds, 1 with the failures listed.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

FAILURES = []


def check(ok, what):
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        FAILURES.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Routing: labels -> receiver.
ROUTES = [
    ({"alertname": "MailRelayAuthrelayHigh", "severity": "critical", "instance": "mx1:9225",
      "user": "bob@example.com", "class": "authrelay"}, "pager"),
    ({"alertname": "MailRelayAuthrelayHigh", "severity": "warning", "instance": "mx1:9225",
      "user": "news@example.com", "class": "authrelay"}, "ticket"),
    ({"alertname": "MailQueueSizeCritical", "severity": "critical", "instance": "mx1:9225"}, "pager"),
    ({"alertname": "MailExporterDown", "severity": "warning", "instance": "mx1:9225"}, "ticket"),
    ({"alertname": "SomethingElse"}, "ticket"),
]

# Inhibition: (labels, expected inhibited?). mx1 hosts the hijacked account; mx2 has the same
# kinds of alert without an account page; mx3's exporter is down.
ALERTS = [
    # the incident on mx1: one page survives
    ({"alertname": "MailRelayAuthrelayHigh", "severity": "critical", "class": "authrelay",
      "instance": "mx1:9225", "user": "bob@example.com"}, False),
    ({"alertname": "MailRelayAuthrelayHigh", "severity": "warning", "class": "authrelay",
      "instance": "mx1:9225", "user": "bob@example.com"}, True),
    ({"alertname": "MailRelayAuthrelayIPHigh", "severity": "critical", "class": "authrelay",
      "instance": "mx1:9225", "ip": "203.0.113.7"}, True),
    ({"alertname": "MailRelayAuthrelayIPHigh", "severity": "warning", "class": "authrelay",
      "instance": "mx1:9225", "ip": "203.0.113.7"}, True),
    ({"alertname": "MailRelayAuthrelayIPHigh", "severity": "warning", "class": "authrelay",
      "instance": "mx1:9225", "ip": "198.51.100.9"}, True),
    ({"alertname": "MailSpoofedSender", "severity": "warning", "instance": "mx1:9225",
      "user": "bob@example.com"}, True),
    ({"alertname": "MailQueueDominatedByOneAccount", "severity": "warning", "instance": "mx1:9225",
      "user": "bob@example.com"}, True),
    ({"alertname": "MailQueueSizeCritical", "severity": "critical", "instance": "mx1:9225"}, True),
    ({"alertname": "MailQueueSizeWarning", "severity": "warning", "instance": "mx1:9225"}, True),
    ({"alertname": "MailBackscatter", "severity": "warning", "instance": "mx1:9225"}, True),
    # another account's warning on the same server is its own incident
    ({"alertname": "MailRelayLocalrelayHigh", "severity": "warning", "class": "localrelay",
      "instance": "mx1:9225", "user": "www-data"}, False),
    # a brute force on the same server is not the account's
    ({"alertname": "MailSMTPAuthBruteForce", "severity": "warning", "instance": "mx1:9225",
      "ip": "192.0.2.66"}, False),
    # mx2: an IP page with only an account warning, a queue critical over its warning
    ({"alertname": "MailRelayAuthrelayHigh", "severity": "warning", "class": "authrelay",
      "instance": "mx2:9225", "user": "carol@example.com"}, False),
    ({"alertname": "MailRelayAuthrelayIPHigh", "severity": "critical", "class": "authrelay",
      "instance": "mx2:9225", "ip": "203.0.113.8"}, False),
    ({"alertname": "MailRelayAuthrelayIPHigh", "severity": "warning", "class": "authrelay",
      "instance": "mx2:9225", "ip": "203.0.113.8"}, True),
    ({"alertname": "MailQueueSizeCritical", "severity": "critical", "instance": "mx2:9225"}, False),
    ({"alertname": "MailQueueSizeWarning", "severity": "warning", "instance": "mx2:9225"}, True),
    ({"alertname": "MailFrozenMessages", "severity": "warning", "instance": "mx2:9225"}, False),
    # mx3: the exporter is down
    ({"alertname": "MailExporterDown", "severity": "warning", "instance": "mx3:9225"}, False),
    ({"alertname": "MailExporterLogStale", "severity": "warning", "instance": "mx3:9225",
      "log": "exim_mainlog"}, True),
    ({"alertname": "MailQueueGrowing", "severity": "warning", "instance": "mx3:9225"}, True),
    ({"alertname": "MailExporterLogStale", "severity": "warning", "instance": "mx4:9225",
      "log": "exim_mainlog"}, False),
]


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def live_inhibition(alertmanager, config, tmp):
    port = free_port()
    log = open(os.path.join(tmp, "alertmanager.log"), "w")
    proc = subprocess.Popen([alertmanager, f"--config.file={config}",
                             f"--storage.path={tmp}/data", f"--web.listen-address=127.0.0.1:{port}",
                             "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/-/ready", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            check(False, "Alertmanager did not become ready in 10 s")
            return
        if proc.poll() is not None:
            check(False, f"Alertmanager exited ({proc.returncode}); see {tmp}/alertmanager.log")
            return
        body = json.dumps([{"labels": dict(l, job="mailrelay"),
                            "annotations": {"summary": "test"}} for l, _ in ALERTS]).encode()
        req = urllib.request.Request(base + "/api/v2/alerts", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

        def key(labels):
            return tuple(sorted((k, v) for k, v in labels.items() if k != "job"))

        want = {key(l): inhibited for l, inhibited in ALERTS}
        got = {}
        # Inhibition is computed as alerts arrive; poll until every alert has a state and the
        # states stop changing (no fixed sleep).
        deadline, last, stable = time.time() + 20, None, 0
        while time.time() < deadline:
            data = json.load(urllib.request.urlopen(base + "/api/v2/alerts", timeout=5))
            got = {key(a["labels"]): bool(a["status"]["inhibitedBy"]) for a in data}
            stable = stable + 1 if got == last and len(got) == len(want) else 0
            if stable >= 3 and got == want:
                break
            last = got
            time.sleep(0.2)
        for l, inhibited in ALERTS:
            k = key(l)
            name = ", ".join(f"{a}={b}" for a, b in k)
            check(got.get(k) == inhibited,
                  f"{'inhibited' if inhibited else 'notified '}  {name}"
                  + ("" if got.get(k) == inhibited else f" (got {'inhibited' if got.get(k) else 'not inhibited'})"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", default=os.path.normpath(os.path.join(here, "..", "..")))
    ap.add_argument("--amtool", default="amtool")
    ap.add_argument("--alertmanager", default="/usr/bin/prometheus-alertmanager")
    args = ap.parse_args()
    example = os.path.join(args.repo, "alerts", "alertmanager.example.yml")
    docker = os.path.join(args.repo, "docker", "alertmanager.yml")

    print("== amtool check-config")
    for path in (example, docker):
        res = run([args.amtool, "check-config", path])
        check(res.returncode == 0, f"amtool check-config {os.path.relpath(path, args.repo)}"
              + ("" if res.returncode == 0 else ": " + (res.stdout + res.stderr).strip()))

    print("== the same policy in both files")
    with open(example, encoding="utf-8") as f:
        ex = yaml.safe_load(f)
    with open(docker, encoding="utf-8") as f:
        dk = yaml.safe_load(f)
    for part in ("route", "inhibit_rules"):
        check(ex.get(part) == dk.get(part), f"docker/alertmanager.yml has the example's {part}")
    routes = [ex["route"]] + ex["route"].get("routes", [])
    for r in routes:
        check(r.get("group_by") == ["instance", "user"],
              f"route to {r.get('receiver')} groups by [instance, user] (got {r.get('group_by')})")

    print("== amtool config routes test")
    for labels, receiver in ROUTES:
        for path in (example, docker):
            res = run([args.amtool, "config", "routes", "test", f"--config.file={path}",
                       f"--verify.receivers={receiver}"] + [f"{k}={v}" for k, v in labels.items()])
            check(res.returncode == 0,
                  f"{os.path.basename(os.path.dirname(path))}: {labels.get('alertname')} "
                  f"severity={labels.get('severity', '')} -> {receiver}"
                  + ("" if res.returncode == 0 else f" (got {res.stdout.strip()})"))

    print("== inhibition on a real Alertmanager")
    with tempfile.TemporaryDirectory(prefix="alertmanager_check.") as tmp:
        live_inhibition(args.alertmanager, example, tmp)
        if FAILURES:
            log = os.path.join(tmp, "alertmanager.log")
            if os.path.exists(log):
                print(open(log, encoding="utf-8").read()[-3000:], file=sys.stderr)

    if FAILURES:
        print(f"alertmanager_check: {len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    print("alertmanager_check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
