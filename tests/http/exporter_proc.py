"""Shared by the tests/http Python tests: the basic-auth user and a live exporter on a free
loopback port."""
import socket
import time

# htpasswd -nbBC 4 bob hunter2
HASH = "$2y$04$.ZTL/85LYcEBRq4e5ivFq.eaVqgEEmXaywJJMlqCBCOVBTA/4eij6"
AUTH = "Basic Ym9iOmh1bnRlcjI="  # bob:hunter2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_until_up(start_exporter, is_up, exporter_log_path):
    """Starts the exporter (start_exporter(port) -> Popen) on a free port and waits until
    is_up(port) holds; returns (port, proc). A port taken between free_port() and the bind
    (other tests run on this machine too) is replaced by another one. Raises SystemExit, the
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
