"""HTTP probes: measured latency vs a known injected delay, and pooled vs fresh connections."""

from __future__ import annotations

import time

import requests

from console.quantiles import sample_quantile
from services.collectors._http import new_session
from services.collectors.http_probe import HttpProbe
from tests.benchmarks.harness import Figure
from tests.integration.local_servers import http_server, reply

DELAY_S = 0.05


def run(quick: bool = False) -> list[Figure]:
    requests_n = 30 if quick else 100
    with http_server({"/slow": reply(delay_s=DELAY_S), "/fast": reply()}) as site:
        with new_session() as session:
            probe = HttpProbe("slow", f"{site}/slow", session, window=requests_n)
            for _ in range(requests_n):
                probe.collect()
            errors_ms = [(x - DELAY_S) * 1000 for x in probe.recent_latencies]
            fast = HttpProbe("fast", f"{site}/fast", session)
            fast.collect()  # open the pooled connection
            start = time.perf_counter()
            for _ in range(requests_n * 3):
                fast.collect()
            pooled = requests_n * 3 / (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(requests_n * 3):
            with requests.Session() as fresh:
                HttpProbe("fresh", f"{site}/fast", fresh).collect()
        unpooled = requests_n * 3 / (time.perf_counter() - start)
    p95_error = sample_quantile(errors_ms, 0.95) or 0.0
    median_error = sample_quantile(errors_ms, 0.5) or 0.0
    return [
        Figure("probes", f"p95 latency error vs a known {DELAY_S * 1000:g} ms delay",
               p95_error, "ms", target="<= 1 ms", met=abs(p95_error) <= 1),
        Figure("probes", "median latency error", median_error, "ms"),
        Figure("probes", "pooled session, local keep-alive requests", pooled, "req/s",
               baseline_name="a new session (new connection) per request", baseline=unpooled),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
