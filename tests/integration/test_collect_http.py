"""HTTP probes against local servers with known delays, sizes, statuses and certificates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import trustme

from console import metrics
from console.domain import Status
from services.collectors.http_probe import HttpProbe, expand_url
from services.errors import SourceTimeout, SourceUnreachable, TlsError
from services.http.client import new_session
from tests import servers
from tests.integration.local_servers import http_server, reply, silent_server

pytestmark = pytest.mark.integration


def values(report: object) -> dict[str, float]:
    return {r.series.split("/", 1)[1]: r.value for r in report.readings}  # type: ignore[attr-defined]


def huge(request: BaseHTTPRequestHandler) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "application/octet-stream")
    request.send_header("Content-Length", str(100 * 1024 * 1024))
    request.end_headers()
    block = b"x" * 65536
    try:
        for _ in range(1600):
            request.wfile.write(block)
    except OSError:
        pass  # the probe stopped reading: exactly what we want


def slow_redirect(request: BaseHTTPRequestHandler) -> None:
    time.sleep(0.1)
    request.send_response(302)
    request.send_header("Location", "/slow")
    request.send_header("Content-Length", "0")
    request.end_headers()


def auth_echo(request: BaseHTTPRequestHandler) -> None:
    ok = request.headers.get("Authorization") == "Bearer tok-123"
    reply(200 if ok else 401)(request)


@pytest.fixture
def site() -> Iterator[str]:
    routes = {"/fast": reply(), "/slow": reply(delay_s=0.2), "/broken": reply(500),
              "/huge": huge, "/auth": auth_echo, "/moved": slow_redirect}
    with http_server(routes) as url:
        yield url


def test_latency_matches_a_known_delay(site: str) -> None:
    with new_session() as session:
        probe = HttpProbe("slow", f"{site}/slow", session, timeout_s=5)
        for _ in range(5):
            report = probe.collect()
        got = values(report)
    assert report.status is Status.OK
    assert got[metrics.UP] == 1.0 and got[metrics.STATUS_CODE] == 200
    assert 0.2 <= got[metrics.LATENCY] < 0.3
    assert 0.2 <= got[metrics.LATENCY_P50] <= got[metrics.LATENCY_P95] <= got[
        metrics.LATENCY_P99] < 0.3
    assert len(probe.recent_latencies) == 5


def test_latency_counts_every_hop_of_a_redirect(site: str) -> None:
    with new_session() as session:
        report = HttpProbe("moved", f"{site}/moved", session, timeout_s=5).collect()
    assert report.status is Status.OK
    assert 0.3 <= values(report)[metrics.LATENCY] < 0.45


def test_unexpected_status_is_down_with_the_reason(site: str) -> None:
    with new_session() as session:
        report = HttpProbe("broken", f"{site}/broken", session).collect()
        strict = HttpProbe("fast", f"{site}/fast", session, expect_status=(204,)).collect()
    assert report.status is Status.FAIL and values(report)[metrics.UP] == 0.0
    assert values(report)[metrics.STATUS_CODE] == 500
    assert "HTTP 500" in report.detail and "expected 2xx/3xx" in report.detail
    assert strict.status is Status.FAIL and "expected 204" in strict.detail


def test_a_100_mb_answer_is_not_read_whole(site: str) -> None:
    with new_session() as session:
        start = time.perf_counter()
        report = HttpProbe("huge", f"{site}/huge", session, timeout_s=10).collect()
        took = time.perf_counter() - start
    assert report.status is Status.OK
    assert "1024.0 kB (capped)" in report.detail
    assert took < 2.0


def test_bearer_token_is_sent(site: str) -> None:
    with new_session() as session:
        with_token = HttpProbe("a", f"{site}/auth", session, token="tok-123").collect()
        without = HttpProbe("b", f"{site}/auth", session).collect()
    assert with_token.status is Status.OK
    assert values(without)[metrics.STATUS_CODE] == 401


def test_silent_host_times_out_within_the_timeout() -> None:
    with silent_server() as url, new_session() as session:
        probe = HttpProbe("silent", url + "/", session, timeout_s=0.5)
        start = time.perf_counter()
        with pytest.raises(SourceTimeout, match=r"did not answer within 0\.5 s"):
            probe.collect()
        assert time.perf_counter() - start < 1.5


def test_refused_connection_is_unreachable() -> None:
    port = servers.free_port()
    with new_session() as session, pytest.raises(SourceUnreachable, match="cannot connect"):
        HttpProbe("gone", f"http://127.0.0.1:{port}/", session, timeout_s=1).collect()


def test_tls_verified_by_default_and_ca_bundle_honoured(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    with http_server({"/": reply()}, tls=(str(cert_file), str(key_file))) as url, \
            new_session() as session:
        with pytest.raises(TlsError, match="ca_bundle"):
            HttpProbe("tls", url + "/", session).collect()
        report = HttpProbe("tls", url + "/", session, ca_bundle=str(ca_file)).collect()
        assert report.status is Status.OK
        insecure = HttpProbe("tls", url + "/", session, verify_tls=False).collect()
        assert insecure.status is Status.OK


def test_today_placeholder() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    assert expand_url("http://h/api?date={today}", when) == "http://h/api?date=2026-11-25"


def test_quantiles_are_over_a_time_window_so_a_fix_shows_within_one_interval() -> None:
    delay = {"s": 0.15}

    def page(request: object) -> None:
        reply(delay_s=delay["s"])(request)  # type: ignore[arg-type]

    mono = [0.0]
    with http_server({"/": page}) as site, new_session() as session:
        probe = HttpProbe("home", f"{site}/", session, interval_s=5, timeout_s=5,
                          monotonic=lambda: mono[0])
        for _ in range(5):  # slow for five polls, five seconds apart
            slow = values(probe.collect())
            mono[0] += 5
        delay["s"] = 0.0  # fixed: the next poll shows it
        fixed = values(probe.collect())
        mono[0] += 1  # two requests within one interval are both in the window
        both = values(probe.collect())
    assert slow[metrics.LATENCY_P95] >= 0.15
    assert fixed[metrics.LATENCY_P95] < 0.1
    assert fixed[metrics.LATENCY_P99] < 0.1
    assert len(probe.recent_latencies) == 2 and both[metrics.LATENCY_P95] < 0.1
