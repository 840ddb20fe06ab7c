"""The live dashboard as a user sees it: tiles, linked charts, ranges, crosshair, export."""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QImage, QWheelEvent
from PyQt6.QtWidgets import QApplication

from console.domain import SourceState, iso_time
from console.store import MetricStore
from services.monitoring.poller import SourceStatus
from tests.support.shots import SHOTS, save_shot
from ui.pages.dashboard import DashboardPage
from ui.theme import FAIL, WARN

pytestmark = pytest.mark.gui


@dataclass
class Services:
    profile: Any
    store: Any
    poller: Any = None
    history: Any = None
    alerts: Any = None
    demo_control: Any = None


@dataclass
class FakePoller:
    states: list[SourceStatus] = field(default_factory=list)

    def statuses(self) -> list[SourceStatus]:
        return list(self.states)


def status(name: str, state: SourceState, error: str = "", last_ok: float | None = None,
           kind: str = "http") -> SourceStatus:
    return SourceStatus(name, kind, state, last_ok, error, None, 0.0)


def rule(name: str, metric: str, source: str = "", *, above: float | None = None,
         below: float | None = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, metric=metric, source=source, above=above, below=below,
                           for_s=30.0, severity="warn")


def settled(qtbot, page: DashboardPage, condition: Callable[[], object] = lambda: True,
            timeout: int = 5000) -> None:
    """Wait until the page's reads (worker threads) have arrived and ``condition`` holds."""
    qtbot.waitUntil(lambda: not page.busy and bool(condition()), timeout=timeout)


def fill(store: MetricStore, series: str, start: float, end: float,
         fn: Callable[[np.ndarray], np.ndarray], step: float = 1.0) -> np.ndarray:
    ts = np.arange(math.floor(start), end, step, dtype=np.float64)
    store.append_many(series, ts, fn(ts))
    return ts


def wheel(widget: Any, at: QPointF, steps: int = 1) -> None:
    event = QWheelEvent(at, widget.mapToGlobal(at), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


# -- the demo shop, live -------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_live_on_the_demo_shop(make_page, qtbot, tmp_path: Path) -> None:
    import dataclasses

    from demo import DemoShop
    from services.bootstrap import build_demo_control
    from services.collectors import build_collectors
    from services.local.profiles import demo_profile
    from services.monitoring.poller import Poller

    shop = DemoShop(tmp_path / "shop.sqlite", port=0, traffic=True, traffic_rate=15.0,
                    seed_scale=0.02)
    shop.start()
    profile = demo_profile(shop.base_url, shop.token, shop.db_path)
    profile = dataclasses.replace(
        profile,
        probes=tuple(dataclasses.replace(p, interval_s=1.0) for p in profile.probes),
        sources=tuple(dataclasses.replace(s, interval_s=1.0) for s in profile.sources))
    store = MetricStore()
    poller = Poller(build_collectors(profile), store)
    poller.start()
    # what the composition root hands the page for the demo shop
    demo_control, demo_session = build_demo_control(profile)
    try:
        page = make_page(Services(profile, store, poller, demo_control=demo_control),
                         is_demo=True)
        latency = page.timeline.panel("latency")
        qtbot.waitUntil(lambda: page.tiles.tiles.get("shop") is not None
                        and page.tiles.tiles["shop"].state == "up", timeout=15_000)
        qtbot.waitUntil(lambda: "shop/latency_p95" in latency.curves
                        and latency.curves["shop/latency_p95"].points_drawn >= 3,
                        timeout=15_000)
        tile = page.tiles.tiles["shop"]
        assert tile.value.text().endswith(" ms")
        assert tile.caption.text() == "p95 latency"
        assert tile.spark.point_count() >= 1
        # thresholds from the demo profile's alert rules
        cache_panel = page.timeline.panel("cache")
        assert any("Cache hit rate low" in line.label.format for line in cache_panel.thresholds)

        # the crosshair shows every panel's value at the cursor time
        curve = latency.curves["shop/latency_p95"]
        ts, values = curve.buffer.finite()
        page.timeline.show_crosshair(float(ts[-1]))
        expected = latency.spec.unit.format(float(values[-1]), with_unit=False)
        assert f"shop p95 {expected}" in latency.readout_text()

        # the demo panel flips the cache off, and the change is marked on the timeline
        assert page.demo_panel is not None
        qtbot.waitUntil(lambda: page.demo_panel.scenario is not None, timeout=10_000)
        assert page.demo_panel.cache.isChecked()
        page.demo_panel.cache.setChecked(False)
        qtbot.waitUntil(lambda: shop.scenario["cache"] is False, timeout=10_000)
        qtbot.waitUntil(lambda: any(m.text == "cache off" for m in page.timeline.markers()),
                        timeout=10_000)
        assert page.demo_panel.cache.text() == "off"

        # the back-end errors switch, and the slow endpoint at its default delay crosses the
        # demo's own "Slow responses" rule (p95 above 500 ms)
        page.demo_panel.errors.setValue(20)
        qtbot.waitUntil(lambda: shop.scenario["error_ratio"] == 0.2, timeout=10_000)
        qtbot.waitUntil(lambda: any(m.text == "back-end errors 20%"
                                    for m in page.timeline.markers()), timeout=10_000)
        page.demo_panel.errors.setValue(0)
        page.demo_panel.cache.setChecked(True)
        qtbot.waitUntil(lambda: shop.scenario["cache"] and not shop.scenario["error_ratio"],
                        timeout=10_000)
        page.demo_panel.slow_endpoint.setCurrentIndex(
            page.demo_panel.slow_endpoint.findData("/api/availability"))
        qtbot.waitUntil(lambda: shop.scenario["slow_endpoint"] == "/api/availability",
                        timeout=10_000)
        rule = next(r for r in profile.alerts if r.name == "Slow responses")

        def p95_over_rule() -> bool:
            latest = store.latest("shop/latency_p95")
            return latest is not None and latest.value > (rule.above or 0)

        qtbot.waitUntil(p95_over_rule, timeout=20_000)
        page.demo_panel.grab().save(str(tmp_path / "demo_panel.png"))
    finally:
        poller.stop()
        demo_session.close()
        shop.stop()


# -- a source that is down, one that is stale ----------------------------------------------


@pytest.mark.integration
def test_a_source_that_is_down(make_page, qtbot, tmp_path: Path) -> None:
    from console.profile import Probe, Profile
    from demo import DemoShop
    from services.collectors import build_collectors
    from services.monitoring.poller import Poller
    from tests.servers import free_port

    shop = DemoShop(tmp_path / "shop.sqlite", port=0, traffic=False, seed_scale=0.02)
    shop.start()
    profile = Profile(name="Two probes", probes=(
        Probe(name="home", url=f"{shop.base_url}/health", interval_s=1.0, timeout_s=2.0),
        Probe(name="gone", url=f"http://127.0.0.1:{free_port()}/", interval_s=1.0,
              timeout_s=2.0),
    ))
    store = MetricStore()
    poller = Poller(build_collectors(profile), store)
    poller.start()
    try:
        page = make_page(Services(profile, store, poller))
        qtbot.waitUntil(lambda: {"home", "gone"} <= set(page.tiles.tiles), timeout=5000)
        gone, home = page.tiles.tiles["gone"], page.tiles.tiles["home"]
        qtbot.waitUntil(lambda: gone.state == "down" and home.state == "up", timeout=10_000)
        assert "down" in gone.chip.text()
        assert gone.toolTip().startswith("gone is down: ")
        assert len(gone.toolTip()) > len("gone is down: ")
        assert FAIL in gone.styleSheet()
        assert FAIL not in home.styleSheet()
        assert gone.value.text() == "–"
        qtbot.waitUntil(lambda: home.value.text().endswith(" ms"), timeout=10_000)
        # the live source is charted; the down one never gets a line
        latency = page.timeline.panel("latency")
        qtbot.waitUntil(lambda: "home/latency_p95" in latency.curves, timeout=10_000)
        assert "gone/latency_p95" not in latency.curves
        if SHOTS:
            qtbot.wait(8000)  # a few seconds of line for the docs
            save_shot(page, "dashboard-source-down.png")
    finally:
        poller.stop()
        shop.stop()


@pytest.mark.integration
def test_a_probe_named_with_slashes_keeps_its_latency(make_page, qtbot) -> None:
    """A probe named ``GET /slow/`` (as people name them) gets its tile's number and its
    line, like any other."""
    from console.profile import Probe, Profile
    from services.collectors import build_collectors
    from services.monitoring.poller import Poller
    from tests.integration.local_servers import http_server, reply

    with http_server({"/slow/": reply(delay_s=0.02)}) as base:
        profile = Profile(name="Slashes", probes=(
            Probe(name="GET /slow/", url=f"{base}/slow/", interval_s=0.5, timeout_s=2.0),))
        store = MetricStore()
        poller = Poller(build_collectors(profile), store)
        poller.start()
        try:
            page = make_page(Services(profile, store, poller))
            qtbot.waitUntil(lambda: "GET /slow/" in page.tiles.tiles, timeout=5000)
            tile = page.tiles.tiles["GET /slow/"]
            qtbot.waitUntil(lambda: tile.value.text().endswith(" ms"), timeout=10_000)
            latency = page.timeline.panel("latency")
            qtbot.waitUntil(lambda: any(c.style.label.startswith("GET /slow/ ")
                                        for c in latency.curves.values()), timeout=10_000)
        finally:
            poller.stop()


def test_queues_whose_names_look_like_labels_stay_apart(make_page, qtbot) -> None:
    from console.domain import series_name

    now = time.time()
    store = MetricStore()
    one = series_name("mq", "queue_depth", {"queue": 'orders",x="1'})
    two = series_name("mq", "queue_depth", {"queue": 'orders",x="2'})
    fill(store, one, now - 60, now, lambda ts: np.full(ts.size, 7.0))
    fill(store, two, now - 60, now, lambda ts: np.full(ts.size, 40.0))
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store))
    settled(qtbot, page, lambda: len(page.timeline.panel("queue").curves) == 2)
    curves = page.timeline.panel("queue").curves
    legends = {c.style.label: np.nanmax(c.item.getData()[1]) for c in curves.values()}
    assert legends == {'orders",x="1': 7.0, 'orders",x="2': 40.0}


def test_an_answering_source_with_a_warning_says_so_on_its_tile(make_page, qtbot) -> None:
    now = time.time()
    store = MetricStore()
    fill(store, 'mq/queue_depth{queue="emails"}', now - 60, now, lambda ts: np.full(ts.size, 4))
    warning = ("99,000 queue_depth series folded into 'other' (past max_series = 1,000 per "
               "metric; raise it in the profile to keep more) <b>x</b>")
    poller = FakePoller([SourceStatus("mq", "rabbitmq", SourceState.UP, now, "", None, 0.0,
                                      warning=warning),
                         status("web", SourceState.UP, last_ok=now)])
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store, poller))
    settled(qtbot, page, lambda: {"mq", "web"} <= set(page.tiles.tiles))
    mq, web = page.tiles.tiles["mq"], page.tiles.tiles["web"]
    qtbot.waitUntil(mq.warning.isVisible, timeout=5000)
    assert mq.warning.toolTip() == f"⚠ {warning}"  # as text: the markup shown, not applied
    assert mq.warning.text().startswith("⚠ 99,000 queue_depth")  # cut to the tile
    assert mq.warning.textFormat() == Qt.TextFormat.PlainText
    assert not web.warning.isVisible()
    page.tiles.grab().save("/tmp/bounds-tile-warning.png")


def test_stale_source_is_grey_and_its_silence_a_gap(make_page, qtbot) -> None:
    now = time.time()
    store = MetricStore()
    hit = "cache/cache_hit_rate"
    # answered for four minutes, silent for 40 s in the middle, silent for the last 100 s
    fill(store, hit, now - 280, now - 200, lambda ts: np.full(ts.size, 0.9))
    fill(store, hit, now - 160, now - 100, lambda ts: np.full(ts.size, 0.9))
    poller = FakePoller([status("cache", SourceState.STALE, last_ok=now - 100, kind="redis")])
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store, poller))
    settled(qtbot, page, lambda: "cache" in page.tiles.tiles
            and page.timeline.shown_panels())
    tile = page.tiles.tiles["cache"]
    assert tile.state == "stale"
    assert "stale · 100 s ago" in tile.chip.text() or "stale · 2 min ago" in tile.chip.text()
    assert "no fresh reading" in tile.toolTip()
    assert "last " in tile.caption.text()  # the value is shown with its age
    curve = page.timeline.panel("cache").curves[hit]
    x, y = curve.item.getData()
    # a gap (NaN) between the two stretches, and no line into the silent end
    both = np.isfinite(y[:-1]) & np.isfinite(y[1:])
    assert np.isnan(y).any()
    assert (np.diff(x)[both] < 5).all()  # no line is drawn across the 40 s of silence
    assert np.nanmax(x[np.isfinite(y)]) <= now - 100
    # the readout says there is no current value rather than repeating the old one
    page.timeline.refresh_readouts(now)
    assert "cache –" in page.timeline.panel("cache").readout_text()


def test_empty_profile_says_what_to_do(make_page, qtbot) -> None:
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), MetricStore()))
    settled(qtbot, page)
    assert page.charts.currentWidget() is page.empty
    assert "Add a probe" in page.empty.text()


# -- time: ranges, history, zoom, crosshair --------------------------------------------------


def incident_store(now: float) -> MetricStore:
    """Cache hit rate falls at now-300, p95 latency rises 30 s later, queue and rates steady."""
    store = MetricStore()
    rng = np.random.default_rng(3)
    t0 = now - 900

    def noisy(level: Callable[[np.ndarray], np.ndarray], sd: float) -> Callable:
        return lambda ts: level(ts) + rng.normal(0, sd, ts.size)

    fill(store, "web/cache_hit_rate", t0, now, noisy(
        lambda ts: np.where(ts < now - 300, 0.92, 0.41), 0.01))
    fill(store, "web/latency_p95", t0, now, noisy(
        lambda ts: np.where(ts < now - 270, 0.080, 0.450), 0.004))
    fill(store, "web/latency_p50", t0, now, noisy(lambda ts: np.full(ts.size, 0.02), 0.001))
    fill(store, 'web/queue_depth{queue="emails"}', t0, now,
         lambda ts: np.round(np.abs(rng.normal(3, 1, ts.size))))
    fill(store, "web/request_rate", t0, now, noisy(lambda ts: np.full(ts.size, 5.0), 0.3))
    return store


def test_panels_share_one_time_axis_and_zooming_pauses(make_page, qtbot) -> None:
    now = time.time()
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), incident_store(now)))
    settled(qtbot, page, lambda: len(page.timeline.shown_panels()) == 4)
    shown = page.timeline.shown_panels()
    assert [p.spec.key for p in shown] == ["latency", "cache", "queue", "traffic"]
    assert page.live
    latency = page.timeline.panel("latency")
    viewport = page.timeline.viewport()
    centre = page.timeline.mapFromScene(latency.view_box.sceneBoundingRect().center())
    with qtbot.waitSignal(page.sig_live_changed, timeout=3000) as blocker:
        wheel(viewport, QPointF(centre), steps=2)
    assert blocker.args == [False]
    assert page.pause_button.isChecked() and not page.live_button.isChecked()
    ranges = {tuple(round(v, 3) for v in p.view_box.viewRange()[0]) for p in shown}
    assert len(ranges) == 1
    start, end = ranges.pop()
    assert end - start < 300  # zoomed in from 5 minutes
    qtbot.waitUntil(lambda: "Paused" in page.status_label.text(), timeout=3000)
    page.live_button.click()
    assert page.live
    settled(qtbot, page)
    start, end = page.timeline.x_range()
    assert end - start == pytest.approx(300 * 1.01, rel=0.02)


def test_crosshair_shows_every_panel_value(make_page, qtbot) -> None:
    now = time.time()
    store = incident_store(now)
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store))
    settled(qtbot, page, lambda: len(page.timeline.shown_panels()) == 4)
    page.set_live(False)
    when = math.floor(now - 100)
    page.timeline.show_crosshair(when + 0.5)
    for key, series in (("latency", "web/latency_p95"), ("cache", "web/cache_hit_rate"),
                        ("queue", 'web/queue_depth{queue="emails"}')):
        panel = page.timeline.panel(key)
        stored = float(store.window(series, when, when).value[0])
        shown = panel.spec.unit.format(stored, with_unit=False)
        assert shown in panel.readout_text(), (key, shown, panel.readout_text())
        assert panel.crosshair.isVisible() and panel.crosshair.value() == when + 0.5
    assert "latency" in page.timeline.panel("latency").readout_text().lower()


def test_range_switch_loads_history(make_page, qtbot, tmp_path: Path) -> None:
    from services.monitoring.history_writer import History

    now = time.time()
    history = History(tmp_path / "history.sqlite")
    history.start()
    try:
        old_ts = np.arange(now - 6 * 86_400, now - 2 * 86_400, 30.0)
        spikes = 0.1 + 0.9 * (np.arange(old_ts.size) % 97 == 0)
        history.record_many("web/latency_p95", old_ts, spikes)
        assert history.flush(timeout=30)
        store = MetricStore()
        fill(store, "web/latency_p95", now - 600, now, lambda ts: np.full(ts.size, 0.1))
        page = make_page(Services(SimpleNamespace(name="x", alerts=()), store,
                                  history=history))
        settled(qtbot, page, page.timeline.shown_panels)
        curve = page.timeline.panel("latency").curves["web/latency_p95"]
        assert curve.buffer.first_ts() >= now - 700
        with qtbot.waitSignal(page.sig_history_loaded, timeout=20_000) as blocker:
            page.range_buttons[7 * 86_400].click()
        assert blocker.args == [1]
        assert curve.buffer.first_ts() < now - 5 * 86_400
        assert "from history" in page.status_label.text()
        # min/max envelopes keep the one-sample spikes of the roll-ups
        assert page.timeline.panel("latency").envelope_shown("web/latency_p95")
        assert curve.env_hi is not None
        _x, hi = curve.env_hi.getData()
        assert np.nanmax(hi) == pytest.approx(1000.0, rel=0.01)  # 1 s in ms
        page.range_buttons[300].click()
        settled(qtbot, page)
        assert curve.buffer.first_ts() >= now - 400
        assert not page.timeline.panel("latency").envelope_shown("web/latency_p95")
    finally:
        history.stop()


# -- thresholds, events, what moved first ---------------------------------------------------


def test_alert_thresholds_and_event_markers(make_page, qtbot) -> None:
    now = time.time()
    profile = SimpleNamespace(name="x", alerts=(
        rule("Slow pages", "latency_p95", "web", above=0.5),
        rule("Cache cold", "cache_hit_rate", "web", below=0.5),
    ))
    page = make_page(Services(profile, incident_store(now)))
    settled(qtbot, page, lambda: len(page.timeline.shown_panels()) == 4)
    latency = page.timeline.panel("latency")
    assert [line.value() for line in latency.thresholds] == [pytest.approx(500.0)]
    assert latency.thresholds[0].label.format == "Slow pages (> 500 ms)"
    cache = page.timeline.panel("cache")
    assert cache.thresholds[0].value() == pytest.approx(50.0)
    assert page.add_marker(now - 300, "cache off", "#888888") == 1
    assert page.add_marker(now - 300, "cache off", "#888888") == 0  # once only
    assert len(latency.markers) == 1 and len(cache.markers) == 1
    assert latency.markers[0].label is not None  # labelled on the top panel only
    assert getattr(cache.markers[0], "label", None) is None


def test_what_moved_first(make_page, qtbot) -> None:
    now = time.time()
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), incident_store(now)))
    settled(qtbot, page, page.timeline.shown_panels)
    page.set_range(3600)
    settled(qtbot, page)
    with qtbot.waitSignal(page.sig_movers_ranked, timeout=5000) as blocker:
        page.select_region(now - 280, now - 100)
    movers = blocker.args[0]
    assert {m.series for m in movers[:2]} == {"web/cache_hit_rate", "web/latency_p95"}
    headline = page.movers_box.headline.text()
    assert headline.startswith("web cache hit rate fell 30 s before web p95 latency rose")
    assert not page.live
    assert page.movers_box.isVisible()
    save_shot(page, "dashboard-what-moved.png")
    first_row = page.movers_box.rows.item(0).text()
    assert "→" in first_row
    page.movers_button.setChecked(False)
    assert page.timeline.region() is None


# -- export ---------------------------------------------------------------------------------


def test_export_png_and_csv_rows_match_the_store(make_page, qtbot, tmp_path: Path) -> None:
    now = time.time()
    store = incident_store(now)
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store))
    settled(qtbot, page, lambda: len(page.timeline.shown_panels()) == 4)
    page.set_live(False)
    png = tmp_path / "dash.png"
    assert page.export_png(png)
    image = QImage(str(png))
    assert (image.width(), image.height()) == (page.width(), page.height())

    target = tmp_path / "dash.csv"
    with qtbot.waitSignal(page.sig_exported, timeout=5000):
        page.export_csv(target)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["series", "ts", "value"]
    start, end = page.timeline.x_range()
    shown = [c.series for p in page.timeline.panels for c in p.curves.values()
             if c.style.visible]
    assert "web/latency_p50" not in shown  # hidden by default: not exported
    expected = []
    for series in shown:
        w = store.window(series, start, end)
        keep = np.isfinite(w.value) & (w.ts >= start) & (w.ts <= end)
        expected += [[series, iso_time(t), repr(v)]
                     for t, v in zip(w.ts[keep].tolist(), w.value[keep].tolist(), strict=True)]
    assert sorted(rows[1:]) == sorted(expected)
    assert len(expected) > 1000


def test_series_chooser_shows_hidden_quantiles(make_page, qtbot) -> None:
    now = time.time()
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), incident_store(now)))
    settled(qtbot, page, page.timeline.shown_panels)
    latency = page.timeline.panel("latency")
    p50 = latency.curves["web/latency_p50"]
    assert not p50.has_item  # hidden lines cost no graphics item
    assert len(p50.buffer) == 0  # nor reads
    menu = latency.chooser_actions()
    action = next(a for a in menu.actions() if a.text() == "web p50")
    action.setChecked(True)
    assert p50.item.isVisible()
    settled(qtbot, page, lambda: p50.points_drawn > 100)
    page.timeline.refresh_readouts(now)
    assert "web p50" in latency.readout_text()


def test_alert_marks_come_from_the_alert_service(make_page, qtbot) -> None:
    now = time.time()

    class Alerts:
        def marks_since(self, ts: float) -> list[tuple[float, str, str]]:
            return [(now - 200, "Slow pages", "firing"), (now - 60, "Slow pages", "resolved")]

    page = make_page(Services(SimpleNamespace(name="x", alerts=()), incident_store(now),
                              alerts=Alerts()))
    settled(qtbot, page, lambda: len(page.timeline.markers()) == 2)
    texts = {m.text: m.colour for m in page.timeline.markers()}
    assert texts == {"Slow pages: firing": FAIL, "Slow pages: resolved": "#2e7d32"}
    page.fetch_events()
    settled(qtbot, page)
    assert len(page.timeline.markers()) == 2  # marked once, however often they are read


def test_the_demo_control_is_the_one_the_root_hands_in(make_page, qtbot) -> None:
    from services.shop.demo_control import DemoEvent, DemoScenario

    now = time.time()

    class Demo:
        """What the composition root builds for the demo shop, without its network."""

        def scenario(self) -> DemoScenario:
            return DemoScenario(cache=True, booking_time_index=True, workers=2,
                                slow_endpoint=None, slow_ms=0, traffic_rate=5.0)

        def events(self, since_ts: float | None = None) -> list[DemoEvent]:
            return [DemoEvent(now - 60, "cache on->off")]

    page = make_page(Services(SimpleNamespace(name="x", alerts=()), incident_store(now),
                              demo_control=Demo()), is_demo=True)
    settled(qtbot, page, lambda: page.demo_panel.scenario is not None
            and len(page.timeline.markers()) == 1)
    assert [m.text for m in page.timeline.markers()] == ["cache on→off"]
    assert page.demo_panel.cache.isChecked()


def test_newest_event_labels_stay_inside_the_chart(make_page, qtbot) -> None:
    now = time.time()
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), incident_store(now)))
    settled(qtbot, page, lambda: len(page.timeline.shown_panels()) == 4)
    page.add_marker(now - 280, "cache off", "#888888")
    page.add_marker(now - 5, "workers 2 → 0", "#888888")
    latency = page.timeline.panel("latency")
    old, new = latency.markers
    assert tuple(old.label.anchors[0]) == (0, 0)  # text to the right of its line
    assert tuple(new.label.anchors[0]) == (1, 0)  # text to the left, not cut off
    # the labels have the top of the chart to themselves: no line runs under them
    bottom, top = latency.view_box.viewRange()[1]
    highest = max(float(np.nanmax(c.item.getData()[1])) for c in latency.curves.values()
                  if c.style.visible)
    assert highest < bottom + (top - bottom) * 0.78
    assert page.timeline.panel("cache").label_lane == 0


def test_a_tile_says_when_requests_fail(make_page, qtbot) -> None:
    from console.profile import Profile, Source

    now = time.time()
    store = MetricStore()
    for name, ratio in (("api", 0.5), ("shop", 0.02), ("menu", 0.001)):
        fill(store, f"{name}/latency_p95", now - 60, now, lambda ts: np.full(ts.size, 0.04))
        fill(store, f"{name}/error_ratio", now - 60, now,
             lambda ts, r=ratio: np.full(ts.size, r))
    poller = FakePoller([status(n, SourceState.UP, last_ok=now, kind="prometheus")
                         for n in ("api", "shop", "menu")])
    # the menu source accepts up to 5 % before it warns
    profile = Profile(name="Bistro", sources=(
        Source("menu", "prometheus", "http://menu/metrics", error_ratio_warn=0.0005),))
    page = make_page(Services(profile, store, poller))
    settled(qtbot, page, lambda: all(page.tiles.tiles.get(n) is not None
                                     and "errors" in page.tiles.tiles[n].caption.text()
                                     for n in ("api", "shop", "menu")))
    api, shop, menu = (page.tiles.tiles[n] for n in ("api", "shop", "menu"))
    assert api.caption.text() == "p95 latency · 50% errors"
    assert FAIL in api.caption.styleSheet()
    assert shop.caption.text() == "p95 latency · 2.0% errors"
    assert WARN in shop.caption.styleSheet()
    assert menu.caption.text() == "p95 latency · 0.1% errors"
    page.grab().save("/tmp/dashboard-errors.png")
