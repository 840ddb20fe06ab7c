""""Test connection" for one source, probe, back end or database: what happened, in words."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from console.domain import Status
from console.profile import Backend, DatabaseConfig, Probe, SecretRef, Source
from console.redaction import redact
from services.errors import (
    AuthFailed,
    BadResponse,
    CollectorError,
    NotFound,
    SourceTimeout,
    SourceUnreachable,
    TlsError,
)
from services.local.secrets import SecretError, resolve_secret

log = logging.getLogger(__name__)

#: Added to an item's own timeout before the whole test is given up (a client that ignores
#: its timeout must not leave the user waiting forever).
GRACE_S = 5.0


class Outcome(StrEnum):
    """How a connection test ended."""

    REACHABLE = "reachable"
    AUTH_FAILED = "auth"
    TLS_ERROR = "tls"
    TIMEOUT = "timeout"
    WRONG_SERVER = "wrong-server"
    UNREACHABLE = "unreachable"
    NOT_FOUND = "not-found"
    SECRET_MISSING = "secret"
    ERROR = "error"


TITLES = {
    Outcome.REACHABLE: "Reachable",
    Outcome.AUTH_FAILED: "Authentication failed",
    Outcome.TLS_ERROR: "TLS error",
    Outcome.TIMEOUT: "Timed out",
    Outcome.WRONG_SERVER: "Wrong kind of server",
    Outcome.UNREACHABLE: "Unreachable",
    Outcome.NOT_FOUND: "No such database",
    Outcome.SECRET_MISSING: "Secret missing",
    Outcome.ERROR: "Failed",
}

_BY_ERROR: tuple[tuple[type[CollectorError], Outcome], ...] = (
    (AuthFailed, Outcome.AUTH_FAILED),
    (TlsError, Outcome.TLS_ERROR),
    (SourceTimeout, Outcome.TIMEOUT),
    (BadResponse, Outcome.WRONG_SERVER),
    (NotFound, Outcome.NOT_FOUND),
    (SourceUnreachable, Outcome.UNREACHABLE),
)


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """What a person reads after "Test connection": an outcome, a title, what to try."""

    outcome: Outcome
    detail: str
    latency_ms: float | None = None
    server_version: str | None = None

    @property
    def title(self) -> str:
        return TITLES[self.outcome]

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.REACHABLE


#: Said by clients that connected and then met a server speaking another protocol.
_OTHER_PROTOCOL = ("Connection closed by server", "Protocol error", "protocol error",
                   "wrong version number", "unexpected response")


def classify(err: BaseException) -> Outcome:
    """The outcome a collector's typed error (or a secret problem) stands for."""
    if isinstance(err, SecretError):
        return Outcome.SECRET_MISSING
    if isinstance(err, SourceUnreachable) and any(m in str(err) for m in _OTHER_PROTOCOL):
        return Outcome.WRONG_SERVER  # it connected: something else listens there
    for error_type, outcome in _BY_ERROR:
        if isinstance(err, error_type):
            return outcome
    return Outcome.ERROR


def check_target(kind: str, item: Any, *, resolve: Callable[[SecretRef], str] = resolve_secret
                 ) -> ConnectionResult:
    """Test ``item`` once: kind 'source' (a :class:`Source`), 'probe', 'backend' or
    'database'. Never raises; never waits much past the item's own timeout; no secret in
    the result."""
    secrets: list[str] = []

    def resolving(ref: SecretRef) -> str:
        value = resolve(ref)
        secrets.append(value)
        return value

    checks: dict[str, Callable[[Any, Callable[[SecretRef], str]], ConnectionResult]] = {
        "source": _check_source, "probe": _check_probe, "backend": _check_backend,
        "database": _check_database,
    }
    check = checks.get(kind)
    if check is None:
        return ConnectionResult(Outcome.ERROR, f"cannot test a {kind!r}")
    timeout = float(getattr(item, "timeout_s", 5.0))
    try:
        result = _bounded(lambda: check(item, resolving), timeout * 2 + GRACE_S)
    except TimeoutError:
        result = ConnectionResult(Outcome.TIMEOUT, f"no answer within {timeout * 2 + GRACE_S:.0f}"
                                  " s; the server may be overloaded or a firewall drops the "
                                  "traffic")
    except Exception as err:
        outcome = classify(err)
        detail = str(err)
        if outcome is Outcome.WRONG_SERVER and isinstance(err, SourceUnreachable):
            detail = (f"something answers at this address but does not speak {kind_name(item)}"
                      f" ({err})")
        result = ConnectionResult(outcome, detail)
    clean = redact(result.detail, secrets)
    if clean != result.detail:
        result = ConnectionResult(result.outcome, clean, result.latency_ms, result.server_version)
    log.info("connection test of %s %s: %s", kind, getattr(item, "name", ""), result.title)
    return result


def kind_name(item: Any) -> str:
    """'Redis' for a redis source: what the user expected to find."""
    names = {"redis": "Redis", "celery-redis": "Redis", "memcached": "memcached",
             "rabbitmq": "RabbitMQ", "database": "the database protocol",
             "prometheus": "Prometheus", "prometheus-server": "the Prometheus API"}
    return names.get(str(getattr(item, "kind", "")), "the expected protocol")


def _bounded(fn: Callable[[], ConnectionResult], seconds: float) -> ConnectionResult:
    """Run ``fn`` on a helper thread; TimeoutError when it takes longer than ``seconds``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as err:
            box["error"] = err

    thread = threading.Thread(target=run, name="connection-test", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def _from_collector(collector: Any) -> ConnectionResult:
    started = time.perf_counter()
    try:
        report = collector.collect()
    finally:
        try:
            collector.close()
        except Exception:
            log.debug("closing the test collector failed", exc_info=True)
    elapsed = (time.perf_counter() - started) * 1000
    parts = []
    if report.server_version and report.server_version not in report.detail:
        parts.append(report.server_version)
    if report.detail:
        parts.append(report.detail)
    elif report.readings:
        parts.append(f"{len(report.readings)} readings")
    parts.append(f"answered in {elapsed:.0f} ms")
    if report.status is Status.FAIL and collector.kind == "http":
        # The server answered, but not with what the probe expects (e.g. 401 or 500).
        outcome = Outcome.AUTH_FAILED if " 401 " in f" {report.detail} " \
            or " 403 " in f" {report.detail} " else Outcome.WRONG_SERVER
        return ConnectionResult(outcome, "; ".join(parts), elapsed, report.server_version)
    return ConnectionResult(Outcome.REACHABLE, "; ".join(parts), elapsed, report.server_version)


def _check_source(source: Source, resolve: Callable[[SecretRef], str]) -> ConnectionResult:
    from services.collectors import build_source
    from services.http.client import new_session

    session = new_session(pool_size=1)
    try:
        result = _from_collector(build_source(source, session, resolve))
    finally:
        session.close()
    if source.kind == "redis" and source.password is not None and result.ok \
            and _redis_answers_without_password(source):
        # Redis accepts any AUTH when it has no password (redis-py hides its warning): the
        # password given is never checked, and "Reachable" alone would say it was right.
        result = ConnectionResult(
            result.outcome, "this Redis needs no password, so the one given is not checked "
            "(leave the password empty, or set requirepass on the server); " + result.detail,
            result.latency_ms, result.server_version)
    return result


def _redis_answers_without_password(source: Source) -> bool:
    from services.collectors.redis_source import redis_client

    client = redis_client(source.url, source.timeout_s)
    try:
        return bool(client.ping())
    except Exception:  # it wants a password (NOAUTH): the one given was checked
        return False
    finally:
        client.close()


def _check_probe(probe: Probe, resolve: Callable[[SecretRef], str]) -> ConnectionResult:
    from services.collectors import build_probe
    from services.http.client import new_session

    session = new_session(pool_size=1)
    try:
        return _from_collector(build_probe(probe, session, resolve))
    finally:
        session.close()


def _check_database(database: DatabaseConfig, resolve: Callable[[SecretRef], str]
                    ) -> ConnectionResult:
    source = Source(name="database", kind="database", url=database.url,
                    password=database.password, timeout_s=database.timeout_s,
                    interval_s=database.interval_s)
    return _check_source(source, resolve)


def _check_backend(backend: Backend, resolve: Callable[[SecretRef], str]) -> ConnectionResult:
    """``GET /health`` must be the shop API's health document; then an authenticated read
    (``/api/stats/today``) tells whether the token is accepted."""
    from services.http.client import check_status, fetch, new_session, verify_option

    token = resolve(backend.token) if backend.token is not None else None
    verify = verify_option(backend.verify_tls, backend.ca_bundle)
    base = backend.base_url.rstrip("/")
    session = new_session(pool_size=1)
    try:
        health = fetch(session, f"{base}/health", timeout_s=backend.timeout_s, verify=verify)
        try:
            document = json.loads(health.body)
        except (ValueError, RecursionError):
            document = None
        if not isinstance(document, dict) or "status" not in document:
            return ConnectionResult(
                Outcome.WRONG_SERVER,
                f"{base}/health answered HTTP {health.status} but not with the shop API's "
                "health document; check the base URL (it is the site's root, e.g. "
                "https://shop.example.com)", health.elapsed_s * 1000)
        version = document.get("version")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        stats = fetch(session, f"{base}/api/stats/today", timeout_s=backend.timeout_s,
                      verify=verify, headers=headers)
        if stats.status in (401, 403):
            hint = ("the token was refused; check it (Settings → the shop's REST API)"
                    if token else "the API wants a token; add it under API token")
            return ConnectionResult(Outcome.AUTH_FAILED, f"HTTP {stats.status}: {hint}",
                                    stats.elapsed_s * 1000)
        check_status(stats, f"{base}/api/stats/today", "the shop's figures")
        status = document.get("status", "?")
        return ConnectionResult(
            Outcome.REACHABLE,
            f"shop API{f' {version}' if version else ''}, health {status}, answered in "
            f"{stats.elapsed_s * 1000:.0f} ms", stats.elapsed_s * 1000,
            str(version) if version else None)
    finally:
        session.close()
