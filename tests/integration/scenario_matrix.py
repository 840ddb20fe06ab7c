"""The scenario matrix: each demo switch on one real demo shop, and what the console concludes.

For every switch it measures how long the "what moved first" headline takes to name the
switched metric (with its lead time), how long the status light takes to name the switch (its
rule, pending or firing, or its own words: failing requests), and what ``diagnose --window
30`` puts first, reading the usual traffic from the console's history file as the command
does. Run it as a script to print the matrix:
``python -m tests.integration.scenario_matrix``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from console import metrics
from console.alert_rules import BUSIER_BASELINE_S, min_history_s
from console.correlate import explain, rank_movers
from console.domain import split_series
from console.store import MetricStore
from services.bootstrap import HISTORY_FLUSH_S
from services.collectors import build_collectors
from services.diagnostics.diagnose import run_diagnose
from services.diagnostics.query_plans import with_query_plans
from services.diagnostics.usual import history_usual
from services.local.profiles import demo_profile
from services.monitoring.alerting import AlertService
from services.monitoring.history_writer import History
from services.monitoring.poller import Poller
from ui.pages.dashboard import route
from ui.widgets.demo_panel import DEFAULT_SLOW_MS

#: Poll every source this often (the demo profile polls every 5 s; faster keeps the run short).
INTERVAL_S = 2.0
#: How long the headline and the status light get after a switch.
WITHIN_S = 60.0
#: Calm time on a fresh shop before its switch (the headline's baseline).
SETTLE_S = 20.0
#: The headline's window: from just before the switch to now, against the calm before it.
LEAD_IN_S = 4.0
BASELINE_S = SETTLE_S - LEAD_IN_S
#: The console's history file in each shop's folder.
HISTORY_FILE = "history.sqlite"
#: Calm time before a switch judged against the usual ("Busier than usual", and diagnose's
#: traffic): the least history a usual of the demo's rule needs, a flush of the history file
#: and a few polls.
USUAL_SETTLE_S = min_history_s(BUSIER_BASELINE_S) + HISTORY_FLUSH_S + 5 * INTERVAL_S


@dataclass(frozen=True, slots=True)
class Switch:
    """One demo switch: what to set, how to undo it, and what should be named."""

    name: str
    on: dict[str, Any]
    off: dict[str, Any]
    metrics: tuple[str, ...]  # the switched metric (any of these names it)
    direction: str  # how it moved: 'rose' or 'fell'
    rule: str  # the demo profile's rule that should light up
    finding: tuple[str, ...]  # advisor rules that name the cause
    sources: tuple[str, ...] = ()  # where the switched metric shows (empty: anywhere)
    #: Other words of the status light that name the switch (besides its rule's name).
    light: tuple[str, ...] = ()
    seed_scale: float | None = None  # the shop's size for this switch, if not the matrix's
    labels: tuple[tuple[str, str], ...] = ()  # the switched series' labels (empty: any)
    settle_s: float = SETTLE_S  # calm before the switch (a relative rule needs its usual)

    def named_by_light(self, words: str) -> bool:
        """The light's words name this switch: its rule, pending or firing, or its own words."""
        return any(w in words for w in (self.rule, *self.light))


SWITCHES: tuple[Switch, ...] = (
    Switch("cache off", {"cache": False}, {"cache": True}, (metrics.CACHE_HIT_RATE,), "fell",
           "Cache hit rate low", ("cache-hit-rate",)),
    Switch("index dropped", {"booking_time_index": False}, {"booking_time_index": True},
           (metrics.FULL_SCANS_RATE,), "rose", "Tables read whole",
           ("missing-index", "table-seq-scans", "full-scans"), ("shop",), seed_scale=0.3,
           labels=(("table", "bookings"),)),
    Switch("workers 0", {"workers": 0}, {"workers": 2},
           (metrics.QUEUE_DEPTH,), "rose", "Queue backing up",
           ("queue-no-consumers", "queue-growing")),
    Switch("slow endpoint", {"slow_endpoint": "/api/availability", "slow_ms": DEFAULT_SLOW_MS},
           {"slow_endpoint": None, "slow_ms": 0},
           (metrics.LATENCY_P50, metrics.LATENCY_P95, metrics.LATENCY_P99), "rose",
           "Slow responses", ("latency-p95",), ("availability",)),
    Switch("traffic x5", {"traffic_rate": 25.0}, {"traffic_rate": 5.0},
           (metrics.REQUEST_RATE,), "rose", "Busier than usual", ("traffic-high",),
           settle_s=USUAL_SETTLE_S),
    Switch("back-end errors", {"error_ratio": 0.2}, {"error_ratio": 0.0},
           (metrics.ERROR_RATIO, metrics.ERROR_RATE), "rose", "Requests failing",
           ("error-ratio",), light=("of requests fail",)),
)


@dataclass(frozen=True, slots=True)
class Row:
    """What the console concluded after one switch (seconds after the switch, None: never)."""

    switch: str
    headline: str
    to_headline_s: float | None
    status: str
    to_status_s: float | None
    top_finding: str
    finding_named: bool


def _human(series: str) -> str:
    r = route(series)
    return r.human if r is not None else series


def _group(series: str) -> str:
    r = route(series)
    return r.colour_key if r is not None else series


def headline(store: MetricStore, start: float, end: float,
             baseline_s: float = BASELINE_S) -> tuple[str, str | None]:
    """The dashboard's sentence for the window [start, end) over the series it charts (the
    same ranking, names and grouping) against the ``baseline_s`` before it, and the series
    it names first."""
    span = baseline_s
    data = {}
    for name in store.series_names():
        if route(name) is None:
            continue
        w = store.window(name, start - span, end)
        keep = np.isfinite(w.value)
        if keep.sum():
            data[name] = (w.ts[keep], w.value[keep])
    movers = rank_movers(data, start, end, baseline_s=baseline_s)
    sentence = explain(movers, _human, group=_group)
    found = [(sentence.find(_human(m.series)), m.series) for m in movers
             if _human(m.series) in sentence]
    return sentence, (min(found)[1] if found else None)


def names_the_switch(sentence: str, named: str, switch: Switch) -> bool:
    """The sentence starts from the switched metric, moving the right way, and says how much
    earlier it moved than the rest, that the rest moved within a poll of it (no earlier to
    tell), or that nothing else moved."""
    source, metric, labels = split_series(named)
    if metric not in switch.metrics or (switch.sources and source not in switch.sources):
        return False
    if any(labels.get(k) != v for k, v in switch.labels):
        return False
    if not sentence.startswith(f"{_human(named)} {switch.direction}"):
        return False
    return any(words in sentence for words in (" before ", " of it.",
                                               "nothing else moved"))


@contextmanager
def demo_console(tmp: Path, traffic_rate: float = 5.0, seed_scale: float = 0.3
                 ) -> Iterator[tuple[Any, Any, MetricStore, AlertService]]:
    """A real demo shop with customers, polled as the console polls it, with its rules and
    its history file (``tmp/history.sqlite``, written as the console writes it); seed 0.3
    holds enough bookings for a dropped index to show in the query plans. Its customers
    keep a steady pace: the demo's compressed day would bring the lunch rush (4x the morning's
    traffic) 30 s into each row, a traffic switch of its own."""
    from demo import DemoShop

    tmp.mkdir(parents=True, exist_ok=True)
    shop = DemoShop(tmp / "shop.sqlite", port=0, traffic=True, traffic_rate=traffic_rate,
                    seed_scale=seed_scale, rush=False)
    shop.start()
    profile = demo_profile(shop.base_url, shop.token, shop.db_path)
    profile = dataclasses.replace(
        profile,
        probes=tuple(dataclasses.replace(p, interval_s=INTERVAL_S) for p in profile.probes),
        sources=tuple(dataclasses.replace(s, interval_s=INTERVAL_S) for s in profile.sources))
    store = MetricStore()
    history = History(tmp / HISTORY_FILE, flush_interval_s=HISTORY_FLUSH_S)
    poller = Poller(build_collectors(profile), store, history)
    alerts = AlertService.from_profile(profile, store, poller, interval_s=1.0)
    history.start()
    poller.start()
    alerts.start()
    try:
        yield shop, profile, store, alerts
    finally:
        alerts.stop()
        poller.stop()
        history.stop()
        shop.stop()


def run_switch(shop: Any, profile: Any, store: MetricStore, alerts: AlertService,
               switch: Switch, *, diagnose_window_s: float = 30.0,
               history: Path | None = None) -> Row:
    """Flip one switch, watch the headline and the light, diagnose alongside (the usual
    traffic read from the console's ``history`` file, as ``backroom diagnose`` reads it),
    then undo it."""
    diagnosed: dict[str, Any] = {}

    def diagnose() -> None:
        usual = history_usual(profile, history) if history is not None else []
        diagnosed["result"] = with_query_plans(
            run_diagnose(profile, samples=3, window_s=diagnose_window_s, recent=usual),
            profile)

    t0 = time.time()
    shop.set_scenario(**switch.on)
    worker = threading.Thread(target=diagnose, name="matrix-diagnose")
    worker.start()
    to_headline = to_status = None
    sentence = status_words = ""
    while time.time() - t0 < WITHIN_S and (to_headline is None or to_status is None):
        time.sleep(0.5)
        now = time.time()
        if to_headline is None and now - t0 >= 3 * INTERVAL_S:
            sentence, named = headline(store, t0 - LEAD_IN_S, now)
            if named is not None and names_the_switch(sentence, named, switch):
                to_headline = now - t0
        if to_status is None:
            _state, words = alerts.health_summary()
            status_words = words
            if switch.named_by_light(words):
                to_status = now - t0
    worker.join(diagnose_window_s + 60)
    result = diagnosed.get("result")
    top = result.findings[0] if result is not None and result.findings else None
    shop.set_scenario(**switch.off)
    return Row(switch.name, sentence, to_headline, status_words, to_status,
               f"{top.title}: {top.evidence}" if top is not None else "(no finding)",
               top is not None and top.rule in switch.finding)


def run_matrix(tmp: Path, switches: tuple[Switch, ...] = SWITCHES,
               seed_scale: float = 0.3) -> tuple[list[Row], float]:
    """Every switch in turn, each on a fresh demo shop after a calm start (an alert still
    firing from the switch before would hide the next one's pending rule on the light); the
    rows and the wall time."""
    started = time.monotonic()
    rows = []
    for n, switch in enumerate(switches):
        size = switch.seed_scale or seed_scale
        folder = tmp / f"shop-{n}"
        with demo_console(folder, seed_scale=size) as (shop, profile, store, alerts):
            time.sleep(switch.settle_s)  # the calm the headline (and a usual) compares with
            rows.append(run_switch(shop, profile, store, alerts, switch,
                                   history=folder / HISTORY_FILE))
    return rows, time.monotonic() - started


def as_markdown(rows: list[Row]) -> str:
    def secs(value: float | None) -> str:
        return "never" if value is None else f"{value:.0f} s"

    lines = ["| switch | headline | to headline | status light | to status | diagnose top "
             "finding |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.switch} | {r.headline} | {secs(r.to_headline_s)} | {r.status} | "
                     f"{secs(r.to_status_s)} | {r.top_finding}"
                     f"{'' if r.finding_named else ' (not the cause)'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    import tempfile

    names = set(sys.argv[1:])
    chosen = tuple(s for s in SWITCHES if not names or s.name in names)
    with tempfile.TemporaryDirectory() as folder:
        found, took = run_matrix(Path(folder), chosen)
    print(as_markdown(found))
    print(f"\nwall time {took:.0f} s")
