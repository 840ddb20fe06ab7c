"""Readings by metric, bucket bounds and a record of every comparison (for docs/metrics.md)."""

from __future__ import annotations

import bisect
import json
import os
import threading
import time
from pathlib import Path

from console.domain import CollectorReport, split_series

_lock = threading.Lock()
#: Where each comparison of the run is appended (one JSON object a line).
FIGURES = Path(os.environ.get("BACKROOM_CONFORMANCE_FIGURES", "/tmp/backroom-conformance.jsonl"))


def values(report: CollectorReport, source: str | None = None) -> dict[str, float]:
    """Latest reading per ``metric{labels}`` (labels as series names write them)."""
    out: dict[str, float] = {}
    for reading in report.readings:
        name, metric, labels = split_series(reading.series)
        if source is not None and name != source:
            continue
        key = metric + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
                        if labels else "")
        out[key] = reading.value
    return out


class ReadClock:
    """A monotonic clock for a collector that remembers what it told it: the window a
    rate was taken over, so the truth's count is divided by the same seconds."""

    def __init__(self) -> None:
        self.told: list[float] = []

    def __call__(self) -> float:
        self.told.append(time.monotonic())
        return self.told[-1]

    @property
    def window_s(self) -> float:
        return self.told[-1] - self.told[-2]


def bucket_of(value: float, bounds: list[float]) -> tuple[float, float]:
    """The histogram bucket (lower, upper] that holds ``value``."""
    index = bisect.bisect_left(bounds, value)
    lower = bounds[index - 1] if index > 0 else 0.0
    upper = bounds[index] if index < len(bounds) else float("inf")
    return lower, upper


def close_quantile(got: float, truth: float, bounds: list[float]) -> bool:
    """Within 10 % of PromQL's quantile, or interpolated within the same bucket."""
    return abs(got - truth) <= 0.1 * truth or bucket_of(got, bounds) == bucket_of(truth, bounds)


def record(library: str, figure: str, backroom: float | None, truth: float,
           source_of_truth: str) -> None:
    """Append one comparison to the run's figures file."""
    line = json.dumps({"library": library, "figure": figure, "backroom": backroom,
                       "truth": truth, "truth_from": source_of_truth})
    with _lock, FIGURES.open("a") as out:
        out.write(line + "\n")
