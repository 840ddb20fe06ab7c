"""All shops' reads remembered: each shop's figures over the last hour, in memory, bounded."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from console import metrics
from console.domain import series_name
from console.overview import ShopRow, worst_first

#: The figures a shop's row gives, in the order they are kept: (metric, the row's field).
FIGURES: tuple[tuple[str, str], ...] = (
    (metrics.LATENCY_P95, "p95_s"),
    (metrics.ERROR_RATIO, "error_ratio"),
    (metrics.CACHE_HIT_RATE, "cache_hit_rate"),
    (metrics.QUEUE_DEPTH, "queue_depth"),
)
#: How far back the reads are kept, and at most how many of one shop (an hour at one read
#: every 5 s; the All shops page reads every 15 s, a Refresh in between adds one).
KEEP_S = 3600.0
MAX_POINTS = 720
#: At most this many shops (a profile, or one site of a grouped source) are remembered.
MAX_SHOPS = 400
FloatArray = npt.NDArray[np.float64]
_Key = tuple[str, tuple[tuple[str, str], ...]]


def line_name(row: ShopRow, metric: str) -> str:
    """The name of a shop's line of ``metric``: its profile (path, or key) as the source,
    its group as labels (``/home/x/bistro.toml/latency_p95{site="leeds"}``)."""
    return series_name(row.profile or row.shop, metric, dict(row.group) or None)


@dataclass(slots=True)
class _Shop:
    row: ShopRow
    seen: float
    points: deque[tuple[float, ...]]


class ShopHistory:
    """Each shop's figures at each read, the last ``keep_s`` seconds of them and at most
    ``max_points`` a shop; a read that gave a shop no figure keeps a gap there (NaN), never
    a line drawn across it. Thread-safe: reads are added on a worker thread and read on
    another."""

    def __init__(self, *, keep_s: float = KEEP_S, max_points: int = MAX_POINTS,
                 max_shops: int = MAX_SHOPS) -> None:
        self.keep_s = keep_s
        self.max_points = max_points
        self.max_shops = max_shops
        self._lock = threading.Lock()
        self._shops: dict[_Key, _Shop] = {}

    def add(self, rows: Iterable[ShopRow], at: float) -> None:
        """One read of every shop at ``at`` (UTC epoch seconds): each row's figures at its
        last reading (at ``at`` for a shop that gave none)."""
        with self._lock:
            for row in rows:
                key = (row.profile or row.shop, row.group)
                shop = self._shops.get(key)
                if shop is None:
                    shop = self._shops[key] = _Shop(row, at, deque(maxlen=self.max_points))
                shop.row, shop.seen = row, at
                ts = row.last_reading if row.last_reading is not None else at
                if shop.points and ts <= shop.points[-1][0]:
                    continue  # the same reading again (a read that found nothing newer)
                shop.points.append((ts, *(_value(getattr(row, f)) for _m, f in FIGURES)))
            self._forget(at)

    def _forget(self, now: float) -> None:
        cutoff = now - self.keep_s
        for key, shop in list(self._shops.items()):
            while shop.points and shop.points[0][0] < cutoff:
                shop.points.popleft()
            if shop.seen < cutoff:
                del self._shops[key]
        if len(self._shops) > self.max_shops:
            by_age = sorted(self._shops, key=lambda k: self._shops[k].seen)
            for key in by_age[:len(self._shops) - self.max_shops]:
                del self._shops[key]

    def count(self) -> int:
        """How many shops are remembered."""
        with self._lock:
            return len(self._shops)

    def shops(self) -> list[ShopRow]:
        """The latest row of every shop remembered, worst first."""
        with self._lock:
            return worst_first(shop.row for shop in self._shops.values())

    def line(self, name: str) -> tuple[FloatArray, FloatArray]:
        """A shop's line (:func:`line_name`): times and values, oldest first; empty arrays
        for a line not known."""
        column = {m: i + 1 for i, (m, _f) in enumerate(FIGURES)}
        with self._lock:
            for shop in self._shops.values():
                for metric, index in column.items():
                    if line_name(shop.row, metric) == name:
                        points = np.array(shop.points, dtype=float).reshape(-1, len(FIGURES) + 1)
                        return points[:, 0].copy(), points[:, index].copy()
        return np.empty(0), np.empty(0)

    def span(self) -> tuple[float, float] | None:
        """The oldest and the newest reading remembered (None before the first read)."""
        with self._lock:
            times = [t for shop in self._shops.values() if shop.points
                     for t in (shop.points[0][0], shop.points[-1][0])]
        return (min(times), max(times)) if times else None


def _value(figure: float | None) -> float:
    return math.nan if figure is None else float(figure)
