"""The HTTP probe's latency against a server that holds each answer an exact, logged time."""

from __future__ import annotations

import http.client
import statistics
import time

import pytest

from services.collectors.http_probe import HttpProbe
from services.http.client import new_session
from tests.support.delay_server import DelayServer, delay_server

pytestmark = pytest.mark.integration

DELAY_S = 0.01
ROUNDS = 40


def _bare_get(conn: http.client.HTTPConnection, path: str) -> float:
    start = time.perf_counter()
    conn.request("GET", path)
    conn.getresponse().read()
    return time.perf_counter() - start


def _extras(server: DelayServer, path: str) -> tuple[list[float], list[float]]:
    """Per request, what the probe and the bare stdlib client read beyond the server's own
    hold, interleaved so load from elsewhere on the machine falls on both alike."""
    bare = http.client.HTTPConnection(*server.host_port, timeout=5)
    probe_extra: list[float] = []
    bare_extra: list[float] = []
    with new_session() as session:
        probe = HttpProbe("exact", f"{server.url}{path}", session, window_s=3600)
        probe.collect()  # both connections open and warm
        _bare_get(bare, path)
        server.held_s(), server.held_s()
        for _ in range(ROUNDS):
            probe.collect()
            probe_extra.append(probe.recent_latencies[-1] - server.held_s())
            bare_extra.append(_bare_get(bare, path) - server.held_s())
    bare.close()
    return probe_extra, bare_extra


@pytest.mark.parametrize("path", ["/slow", "/late-body"])
def test_latency_is_the_servers_hold_and_no_more_than_a_bare_client_sees(path: str) -> None:
    with delay_server(DELAY_S) as server:
        probe_extra, bare_extra = _extras(server, path)
    # never shorter than the server held the answer: the clock runs from the first byte sent
    # to the last byte read (/late-body sends its head at once and the body after the delay)
    assert min(probe_extra) > 0, probe_extra
    # and the probe's own work is not counted: what it adds to the server's hold is at most
    # what the bare client adds (loopback, wake-ups). Read at the lower quartile, which a
    # loaded host leaves alone (its bursts of milliseconds fall on the upper half); requests'
    # own clock adds 0.2-0.5 ms of its own work there
    probe_q1 = statistics.quantiles(probe_extra, n=4)[0]
    bare_q1 = statistics.quantiles(bare_extra, n=4)[0]
    assert probe_q1 <= 1.2 * bare_q1 + 0.0001, (
        f"probe adds {probe_q1 * 1e3:.3f} ms, the bare client {bare_q1 * 1e3:.3f} ms")
