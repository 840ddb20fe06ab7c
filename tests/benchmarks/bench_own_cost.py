"""What measuring the console's own cost costs: metering one collect() beside a local fetch."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from console.own_cost import PollCost, count_request, metered
from services.http.client import fetch, new_session
from tests.benchmarks.harness import Figure


class _Small(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"up 1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def _per_call(fn: object, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - start) / n


def run(quick: bool = False) -> list[Figure]:
    n = 20_000 if quick else 200_000
    cost = PollCost()

    def metered_call() -> None:  # what the poller adds around one collect()
        start = time.perf_counter()
        with metered() as tally:
            count_request(1234)
        cost.add("web", tally, time.perf_counter() - start)

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Small)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    session = new_session()
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        fetch(session, url, timeout_s=5.0)
        local = min(_per_call(lambda: fetch(session, url, timeout_s=5.0), 200 if quick else 2000)
                    for _ in range(3))
        meter = min(_per_call(metered_call, n) for _ in range(3))
    finally:
        session.close()
        server.shutdown()
        server.server_close()
    return [Figure("own_cost", "metering one collect() (tally, CPU clock, PollCost.add)",
                   meter * 1e6, "us", "one local fetch of a tiny page",
                   local * 1e6, target="< 5 % of the fetch", met=meter < 0.05 * local)]
