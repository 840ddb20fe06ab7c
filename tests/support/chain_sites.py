"""A chain's sites in one process: each site's own prometheus_client registry on /metrics/<site>.

Run as ``python -m tests.support.chain_sites PORT SITE[:SLOWDOWN[:ERRORS]] ...``. Each site
serves 20 requests a second (latency histogram, request counter with a status label, cache
hits and misses, two queue gauges), all through the real prometheus_client library. A site's
slowdown multiplies its latencies (median about 40 ms at 1), fills its queues and empties its
cache (95 % hits at 1); ERRORS is the share of its requests answered 500 (0 by default).
``GET /set/<site>?slowdown=F&errors=R`` changes either while it runs (a site that turns slow
or starts failing). No ``site`` label is written here: Prometheus adds it by relabelling, as
a chain's Prometheus does for targets that do not know their own name.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

#: Requests each site serves per tick, and the tick.
PER_TICK = 2
TICK_S = 0.1
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5,
           2.5, 5.0, 10.0)


class Site:
    """One restaurant's back end as its /metrics page tells it."""

    def __init__(self, name: str, slowdown: float, errors: float, seed: int) -> None:
        self.name = name
        self.slowdown = slowdown
        self.errors = errors
        self.random = random.Random(seed)
        self.registry = CollectorRegistry()
        self.latency = Histogram("http_request_duration_seconds", "Time to answer a request.",
                                 ("method",), buckets=BUCKETS, registry=self.registry)
        self.requests = Counter("http_requests_total", "Requests answered.", ("status",),
                                registry=self.registry)
        self.requests.labels("500")  # a site without errors says 0, as most apps do
        self.hits = Counter("cache_hits", "Cache lookups that found the key.",
                            registry=self.registry)
        self.misses = Counter("cache_misses", "Cache lookups that did not.",
                              registry=self.registry)
        self.queue = Gauge("job_queue_depth", "Jobs waiting for a worker.", ("queue",),
                           registry=self.registry)
        self.lock = threading.Lock()

    def serve_some(self) -> None:
        """One tick of traffic: a slow site is slower, queues more and misses its cache."""
        with self.lock:
            slow, errors, rnd = self.slowdown, self.errors, self.random
            for _ in range(PER_TICK):
                seconds = rnd.lognormvariate(-3.2, 0.45) * slow  # median ~40 ms
                self.latency.labels("GET").observe(seconds)
                self.requests.labels("500" if rnd.random() < errors else "200").inc()
                if rnd.random() < max(0.05, 0.95 - 0.1 * (slow - 1)):
                    self.hits.inc()
                else:
                    self.misses.inc()
            self.queue.labels("orders").set(round(3 * slow + rnd.random() * 2))
            self.queue.labels("emails").set(round(slow))

    def page(self) -> bytes:
        with self.lock:
            return generate_latest(self.registry)


def main(argv: list[str]) -> None:
    port = int(argv[0])
    sites: dict[str, Site] = {}
    for n, spec in enumerate(argv[1:]):
        name, slowdown, errors = [*spec.split(":"), "", ""][:3]
        sites[name] = Site(name, float(slowdown or 1.0), float(errors or 0.0), seed=n + 1)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            kind, _, name = parts.path.strip("/").partition("/")
            site = sites.get(name)
            if site is None or kind not in {"metrics", "set"}:
                self.send_error(404)
                return
            if kind == "set":
                asked = parse_qs(parts.query)
                with site.lock:
                    site.slowdown = float(asked.get("slowdown", [site.slowdown])[0])
                    site.errors = float(asked.get("errors", [site.errors])[0])
                body, kind_ = b"ok\n", "text/plain"
            else:
                body, kind_ = site.page(), CONTENT_TYPE_LATEST
            self.send_response(200)
            self.send_header("Content-Type", kind_)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)

    def traffic() -> None:
        next_at = time.monotonic()
        while True:
            for site in sites.values():
                site.serve_some()
            next_at += TICK_S
            time.sleep(max(0.0, next_at - time.monotonic()))

    for site in sites.values():
        site.serve_some()
    threading.Thread(target=traffic, name="chain-traffic", daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
