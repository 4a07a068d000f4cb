#!/usr/bin/env python3
"""200 concurrent scrapers for 30 s over HTTPS + basic auth while lines stream into the log.

Every response must be 200 with a complete exposition: Content-Length matches the body, the body
ends with a newline, every line is a comment or a `name{labels} value` sample, and the families
that must be there are there. Counters read by one client never go backwards. At the end,
mailrelay_log_lines_total equals the lines written (nothing lost while the server was busy).

    load_scrapes.py BINARY [--clients N] [--seconds S]
"""
import argparse
import http.client
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from exporter_proc import AUTH, HASH, start_until_up

SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfa]+$')
# The log writer runs in its own process (the scrapers' threads would starve it of the GIL):
# ~2000 Exim lines/s in small appends, as an MTA writes, for argv[2] seconds; prints the count.
WRITER = r"""
import sys, time
log, seconds = sys.argv[1], float(sys.argv[2])
line = ("2026-11-22 11:48:49 1xV63t-{:06d}-0a <= a@example.org H=(c.example.net) "
        "[192.0.2.7]:51135 P=esmtpa A=dovecot_plain:u{}@example.org S=443 for v@example.com\n")
n = 0
end = time.monotonic() + seconds
with open(log, "a") as f:
    while time.monotonic() < end:
        f.write("".join(line.format(n + i, (n + i) % 50) for i in range(20)))
        f.flush()
        n += 20
        time.sleep(0.01)
print(n)
"""


def check_exposition(body):
    """Returns an error string, or None when the exposition is complete and well formed."""
    if not body.endswith("\n"):
        return "body does not end with a newline"
    lines = body.split("\n")[:-1]
    for line in lines:
        if line.startswith("#"):
            continue
        if not SAMPLE.match(line):
            return "malformed line: %r" % line[:200]
    for family in ("mailrelay_build_info", "mailrelay_log_lines_total",
                   "mailrelay_messages_received_total", "mailrelay_state_saves_total"):
        if "\n# TYPE %s " % family not in "\n" + body:
            return "family %s missing" % family
    return None


def value(body, name):
    for line in body.split("\n"):
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="mailrelay_load_")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", work + "/server.key", "-out", work + "/server.crt", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(work + "/web.yml", "w") as f:
        f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                "basic_auth_users:\n  bob: '%s'\n" % HASH)
    log = work + "/mainlog"
    open(log, "w").close()
    exporter_log = open(work + "/exporter.log", "w")

    def start_exporter(port):
        return subprocess.Popen(
            [args.binary, "--web.listen-address=127.0.0.1:%d" % port,
             "--web.config.file=" + work + "/web.yml", "--exim.mainlog=" + log,
             "--exim.rejectlog=none", "--exim.queue-source=none", "--tail.from-beginning",
             "--relay.include-interface-addresses=false", "--metrics.max-series-per-family=100"],
            stdout=exporter_log, stderr=subprocess.STDOUT)

    ctx = ssl.create_default_context(cafile=work + "/server.crt")

    def scrape(timeout=30, at=None):
        conn = http.client.HTTPSConnection("127.0.0.1", at or port, context=ctx, timeout=timeout)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": AUTH})
            resp = conn.getresponse()
            body = resp.read().decode("utf-8")
            return resp.status, resp.getheader("Content-Length"), body
        finally:
            conn.close()

    port, proc = start_until_up(start_exporter, lambda p: scrape(timeout=1, at=p)[0] == 200,
                                work + "/exporter.log")

    failures = []
    try:
        stop = threading.Event()
        lock = threading.Lock()
        stats = {"ok": 0, "latencies": []}
        go = threading.Event()

        finished = set()  # clients whose loop ended normally (none may die of an exception)
        per_client = [0] * args.clients

        def client(n):
            last_lines = -1.0
            go.wait()
            while not stop.is_set():
                t0 = time.monotonic()
                # Everything a scrape does, the checks included, inside the try: an exception
                # (a malformed header, a value that does not parse) is a failure, never a
                # silently dead thread.
                try:
                    status, length, body = scrape()
                    elapsed = time.monotonic() - t0
                    error = None
                    if status != 200:
                        error = "status %d" % status
                    elif length is None or int(length) != len(body.encode("utf-8")):
                        error = "Content-Length %s != %d" % (length, len(body.encode("utf-8")))
                    else:
                        error = check_exposition(body)
                        lines = value(body, 'mailrelay_log_lines_total{log="exim_mainlog"}')
                        if error is None and (lines is None or lines < last_lines):
                            error = "log lines went from %s to %s" % (last_lines, lines)
                        elif lines is not None:
                            last_lines = lines
                except Exception as e:  # noqa: BLE001 - every error counts
                    error = "%s: %s" % (type(e).__name__, e)
                    elapsed = None
                with lock:
                    if error:
                        failures.append("client %d: %s" % (n, error))
                    else:
                        stats["ok"] += 1
                        stats["latencies"].append(elapsed)
                        per_client[n] += 1
            with lock:
                finished.add(n)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        go.set()  # all at once: starting 200 threads while others already scrape is slow
        writer = subprocess.Popen([sys.executable, "-c", WRITER, log, str(args.seconds)],
                                  stdout=subprocess.PIPE, text=True)
        written = [int(writer.communicate(timeout=args.seconds + 30)[0])]
        stop.set()
        for t in threads:
            t.join(60)

        # Every written line is counted once the tailer caught up.
        deadline = time.monotonic() + 10
        counted = None
        while time.monotonic() < deadline:
            counted = value(scrape()[2], 'mailrelay_log_lines_total{log="exim_mainlog"}')
            if counted == written[0]:
                break
            time.sleep(0.2)
        lat = sorted(stats["latencies"])
        if lat:
            print("%d clients, %.0f s: %d scrapes OK (%.0f/s), latency p50 %.3f s, p99 %.3f s, "
                  "max %.3f s; %d lines written, %s counted"
                  % (args.clients, args.seconds, stats["ok"], stats["ok"] / args.seconds,
                     lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1], written[0], counted))
        if counted != written[0]:
            failures.append("mailrelay_log_lines_total %s != %d lines written"
                            % (counted, written[0]))
        if stats["ok"] < args.clients:
            failures.append("only %d successful scrapes" % stats["ok"])
        alive = [t for t in threads if t.is_alive()]
        if alive:
            failures.append("%d clients still running 60 s after the stop" % len(alive))
        if len(finished) != args.clients:
            failures.append("%d of %d clients did not finish their loop"
                            % (args.clients - len(finished), args.clients))
        idle = [n for n, ok in enumerate(per_client) if ok == 0]
        if idle:
            failures.append("%d clients never had a successful scrape (first: %d)"
                            % (len(idle), idle[0]))
        if proc.poll() is not None:
            failures.append("exporter exited with %s" % proc.returncode)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        exporter_log.close()
        if failures:
            with open(work + "/exporter.log") as f:
                sys.stderr.write(f.read()[-3000:])
        subprocess.run(["rm", "-rf", work])
    if failures:
        print("FAIL: %d errors, first ones:" % len(failures), file=sys.stderr)
        for f in failures[:20]:
            print("  " + f, file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
