"""The shop's read-through cache: an in-process TTL/LRU store or Redis, with real hit counts."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from demo.metrics import ShopMetrics

MISSING = object()


class CacheDownError(Exception):
    """The cache backend could not be reached (the read falls through to the database)."""


class CacheStore(Protocol):
    """Where cached values live."""

    backend: str

    def get(self, key: str) -> Any: ...  # returns MISSING when absent
    def set(self, key: str, value: Any, ttl: float) -> None: ...
    def delete(self, *keys: str) -> None: ...
    def entries(self) -> int: ...
    def close(self) -> None: ...


class MemoryStore:
    """A thread-safe LRU dictionary whose entries expire after their TTL (monotonic clock)."""

    backend = "memory"

    def __init__(self, max_entries: int = 1024) -> None:
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        now = time.monotonic()
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return MISSING
            expires, value = item
            if expires <= now:
                del self._data[key]
                return MISSING
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def entries(self) -> int:
        with self._lock:
            return len(self._data)

    def close(self) -> None:
        with self._lock:
            self._data.clear()


class RedisStore:
    """Cached values as JSON strings in Redis under a per-shop key prefix, with SETEX."""

    backend = "redis"

    def __init__(self, url: str, prefix: str, timeout: float = 1.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix
        self._errors = (redis.RedisError, OSError)

    def get(self, key: str) -> Any:
        try:
            raw = self._redis.get(self._prefix + key)
        except self._errors as exc:
            raise CacheDownError(str(exc)) from exc
        return MISSING if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: float) -> None:
        try:
            self._redis.set(self._prefix + key, json.dumps(value), px=max(1, int(ttl * 1000)))
        except self._errors as exc:
            raise CacheDownError(str(exc)) from exc

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            self._redis.delete(*(self._prefix + k for k in keys))
        except self._errors as exc:
            raise CacheDownError(str(exc)) from exc

    def entries(self) -> int:
        try:
            return sum(1 for _ in self._redis.scan_iter(match=self._prefix + "*", count=500))
        except self._errors as exc:
            raise CacheDownError(str(exc)) from exc

    def clear(self) -> None:
        """Remove every key of this shop (used by tests and on request)."""
        keys = list(self._redis.scan_iter(match=self._prefix + "*", count=500))
        if keys:
            self._redis.delete(*keys)

    def close(self) -> None:
        self._redis.close()


class ReadThroughCache:
    """Answers a named read from the store or computes it, counting hits and misses.

    With the scenario switch off every read is computed and counted as a miss: the cache
    served nothing, which is what a hit-rate chart should show.
    """

    def __init__(self, store: CacheStore, metrics: ShopMetrics,
                 enabled: Callable[[], bool]) -> None:
        self.store = store
        self._metrics = metrics
        self._enabled = enabled
        self.last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self._enabled()

    def get_or_compute(self, cache: str, key: str, ttl: float,
                       compute: Callable[[], Any]) -> tuple[Any, bool]:
        """(value, hit): the cached value under ``cache:key`` or ``compute()`` stored for ttl."""
        full_key = f"{cache}:{key}"
        if self._enabled():
            try:
                value = self.store.get(full_key)
                self.last_error = None
            except CacheDownError as exc:
                self.last_error = str(exc)
                value = MISSING
            if value is not MISSING:
                self._metrics.cache_hits.labels(cache=cache).inc()
                return value, True
        self._metrics.cache_misses.labels(cache=cache).inc()
        value = compute()
        if self._enabled():
            try:
                self.store.set(full_key, value, ttl)
            except CacheDownError as exc:
                self.last_error = str(exc)
        return value, False

    def invalidate(self, cache: str, *keys: str) -> None:
        try:
            self.store.delete(*(f"{cache}:{k}" for k in keys))
        except CacheDownError as exc:
            self.last_error = str(exc)

    def status(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.store.backend, "enabled": self._enabled()}
        try:
            info["entries"] = self.store.entries()
            info["status"] = "ok" if info["enabled"] else "disabled"
        except CacheDownError as exc:
            info["status"] = "down"
            info["error"] = str(exc)
        return info
