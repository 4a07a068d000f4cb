#!/usr/bin/env python3
"""Slow and garbage HTTP clients must not block scrapes.

For 15 s, against an exporter with basic auth: 40 slowloris connections (a request line, then
one header byte per second, reconnecting when closed), 10 connections that send nothing,
5 loops sending random bytes, 5 loops sending 64 KiB of headers. Meanwhile a scraper asks for
/metrics (with the password) every 100 ms: every answer must be 200 with the exposition, none
slower than 2.5 s, the median under 0.5 s. The slow connections must really be held open by
the server meanwhile (else the test proves nothing), garbage must get 400 and huge headers
413/431 (or a close), and the exporter must still run at the end.

    slow_clients.py BINARY [--seconds S]
"""
import argparse
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from exporter_proc import AUTH, HASH, start_until_up


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--slowloris", type=int, default=40)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="mailrelay_slow_")
    with open(work + "/web.yml", "w") as f:
        f.write("basic_auth_users:\n  bob: '%s'\n" % HASH)
    open(work + "/mainlog", "w").close()
    exporter_log = open(work + "/exporter.log", "w")

    def start_exporter(port):
        return subprocess.Popen(
            [args.binary, "--web.listen-address=127.0.0.1:%d" % port,
             "--web.config.file=" + work + "/web.yml", "--exim.mainlog=" + work + "/mainlog",
             "--exim.rejectlog=none", "--exim.queue-source=none",
             "--relay.include-interface-addresses=false"],
            stdout=exporter_log, stderr=subprocess.STDOUT)

    def scrape(timeout=10, at=None):
        conn = http.client.HTTPConnection("127.0.0.1", at or port, timeout=timeout)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": AUTH})
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    port, proc = start_until_up(start_exporter, lambda p: scrape(timeout=1, at=p)[0] == 200,
                                work + "/exporter.log")

    def connect():
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        return s

    failures = []
    lock = threading.Lock()
    stop = threading.Event()
    held = {"now": 0, "samples": []}
    answers = {"garbage": {}, "huge": {}}

    def note(kind, what):
        with lock:
            answers[kind][what] = answers[kind].get(what, 0) + 1

    def read_status(s):
        data = b""
        try:
            while len(data) < 64:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError as e:
            return type(e).__name__
        if not data:
            return "closed"
        return data.split(b"\r\n", 1)[0].decode("latin-1")[:40]

    def slowloris(n):
        while not stop.is_set():
            try:
                s = connect()
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                with lock:
                    held["now"] += 1
                try:
                    while not stop.is_set():
                        s.sendall(b"X")  # one header byte per second, never a full line
                        if stop.wait(1.0):
                            break
                except OSError:
                    pass  # closed by the server (request timeout): reconnect
                finally:
                    with lock:
                        held["now"] -= 1
                    s.close()
            except OSError:
                stop.wait(0.2)

    def idle(n):
        while not stop.is_set():
            try:
                s = connect()
                with lock:
                    held["now"] += 1
                try:
                    s.settimeout(1.0)
                    while not stop.is_set():
                        try:
                            if not s.recv(1):
                                break  # closed by the server
                        except socket.timeout:
                            continue
                except OSError:
                    pass
                finally:
                    with lock:
                        held["now"] -= 1
                    s.close()
            except OSError:
                stop.wait(0.2)

    def garbage(n):
        rnd = random.Random(n)
        while not stop.is_set():
            try:
                s = connect()
                payload = bytes(rnd.getrandbits(8) for _ in range(4096))
                if n % 2:
                    payload = b"\x16\x03\x01" + payload  # a TLS record on the plain port
                s.sendall(payload)
                note("garbage", read_status(s))
                s.close()
            except OSError as e:
                note("garbage", type(e).__name__)
            stop.wait(0.05)

    def huge(n):
        header = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(64)) + b"\r\n"
        while not stop.is_set():
            try:
                s = connect()
                try:
                    s.sendall(header)
                except OSError:
                    pass  # the server may answer and close before reading it all
                note("huge", read_status(s))
                s.close()
            except OSError as e:
                note("huge", type(e).__name__)
            stop.wait(0.05)

    latencies = []
    try:
        threads = [threading.Thread(target=slowloris, args=(i,)) for i in range(args.slowloris)]
        threads += [threading.Thread(target=idle, args=(i,)) for i in range(10)]
        threads += [threading.Thread(target=garbage, args=(i,)) for i in range(5)]
        threads += [threading.Thread(target=huge, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        # The attack is in place once at least half of the slow connections are open (they
        # reconnect when the server drops them), 20 s at most.
        settle = time.monotonic() + 20
        while time.monotonic() < settle:
            with lock:
                if held["now"] >= args.slowloris // 2:
                    break
            time.sleep(0.05)
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            with lock:
                held["samples"].append(held["now"])
            t0 = time.monotonic()
            try:
                status, body = scrape()
                elapsed = time.monotonic() - t0
                if status != 200 or "mailrelay_build_info" not in body:
                    failures.append("scrape: status %d" % status)
                latencies.append(elapsed)
            except OSError as e:
                failures.append("scrape: %s: %s" % (type(e).__name__, e))
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(15)

        lat = sorted(latencies) or [float("inf")]
        samples = sorted(held["samples"])
        print("%d scrapes during the attack: p50 %.3f s, p99 %.3f s, max %.3f s; slow "
              "connections held open: min %d, median %d" % (
                  len(lat), lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1],
                  samples[0], samples[len(samples) // 2]))
        print("garbage answers: %s" % answers["garbage"])
        print("huge-header answers: %s" % answers["huge"])
        if len(latencies) < args.seconds * 3:
            failures.append("only %d scrapes in %.0f s" % (len(latencies), args.seconds))
        if lat and lat[-1] > 2.5:
            failures.append("slowest scrape %.3f s > 2.5 s" % lat[-1])
        if lat and lat[len(lat) // 2] > 0.5:
            failures.append("median scrape %.3f s > 0.5 s" % lat[len(lat) // 2])
        if samples[len(samples) // 2] < (args.slowloris + 10) * 3 // 4:
            failures.append("the slow connections were not held open (median %d)"
                            % samples[len(samples) // 2])
        if not any(k.startswith(("HTTP/1.0 400", "HTTP/1.1 400")) for k in answers["garbage"]):
            failures.append("garbage never got a 400: %s" % answers["garbage"])
        if not any(k.split(" ")[1:2] in (["400"], ["413"], ["431"])
                   for k in answers["huge"]):
            failures.append("huge headers never got 413/431/400: %s" % answers["huge"])
        if proc.poll() is not None:
            failures.append("exporter exited with %s" % proc.returncode)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                failures.append("exporter did not stop within 15 s of SIGTERM")
        exporter_log.close()
        if failures:
            with open(work + "/exporter.log") as f:
                sys.stderr.write(f.read()[-3000:])
        subprocess.run(["rm", "-rf", work])
    if failures:
        print("FAIL:", file=sys.stderr)
        for f in failures[:20]:
            print("  " + f, file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
