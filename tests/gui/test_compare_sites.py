"""Compare sites: 2 to 8 of a chain's 20 sites on one chart, and which of them moved first."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from console import metrics
from console.domain import SourceState, series_name
from console.profile import Profile, Source
from console.store import MetricStore
from tests.gui.test_dashboard import FakePoller, Services, fill, settled, status
from tests.support.shots import save_shot
from ui.pages.dashboard.compare import CompareSites

pytestmark = pytest.mark.gui

SITES = [f"site-{n}" for n in range(1, 21)]


def twenty_sites(now: float) -> MetricStore:
    """20 sites at 60-120 ms; site-7 jumps to 600 ms at now-200, site-12 to 450 ms 30 s
    later. Cache hit rates 80-95 %, site-15's the lowest."""
    store = MetricStore()
    rng = np.random.default_rng(7)
    start = now - 900

    def level(base: float, jump: float | None, at: float) -> Callable[[np.ndarray],
                                                                      np.ndarray]:
        return lambda ts: np.where(ts < at, base, jump if jump is not None else base) \
            + rng.normal(0, 0.0005, ts.size)

    for n, site in enumerate(SITES, start=1):
        base = 0.060 + 0.003 * n
        jump = {"site-7": 0.600, "site-12": 0.450}.get(site)
        at = now - 200 if site == "site-7" else now - 170
        fill(store, series_name("chain", metrics.LATENCY_P95, {"site": site}), start, now,
             level(base, jump, at))
        hit = 0.60 if site == "site-15" else 0.80 + 0.007 * n
        fill(store, series_name("chain", metrics.CACHE_HIT_RATE, {"site": site}), start,
             now, lambda ts, h=hit: np.full(ts.size, h))
    fill(store, "chain/latency_p95", start, now, lambda ts: np.full(ts.size, 0.150))
    return store


@pytest.fixture
def compare(make_page, qtbot) -> CompareSites:
    now = time.time()
    profile = Profile(name="Chain", sources=(
        Source("chain", "prometheus-server", "http://prometheus:9090", group_by=("site",)),))
    poller = FakePoller([status("chain", SourceState.UP, last_ok=now,
                                kind="prometheus-server")])
    page = make_page(Services(profile, twenty_sites(now), poller))
    page.set_range(900)
    settled(qtbot, page, page.compare_button.isVisible)
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    dialog = page.compare
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.sites.count() == 21, timeout=5000)
    return dialog


def listed(dialog: CompareSites) -> list[str]:
    return [item.text() for item in dialog.items()]


def test_sites_are_listed_worst_first_with_their_figure(compare: CompareSites) -> None:
    chain, first, second = listed(compare)[:3]
    assert chain == "chain (all sites) · 150 ms"  # the whole chain on top, to read against
    assert re.fullmatch(r"site-7 · (599|600|601) ms", first)
    assert re.fullmatch(r"site-12 · (449|450|451) ms", second)
    assert listed(compare)[-1].startswith("site-1 · ")
    assert compare.hint.text() == "Pick 2 to 8 sites."


def test_picked_sites_share_one_chart_and_the_first_to_move_is_named(compare, qtbot) -> None:
    now = time.time()
    with qtbot.waitSignal(compare.sig_drawn, check_params_cb=lambda n: n == 3, timeout=5000):
        compare.pick(["site-3", "site-12", "site-7"])
    panel = compare.panel
    shown = sorted(c.style.label for c in panel.curves.values() if c.style.visible)
    assert shown == ["site-12", "site-3", "site-7"]
    assert panel.spec.unit.label == "ms"
    start, end = compare.timeline.x_range()
    assert (start, end) == pytest.approx(compare.page.view_range(), abs=5)
    assert all(c.points_drawn > 100 for c in panel.curves.values() if c.style.visible)
    compare.timeline.refresh_readouts(now - 10)
    shown_value = re.search(r"site-7 (\d+)", panel.readout_text())
    assert shown_value is not None and int(shown_value.group(1)) == pytest.approx(600, abs=5)
    with qtbot.waitSignal(compare.sig_ranked, timeout=5000) as ranked:
        compare.show_window(now - 260, now - 100)
    movers = ranked.args[0]
    assert {m.series for m in movers[:2]} == {
        series_name("chain", metrics.LATENCY_P95, {"site": s}) for s in ("site-7", "site-12")}
    assert compare.moved.headline.text() == (
        "site-7 p95 latency rose 30 s before site-12 p95 latency rose.")


def test_at_most_eight_and_the_worst_eight_in_one_click(compare, qtbot) -> None:
    with qtbot.waitSignal(compare.sig_drawn, check_params_cb=lambda n: n == 8, timeout=5000):
        compare.worst_button.click()
    items = compare.items()
    assert [i.checkState() == Qt.CheckState.Checked for i in items].count(True) == 8
    assert items[0].checkState() == Qt.CheckState.Unchecked  # the chain's whole is no site
    assert not items[9].flags() & Qt.ItemFlag.ItemIsEnabled  # a ninth cannot be picked
    assert compare.hint.text() == "8 sites picked: the most one chart compares."
    save_shot(compare, "compare-sites.png")
    compare.clear_button.click()
    assert compare.hint.text() == "Pick 2 to 8 sites."
    assert all(i.flags() & Qt.ItemFlag.ItemIsEnabled for i in items)


def test_another_figure_lists_its_own_worst_and_draws_in_its_unit(compare, qtbot) -> None:
    compare.figure.setCurrentIndex(compare.figure.findText("cache hit rate"))
    qtbot.waitUntil(lambda: listed(compare)[0] == "site-15 · 60.0 %", timeout=5000)
    assert len(listed(compare)) == 20  # no whole-chain hit rate in this store
    with qtbot.waitSignal(compare.sig_drawn, check_params_cb=lambda n: n == 2, timeout=5000):
        compare.pick(["site-15", "site-2"])
    assert compare.panel.spec.unit.label == "%"
    assert compare.panel.spec.title == "cache hit rate by site"


def test_a_profile_without_sites_has_no_compare_button(make_page, qtbot) -> None:
    now = time.time()
    store = twenty_sites(now)
    page = make_page(Services(Profile(name="One shop", sources=(
        Source("chain", "prometheus-server", "http://prometheus:9090"),)), store))
    settled(qtbot, page, page.timeline.shown_panels)
    assert not page.compare_button.isVisible()


def test_a_shop_per_source_compares_its_sources(make_page, qtbot) -> None:
    """Three restaurants, each its own /metrics source (no Prometheus server)."""
    now = time.time()
    store = MetricStore()
    for n, name in enumerate(("north", "south", "harbour")):
        fill(store, f"{name}/latency_p95", now - 300, now,
             lambda ts, n=n: np.full(ts.size, 0.05 * (n + 1)))
    sources = tuple(Source(name, "prometheus", f"http://{name}:8000/metrics")
                    for name in ("north", "south", "harbour"))
    page = make_page(Services(Profile(name="Three", sources=sources), store))
    settled(qtbot, page, page.compare_button.isVisible)
    dialog = page.open_compare()
    qtbot.waitUntil(lambda: len(listed(dialog)) == 3, timeout=5000)
    assert listed(dialog) == ["harbour · 150 ms", "south · 100 ms", "north · 50 ms"]
    with qtbot.waitSignal(dialog.sig_drawn, check_params_cb=lambda n: n == 3, timeout=5000):
        dialog.pick_worst()


def test_a_week_compares_from_the_history_on_disk(make_page, qtbot, tmp_path: Path) -> None:
    """Seven days: what the store no longer holds comes from the history, as on the charts."""
    from services.monitoring.history_writer import History

    now = time.time()
    history = History(tmp_path / "history.sqlite")
    history.start()
    try:
        old_ts = np.arange(now - 5 * 86_400, now - 2 * 86_400, 60.0)
        for site, level in (("site-1", 0.1), ("site-2", 0.3)):
            history.record_many(series_name("chain", metrics.LATENCY_P95, {"site": site}),
                                old_ts, np.full(old_ts.size, level))
        assert history.flush(timeout=30)
        store = MetricStore()
        for site, level in (("site-1", 0.1), ("site-2", 0.3)):
            fill(store, series_name("chain", metrics.LATENCY_P95, {"site": site}),
                 now - 600, now, lambda ts, v=level: np.full(ts.size, v))
        profile = Profile(name="Chain", sources=(
            Source("chain", "prometheus-server", "http://prometheus:9090",
                   group_by=("site",)),))
        page = make_page(Services(profile, store, history=history))
        page.set_range(7 * 86_400)
        dialog = page.open_compare()
        qtbot.waitUntil(lambda: len(listed(dialog)) == 2, timeout=5000)
        with qtbot.waitSignal(dialog.sig_drawn, check_params_cb=lambda n: n == 2,
                              timeout=20_000):
            dialog.pick(["site-1", "site-2"])
        for curve in dialog.panel.curves.values():
            assert curve.buffer.first_ts() < now - 4 * 86_400  # from the disk
            assert curve.buffer.last_real_ts() > now - 60  # and the store's newest
    finally:
        history.stop()
