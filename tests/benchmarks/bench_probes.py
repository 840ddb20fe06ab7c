"""HTTP probes: measured latency vs a known injected delay, and pooled vs fresh connections."""

from __future__ import annotations

import http.client
import statistics
import time

import requests

from console.quantiles import sample_quantile
from services.collectors.http_probe import HttpProbe
from services.http.client import new_session
from tests.benchmarks.harness import Figure
from tests.support.delay_server import delay_server

DELAY_S = 0.05


def run(quick: bool = False) -> list[Figure]:
    requests_n = 60 if quick else 120
    rounds = 1 if quick else 5
    p95s: list[float] = []
    medians: list[float] = []
    bare_p95s: list[float] = []
    bare_medians: list[float] = []
    with delay_server(DELAY_S) as server:
        site = server.url
        bare = http.client.HTTPConnection(*server.host_port, timeout=5)
        with new_session() as session:
            HttpProbe("warm", f"{site}/slow", session).collect()  # open the pooled connection
            _bare_get(bare, "/slow")
            server.held_s(), server.held_s()
            for _ in range(rounds):
                probe = HttpProbe("slow", f"{site}/slow", session, window_s=3600)
                bare_ms = []
                # Interleaved, so load from elsewhere on the machine falls on both alike. The
                # floor is the stdlib's bare client on the same server: what it shows is the
                # host's own (waking a thread that waited 50 ms, loopback).
                for _ in range(requests_n):
                    probe.collect()
                    server.held_s()
                    bare_ms.append((_bare_get(bare, "/slow") - DELAY_S) * 1000)
                    server.held_s()
                errors_ms = [(x - DELAY_S) * 1000 for x in probe.recent_latencies]
                p95s.append(sample_quantile(errors_ms, 0.95) or 0.0)
                medians.append(sample_quantile(errors_ms, 0.5) or 0.0)
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
    bare_p95 = statistics.median(bare_p95s)
    bare_median = statistics.median(bare_medians)
    same = "bare http.client, same server, interleaved"
    return [
        Figure("probes", f"p95 latency error vs a known {DELAY_S * 1000:g} ms delay "
               f"(median of {rounds})", p95_error, "ms", same, bare_p95,
               target="<= 1.2x floor", met=p95_error <= 1.2 * bare_p95),
        Figure("probes", "median latency error", median_error, "ms", same, bare_median,
               target="<= 1.2x floor", met=median_error <= 1.2 * bare_median),
        Figure("probes", "median latency of a request with no delay (on the wire)",
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
