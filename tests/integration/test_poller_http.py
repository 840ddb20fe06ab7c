"""The poller end to end over real sockets: a quick web server, one that never answers and
one that is not there, into the store and the history file."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import requests

from console.domain import SourceState
from console.store import MetricStore
from services.collectors.http_probe import HttpProbe
from services.monitoring.history_writer import History
from services.monitoring.poller import Poller
from tests.integration.local_servers import serving
from tests.servers import free_port

pytestmark = pytest.mark.integration


class _Quick(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def quick_url() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Quick)) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """Accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, name="test-silent", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_poller_over_real_sockets_into_store_and_history(
    tmp_path: Path, quick_url: str, silent_url: str
) -> None:
    session = requests.Session()
    probes = [
        HttpProbe("shop", quick_url, session, interval_s=0.1, timeout_s=1.0),
        HttpProbe("silent", silent_url, session, interval_s=0.1, timeout_s=0.3),
        HttpProbe(
            "gone", f"http://127.0.0.1:{free_port()}/", session, interval_s=0.1, timeout_s=0.3
        ),
    ]
    store = MetricStore()
    history = History(tmp_path / "history.sqlite", flush_interval_s=0.1)
    poller = Poller(probes, store, history, grace_s=0.5)
    history.start()
    poller.start()
    try:
        wait_until(
            lambda: (
                {s.name: s.state for s in poller.statuses()}
                == {"shop": SourceState.UP, "silent": SourceState.DOWN, "gone": SourceState.DOWN}
            )
        )
        wait_until(
            lambda: (
                (w := store.latest("shop/scrape_seconds")) is not None
                and len(
                    np.flatnonzero(np.isfinite(store.window("shop/latency", w.ts - 60, w.ts).value))
                )
                >= 2
            )
        )
        statuses = {s.name: s for s in poller.statuses()}
        silent, gone = statuses["silent"], statuses["gone"]
        assert "hangs" not in silent.last_error, "the probe's own timeout answered first"
        assert silent.last_error and gone.last_error
        assert silent.last_error != gone.last_error, "a hang and a refusal read differently"
        assert silent.failures >= 1 and gone.failures >= 1
    finally:
        assert poller.stop(timeout=5)
        assert history.stop(timeout=10)
        session.close()

    names = set(store.series_names())
    assert {"shop/latency", "shop/up", "shop/scrape_seconds"} <= names
    assert not any(n.startswith(("silent/", "gone/")) for n in names), "no made-up readings"
    reopened = History(tmp_path / "history.sqlite")
    on_disk = {name: ts.size for name, ts, _ in reopened.load(0)}
    reopened.stop()
    assert set(on_disk) == names, "everything the store got also reached the disk"
    latest = store.latest("shop/latency")
    assert latest is not None and 0 < latest.value < 1.0
