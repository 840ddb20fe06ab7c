"""Redis as a cache: hit rate between polls, memory, clients, evictions and expiries per second."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import redis
import redis.exceptions

from console import metrics
from console.domain import CollectorReport, Reading, series_name
from console.own_cost import count_request
from console.quantiles import counter_increase
from console.redaction import mask_url
from services.collectors._cache import (
    REDIS_HIT_RATE_SCOPE,
    CacheCounters,
    OwnLookups,
    cache_figures,
)
from services.errors import (
    AuthFailed,
    BadResponse,
    CollectorError,
    SourceTimeout,
    SourceUnreachable,
)


def redis_client(url: str, timeout_s: float, password: str | None = None) -> redis.Redis:
    """A client whose every connect and command is bounded by ``timeout_s``."""
    options: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s,
                               "retry_on_timeout": False, "health_check_interval": 0}
    if password is not None:
        options["password"] = password
    client: redis.Redis = redis.Redis.from_url(url, **options)
    return client


def redis_error(err: redis.exceptions.RedisError, url: str, timeout_s: float) -> CollectorError:
    """A redis-py failure as a typed error saying what to try."""
    where = mask_url(url)
    text = str(err)
    if isinstance(err, redis.exceptions.AuthenticationError) or any(
            marker in text for marker in ("NOAUTH", "WRONGPASS", "invalid password")):
        return AuthFailed(f"Redis at {where} refused our password ({text}); check the "
                          "source's password")
    if isinstance(err, redis.exceptions.TimeoutError):
        return SourceTimeout(f"Redis at {where} did not answer within {timeout_s:g} s")
    if isinstance(err, redis.exceptions.ConnectionError):
        return SourceUnreachable(f"cannot connect to Redis at {where} ({text}); check the URL "
                                 "and that Redis is running")
    return BadResponse(f"Redis at {where} answered an error: {text}")


class RedisCollector:
    """Reads ``INFO`` once per collect. The hit rate is the server's (every database), less
    the lookups the console's own queue readers made (``own_lookups``)."""

    kind = "redis"

    def __init__(self, name: str, client: redis.Redis, *, url: str = "",
                 interval_s: float = 10.0, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 own_lookups: OwnLookups | None = None) -> None:
        self.name = name
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._client = client
        self._url = url
        self._clock = clock
        self._monotonic = monotonic
        self._before: CacheCounters | None = None
        self._expired_before: tuple[float, float] | None = None  # (monotonic s, expired_keys)
        self._own = own_lookups or OwnLookups()

    def collect(self) -> CollectorReport:
        try:
            with self._own.held() as own:
                info = self._client.info()
                count_request()
                own_hits, own_misses = own.hits, own.misses
        except redis.exceptions.RedisError as err:
            raise redis_error(err, self._url, self.timeout_s) from err
        if not isinstance(info, dict) or "keyspace_hits" not in info:
            raise BadResponse(f"{mask_url(self._url)} did not answer INFO like Redis does")
        hits = _number(info.get("keyspace_hits", 0))
        misses = _number(info.get("keyspace_misses", 0))
        if hits is None or misses is None:
            raise BadResponse(f"{mask_url(self._url)} answered INFO whose keyspace_hits/misses "
                              "are not numbers; is this Redis?")
        now = CacheCounters(self._monotonic(), max(0.0, hits - own_hits),
                            max(0.0, misses - own_misses),
                            _number(info.get("evicted_keys", 0)) or 0.0)
        figures = cache_figures(now, self._before)
        self._before = now
        expired = _number(info.get("expired_keys", 0))
        if expired is not None:
            before = self._expired_before
            if before is not None and now.mono > before[0]:
                figures[metrics.EXPIRIES_RATE] = (counter_increase(before[1], expired)
                                                  / (now.mono - before[0]))
            self._expired_before = (now.mono, expired)
        figures[metrics.UP] = 1.0
        for metric, key in ((metrics.MEMORY_BYTES, "used_memory"),
                            (metrics.CLIENTS, "connected_clients")):
            value = _number(info.get(key, 0))
            if value is not None:
                figures[metric] = value
        ts = self._clock()
        readings = tuple(Reading(series_name(self.name, m), ts, v) for m, v in figures.items())
        rate = figures.get(metrics.CACHE_HIT_RATE,
                           figures.get(metrics.CACHE_HIT_RATE_SINCE_START))
        hit_text = (f"server-wide hit rate {rate:.0%}" if rate is not None
                    else "no lookups yet")
        since = "since last poll" if metrics.CACHE_HITS_RATE in figures else "since restart"
        if own_hits or own_misses:
            since += ", the console's own queue lookups left out"
        detail = (f"Redis {info.get('redis_version', '?')}: {hit_text} ({since}), "
                  f"{info.get('used_memory_human', '?')} used, "
                  f"{info.get('connected_clients', '?')} clients")
        facts = (
            REDIS_HIT_RATE_SCOPE,
            ("maxmemory", str(info.get("maxmemory", "?"))),
            ("maxmemory_policy", str(info.get("maxmemory_policy", "?"))),
            ("evicted_keys", str(info.get("evicted_keys", 0))),
            ("expired_keys", str(info.get("expired_keys", 0))),
            ("keyspace_hits", str(info.get("keyspace_hits", 0))),
            ("keyspace_misses", str(info.get("keyspace_misses", 0))),
            ("own lookups left out", f"{own_hits} hits, {own_misses} misses"),
        )
        return CollectorReport(readings=readings, detail=detail,
                               server_version=str(info.get("redis_version", "")) or None,
                               facts=facts)

    def close(self) -> None:
        self._client.close()


def _number(value: Any) -> float | None:
    """An INFO field as a finite float, or None when it is not one (redis-py hands over
    whatever the server wrote: text, lists, dicts, 400-digit integers)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None
