"""A chain's sites on the dashboard: the worst few as lines, all on demand, the worst on a tile."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt

from console.domain import SourceState, series_name
from console.profile import Profile, Source
from console.store import MetricStore
from services.collectors.prometheus_server import PrometheusServerCollector
from services.http.client import new_session
from tests.gui.test_dashboard import FakePoller, Services, fill, settled, status
from tests.support.chain import Chain
from tests.support.shots import save_shot
from ui.charts.panel import ChartPanel
from ui.pages.dashboard import DashboardPage

pytestmark = pytest.mark.gui

#: Eight sites' p95 (s): site-7 is the slowest, then site-2, site-5, site-1, site-8.
P95 = {"site-1": 0.120, "site-2": 0.300, "site-3": 0.060, "site-4": 0.070,
       "site-5": 0.250, "site-6": 0.050, "site-7": 0.412, "site-8": 0.110}
#: Their cache hit rates: site-4 misses most, then site-6, site-1, site-8, site-3.
HIT = {"site-1": 0.80, "site-2": 0.95, "site-3": 0.88, "site-4": 0.40,
       "site-5": 0.97, "site-6": 0.70, "site-7": 0.93, "site-8": 0.85}


def chain_store(now: float) -> MetricStore:
    store = MetricStore()

    def steady(value: float) -> Callable[[np.ndarray], np.ndarray]:
        return lambda ts: np.full(ts.size, value)

    fill(store, "chain/latency_p95", now - 120, now, steady(0.180))
    fill(store, "chain/cache_hit_rate", now - 120, now, steady(0.83))
    for site, p95 in P95.items():
        fill(store, series_name("chain", "latency_p95", {"site": site}), now - 120, now,
             steady(p95))
        fill(store, series_name("chain", "cache_hit_rate", {"site": site}), now - 120, now,
             steady(HIT[site]))
    return store


def chain_page(make_page, now: float, store: MetricStore | None = None) -> DashboardPage:
    profile = Profile(name="Chain", sources=(
        Source("chain", "prometheus-server", "http://prometheus:9090", group_by=("site",)),))
    poller = FakePoller([status("chain", SourceState.UP, last_ok=now,
                                kind="prometheus-server")])
    return make_page(Services(profile, store or chain_store(now), poller))


def shown_sites(panel: ChartPanel) -> set[str]:
    """The labels of the site lines a user sees on a chart."""
    return {c.style.label for c in panel.curves.values()
            if c.style.visible and "site-" in c.style.label}


def click_control(qtbot, page: DashboardPage, panel: ChartPanel) -> None:
    """Click the chart's control where the user sees it."""
    scene = panel.control.mapToScene(panel.control.boundingRect().center())
    at = page.timeline.mapFromScene(scene)
    qtbot.mouseClick(page.timeline.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(at))


def test_latency_chart_draws_the_chain_and_its_five_slowest_sites(make_page, qtbot) -> None:
    now = time.time()
    page = chain_page(make_page, now)
    latency = page.timeline.panel("latency")
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 5)
    assert shown_sites(latency) == {f"chain {s} p95" for s in
                                    ("site-7", "site-2", "site-5", "site-1", "site-8")}
    whole = latency.curves["chain/latency_p95"]
    assert whole.style.visible  # the whole chain too, in the text colour (no site's)
    assert whole.style.colour == page.theme.text
    assert latency.control_text() == "worst 5 of 8 sites · show all"
    page.timeline.refresh_readouts(now - 5)
    assert "chain site-7 p95 412" in latency.readout_text()
    assert "site-6" not in latency.readout_text()
    # the cache chart ranks the other way: the lowest hit rates are the worst
    cache = page.timeline.panel("cache")
    assert shown_sites(cache) == {f"chain {s}" for s in
                                  ("site-4", "site-6", "site-1", "site-8", "site-3")}
    save_shot(page, "dashboard-chain-sites.png")

    click_control(qtbot, page, latency)
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 8)
    assert latency.control_text() == "all 8 sites · show the worst 5"
    settled(qtbot, page, lambda: all(c.points_drawn > 50 for c in latency.curves.values()
                                     if c.style.visible))
    assert len(shown_sites(cache)) == 5  # the other charts keep their choice
    click_control(qtbot, page, latency)
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 5)


def test_the_tile_names_the_worst_site_not_an_average(make_page, qtbot) -> None:
    now = time.time()
    page = chain_page(make_page, now)
    settled(qtbot, page, lambda: "chain" in page.tiles.tiles
            and page.tiles.tiles["chain"].value.text() == "412 ms")
    tile = page.tiles.tiles["chain"]
    assert tile.caption.text() == "p95 latency — worst of 8 sites: site-7 · all 180 ms"
    # the sparkline is the worst site's
    settled(qtbot, page, lambda: np.nanmax(tile.spark._values, initial=0) == pytest.approx(412))


def test_a_site_that_turns_slow_takes_its_place_among_the_worst(make_page, qtbot) -> None:
    now = time.time()
    store = chain_store(now)
    page = chain_page(make_page, now, store)
    latency = page.timeline.panel("latency")
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 5)
    assert "chain site-6 p95" not in shown_sites(latency)
    fill(store, series_name("chain", "latency_p95", {"site": "site-6"}), now + 1,
         now + 3, lambda ts: np.full(ts.size, 0.900))
    settled(qtbot, page, lambda: "chain site-6 p95" in shown_sites(latency)
            and page.tiles.tiles["chain"].value.text() == "900 ms", timeout=8000)
    assert shown_sites(latency) == {f"chain {s} p95" for s in
                                    ("site-6", "site-7", "site-2", "site-5", "site-1")}
    assert page.tiles.tiles["chain"].caption.text().startswith(
        "p95 latency — worst of 8 sites: site-6")


def test_a_site_chosen_by_hand_stays_chosen(make_page, qtbot) -> None:
    now = time.time()
    page = chain_page(make_page, now)
    latency = page.timeline.panel("latency")
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 5)
    menu = latency.chooser_actions()
    action = next(a for a in menu.actions() if a.text() == "chain site-6 p95")
    action.setChecked(True)
    menu.deleteLater()
    page.update_status()
    settled(qtbot, page)
    assert "chain site-6 p95" in shown_sites(latency)  # not hidden again by the next ranking


@pytest.mark.integration
@pytest.mark.slow
def test_a_real_chain_through_prometheus_names_its_slow_site(make_page, qtbot,
                                                            chain: Chain) -> None:
    """The shared 20 sites on real prometheus_client pages, a real Prometheus adding `site`,
    the prometheus-server collector into the store: the user sees the slow site named."""
    store = MetricStore()
    with new_session() as session:
        collector = PrometheusServerCollector("chain", chain.url, session, timeout_s=10,
                                              selector='job="chain"', group_by=("site",))
        for _ in range(3):
            store.append(list(collector.collect().readings))
            time.sleep(1.0)
    now = time.time()
    page = chain_page(make_page, now, store)
    settled(qtbot, page, lambda: "chain" in page.tiles.tiles and "worst of 20 sites"
            in page.tiles.tiles["chain"].caption.text())
    assert page.tiles.tiles["chain"].caption.text().startswith(
        f"p95 latency — worst of 20 sites: {chain.slow} · all ")
    latency = page.timeline.panel("latency")
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 5)
    assert latency.control_text() == "worst 5 of 20 sites · show all"
    assert f"chain {chain.slow} p95" in shown_sites(latency)
    queue = page.timeline.panel("queue")
    settled(qtbot, page, lambda: len(shown_sites(queue)) == 5)
    assert queue.control_text() == "worst 5 of 40 site queues · show all"
    assert f"{chain.slow} orders" in shown_sites(queue)


def test_two_sites_about_level_do_not_swap_lines_every_second(make_page, qtbot) -> None:
    """site-8 (110 ms), the fifth slowest, is drawn; site-4 edges past it by 5 %: no
    swap; by 30 %: it takes the line."""
    now = time.time()
    store = chain_store(now)
    page = chain_page(make_page, now, store)
    latency = page.timeline.panel("latency")
    settled(qtbot, page, lambda: "chain site-8 p95" in shown_sites(latency))
    site_4 = series_name("chain", "latency_p95", {"site": "site-4"})
    fill(store, site_4, now + 1, now + 3, lambda ts: np.full(ts.size, 0.1155))
    page.update_status()
    settled(qtbot, page)
    page.update_status()
    settled(qtbot, page)
    assert "chain site-8 p95" in shown_sites(latency)
    assert "chain site-4 p95" not in shown_sites(latency)
    fill(store, site_4, now + 3, now + 5, lambda ts: np.full(ts.size, 0.143))
    settled(qtbot, page, lambda: "chain site-4 p95" in shown_sites(latency), timeout=5000)
    assert "chain site-8 p95" not in shown_sites(latency)


def test_label_names_and_sites_from_outside_are_shown_as_text(make_page, qtbot) -> None:
    now = time.time()
    store = MetricStore()
    label = "<b>shop</b>"
    sites = [f"<i>{n}</i>" for n in range(7)]
    fill(store, "chain/latency_p95", now - 60, now, lambda ts: np.full(ts.size, 0.1))
    for n, site in enumerate(sites):
        fill(store, series_name("chain", "latency_p95", {label: site}), now - 60, now,
             lambda ts, n=n: np.full(ts.size, 0.1 + n / 100))
    profile = Profile(name="Chain", sources=(
        Source("chain", "prometheus-server", "http://prometheus:9090", group_by=(label,)),))
    poller = FakePoller([status("chain", SourceState.UP, last_ok=now,
                                kind="prometheus-server")])
    page = make_page(Services(profile, store, poller))
    latency = page.timeline.panel("latency")
    settled(qtbot, page, lambda: latency.control_text() != "")
    assert latency.control.item.toPlainText() == f"worst 5 of 7 {label}s · show all"
    tile = page.tiles.tiles["chain"]
    settled(qtbot, page, lambda: "worst" in tile.caption.text())
    assert tile.caption.text() == f"p95 latency — worst of 7 {label}s: <i>6</i> · all 100 ms"
    page.timeline.refresh_readouts(now - 2)
    assert "chain <i>6</i> p95 160" in latency.readout_text()


def test_one_site_focused_is_drawn_alone_until_the_user_asks_for_the_worst(make_page,
                                                                           qtbot) -> None:
    now = time.time()
    page = chain_page(make_page, now)
    latency = page.timeline.panel("latency")
    cache = page.timeline.panel("cache")
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 5)
    page.sites.focus("site-6")  # e.g. its row clicked in an overview of every site
    assert shown_sites(latency) == {"chain site-6 p95"}
    assert shown_sites(cache) == {"chain site-6"}
    assert latency.control_text() == "site-6 only · show the worst 5"
    page.update_status()
    settled(qtbot, page)
    assert shown_sites(latency) == {"chain site-6 p95"}  # the ranking leaves it alone
    click_control(qtbot, page, latency)
    settled(qtbot, page, lambda: len(shown_sites(latency)) == 5 == len(shown_sites(cache)))
    assert latency.control_text() == "worst 5 of 8 sites · show all"
