"""How each kind of metric is shown: unit on the axis, scale from stored units, number format."""

from __future__ import annotations

import math
from dataclasses import dataclass

from console import metrics as m


@dataclass(frozen=True, slots=True)
class Unit:
    """A display unit: ``scale`` turns stored values (seconds, ratios) into it."""

    label: str
    scale: float = 1.0
    decimals: int | None = None  # None: as many as the size of the number needs
    suffix: str = ""  # put after a number in text ("212 ms"); defaults to " label"

    def format(self, value: float | None, with_unit: bool = True) -> str:
        """A stored value as a person reads it: '212 ms', '91.5 %', '1,204 msgs'."""
        if value is None or not math.isfinite(value):
            return "–"
        shown = value * self.scale
        text = format_number(shown, self.decimals)
        if not with_unit:
            return text
        return f"{text}{self.suffix or ' ' + self.label}"


def format_number(value: float, decimals: int | None = None) -> str:
    """Thousands separators; decimals by size unless fixed (1,204, 67, 4.2, 0.42, 0.042)."""
    if decimals is None:
        size = abs(value)
        if size >= 10 or value == int(value):
            decimals = 0
        elif size >= 1:
            decimals = 1
        elif size >= 0.1:
            decimals = 2
        else:
            decimals = 3
    return f"{value:,.{decimals}f}"


MS = Unit("ms", 1000.0)
PERCENT = Unit("%", 100.0, 1, " %")
MSGS = Unit("msgs", 1.0, 0)
REQ_S = Unit("req/s", 1.0)
SCANS_S = Unit("scans/s", 1.0)
PER_MIN = Unit("/min", 1.0, None, " /min")
BYTES_MB = Unit("MB", 1e-6)
COUNT = Unit("", 1.0, None, "")
SECONDS = Unit("s", 1.0)


def unit_for(metric: str) -> Unit:
    """The display unit of a standard metric name."""
    if metric in m.SECONDS_METRICS:
        return MS
    if metric in m.RATIO_METRICS:
        return PERCENT
    if metric in (m.QUEUE_DEPTH, m.QUEUE_READY, m.QUEUE_UNACKED):
        return MSGS
    if metric in (m.REQUEST_RATE, m.ERROR_RATE):
        return REQ_S
    if metric in (m.BOOKINGS_RATE, m.ORDERS_RATE):
        return PER_MIN
    if metric == m.FULL_SCANS_RATE:
        return SCANS_S
    if metric in (m.MEMORY_BYTES, m.DB_SIZE_BYTES, m.DB_WAL_BYTES):
        return BYTES_MB
    if metric == "scrape_seconds":
        return MS
    return COUNT
