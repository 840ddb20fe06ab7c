"""The console's own cost as a source: the poller's requests, bytes and CPU as series."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from console.domain import CollectorReport, Status
from console.own_cost import OWN_SOURCE, PollCost

if TYPE_CHECKING:
    from services.collectors.base import Collector

#: How often the own series get a point, each the mean over the trailing OWN_COST_SPAN_S.
OWN_COST_INTERVAL_S = 5.0
OWN_COST_SPAN_S = 60.0


class OwnCostCollector:
    """Reads the poller's :class:`PollCost` every interval: requests/s, bytes/s and share of
    poll time per source, and the process's CPU %, as ``backroom/...`` series that chart and
    are kept in the history like any source's. Asks nothing of the shop."""

    kind = "console"

    def __init__(self, cost: PollCost, *, interval_s: float = OWN_COST_INTERVAL_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = OWN_SOURCE
        self.interval_s = interval_s
        self.timeout_s = 1.0
        self._cost = cost
        self._clock = clock

    def collect(self) -> CollectorReport:
        window = self._cost.window(OWN_COST_SPAN_S)
        detail = (f"{window.requests_per_s:.2f} requests/s, "
                  f"{window.bytes_per_s / 1024:.1f} KiB/s to the shop; "
                  f"CPU {window.cpu_percent:.1f} %")
        return CollectorReport(readings=tuple(window.readings(self._clock())), detail=detail,
                               status=Status.OK)

    def close(self) -> None:
        return None


def with_own_cost(collectors: list[Collector]) -> tuple[list[Collector], PollCost]:
    """The collectors to poll (the profile's, then the own series' unless a source of the
    profile already has its name) and the cost tally the poller adds to."""
    cost = PollCost()
    if not collectors or any(c.name == OWN_SOURCE for c in collectors):
        return list(collectors), cost
    return [*collectors, OwnCostCollector(cost)], cost
