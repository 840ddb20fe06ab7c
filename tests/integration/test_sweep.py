"""The GUI's sweep against the demo shop, Redis, RabbitMQ and PostgreSQL; TLS certificates."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme

from console.domain import Status
from console.profile import Backend, DatabaseConfig, Probe, Profile, SecretRef, Source
from services.diagnostics.sweep import SweepCancelled, SweepResult, run_sweep
from services.http.tls_check import certificate_check, check_certificate, https_targets
from services.local.profiles import demo_profile
from tests import servers

pytestmark = pytest.mark.integration


# -- TLS ------------------------------------------------------------------------------------

@contextmanager
def tls_server(ca: trustme.CA, *, days: float) -> Iterator[int]:
    """A TLS server on 127.0.0.1 whose certificate (for 'localhost') ends ``days`` from now."""
    now = dt.datetime.now(dt.UTC)
    cert = ca.issue_cert("localhost", not_before=now - dt.timedelta(days=30),
                         not_after=now + dt.timedelta(days=days))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(2)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, name="test-tls-server", daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.fixture
def ca(tmp_path: Path) -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def test_valid_certificate_reports_days_left(ca: trustme.CA, ca_file: str) -> None:
    with tls_server(ca, days=90) as port:
        info = check_certificate(f"https://localhost:{port}/", ca_bundle=ca_file)
        check = certificate_check("shop", f"https://localhost:{port}/", ca_bundle=ca_file)
    assert info.valid
    assert info.days_left is not None and 89 < info.days_left <= 90
    assert check.status == Status.OK
    assert check.kind == "tls"
    assert f"localhost:{port}: valid, 90 days left" in check.detail
    assert check.latency_ms is not None


def test_certificate_expiring_soon_warns(ca: trustme.CA, ca_file: str) -> None:
    with tls_server(ca, days=5) as port:
        check = certificate_check("shop", f"https://localhost:{port}/", ca_bundle=ca_file)
    assert check.status == Status.WARN
    assert "expires in 5 days" in check.detail


def test_expired_and_untrusted_certificates_fail(ca: trustme.CA, ca_file: str) -> None:
    with tls_server(ca, days=-3) as port:
        expired = certificate_check("shop", f"https://localhost:{port}/", ca_bundle=ca_file)
        unverified = certificate_check("shop", f"https://localhost:{port}/", verify=False)
    with tls_server(ca, days=60) as port:
        untrusted = certificate_check("shop", f"https://localhost:{port}/")
    assert expired.status == Status.FAIL
    assert "expired" in expired.detail
    assert untrusted.status == Status.FAIL
    assert "not trusted" in untrusted.detail
    assert unverified.status == Status.WARN
    assert "verification is off" in unverified.detail


def test_unreachable_and_silent_hosts_fail_within_the_timeout() -> None:
    closed = servers.free_port()
    refused = certificate_check("shop", f"https://127.0.0.1:{closed}/", timeout_s=2)
    assert refused.status == Status.FAIL
    assert "cannot connect" in refused.detail
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never says a word
        port = silent.getsockname()[1]
        started = time.monotonic()
        quiet = certificate_check("shop", f"https://127.0.0.1:{port}/", timeout_s=0.5)
        assert time.monotonic() - started < 3
    assert quiet.status == Status.FAIL
    assert "no TLS handshake within 0.5 s" in quiet.detail


def test_https_targets_one_per_host() -> None:
    profile = Profile(
        name="Bistro",
        backend=Backend(base_url="https://bistro.example/api", ca_bundle="/ca.pem"),
        probes=(Probe("home", "https://bistro.example/"),
                Probe("plain", "http://bistro.example/"),
                Probe("shop", "https://shop.example:8443/x", verify_tls=False)),
        sources=(Source("web", "prometheus", "https://bistro.example/metrics"),),
    )
    assert https_targets(profile) == [
        ("back end", "https://bistro.example/api", "/ca.pem", True, 10.0),
        ("shop", "https://shop.example:8443/x", None, False, 5.0),
    ]


# -- the sweep --------------------------------------------------------------------------------

def _demo(shop: object) -> Profile:
    return demo_profile(shop.base_url, shop.token, shop.db_path)  # type: ignore[attr-defined]


def test_sweep_of_the_whole_stack(demo_shop: object, postgres_url: str, redis_url: str,
                                  rabbitmq_api: str) -> None:
    base = _demo(demo_shop)
    profile = Profile(
        name="Whole stack", backend=base.backend, probes=base.probes,
        sources=(*base.sources,
                 Source("cache", "redis", redis_url, timeout_s=3.0),
                 Source("broker", "rabbitmq", rabbitmq_api, user="guest",
                        password=SecretRef.literal("guest"), timeout_s=3.0)),
        database=DatabaseConfig(url=postgres_url, timeout_s=5.0),
    )
    progress: list[tuple[float, str]] = []
    started = time.monotonic()
    result = run_sweep(profile, samples=2, progress=lambda f, m: progress.append((f, m)))
    assert time.monotonic() - started < 30
    kinds = {c.kind for c in result.checks}
    assert {"http", "prometheus", "database", "redis", "rabbitmq"} <= kinds
    by_name = {c.name: c for c in result.checks}
    for name in ("health", "availability", "shop", "cache", "broker"):
        assert by_name[name].status != Status.FAIL, by_name[name]
    assert by_name["health"].latency_ms is not None
    # both databases: the demo's SQLite (plans) and PostgreSQL (statements)
    dialects = {i.dialect for i in result.insights}
    assert dialects == {"sqlite", "postgresql"}
    assert dict(result.servers).get("cache", "").startswith(("7", "8"))
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert progress[-1][1].startswith("Sweep done")
    data = result.to_json()
    assert '"name": "broker"' in data


def test_missing_index_finding_follows_the_index(demo_shop: object) -> None:
    profile = _demo(demo_shop)
    demo_shop.set_scenario(booking_time_index=False)  # type: ignore[attr-defined]
    without = run_sweep(profile, samples=1)
    missing = [f for f in without.findings if f.rule == "missing-index"]
    assert len(missing) == 1
    assert missing[0].title.startswith("Bookings by start time reads the whole table")
    assert "SCAN bookings" in missing[0].evidence
    assert "CREATE INDEX ix_bookings_start_at ON bookings (start_at)" in missing[0].advice
    assert without.status != Status.OK

    demo_shop.set_scenario(booking_time_index=True)  # type: ignore[attr-defined]
    with_index = run_sweep(profile, samples=1)
    assert [f for f in with_index.findings if f.rule == "missing-index"] == []
    plans = {p.name: p for i in with_index.insights for p in i.plans}
    assert plans["bookings by start time"].uses_index


def test_cancel_returns_at_once() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        profile = Profile(name="Stuck", probes=(
            Probe("stuck", f"http://127.0.0.1:{port}/", timeout_s=5.0),))
        cancel = threading.Event()
        timer = threading.Timer(0.3, cancel.set)
        timer.start()
        started = time.monotonic()
        with pytest.raises(SweepCancelled):
            run_sweep(profile, samples=1, cancelled=cancel.is_set)
        assert time.monotonic() - started < 1.5
        timer.join()


def test_result_reads_like_a_diagnose_result(demo_shop: object) -> None:
    result = run_sweep(_demo(demo_shop), samples=1)
    assert isinstance(result, SweepResult)
    merged = result.as_diagnose_result()
    assert merged.checks == result.checks
    assert merged.findings == result.findings
    assert merged.status == result.status
    assert result.profile == "Demo shop"
    assert result.duration_s > 0
