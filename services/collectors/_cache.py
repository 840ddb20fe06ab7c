"""Cache counters to readings: hit rate from deltas between polls, evictions per second; the
console's own key lookups on a Redis server, left out of its hit rate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from console import metrics
from console.quantiles import counter_increase

#: Redis counts keyspace hits and misses for the whole server: so is a hit rate read from them.
REDIS_HIT_RATE_SCOPE = ("hit rate scope", "server-wide (every database of this Redis)")


@dataclass(frozen=True, slots=True)
class CacheCounters:
    """Cumulative counters of a cache server at one moment (monotonic seconds)."""

    mono: float
    hits: float
    misses: float
    evictions: float


def cache_figures(now: CacheCounters, before: CacheCounters | None) -> dict[str, float]:
    """Hit rate over the interval since ``before``, hits/misses/evictions per second; on the
    first poll only the since-start figures, as context."""
    out: dict[str, float] = {}
    if before is None or now.mono <= before.mono:
        # Since the server started: context, never judged (a cache at 100 % now can read
        # 39 % since a cold start hours ago).
        lookups = now.hits + now.misses
        out[metrics.CACHE_LOOKUPS_SINCE_START] = lookups
        if lookups > 0:
            out[metrics.CACHE_HIT_RATE_SINCE_START] = now.hits / lookups
        return out
    dt = now.mono - before.mono
    hits = counter_increase(before.hits, now.hits)
    misses = counter_increase(before.misses, now.misses)
    out[metrics.CACHE_LOOKUPS] = hits + misses
    if hits + misses > 0:
        out[metrics.CACHE_HIT_RATE] = hits / (hits + misses)
    out[metrics.CACHE_HITS_RATE] = hits / dt
    out[metrics.CACHE_MISSES_RATE] = misses / dt
    out[metrics.EVICTIONS_RATE] = counter_increase(before.evictions, now.evictions) / dt
    return out


def redis_server_key(url: str) -> str:
    """The server a Redis URL points at (host:port or socket path), whatever its database:
    keyspace hits and misses in INFO are counted for the whole server."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    try:
        port = parts.port or 6379
    except ValueError:
        port = 6379
    return f"{(parts.hostname or 'localhost').lower()}:{port}"


class OwnLookups:
    """Key lookups the console itself made on one Redis server (a queue's LLEN counts as a
    keyspace hit when the list exists and as a miss when it does not), so that the server's
    hit rate can leave them out. Lookups are made and INFO is read under one lock, so each
    INFO sample knows exactly which of our lookups it includes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @contextmanager
    def held(self) -> Iterator[OwnLookups]:
        with self._lock:
            yield self

    def record(self, hits: int, misses: int) -> None:
        """Count lookups; call while :meth:`held`."""
        self.hits += hits
        self.misses += misses
