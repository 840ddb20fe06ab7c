"""The usual request rate of each source, read from the console's history (memory or disk)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from console import metrics
from console.alert_rules import BUSIER_BASELINE_S, RuleSpec, usual_value
from console.domain import Reading, series_name, split_series
from console.profile import Profile
from console.series_window import SeriesWindow
from services.monitoring.history_reader import HistoryReader

log = logging.getLogger(__name__)

#: How long a read of a history file another console writes may wait for its lock.
READ_TIMEOUT_S = 5.0

WindowRead = Callable[[str, float, float], SeriesWindow]


def usual_window_s(profile: Profile, source: str) -> float:
    """The baseline of the profile's relative rule on ``source``'s request rate ("Busier than
    usual"); the default rule's (15 min) where the profile has none."""
    for rule in profile.alerts:
        spec = RuleSpec.from_rule(rule)
        if (spec.relative and spec.metric == metrics.REQUEST_RATE
                and spec.direction == "above" and spec.source in ("", source)):
            return spec.baseline_s
    return BUSIER_BASELINE_S


def usual_request_rates(profile: Profile, names: Iterable[str], read: WindowRead,
                        now: float | None = None) -> list[Reading]:
    """``source/request_rate_usual`` (labels kept) for each request-rate series in ``names``
    that a history holds enough of: the median over the rule's baseline, judged as the
    alerts judge it (:func:`console.alert_rules.usual_value`: too short a history is none)."""
    now = time.time() if now is None else now
    sources = {s.name for s in profile.sources}
    out = []
    for name in names:
        source, metric, labels = split_series(name)
        if metric != metrics.REQUEST_RATE or source not in sources:
            continue
        span = usual_window_s(profile, source)
        window = read(name, now - span, now)
        usual = usual_value(window.ts.tolist(), window.value.tolist(), span)
        if usual is not None:
            out.append(Reading(series_name(source, metrics.REQUEST_RATE_USUAL, labels or None),
                               now, usual))
    return out


class HistoryFile(HistoryReader):
    """A history file the console writes while it runs, read by another process (diagnose)
    without writing to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._engine: Any = None

    @property
    def engine(self) -> Any:
        if self._engine is None:
            import sqlalchemy as sa

            self._engine = sa.create_engine(f"sqlite:///{self.path}",
                                            connect_args={"timeout": READ_TIMEOUT_S})
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def history_usual(profile: Profile, path: Path, now: float | None = None) -> list[Reading]:
    """The usual request rates a console's history file holds (none when there is no file,
    it holds too little of the last minutes, or it cannot be read)."""
    if not path.is_file():
        return []
    history = HistoryFile(path)
    try:
        return usual_request_rates(profile, history.series_names(), history.series_window, now)
    except Exception as err:  # another build's file, a locked or damaged one: no usual
        log.warning("cannot read the usual traffic from %s: %s", path, err)
        return []
    finally:
        history.close()
