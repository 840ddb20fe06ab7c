"""Live scenario switches of the demo (cache, index, workers, slowness, traffic, errors) and
their log."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_EVENTS = 500
MAX_WORKERS = 16
MAX_SLOW_MS = 10_000
MAX_TRAFFIC_RATE = 200.0


@dataclass(slots=True)
class Scenario:
    """The switches as ``GET /admin/scenario`` shows them."""

    cache: bool = True
    booking_time_index: bool = True
    workers: int = 2
    slow_endpoint: str | None = None
    slow_ms: int = 0
    traffic_rate: float = 5.0
    #: Share (0..1) of API requests the back end answers 503, as a failing dependency would.
    error_ratio: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_scenario(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes, errors) from a ``POST /admin/scenario`` body; unknown keys are errors."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    fields = Scenario.__dataclass_fields__
    for key, value in body.items():
        if key not in fields:
            errors[key] = "unknown switch"
        elif key in ("cache", "booking_time_index"):
            if isinstance(value, bool):
                changes[key] = value
            else:
                errors[key] = "must be true or false"
        elif key in ("workers", "slow_ms"):
            top = MAX_WORKERS if key == "workers" else MAX_SLOW_MS
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= top:
                changes[key] = value
            else:
                errors[key] = f"must be an integer from 0 to {top}"
        elif key == "slow_endpoint":
            if value is None or (isinstance(value, str) and len(value) <= 200):
                changes[key] = value or None
            else:
                errors[key] = "must be an endpoint such as /api/availability, '*' or null"
        elif key == "error_ratio":
            if (isinstance(value, int | float) and not isinstance(value, bool)
                    and 0 <= value <= 1):
                changes[key] = float(value)
            else:
                errors[key] = "must be a share from 0 to 1"
        elif key == "traffic_rate":
            if (isinstance(value, int | float) and not isinstance(value, bool)
                    and 0 <= value <= MAX_TRAFFIC_RATE):
                changes[key] = float(value)
            else:
                errors[key] = f"must be a number from 0 to {MAX_TRAFFIC_RATE:g}"
    return changes, errors


class EventLog:
    """What changed and when (UTC epoch seconds), newest last, bounded."""

    def __init__(self) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
        self._lock = threading.Lock()

    def add(self, what: str) -> None:
        with self._lock:
            self._items.append({"ts": time.time(), "what": what})

    def since(self, ts: float | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._items if ts is None or e["ts"] > ts]
