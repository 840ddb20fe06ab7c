"""At most so many series per metric of one source; the rest folded into one ``other`` series."""

from __future__ import annotations

from collections.abc import Iterable

from console import metrics
from console.domain import Reading, series_name, split_series

#: Label sets kept per metric of one source (the profile's ``max_series``).
DEFAULT_MAX_SERIES = 1000
#: The labels of the series the rest is folded into (a label no collector writes).
OTHER_LABELS = {"series": "other"}


def _fold(metric: str, values: list[float]) -> float:
    """One figure for many: the worst latency, the mean ratio, else the sum (queue depths,
    rates, counts add up)."""
    if metric in metrics.SECONDS_METRICS:
        return max(values)
    if metric in metrics.RATIO_METRICS:
        return sum(values) / len(values)
    return sum(values)


class SeriesLimit:
    """Keeps the first ``max_series`` label sets of each metric a source reports; readings of
    any other label set are folded into ``source/metric{series="other"}``, so a page with
    100,000 queues makes 1,001 series, not 100,000. Not thread-safe: one per source, used
    by the thread that polls it."""

    def __init__(self, max_series: int = DEFAULT_MAX_SERIES) -> None:
        if max_series < 1:
            raise ValueError("max_series must be at least 1")
        self.max_series = max_series
        self._kept: dict[str, set[str]] = {}  # name up to the labels -> series names kept
        self._other: dict[str, tuple[str, str]] = {}  # the same -> (other's name, metric)
        self.folded: dict[str, int] = {}  # metric -> label sets folded in the last call

    def apply(self, readings: Iterable[Reading],
              folded_before: Iterable[tuple[str, int]] = ()) -> list[Reading]:
        """The readings to store: kept ones as they are, the rest folded per metric and time.
        ``folded_before``: (metric, label sets) the collector already summed into its
        ``{series="other"}`` reading (a page's queues past the cap, never made readings); that
        reading is folded as their sum, not counted as one more."""
        out: list[Reading] = []
        folds: dict[tuple[str, float], list[float]] = {}
        before = dict(folded_before)
        own: dict[str, int] = {}  # the collector's own 'other' readings folded, per family
        for reading in readings:
            family = _family(reading.series)
            kept = self._kept.get(family)
            if kept is None:
                kept = self._kept[family] = set()
            if reading.series in kept or len(kept) < self.max_series:
                kept.add(reading.series)
                out.append(reading)
            else:
                folds.setdefault((family, reading.ts), []).append(reading.value)
                if reading.series == self._other_of(family)[0]:
                    own[family] = own.get(family, 0) + 1
        folded: dict[str, int] = {}
        for (family, ts), values in folds.items():
            name, metric = self._other_of(family)
            out.append(Reading(name, ts, _fold(metric, values)))
            # the collector's own 'other' holds label sets it counted itself
            folded[metric] = folded.get(metric, 0) + len(values) - own.pop(family, 0)
        for metric, count in before.items():
            folded[metric] = folded.get(metric, 0) + count
        self.folded = {metric: count for metric, count in folded.items() if count > 0}
        return out

    def _other_of(self, family: str) -> tuple[str, str]:
        """The series the rest of ``family`` is folded into, and its metric."""
        other = self._other.get(family)
        if other is None:
            source, metric, _labels = split_series(family)
            other = self._other[family] = (series_name(source, metric, OTHER_LABELS), metric)
        return other

    def warning(self) -> str:
        """What the last call folded, in words; "" when nothing was."""
        if not self.folded:
            return ""
        parts = [f"{count:,} {metric}" for metric, count in sorted(self.folded.items())]
        return (f"{', '.join(parts[:3])}{' and more' if len(parts) > 3 else ''} series folded "
                f"into 'other' (past max_series = {self.max_series:,} per metric; raise it in "
                "the profile to keep more)")


def _family(name: str) -> str:
    """The name up to its labels: one key per source and metric (series_name's escaping
    puts no unescaped brace before the labels, and a source's names share the prefix)."""
    if "\\" in name:
        source, metric, _labels = split_series(name)
        return series_name(source, metric)
    brace = name.find("{")
    return name if brace < 0 else name[:brace]
