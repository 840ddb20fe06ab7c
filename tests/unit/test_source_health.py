"""The one overall health summary of the sources, as the status light shows it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from console.domain import SourceState, summarise_sources
from services.monitoring.poller import SourceStatus

UP, DOWN, STALE, UNKNOWN = SourceState.UP, SourceState.DOWN, SourceState.STALE, SourceState.UNKNOWN


@dataclass(frozen=True)
class Named:
    name: str
    state: SourceState


@pytest.mark.parametrize(("states", "expected"), [
    ({}, ("unknown", "No live sources in this profile")),
    ({"web": UNKNOWN, "cache": UP}, ("unknown", "Waiting for the first readings")),
    ({"web": UP, "cache": UP}, ("ok", "All normal")),
    ({"web": UP, "cache": STALE, "broker": STALE}, ("warn", "No fresh data from cache, broker")),
    ({"web": STALE, "cache": DOWN, "broker": DOWN}, ("fail", "cache, broker down")),
    ({"web": DOWN, "cache": UNKNOWN}, ("fail", "web down")),
])
def test_down_beats_stale_beats_waiting_beats_all_normal(
        states: dict[str, SourceState], expected: tuple[str, str]) -> None:
    assert summarise_sources(Named(n, s) for n, s in states.items()) == expected


def test_reads_the_pollers_own_statuses() -> None:
    statuses = [SourceStatus("shop", "http", DOWN, None, "refused", None, 0.0),
                SourceStatus("cache", "redis", UP, 1000.0, "", 0.002, 0.0)]
    assert summarise_sources(statuses) == ("fail", "shop down")
