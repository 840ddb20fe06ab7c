"""HTTP faults against every HTTP client of the console: a host that accepts and never answers,
one that drips its answer a byte at a time, and a 100 MB answer.

Each client is driven the way the console drives it (``collect()`` of a collector, a list call
of the shop API adapter) against a misbehaving server on 127.0.0.1 started by the test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from console.shop import BackendUnavailable, BookingQuery
from services.errors import BadResponse, CollectorError, SourceTimeout
from services.http.client import new_session
from tests.reliability.support import (
    RawServer,
    drip_body,
    drip_headers,
    huge_body,
    make_certs,
    on_linux,
    peak_rss_bytes,
    raw_server,
    reset_peak_rss,
    silent,
    wait_until,
)

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0
MB = 1024 * 1024

Call = Callable[[], Any]


def client(kind: str, base: str, session: requests.Session, timeout_s: float) -> Call:
    """One call of one HTTP client of the console, as the poller or a page makes it."""
    if kind == "http probe":
        from services.collectors.http_probe import HttpProbe

        return HttpProbe("web", base + "/", session, timeout_s=timeout_s).collect
    if kind == "prometheus":
        from services.collectors.prometheus import PrometheusCollector

        return PrometheusCollector("web", base + "/metrics", session, timeout_s=timeout_s).collect
    if kind == "rabbitmq api":
        from services.collectors.rabbitmq import RabbitMQCollector

        return RabbitMQCollector("mq", api_url=base, amqp_url=None, session=session,
                                 user="guest", password="guest", timeout_s=timeout_s).collect
    if kind == "prometheus-server":
        from services.collectors.prometheus_server import PrometheusServerCollector

        return PrometheusServerCollector("fleet", base, session, timeout_s=timeout_s).collect
    if kind == "shop api":
        from services.shop.api import ApiShopRepository

        repo = ApiShopRepository(base, "tok", session=session, timeout=timeout_s)
        return lambda: repo.list_bookings(BookingQuery(), limit=10)
    raise ValueError(kind)


COLLECTORS = ["http probe", "prometheus", "rabbitmq api", "prometheus-server"]
CLIENTS = [*COLLECTORS, "shop api"]
TIMEOUT_ERRORS = (SourceTimeout, BackendUnavailable)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with new_session() as made:
        yield made


def timed(call: Call) -> tuple[float, BaseException | None]:
    start = time.perf_counter()
    try:
        call()
    except Exception as err:
        return time.perf_counter() - start, err
    return time.perf_counter() - start, None


def bounded(call: Call, server: RawServer, wait_s: float) -> tuple[float, BaseException | None,
                                                                   bool]:
    """Run ``call`` on a helper thread for at most ``wait_s``; then stop the server (which
    frees a stuck call) and say whether the call had finished by itself."""
    box: dict[str, Any] = {}

    def run() -> None:
        box["took"], box["error"] = timed(call)

    worker = threading.Thread(target=run, name="test-bounded-call", daemon=True)
    worker.start()
    worker.join(wait_s)
    finished = not worker.is_alive()
    server.stop()
    worker.join(10)
    return box.get("took", wait_s), box.get("error"), finished


@pytest.mark.parametrize("kind", CLIENTS)
def test_silent_host_is_given_up_on_time(kind: str, session: requests.Session) -> None:
    """Accepts the connection, never answers: the call ends within 10 % of its timeout."""
    with raw_server(silent) as server:
        took, error = timed(client(kind, server.url, session, TIMEOUT_S))
    print(f"{kind}: gave up after {took:.3f} s (timeout {TIMEOUT_S:g} s)")
    assert isinstance(error, TIMEOUT_ERRORS), repr(error)
    assert str(TIMEOUT_S).rstrip("0").rstrip(".") in str(error), "says which timeout ran out"
    assert 0.9 * TIMEOUT_S <= took <= 1.1 * TIMEOUT_S


@pytest.mark.parametrize("kind", COLLECTORS)
def test_dripping_answer_is_cut_at_the_timeout(kind: str, session: requests.Session) -> None:
    """Headers at once, then a byte every 0.2 s: each read is quick, so only a deadline on
    the whole answer stops it. The collector gives up within 10 % of its timeout."""
    with raw_server(drip_body(0.2)) as server:
        took, error, finished = bounded(client(kind, server.url, session, TIMEOUT_S), server,
                                        wait_s=4 * TIMEOUT_S)
    print(f"{kind}: dripping answer given up after {took:.3f} s")
    assert finished, "the call outlived four times its timeout"
    assert isinstance(error, SourceTimeout), repr(error)
    assert "still sending" in str(error)
    assert took <= 1.1 * TIMEOUT_S


def test_shop_api_dripping_answer_is_cut_at_the_timeout(session: requests.Session) -> None:
    with raw_server(drip_body(0.2)) as server:
        took, error, finished = bounded(client("shop api", server.url, session, TIMEOUT_S),
                                        server, wait_s=3 * TIMEOUT_S)
    assert finished and isinstance(error, BackendUnavailable) and took <= 1.1 * TIMEOUT_S


def test_dripping_headers_are_cut_at_the_timeout(session: requests.Session) -> None:
    with raw_server(drip_headers(0.2)) as server:
        took, error, finished = bounded(client("http probe", server.url, session, TIMEOUT_S),
                                        server, wait_s=3 * TIMEOUT_S)
    assert finished and isinstance(error, SourceTimeout) and took <= 1.1 * TIMEOUT_S


@pytest.mark.parametrize("kind", CLIENTS)
def test_dripping_headers_are_cut_for_every_client(kind: str,
                                                   session: requests.Session) -> None:
    """A status line, then a header line every 0.2 s: requests bounds each read only, the
    watchdog (services/http/watchdog.py) the whole head. Every client gives up within 10 %
    of its timeout, saying the server was still sending, not that it did not answer."""
    with raw_server(drip_headers(0.2)) as server:
        took, error, finished = bounded(client(kind, server.url, session, TIMEOUT_S), server,
                                        wait_s=3 * TIMEOUT_S)
    print(f"{kind}: dripping headers given up after {took:.3f} s")
    assert finished, "the call outlived three times its timeout"
    if kind == "shop api":
        assert isinstance(error, BackendUnavailable), repr(error)
        assert "still answering after" in str(error)
    else:
        assert isinstance(error, SourceTimeout), repr(error)
        assert "still sending after" in str(error)  # prometheus-server: what was left of 1 s
    assert 0.9 * TIMEOUT_S <= took <= 1.1 * TIMEOUT_S


def test_shop_api_own_session_cuts_dripping_headers() -> None:
    """Without a session passed in, the adapter makes its own, watched as well."""
    from services.shop.api import ApiShopRepository

    with raw_server(drip_headers(0.2)) as server:
        repo = ApiShopRepository(server.url, "tok", timeout=0.5)
        took, error, finished = bounded(lambda: repo.list_bookings(BookingQuery(), limit=10),
                                        server, wait_s=3.0)
        repo.close()
    assert finished and isinstance(error, BackendUnavailable), repr(error)
    assert "still answering" in str(error) and 0.45 <= took <= 0.55


def test_https_dripping_headers_are_cut_at_the_timeout(tmp_path: Path,
                                                       session: requests.Session) -> None:
    """The same over TLS: the watchdog shuts the descriptor under the TLS socket down."""
    import ssl

    from services.http.client import fetch

    certs = make_certs(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certs.good)
    drip = drip_headers(0.2)

    def behave(conn: socket.socket, server: RawServer) -> None:
        conn.settimeout(5)
        with context.wrap_socket(conn, server_side=True) as tls:
            drip(tls, server)

    with raw_server(behave) as server:
        url = server.url.replace("http://", "https://") + "/"
        took, error, finished = bounded(
            lambda: fetch(session, url, timeout_s=TIMEOUT_S, verify=certs.ca), server,
            wait_s=3 * TIMEOUT_S)
    print(f"https: dripping headers given up after {took:.3f} s")
    assert finished and isinstance(error, SourceTimeout), repr(error)
    assert "still sending after 1 s" in str(error)
    assert 0.9 * TIMEOUT_S <= took <= 1.1 * TIMEOUT_S


def _keep_alive_or_drip(conn: socket.socket, server: RawServer) -> None:
    """Every request of a keep-alive connection answered at once ("ok"), except ``/slow``:
    a status line, then a header line every 0.2 s."""
    while not server.stopping:
        head = server.read_request(conn)
        if not head:
            return
        if not head.startswith(b"GET /slow"):
            server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            continue
        server.send(conn, b"HTTP/1.1 200 OK\r\n")
        while not server.stopping:  # until the client hangs up (the send fails) or the end
            server.send(conn, b"X-Slow: yes\r\n")
            server._stop.wait(0.2)


def test_pooled_connection_works_before_and_after_a_cut_off_head() -> None:
    """The watchdog cuts only a call still registered at its deadline: a connection whose
    call was released in time serves the next calls (kept alive past the old deadline), and
    after a cut the pool hands out a fresh connection that works and is kept alive too."""
    from services.http.client import fetch

    with new_session(pool_size=1) as session, raw_server(_keep_alive_or_drip) as server:
        def fast() -> bytes:
            return fetch(session, server.url + "/fast", timeout_s=0.3).body

        assert fast() == b"ok"
        time.sleep(0.5)  # the first call's deadline passes while its connection is pooled
        assert fast() == b"ok"
        assert server.connections == 1, "the idle pooled connection was not cut"
        took, error = timed(lambda: fetch(session, server.url + "/slow", timeout_s=0.5))
        print(f"dripping head on a reused connection given up after {took:.3f} s")
        assert isinstance(error, SourceTimeout) and "still sending" in str(error), repr(error)
        assert 0.45 <= took <= 0.55
        assert server.connections == 1, "the head was cut on the reused keep-alive connection"
        assert [fast(), fast(), fast()] == [b"ok"] * 3
        assert server.connections == 2, "the cut connection was replaced once, then kept alive"


def _watchdog_threads() -> list[threading.Thread]:
    from services.http.watchdog import THREAD_NAME

    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def test_watchdog_thread_starts_on_demand_and_ends_when_idle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from services.http import watchdog as http_watchdog
    from services.http.client import fetch

    monkeypatch.setattr(http_watchdog.WATCHDOG, "idle_exit_s", 0.3)
    wait_until(lambda: not _watchdog_threads(), 5.0)  # one left idle by an earlier test
    with new_session() as session, raw_server(drip_headers(0.2)) as server:
        for _ in range(2):  # started again after it ended
            seen: list[int] = []
            call = threading.Thread(target=timed, name="test-watched-call", args=(
                lambda: fetch(session, server.url + "/", timeout_s=0.5),))
            call.start()
            while call.is_alive():
                seen.append(len(_watchdog_threads()))
                time.sleep(0.02)
            call.join()
            assert max(seen) == 1, "one named watchdog thread while a call is out"
            ended = wait_until(lambda: not _watchdog_threads(), 3.0)
            print(f"watchdog thread ended {ended:.2f} s after the call (idle exit 0.3 s)")
            assert ended <= 0.3 + 0.25, "ends by itself when idle"
            assert http_watchdog.WATCHDOG.thread is None


def test_watchdog_cuts_only_what_is_still_registered_at_its_deadline() -> None:
    from services.http.watchdog import Watchdog

    dog = Watchdog(name="test-http-watchdog", idle_exit_s=0.2)
    late, late_peer = socket.socketpair()
    on_time, on_time_peer = socket.socketpair()
    connecting, connecting_peer = socket.socketpair()
    try:
        class Conn:
            def __init__(self, sock: socket.socket | None) -> None:
                self.sock = sock

        # released in time (many of them, in and out of deadline order): never touched
        entries = [dog.watch(Conn(on_time), time.monotonic() + 0.1 + (i % 7) / 100)
                   for i in range(200)]
        assert not any(dog.release(entry) for entry in entries)
        # not yet connected at the deadline: cut once the socket is there
        pending = Conn(None)
        pending_entry = dog.watch(pending, time.monotonic() + 0.05)
        entry = dog.watch(Conn(late), time.monotonic() + 0.3)
        late.settimeout(5)
        start = time.monotonic()
        assert late.recv(10) == b"", "the blocked read ends when the socket is shut down"
        took = time.monotonic() - start
        assert 0.25 <= took <= 0.5, took
        assert dog.release(entry), "the caller learns its call was cut"
        pending.sock = connecting
        connecting.settimeout(5)
        assert connecting.recv(10) == b"" and dog.release(pending_entry)
        time.sleep(0.2)
        on_time_peer.sendall(b"ok")
        on_time.settimeout(1)
        assert on_time.recv(10) == b"ok", "a socket released in time still works"
        wait_until(lambda: dog.thread is None, 3.0)  # ends by itself when idle
        assert "test-http-watchdog" not in [t.name for t in threading.enumerate()]
        assert not dog._heap, "released entries do not pile up"
    finally:
        for sock in (late, late_peer, on_time, on_time_peer, connecting, connecting_peer):
            sock.close()


# -- a 100 MB answer -----------------------------------------------------------------------------

def _peak_delta(call: Call) -> tuple[int, float, BaseException | None, Any]:
    """Peak RSS growth (bytes) while ``call`` runs, its duration, error and result."""
    reset_peak_rss()
    before = peak_rss_bytes() or 0
    start = time.perf_counter()
    result: Any = None
    error: BaseException | None = None
    try:
        result = call()
    except Exception as err:
        error = err
    took = time.perf_counter() - start
    return (peak_rss_bytes() or 0) - before, took, error, result


@pytest.mark.skipif(not on_linux(), reason="peak RSS is read from /proc (Linux)")
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_100_mb_answer_is_capped_not_read_whole(declared: bool,
                                                session: requests.Session) -> None:
    size = 100 * MB
    with raw_server(huge_body(size, chunked=not declared)) as server:
        probe = client("http probe", server.url, session, 10.0)
        probe_rss, probe_s, probe_error, report = _peak_delta(probe)
        probe_sent = server.bytes_sent
        scrape = client("prometheus", server.url, session, 10.0)
        scrape_rss, scrape_s, scrape_error, _ = _peak_delta(scrape)
        scrape_sent = server.bytes_sent - probe_sent
    print(f"100 MB answer ({'declared' if declared else 'chunked'}): probe read "
          f"{probe_sent / MB:.1f} MB sent, peak RSS +{probe_rss / MB:.1f} MB, {probe_s:.2f} s; "
          f"prometheus {scrape_sent / MB:.1f} MB sent, peak RSS +{scrape_rss / MB:.1f} MB, "
          f"{scrape_s:.2f} s")
    assert probe_error is None and "(capped)" in report.detail
    assert probe_sent < 16 * MB, "the probe stopped reading after its 1 MiB cap"
    assert probe_rss < 32 * MB
    assert isinstance(scrape_error, BadResponse), repr(scrape_error)
    assert "larger than 64 MiB" in str(scrape_error)
    assert scrape_sent < 80 * MB, "the scrape stopped at its 64 MiB cap"
    if declared:  # a page that says it is too big is refused without reading it
        assert scrape_sent < 16 * MB and scrape_rss < 32 * MB
    else:
        assert scrape_rss < 100 * MB, "held once, not copied"


def test_a_management_api_answer_past_32_mib_is_refused_unparsed(
        session: requests.Session) -> None:
    """An older RabbitMQ lists every queue of a vhost (100,000 queues: 100+ MB): the collector
    stops at 32 MiB and says what to do, without handing the cut JSON to the parser (one C
    call over 32 MiB, the GIL held throughout; the old message: "did not answer JSON")."""
    with raw_server(huge_body(40 * MB, content_type=b"application/json")) as server:
        took, error = timed(client("rabbitmq api", server.url, session, 20.0))
    assert isinstance(error, BadResponse), repr(error)
    assert "answered more than 32 MiB" in str(error)
    assert "name the queues to watch in the profile" in str(error)
    assert took < 20.0


def test_errors_are_typed_for_every_client_on_a_refused_port(session: requests.Session) -> None:
    from tests.servers import free_port

    base = f"http://127.0.0.1:{free_port()}"
    for kind in CLIENTS:
        _took, error = timed(client(kind, base, session, TIMEOUT_S))
        assert isinstance(error, CollectorError | BackendUnavailable), (kind, repr(error))
