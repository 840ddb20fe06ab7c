"""HTTP probes: measured latency vs a known injected delay, and pooled vs fresh connections."""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from console.quantiles import sample_quantile
from services.collectors.http_probe import HttpProbe
from services.http.client import new_session
from tests.benchmarks.harness import Figure

DELAY_S = 0.05

# The server under the probe runs in its own process (an in-process server shares the GIL
# with the probe, and its own parsing shows up as "error"), speaks just enough HTTP/1.1 with
# keep-alive, and holds /slow for exactly DELAY_S: it sleeps to 2 ms short of the mark and
# spins the rest, so a late wake-up of the server is not counted against the probe.
SERVER = r'''
import socket, threading, time
DELAY_S = float(__import__("sys").argv[1])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)

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
            if b" /slow " in head.split(b"\r\n", 1)[0]:
                due = time.perf_counter() + DELAY_S
                time.sleep(DELAY_S - 0.002)
                while time.perf_counter() < due:
                    pass
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 2\r\n\r\nok")

while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''


@contextmanager
def delay_server() -> Iterator[str]:
    """A child-process HTTP server with ``/slow`` (DELAY_S) and ``/fast``; yields its URL."""
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(DELAY_S)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=5)


def run(quick: bool = False) -> list[Figure]:
    requests_n = 60 if quick else 300
    rounds = 1 if quick else 5
    p95s: list[float] = []
    medians: list[float] = []
    bare_p95s: list[float] = []
    bare_medians: list[float] = []
    with delay_server() as site:
        host, port = site.removeprefix("http://").split(":")
        bare = http.client.HTTPConnection(host, int(port), timeout=5)
        with new_session() as session:
            HttpProbe("warm", f"{site}/slow", session).collect()  # open the pooled connection
            for _ in range(rounds):
                probe = HttpProbe("slow", f"{site}/slow", session, window_s=3600)
                for _ in range(requests_n):
                    probe.collect()
                errors_ms = [(x - DELAY_S) * 1000 for x in probe.recent_latencies]
                p95s.append(sample_quantile(errors_ms, 0.95) or 0.0)
                medians.append(sample_quantile(errors_ms, 0.5) or 0.0)
                # The floor, in the same round: the stdlib's bare client on the same server.
                # What it shows is the host's own: waking a thread that waited 50 ms, loopback.
                bare_ms = [(_bare_get(bare, "/slow") - DELAY_S) * 1000 for _ in range(requests_n)]
                bare_p95s.append(sample_quantile(bare_ms, 0.95) or 0.0)
                bare_medians.append(sample_quantile(bare_ms, 0.5) or 0.0)
            fast = HttpProbe("fast", f"{site}/fast", session, window_s=3600)
            fast.collect()
            start = time.perf_counter()
            for _ in range(requests_n * 3):
                fast.collect()
            pooled = requests_n * 3 / (time.perf_counter() - start)
            floor_ms = sample_quantile([x * 1000 for x in fast.recent_latencies], 0.5) or 0.0
        start = time.perf_counter()
        for _ in range(requests_n * 3):
            with requests.Session() as fresh:
                HttpProbe("fresh", f"{site}/fast", fresh).collect()
        unpooled = requests_n * 3 / (time.perf_counter() - start)
        bare.close()
    p95_error = statistics.median(p95s)
    median_error = statistics.median(medians)
    return [
        Figure("probes", f"p95 latency error vs a known {DELAY_S * 1000:g} ms delay "
               f"(median of {rounds})", p95_error, "ms", target="<= 1 ms",
               met=abs(p95_error) <= 1, baseline_name="bare http.client, same server and rounds",
               baseline=statistics.median(bare_p95s)),
        Figure("probes", "median latency error", median_error, "ms",
               baseline_name="bare http.client, same server and rounds",
               baseline=statistics.median(bare_medians)),
        Figure("probes", "median latency of a request with no delay (client + loopback)",
               floor_ms, "ms"),
        Figure("probes", "pooled session, local keep-alive requests", pooled, "req/s",
               baseline_name="a new session (new connection) per request", baseline=unpooled),
    ]


def _bare_get(conn: http.client.HTTPConnection, path: str) -> float:
    """Seconds for one keep-alive GET with the standard library's client, body read."""
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return time.perf_counter() - start


if __name__ == "__main__":
    for figure in run():
        print(figure)
