"""Memcached: hit rate from get_hits/get_misses between polls, memory, connections, evictions."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError

from console import metrics
from console.domain import CollectorReport, Reading, series_name
from console.own_cost import count_request
from services.collectors._cache import CacheCounters, cache_figures
from services.errors import BadResponse, SourceTimeout, SourceUnreachable


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` or ``memcached://host:port`` (port 11211 when left out)."""
    text = text.removeprefix("memcached://").rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return text.strip("[]"), 11211
    return host.strip("[]"), int(port)


def memcached_client(address: str, timeout_s: float) -> Client:
    """A client whose connect and every command are bounded by ``timeout_s``."""
    return Client(parse_address(address), connect_timeout=timeout_s, timeout=timeout_s,
                  no_delay=True)


class MemcachedCollector:
    """Reads ``stats`` once per collect."""

    kind = "memcached"

    def __init__(self, name: str, client: Any, *, address: str = "", interval_s: float = 10.0,
                 timeout_s: float = 5.0, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._client = client
        self._address = address
        self._clock = clock
        self._monotonic = monotonic
        self._before: CacheCounters | None = None

    def collect(self) -> CollectorReport:
        try:
            raw = self._client.stats()
            count_request()
        except TimeoutError as err:
            self._client.close()
            raise SourceTimeout(f"memcached at {self._address} did not answer within "
                                f"{self.timeout_s:g} s") from err
        except OSError as err:
            self._client.close()
            raise SourceUnreachable(f"cannot connect to memcached at {self._address} ({err}); "
                                    "check the address and that memcached is running") from err
        except MemcacheError as err:
            self._client.close()
            raise BadResponse(f"memcached at {self._address} answered an error: {err}") from err
        stats = {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in raw.items()}
        if "get_hits" not in stats:
            raise BadResponse(f"{self._address} did not answer stats like memcached does")

        def number(key: str) -> float:
            try:
                value = float(stats.get(key, 0))
            except (TypeError, ValueError, OverflowError):
                return 0.0
            return value if math.isfinite(value) else 0.0

        now = CacheCounters(self._monotonic(), number("get_hits"), number("get_misses"),
                            number("evictions"))
        figures = cache_figures(now, self._before)
        self._before = now
        figures[metrics.UP] = 1.0
        figures[metrics.MEMORY_BYTES] = number("bytes")
        figures[metrics.CLIENTS] = number("curr_connections")
        ts = self._clock()
        readings = tuple(Reading(series_name(self.name, m), ts, v) for m, v in figures.items())
        version = stats.get("version")
        version_text = (version.decode(errors="replace") if isinstance(version, bytes)
                        else str(version or ""))
        rate = figures.get(metrics.CACHE_HIT_RATE)
        since = figures.get(metrics.CACHE_HIT_RATE_SINCE_START)
        hit_text = (f"hit rate {rate:.0%}" if rate is not None else
                    f"hit rate {since:.0%} since restart" if since is not None else
                    "no lookups yet")
        used = number("bytes") / (1024 * 1024)
        limit = number("limit_maxbytes") / (1024 * 1024)
        detail = (f"memcached {version_text}: {hit_text}, {used:.1f} of {limit:.0f} MiB used, "
                  f"{int(number('curr_connections'))} connections")
        facts = (("limit_maxbytes", str(int(number("limit_maxbytes")))),
                 ("evictions", str(int(number("evictions")))))
        return CollectorReport(readings=readings, detail=detail,
                               server_version=version_text or None, facts=facts)

    def close(self) -> None:
        self._client.close()
