"""Quitting while sources hang: the calls in flight are cut, the console goes at once."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from console.profile import Probe, Profile, Source
from services.bootstrap import Services, build_services
from tests.reliability.support import RawServer, raw_server, silent, wait_until

pytestmark = pytest.mark.integration

PROBES = 30


def swallow(conn: socket.socket, server: RawServer) -> None:
    """Read what the client sends (any protocol), count it as a request, never answer."""
    conn.settimeout(0.05)
    counted = False
    while not server.stopping:
        try:
            data = conn.recv(65536)
        except TimeoutError:
            continue
        if not data:
            return
        if not counted:
            server.requests.append(time.monotonic())
            counted = True


def timed_stop(services: Services) -> float:
    started = time.monotonic()
    services.stop()
    return time.monotonic() - started


def test_quitting_with_30_hung_probes_takes_under_a_second(tmp_path: Path) -> None:
    """30 probes at a host that accepts and never answers, with a 10 s timeout: every
    worker is inside a call when the console quits. Stopping takes under 1 s (it waited up
    to 5 s), and every poller thread has ended: the calls were cut, not left behind."""
    with raw_server(silent) as web:
        probes = tuple(Probe(name=f"GET /p{i}", url=f"{web.url}/p{i}", interval_s=1.0,
                             timeout_s=10.0) for i in range(PROBES))
        services = build_services(Profile(name="Hung", probes=probes), directory=tmp_path)
        services.start()
        try:
            workers = services.poller._max_workers
            wait_until(lambda: len(web.requests) >= workers, timeout_s=10)
            took = timed_stop(services)
            ended = services.poller.stop(timeout=2.0)  # joins this poller's threads again
        finally:
            services.stop()
    print(f"quit with {PROBES} hung probes ({workers} calls in flight): {took * 1000:.0f} ms")
    assert took < 1.0
    assert ended, "a poller thread was left in its call"


def test_quitting_with_a_hung_redis_takes_under_a_second(tmp_path: Path) -> None:
    """A Redis source at a host that accepts and never answers (10 s timeout): stopping
    does not wait for its call, and closing the client ends it."""
    with raw_server(swallow) as cache:
        redis = Source(name="cache", kind="redis", url=f"redis://127.0.0.1:{cache.port}/0",
                       timeout_s=10.0)
        services = build_services(Profile(name="Hung", sources=(redis,)), directory=tmp_path)
        services.start()
        try:
            wait_until(lambda: len(cache.requests) >= 1, timeout_s=10)
            took = timed_stop(services)
            ended = services.poller.stop(timeout=2.0)
        finally:
            services.stop()
    print(f"quit with a hung Redis: {took * 1000:.0f} ms")
    assert took < 1.0
    assert ended, "the Redis call was left behind"
