"""Cache counters to readings: hit rate from deltas between polls, evictions per second."""

from __future__ import annotations

from dataclasses import dataclass

from console import metrics
from console.quantiles import counter_increase


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
