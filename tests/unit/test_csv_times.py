"""Every CSV the console writes gives times as ISO 8601 with an offset, never epoch seconds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from console.domain import Reading, iso_time
from services.diagnostics.bundle import metrics_csv


def test_the_support_bundles_metrics_csv_has_iso_times_with_an_offset() -> None:
    ts = datetime(2026, 11, 25, 19, 30, 5, 250_000, tzinfo=UTC).timestamp()
    text = metrics_csv(readings=[Reading("shop/latency_p95", ts, 0.25)], now=ts + 1)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["series", "ts", "value"],
                    ["shop/latency_p95", "2026-11-25T19:30:05.250Z", "0.25"]]
    assert datetime.fromisoformat(rows[1][1]).timestamp() == ts


def test_iso_time_is_what_the_dashboard_csv_writes() -> None:
    assert iso_time(0.0) == "1970-01-01T00:00:00.000Z"
