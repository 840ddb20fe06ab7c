"""A chain's sites for a real Prometheus: one process serving each site's /metrics page.

``python -m tests.support.chain_sites PORT SITES SLOW FAILING`` serves ``/<site>/metrics`` for
``site-01`` .. ``site-NN``, each from its own prometheus_client registry, under a steady
simulated load: 20 requests/s a site, about 40 ms each; the SLOW site's about 2.5 s, the
FAILING site's answers 3 % errors."""

from __future__ import annotations

import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REQUESTS_PER_S = 20
TICK_S = 0.1


def site_names(count: int) -> list[str]:
    return [f"site-{i:02d}" for i in range(1, count + 1)]


class Site:
    """One restaurant's web back end as its /metrics page tells it."""

    def __init__(self, name: str, *, slow: bool, failing: bool, seed: int) -> None:
        self.name = name
        self.registry = CollectorRegistry()
        self.latency = Histogram("http_request_duration_seconds", "Request latency",
                                 ["status"], registry=self.registry)
        self.requests = Counter("http_requests", "Requests answered", ["status"],
                                registry=self.registry)
        self.hits = Counter("cache_hits", "Cache hits", registry=self.registry)
        self.misses = Counter("cache_misses", "Cache misses", registry=self.registry)
        self.queue = Gauge("job_queue_depth", "Jobs waiting", ["queue"],
                           registry=self.registry)
        self.slow, self.failing = slow, failing
        self.random = random.Random(seed)

    def serve_some(self, count: int) -> None:
        for _ in range(count):
            median = 2.5 if self.slow else 0.04
            seconds = self.random.lognormvariate(0.0, 0.25) * median
            status = "500" if self.failing and self.random.random() < 0.03 else "200"
            self.latency.labels(status).observe(seconds)
            self.requests.labels(status).inc()
            (self.hits if self.random.random() < 0.95 else self.misses).inc()
        self.queue.labels("emails").set(40 if self.slow else self.random.randint(0, 3))


def main(argv: list[str]) -> None:
    port, count, slow, failing = int(argv[0]), int(argv[1]), argv[2], argv[3]
    sites = {name: Site(name, slow=name == slow, failing=name == failing, seed=i)
             for i, name in enumerate(site_names(count))}

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site = sites.get(self.path.strip("/").removesuffix("/metrics"))
            if site is None or not self.path.endswith("/metrics"):
                self.send_error(404)
                return
            body = generate_latest(site.registry)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    def load() -> None:
        per_tick = max(1, round(REQUESTS_PER_S * TICK_S))
        while True:
            for site in sites.values():
                site.serve_some(per_tick)
            time.sleep(TICK_S)

    for site in sites.values():
        site.serve_some(1)
    threading.Thread(target=load, name="chain-load", daemon=True).start()
    ThreadingHTTPServer(("127.0.0.1", port), Page).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
