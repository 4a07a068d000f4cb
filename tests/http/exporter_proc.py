"""Shared by the tests/http Python tests: the basic-auth user and a live exporter on a free
loopback port."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ports  # noqa: E402  (tests/lib/ports.py: the suite's one port allocator)

# htpasswd -nbBC 4 bob hunter2
HASH = "$2y$04$.ZTL/85LYcEBRq4e5ivFq.eaVqgEEmXaywJJMlqCBCOVBTA/4eij6"
AUTH = "Basic Ym9iOmh1bnRlcjI="  # bob:hunter2


def free_port():
    """A loopback port reserved for this test process (tests/lib/ports.py)."""
    return ports.allocate()


def start_until_up(start_exporter, is_up, exporter_log_path):
    """Starts the exporter (start_exporter(port) -> Popen) on a free port and waits until
    is_up(port) holds; returns (port, proc). A port taken by a program outside the suite
    between free_port() and the bind is replaced by another one. Raises SystemExit, the
    exporter stopped, when it exits for another reason or does not come up in 10 s."""
    port = free_port()
    proc = start_exporter(port)
    for _ in range(100):
        if proc.poll() is not None:
            with open(exporter_log_path) as f:
                if "cannot listen on" not in f.read():
                    raise SystemExit("exporter exited at startup")
            port = free_port()
            proc = start_exporter(port)
        try:
            if is_up(port) and proc.poll() is None:
                return port, proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise SystemExit("exporter did not come up")
