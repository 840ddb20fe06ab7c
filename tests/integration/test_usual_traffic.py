"""diagnose and the sweep read a source's usual traffic from the console's history (its file
on disk, or the live store), and judge no rise without one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from console.domain import Reading
from console.store import MetricStore
from services.diagnostics.sweep import live_figures
from services.diagnostics.usual import history_usual
from services.local.profiles import demo_profile
from services.monitoring.history_writer import History

pytestmark = pytest.mark.integration


def calm(now: float, seconds: int) -> list[Reading]:
    """``seconds`` of the demo's request rate before ``now``, polled every 5 s: ~6.9/s."""
    return [Reading("shop/request_rate", now - seconds + t, 6.9 + (t % 3) * 0.1)
            for t in range(0, seconds, 5)]


def test_diagnose_reads_the_usual_from_a_running_consoles_history_file(tmp_path: Path) -> None:
    profile = demo_profile("http://127.0.0.1:9", "t", tmp_path / "shop.sqlite")
    now = time.time()
    path = tmp_path / "history-demo-shop.sqlite"
    assert history_usual(profile, path, now) == []  # no console ran here: no history
    history = History(path)
    history.start()
    try:
        history.record(calm(now, 120))  # two minutes are no usual of 15
        assert history.flush()
        assert history_usual(profile, path, now) == []
        history.record(calm(now - 120, 240))  # six minutes in all: judged
        assert history.flush()
        usual = history_usual(profile, path, now)  # while the console still writes
    finally:
        history.stop()
    assert [(r.series, round(r.value, 1)) for r in usual] == [("shop/request_rate_usual", 7.0)]


def test_the_sweep_reads_the_usual_from_the_live_store(tmp_path: Path) -> None:
    profile = demo_profile("http://127.0.0.1:9", "t", tmp_path / "shop.sqlite")
    now = time.time()
    store = MetricStore()
    store.append(calm(now, 60))
    assert not [r for r in live_figures(store, profile, now)
                if r.series == "shop/request_rate_usual"]
    store.append(calm(now - 60, 300))
    usual = [r for r in live_figures(store, profile, now)
             if r.series == "shop/request_rate_usual"]
    assert [round(r.value, 1) for r in usual] == [7.0]
