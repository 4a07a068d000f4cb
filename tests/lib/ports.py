#!/usr/bin/env python3
"""The test suite's one TCP port allocator (loopback servers: exporters, Exim, Postfix,
Prometheus, Alertmanager).

Several test runs share this machine (CI, and engineers running tests at the same time), so a
port handed out must not be handed out again, to this run or another, while its test runs:

  - Ports come from below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range,
    32768-60999 by default): from 10000 up to its start. The kernel never gives those to
    connect() or bind(0), so no client socket of any process takes one by accident.
  - A port is reserved by an exclusive flock(2) on /tmp/mailrelay-test-ports/<port>.lock, held
    for as long as the test that asked for it runs. Every test of the suite allocates here, so
    two tests never get the same port; the kernel drops the lock when its holder dies (kill -9
    included), so nothing has to be cleaned up.
  - A locked port is also checked free (a bind on 127.0.0.1 and on ::1 without SO_REUSEADDR),
    in case a program outside the suite uses it.

Python tests: `port = ports.allocate()` (the lock lives as long as the process).
Shell tests: `port=$(python3 tests/lib/ports.py alloc --owner $$)`, or the wrappers of
tests/lib/ports.sh; a detached holder process keeps the locks until the owner process exits.
"""
import argparse
import errno
import fcntl
import os
import random
import select
import socket
import sys

LOCK_DIR = os.environ.get("MAILRELAY_PORT_LOCK_DIR", "/tmp/mailrelay-test-ports")
LOWEST = 10000
_held = []  # lock files of this process: open for its lifetime


def candidates():
    """Ports outside the ephemeral range: LOWEST up to its start, and above its end."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    ports = list(range(LOWEST, lo)) + list(range(hi + 1, 65536))
    if not ports:
        raise SystemExit("ports.py: the ephemeral range %d-%d leaves no port to allocate" % (lo, hi))
    return ports


def _bindable(port):
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no IPv6 on this host
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRNOTAVAIL:  # ::1 not configured
                continue
            return False
        finally:
            s.close()
    return True


def _lock(port):
    """Returns the open, exclusively locked lock file of `port`, or None."""
    os.makedirs(LOCK_DIR, mode=0o1777, exist_ok=True)
    try:
        os.chmod(LOCK_DIR, 0o1777)  # every user's tests share it (tests run as other users too)
    except OSError:
        pass
    fd = os.open(os.path.join(LOCK_DIR, "%d.lock" % port), os.O_RDONLY | os.O_CREAT, 0o666)
    f = os.fdopen(fd, "rb")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def reserve(count=1):
    """Reserves `count` ports; returns [(port, locked file)]. The caller keeps the files open."""
    got = []
    pool = candidates()
    random.shuffle(pool)
    for port in pool:
        if len(got) == count:
            return got
        f = _lock(port)
        if f is None:
            continue
        if not _bindable(port):
            f.close()
            continue
        got.append((port, f))
    raise SystemExit("ports.py: no free port to allocate (%d wanted)" % count)


def allocate():
    """One port, reserved for the life of this process."""
    port, f = reserve(1)[0]
    _held.append(f)
    return port


def _hold_until_exit(owner, files):
    """Forks a holder that keeps `files` (their locks) until process `owner` exits."""
    if os.fork() != 0:
        return
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        pidfd = os.pidfd_open(owner)
    except OSError:
        os._exit(0)  # the owner is gone already: release at once
    select.select([pidfd], [], [])  # readable when the owner exits
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("alloc", help="print free ports, one a line, reserved while OWNER lives")
    a.add_argument("--owner", type=int, default=os.getppid(),
                   help="pid whose exit releases the ports (default: the parent)")
    a.add_argument("--count", type=int, default=1)
    args = ap.parse_args()
    got = reserve(args.count)
    sys.stdout.write("".join("%d\n" % p for p, _ in got))
    sys.stdout.flush()
    _hold_until_exit(args.owner, [f for _, f in got])
    return 0


if __name__ == "__main__":
    sys.exit(main())
