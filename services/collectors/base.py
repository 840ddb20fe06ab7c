"""The collector contract: what every source reader offers the poller and diagnose."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from console.domain import CollectorReport


@runtime_checkable
class Collector(Protocol):
    """One source. ``collect`` does blocking I/O bounded by ``timeout_s``; it never sleeps,
    never retries, never touches Qt, and raises :class:`CollectorError` on failure."""

    name: str
    kind: str
    interval_s: float
    timeout_s: float

    def collect(self) -> CollectorReport: ...

    def close(self) -> None: ...
