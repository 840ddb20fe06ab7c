"""An HTTP server in a child process that holds each answer for an exact delay and says so."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# The server runs in its own process (an in-process server shares the GIL with the client, and
# its own parsing shows up as the client's "error"), speaks just enough HTTP/1.1 with
# keep-alive, and holds the answer for exactly the delay: it sleeps to 2 ms short of the mark
# and spins the rest, so a late wake-up of the server is not counted against the client.
#   /slow        the whole answer after the delay
#   /late-body   the head at once, the body after the delay
#   anything else at once
# For every delayed request it prints the time it held the answer, from having the request's head to
# starting to send the last part, before sending it: a client that has its answer can read it.
SERVER = r'''
import socket, sys, threading, time
DELAY_S = float(sys.argv[1])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"

def hold(due):
    time.sleep(max(0.0, due - time.perf_counter() - 0.002))
    while time.perf_counter() < due:
        pass

def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        pending += data
        while b"\r\n\r\n" in pending:
            head, pending = pending.split(b"\r\n\r\n", 1)
            got = time.perf_counter()
            path = head.split(b"\r\n", 1)[0].split(b" ")[1]
            parts = [HEAD + b"ok"]
            if path == b"/slow":
                hold(got + DELAY_S)
            elif path == b"/late-body":
                conn.sendall(HEAD)
                parts = [b"ok"]
                hold(got + DELAY_S)
            if path in (b"/slow", b"/late-body"):
                print(f"{time.perf_counter() - got:.9f}", flush=True)
            conn.sendall(parts[-1])

while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''


@dataclass
class DelayServer:
    """The running server: its URL, and what it says it held each answer for."""

    url: str
    process: subprocess.Popen[str]

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").split(":")
        return host, int(port)

    def held_s(self) -> float:
        """Seconds the server held the next answer not asked about yet (answered already)."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the delay server ended")
        return float(line)


@contextmanager
def delay_server(delay_s: float) -> Iterator[DelayServer]:
    """Run the server for ``delay_s`` until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(delay_s)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield DelayServer(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.kill()
        proc.wait(timeout=5)
