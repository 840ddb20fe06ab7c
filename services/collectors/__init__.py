"""Collectors, one module per source kind; each ``collect()`` is one bounded, blocking call."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import requests

from console.domain import CollectorReport
from console.profile import Probe, Profile, SecretRef, Source
from services.collectors._cache import OwnLookups, redis_server_key
from services.collectors.base import Collector
from services.errors import AuthFailed, CollectorError
from services.local.secrets import SecretError, resolve_secret

log = logging.getLogger(__name__)

DATABASE_SOURCE = "database"

Resolver = Callable[[SecretRef], str]


class UnusableCollector:
    """Stands in for a source that could not be built (a missing secret, a bad URL): every
    collect raises the error, so the source shows as down with the reason."""

    def __init__(self, name: str, kind: str, error: CollectorError, *, interval_s: float,
                 timeout_s: float) -> None:
        self.name = name
        self.kind = kind
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.error = error

    def collect(self) -> CollectorReport:
        raise self.error

    def close(self) -> None:
        """Nothing to release."""


class BuiltOnFirstCollect:
    """A collector built on its first collect, on the poller's thread: a database source's
    collector imports SQLAlchemy (a tenth of a second or more), which the console's window
    need not wait for. A source that cannot be built then reports why on every collect."""

    def __init__(self, name: str, kind: str, build: Callable[[], Collector], *,
                 interval_s: float, timeout_s: float) -> None:
        self.name = name
        self.kind = kind
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._build: Callable[[], Collector] | None = build
        self._built: Collector | None = None
        self._then: list[Callable[[Collector], None]] = []
        self._lock = threading.Lock()

    def when_built(self, then: Callable[[Collector], None]) -> None:
        """Have ``then`` finish the collector once it is built, before its first collect
        (at once when it already is)."""
        with self._lock:
            built = self._built
            if built is None:
                self._then.append(then)
        if built is not None:
            then(built)

    def collect(self) -> CollectorReport:
        with self._lock:
            if self._built is None:
                if self._build is None:
                    raise CollectorError("closed")
                self._built = _guarded(self.name, self.kind, self.interval_s, self.timeout_s,
                                       self._build)
                for then in self._then:
                    then(self._built)
                self._then.clear()
            built = self._built
        return built.collect()

    def close(self) -> None:
        with self._lock:
            built, self._built, self._build = self._built, None, None
        if built is not None:
            built.close()


def _secret(ref: SecretRef | None, resolve: Resolver) -> str | None:
    return None if ref is None else resolve(ref)


def _capped(value: float, cap: float | None) -> float:
    return value if cap is None else min(value, cap)


def build_probe(probe: Probe, session: requests.Session, resolve: Resolver = resolve_secret,
                timeout_cap_s: float | None = None) -> Collector:
    from services.collectors.http_probe import HttpProbe

    return HttpProbe(probe.name, probe.url, session, interval_s=probe.interval_s,
                     timeout_s=_capped(probe.timeout_s, timeout_cap_s),
                     expect_status=probe.expect_status, verify_tls=probe.verify_tls,
                     ca_bundle=probe.ca_bundle, token=_secret(probe.token, resolve))


def build_source(source: Source, session: requests.Session, resolve: Resolver = resolve_secret,
                 timeout_cap_s: float | None = None,
                 redis_lookups: dict[str, OwnLookups] | None = None) -> Collector:
    """The collector of one profile source (its client built with the source's timeout).
    Redis and Celery-on-Redis sources of one server share the record of the console's own
    key lookups in ``redis_lookups`` (one per server), so the hit rate leaves them out."""
    if redis_lookups is None:
        redis_lookups = {}
    timeout = _capped(source.timeout_s, timeout_cap_s)
    password = _secret(source.password, resolve)
    auth = (source.user, password or "") if source.user else None
    interval = source.interval_s
    kind = source.kind
    if kind == "prometheus":
        from services.collectors.prometheus import PrometheusCollector

        return PrometheusCollector(source.name, source.url, session, verify_tls=source.verify_tls,
                                   ca_bundle=source.ca_bundle, auth=auth,
                                   families=dict(source.metrics), interval_s=interval,
                                   timeout_s=timeout, unit=source.unit,
                                   max_series=source.max_series)
    if kind == "prometheus-server":
        from services.collectors.prometheus_server import PrometheusServerCollector

        return PrometheusServerCollector(
            source.name, source.url, session, verify_tls=source.verify_tls,
            ca_bundle=source.ca_bundle, auth=auth, queries=dict(source.query),
            selector=source.selector, families=dict(source.metrics), interval_s=interval,
            timeout_s=timeout, group_by=source.group_by,
            scrape_interval_s=source.scrape_interval_s, unit=source.unit)
    if kind == "redis":
        from services.collectors.redis_source import RedisCollector, redis_client

        return RedisCollector(source.name, redis_client(source.url, timeout, password),
                              url=source.url, interval_s=interval, timeout_s=timeout,
                              own_lookups=_own_lookups(redis_lookups, source.url))
    if kind == "celery-redis":
        from services.collectors.celery_redis import CeleryRedisCollector
        from services.collectors.redis_source import redis_client

        return CeleryRedisCollector(source.name, redis_client(source.url, timeout, password),
                                    source.queues, url=source.url, interval_s=interval,
                                    timeout_s=timeout, key_prefix=source.key_prefix,
                                    sep=source.priority_sep,
                                    priority_steps=source.priority_steps, password=password,
                                    own_lookups=_own_lookups(redis_lookups, source.url))
    if kind == "memcached":
        from services.collectors.memcached import MemcachedCollector, memcached_client

        return MemcachedCollector(source.name, memcached_client(source.url, timeout),
                                  address=source.url, interval_s=interval, timeout_s=timeout)
    if kind == "rabbitmq":
        from services.collectors.rabbitmq import RabbitMQCollector, amqp_source, amqp_url_for

        if source.url.startswith(("http://", "https://")):
            amqp = amqp_url_for(source.url, source.user or "guest", password or "guest",
                                source.vhost)
            return RabbitMQCollector(source.name, api_url=source.url, amqp_url=amqp,
                                     session=session, queues=source.queues,
                                     vhost=source.vhost, user=source.user, password=password,
                                     verify_tls=source.verify_tls, ca_bundle=source.ca_bundle,
                                     interval_s=interval, timeout_s=timeout)
        # amqp://: the URL's user and vhost, else the profile's; the management API of the
        # same host is asked first, for depth as ready + unacked.
        found = amqp_source(source.url, source.user, password, source.vhost)
        return RabbitMQCollector(source.name, api_url=found.api_url, amqp_url=found.amqp_url,
                                 session=session, queues=source.queues, vhost=found.vhost,
                                 user=found.user, password=found.password,
                                 verify_tls=source.verify_tls, ca_bundle=source.ca_bundle,
                                 interval_s=interval, timeout_s=timeout, api_guessed=True)
    if kind == "database":
        from services.collectors.database import DatabaseCollector, database_engine, sqlite_path

        engine = database_engine(source.url, password, timeout)
        sqlite_file = sqlite_path(source.url) if source.url.startswith("sqlite") else None
        return DatabaseCollector(source.name, engine, url=source.url, sqlite_file=sqlite_file,
                                 interval_s=interval, timeout_s=timeout)
    raise ValueError(f"unknown source kind {kind!r}")


def build_collectors(profile: Profile, *, session: requests.Session | None = None,
                     resolve: Resolver = resolve_secret,
                     timeout_cap_s: float | None = None) -> list[Collector]:
    """One collector per probe and source of ``profile`` (plus one for ``[database]`` when no
    database source is listed). HTTP collectors share one pooled session. A source whose
    secret cannot be resolved, or whose client cannot be built, becomes an
    :class:`UnusableCollector` that reports why on every collect."""
    from services.http.client import new_session

    if session is None:
        session = new_session(pool_size=max(10, len(profile.probes) + len(profile.sources)))
    collectors: list[Collector] = []
    for probe in profile.probes:
        collectors.append(_guarded(probe.name, "http", probe.interval_s, probe.timeout_s,
                                   partial(build_probe, probe, session, resolve,
                                           timeout_cap_s)))
    sources = list(profile.sources)
    db = profile.database
    names = {s.name for s in sources} | {p.name for p in profile.probes}
    redis_lookups: dict[str, OwnLookups] = {}
    if db is not None and not any(s.kind == "database" for s in sources) \
            and DATABASE_SOURCE not in names:
        sources.append(Source(name=DATABASE_SOURCE, kind="database", url=db.url,
                              interval_s=db.interval_s, timeout_s=db.timeout_s,
                              password=db.password))
    for source in sources:
        build = partial(build_source, source, session, resolve, timeout_cap_s, redis_lookups)
        if source.kind == "database":
            collectors.append(BuiltOnFirstCollect(source.name, source.kind, build,
                                                  interval_s=source.interval_s,
                                                  timeout_s=_capped(source.timeout_s,
                                                                    timeout_cap_s)))
        else:
            collectors.append(_guarded(source.name, source.kind, source.interval_s,
                                       source.timeout_s, build))
    return collectors


def _own_lookups(ledgers: dict[str, OwnLookups], url: str) -> OwnLookups:
    return ledgers.setdefault(redis_server_key(url), OwnLookups())


def _guarded(name: str, kind: str, interval_s: float, timeout_s: float,
             build: Callable[[], Collector]) -> Collector:
    try:
        return build()
    except SecretError as err:
        log.warning("%s: %s", name, err)
        return UnusableCollector(name, kind, AuthFailed(str(err)), interval_s=interval_s,
                                 timeout_s=timeout_s)
    except Exception as err:  # a client library rejected the URL or options
        log.warning("%s: cannot be set up: %s", name, err)
        return UnusableCollector(name, kind, CollectorError(f"cannot be set up: {err}"),
                                 interval_s=interval_s, timeout_s=timeout_s)


#: The name of diagnose's check of the shop's REST back end (``[backend]``'s ``/health``).
BACKEND_CHECK = "backend"


def backend_probe(profile: Profile, session: requests.Session,
                  timeout_cap_s: float | None = None) -> Collector | None:
    """The REST back end's ``/health`` (no token: docs/api.md) as a probe, for diagnose and
    the sweep; None without ``[backend]`` or when a probe of the profile already asks it."""
    backend = profile.backend
    if backend is None:
        return None
    url = backend.base_url.rstrip("/") + "/health"
    if any(p.url.rstrip("/") == url for p in profile.probes):
        return None
    names = {p.name for p in profile.probes} | {s.name for s in profile.sources}
    name = BACKEND_CHECK if BACKEND_CHECK not in names else f"{BACKEND_CHECK} /health"
    probe = Probe(name=name, url=url, timeout_s=backend.timeout_s,
                  verify_tls=backend.verify_tls, ca_bundle=backend.ca_bundle)
    return _guarded(name, "http", probe.interval_s, probe.timeout_s,
                    partial(build_probe, probe, session, resolve_secret, timeout_cap_s))


def build_checked(profile: Profile, *, timeout_cap_s: float | None = None) -> list[Collector]:
    """What diagnose and the sweep check: every collector of the profile plus the back end's
    ``/health``, sharing one pooled session."""
    from services.http.client import new_session

    session = new_session(pool_size=max(10, len(profile.probes) + len(profile.sources) + 1))
    collectors = build_collectors(profile, session=session, timeout_cap_s=timeout_cap_s)
    backend = backend_probe(profile, session, timeout_cap_s)
    return collectors + ([backend] if backend is not None else [])


def attach_statement_history(collectors: list[Any], path: Path | None, profile: str) -> None:
    """Have every PostgreSQL database source sample pg_stat_statements into the statement
    history file at ``path`` (one file beside the alert log; None: no history). Here, not
    beside the database collector, so that building the services imports no SQLAlchemy:
    a database source is built on its first collect, and finished then."""
    if path is None:
        return
    from services.local.statement_history import StatementHistory

    history = StatementHistory(path)  # opens its file when first written

    def attach(collector: Any) -> None:
        from services.collectors.database import DatabaseCollector

        if isinstance(collector, DatabaseCollector) and \
                collector._engine.dialect.name == "postgresql":
            collector.statement_history = history
            collector.history_profile = profile

    for collector in collectors:
        when_built = getattr(collector, "when_built", None)  # built on its first collect
        if callable(when_built):
            when_built(attach)
        elif getattr(collector, "kind", "") == "database":
            attach(collector)
