"""Plain http:// GETs on the stdlib's keep-alive connections against the same calls through
requests (the oracle): the same answers, readings, caps, redirects, gzip and error messages."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from console.domain import Reading
from services.collectors.http_probe import HttpProbe
from services.collectors.prometheus import PrometheusCollector
from services.errors import CollectorError
from services.http.client import ConsoleSession, Fetched, fetch, new_session
from tests.integration.local_servers import serving
from tests.reliability.support import drip_body, drip_headers, raw_server, silent

pytestmark = pytest.mark.integration


def _metrics_page() -> bytes:
    registry = CollectorRegistry()
    latency = Histogram("http_request_duration_seconds", "Latency", ["handler"],
                        registry=registry)
    served = Counter("http_requests_total", "Requests", ["status"], registry=registry)
    for i in range(200):
        latency.labels("/menu").observe(0.002 * (i % 50))
        served.labels("500" if i % 40 == 0 else "200").inc()
    return generate_latest(registry)


PAGE = _metrics_page()


class Shop(BaseHTTPRequestHandler):
    """The stdlib's HTTP/1.1 server (keep-alive) with what the tests ask of a back end."""

    protocol_version = "HTTP/1.1"
    server_version = "ShopTest/1"

    def do_GET(self) -> None:
        path = self.path
        if path.startswith("/metrics"):
            self._answer(200, PAGE, "text/plain; version=0.0.4")
        elif path == "/health":
            self._answer(200, b'{"status": "ok"}', "application/json")
        elif path == "/gzip":
            self._answer(200, gzip.compress(PAGE), "text/plain", {"Content-Encoding": "gzip"})
        elif path == "/not-gzip":
            self._answer(200, b"this is not gzip at all", "text/plain",
                         {"Content-Encoding": "gzip"})
        elif path == "/moved":
            self._answer(302, b"", "text/plain", {"Location": "/metrics"})
        elif path == "/cookie":
            self._answer(200, b"ok", "text/plain", {"Set-Cookie": "shop=1; Path=/"})
        elif path == "/echo-cookie":
            self._answer(200, (self.headers.get("Cookie") or "none").encode(), "text/plain")
        elif path == "/echo-headers":
            sent = sorted(f"{k.lower()}: {v}" for k, v in self.headers.items())
            self._answer(200, "\n".join(sent).encode(), "text/plain")
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (PAGE[:1000], PAGE[1000:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.close_connection = True
        elif path == "/close":
            self._answer(200, b"bye", "text/plain", {"Connection": "close"})
            self.close_connection = True
        else:
            self._answer(404, b"no such page", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str,
                headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class ShopServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up on an answer it will not read: what a cap does


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with serving(ShopServer(("127.0.0.1", 0), Shop)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def plain() -> Iterator[ConsoleSession]:
    with new_session() as session:
        assert isinstance(session, ConsoleSession) and session.keep_alive is not None
        yield session


@pytest.fixture
def oracle() -> Iterator[ConsoleSession]:
    """The same session with every call through requests."""
    with new_session() as session:
        assert isinstance(session, ConsoleSession)
        session.keep_alive = None
        yield session


def both(plain: ConsoleSession, oracle: ConsoleSession, url: str,
         **options: object) -> tuple[Fetched, Fetched]:
    ours = fetch(plain, url, timeout_s=2, **options)  # type: ignore[arg-type]
    theirs = fetch(oracle, url, timeout_s=2, **options)  # type: ignore[arg-type]
    assert ours.status == theirs.status
    assert bytes(ours.body) == bytes(theirs.body)
    assert ours.truncated == theirs.truncated
    assert ours.content_type == theirs.content_type
    return ours, theirs


def untimed(readings: tuple[Reading, ...]) -> dict[str, float]:
    """Readings but the latencies of the call itself."""
    return {r.series: r.value for r in readings if "/latency" not in r.series}


def errors(plain: ConsoleSession, oracle: ConsoleSession, url: str,
           timeout_s: float = 1.0) -> tuple[CollectorError, CollectorError]:
    found: list[CollectorError] = []
    for session in (plain, oracle):
        with pytest.raises(CollectorError) as caught:
            fetch(session, url, timeout_s=timeout_s)
        found.append(caught.value)
    ours, theirs = found
    assert type(ours) is type(theirs)
    return ours, theirs


@pytest.mark.parametrize("path", ["/metrics", "/health", "/gzip", "/chunked", "/nothing-here"])
def test_the_same_answer_as_requests(shop: str, plain: ConsoleSession,
                                     oracle: ConsoleSession, path: str) -> None:
    ours, _ = both(plain, oracle, shop + path)
    if path == "/gzip":
        assert bytes(ours.body) == PAGE, "decoded as requests decodes it"
    assert plain.keep_alive is not None and plain.keep_alive.idle == 1, "kept for the next call"


@pytest.mark.parametrize("headers", [None, {"accept": "text/plain", "X-Shop": "7"},
                                     {"Accept": None, "ACCEPT-ENCODING": "identity"}])
def test_the_same_headers_are_sent_as_through_requests(
        shop: str, plain: ConsoleSession, oracle: ConsoleSession,
        headers: dict[str, str | None] | None) -> None:
    """A call's headers take the place of the session's whatever their case, and None
    drops one, as requests merges them."""
    plain.headers["X-Session"] = "s"
    oracle.headers["X-Session"] = "s"
    ours, _ = both(plain, oracle, shop + "/echo-headers", headers=headers)
    assert b"x-session: s" in bytes(ours.body)


def test_one_connection_serves_call_after_call(shop: str, plain: ConsoleSession) -> None:
    for _ in range(5):
        assert fetch(plain, shop + "/health", timeout_s=2).status == 200
    assert plain.keep_alive is not None and plain.keep_alive.idle == 1


def test_size_caps_are_the_same(shop: str, plain: ConsoleSession,
                                oracle: ConsoleSession) -> None:
    ours, _ = both(plain, oracle, shop + "/metrics", max_bytes=100)
    assert ours.truncated and len(ours.body) == 100
    ours, _ = both(plain, oracle, shop + "/gzip", max_bytes=100)
    assert ours.truncated and bytes(ours.body) == PAGE[:100]
    ours, _ = both(plain, oracle, shop + "/metrics", max_bytes=100, refuse_larger=True)
    assert ours.truncated and ours.body == b""
    assert plain.keep_alive is not None and plain.keep_alive.idle == 0, \
        "a connection with an answer left unread is not used again"


def test_a_redirect_is_followed_as_requests_follows_it(shop: str, plain: ConsoleSession,
                                                        oracle: ConsoleSession) -> None:
    for _ in range(2):  # the second time straight through requests
        ours, _ = both(plain, oracle, shop + "/moved")
        assert ours.status == 200 and bytes(ours.body) == PAGE


def test_cookies_a_host_sets_are_sent_back(shop: str, plain: ConsoleSession,
                                           oracle: ConsoleSession) -> None:
    both(plain, oracle, shop + "/cookie")
    ours, _ = both(plain, oracle, shop + "/echo-cookie")
    assert bytes(ours.body) == b"shop=1"


def test_connection_close_and_a_closed_idle_connection(shop: str,
                                                       plain: ConsoleSession) -> None:
    assert bytes(fetch(plain, shop + "/close", timeout_s=2).body) == b"bye"
    assert plain.keep_alive is not None and plain.keep_alive.idle == 0
    fetch(plain, shop + "/health", timeout_s=2)
    assert plain.keep_alive.idle == 1


def test_the_same_readings_as_through_requests(shop: str, plain: ConsoleSession,
                                               oracle: ConsoleSession) -> None:
    for path, make in (("/health", lambda s: HttpProbe("web", shop + "/health", s)),
                       ("/metrics", lambda s: PrometheusCollector("web", shop + "/metrics", s))):
        reports = []
        for session in (plain, oracle):
            collector = make(session)
            collector.collect()
            reports.append(collector.collect())
            collector.close()
        ours, theirs = reports
        assert ours.status == theirs.status, path
        assert untimed(ours.readings) == untimed(theirs.readings), path
        assert [r.series for r in ours.readings] == [r.series for r in theirs.readings]


@pytest.mark.parametrize("path", ["/short", "/not-gzip"])
def test_broken_answers_say_the_same(shop: str, plain: ConsoleSession,
                                     oracle: ConsoleSession, path: str) -> None:
    ours, theirs = errors(plain, oracle, shop + path)
    assert str(ours) == str(theirs)


def test_refused_and_unknown_hosts_say_the_same(plain: ConsoleSession,
                                                oracle: ConsoleSession) -> None:
    for url in ("http://127.0.0.1:1/metrics", "http://no-such-host.invalid/metrics"):
        ours, theirs = errors(plain, oracle, url)
        assert str(ours) == str(theirs)
        assert "cannot connect to" in str(ours)
        assert "object at 0x" not in str(ours)


@pytest.mark.parametrize("behave", [silent, drip_headers(0.2), drip_body(0.2)],
                         ids=["silent", "dripping head", "dripping body"])
def test_a_late_answer_says_the_same(plain: ConsoleSession, oracle: ConsoleSession,
                                     behave: object) -> None:
    with raw_server(behave) as server:  # type: ignore[arg-type]
        ours, theirs = errors(plain, oracle, server.url + "/metrics", timeout_s=0.5)
    assert str(ours) == str(theirs)


def test_what_requests_keeps_for_itself(shop: str, plain: ConsoleSession) -> None:
    """Auth, query parameters and a session-wide proxy go through requests."""
    assert plain.keep_alive is not None
    assert plain.keep_alive.target(plain, shop + "/metrics", None, None) is not None
    assert plain.keep_alive.target(plain, shop + "/metrics", ("u", "p"), None) is None
    assert plain.keep_alive.target(plain, shop + "/metrics", None, {"q": "1"}) is None
    assert plain.keep_alive.target(plain, "https://127.0.0.1/metrics", None, None) is None
    assert plain.keep_alive.target(plain, "http://u:p@127.0.0.1/metrics", None, None) is None
    plain.proxies = {"http": "http://127.0.0.1:1"}
    assert plain.keep_alive.target(plain, shop + "/metrics", None, None) is None
    with pytest.raises(CollectorError):
        fetch(plain, shop + "/metrics", timeout_s=1)  # through the (dead) proxy, not direct
