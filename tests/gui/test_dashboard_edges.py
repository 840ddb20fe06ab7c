"""The dashboard's edge cases: no latency source, many sources, many queues, crowded labels."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
from PyQt6.QtCore import QRectF
from PyQt6.QtWidgets import QWidget

from console.domain import SourceState, series_name
from console.store import MetricStore
from tests.gui.test_dashboard import (
    FakePoller,
    Services,
    fill,
    incident_store,
    rule,
    settled,
    status,
)
from ui.theme import WARN

pytestmark = pytest.mark.gui


def test_without_a_latency_source_every_chart_shows_the_last_minutes(make_page, qtbot) -> None:
    """A profile of only Redis and RabbitMQ: its charts draw their lines over the chosen
    range (the time axis read 0..1, only the hidden latency chart had the range)."""
    now = time.time()
    store = MetricStore()
    fill(store, 'mq/queue_depth{queue="emails"}', now - 120, now, lambda ts: np.full(ts.size, 4))
    fill(store, "cache/cache_hit_rate", now - 120, now, lambda ts: np.full(ts.size, 0.9))
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store))
    settled(qtbot, page, lambda: len(page.timeline.shown_panels()) == 2)
    for panel in page.timeline.shown_panels():
        start, end = panel.view_box.viewRange()[0]
        assert start == pytest.approx(now - 300, abs=30) and end == pytest.approx(now, abs=30)
        assert panel.curves and all(c.points_drawn > 100 for c in panel.curves.values())
    assert page.timeline.x_range()[1] == pytest.approx(now, abs=30)


def test_the_queues_folded_past_the_series_limit_are_not_the_deepest_queue(make_page,
                                                                          qtbot) -> None:
    """A page of 40,000 queues past max_series: the fold of the rest (their sum) is no queue;
    the tile names the deepest queue it kept."""
    now = time.time()
    store = MetricStore()
    for labels, depth in (('queue="emails"', 3.0), ('queue="orders"', 40.0),
                          ('series="other"', 1_871_907.0)):
        fill(store, f"mq/queue_depth{{{labels}}}", now - 60, now,
             lambda ts, d=depth: np.full(ts.size, d))
    poller = FakePoller([status("mq", SourceState.UP, last_ok=now, kind="prometheus")])
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store, poller))
    settled(qtbot, page, lambda: "mq" in page.tiles.tiles
            and page.tiles.tiles["mq"].value.text() == "40 msgs")
    assert page.tiles.tiles["mq"].caption.text() == "deepest of 2 queues: orders"


@pytest.mark.parametrize("kept", [3, 10])
def test_the_queue_chart_past_the_series_limit_draws_queues_not_their_fold(
        make_page, qtbot, kept: int) -> None:
    """Queues kept and the sum of 39,990 more folded past max_series: the chart draws the
    deepest queues, never the fold, which would squash them to the floor (series ▾ still
    lists it), with three queues kept (max_series = 3) as with ten."""
    now = time.time()
    store = MetricStore()
    fill(store, 'mq/queue_depth{series="other"}', now - 60, now,
         lambda ts: np.full(ts.size, 1_871_907.0))
    for i in range(kept):
        fill(store, f'mq/queue_depth{{queue="q{i}"}}', now - 60, now,
             lambda ts, d=float(i): np.full(ts.size, d))
    poller = FakePoller([status("mq", SourceState.UP, last_ok=now, kind="prometheus")])
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store, poller))
    panel = page.timeline.panel("queue")
    deepest = {f'mq/queue_depth{{queue="q{i}"}}' for i in range(max(0, kept - 8), kept)}
    settled(qtbot, page, lambda: len(panel.curves) == kept + 1 and {
        n for n, c in panel.curves.items() if c.style.visible} == deepest)
    assert 'mq/queue_depth{series="other"}' in panel.curves
    assert panel.control_text() == ("deepest 8 of 10 queues · show all" if kept == 10
                                    else "")


def test_queue_tile_shows_the_deepest_queue_and_says_so(make_page, qtbot) -> None:
    now = time.time()
    store = MetricStore()
    for queue, depth in (("emails", 0.0), ("orders", 5000.0), ("invoices", 12.0)):
        fill(store, f'mq/queue_depth{{queue="{queue}"}}', now - 60, now,
             lambda ts, d=depth: np.full(ts.size, d))
    poller = FakePoller([status("mq", SourceState.UP, last_ok=now, kind="rabbitmq")])
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store, poller))
    settled(qtbot, page, lambda: "mq" in page.tiles.tiles
            and page.tiles.tiles["mq"].value.text() == "5,000 msgs")
    tile = page.tiles.tiles["mq"]
    assert tile.caption.text() == "deepest of 3 queues: orders"
    # the sparkline draws the deepest queue too
    settled(qtbot, page, lambda: np.nanmax(tile.spark._values, initial=0) == 5000.0)


def test_five_sources_keep_the_chart_inside_a_1280_px_window(make_page, qtbot) -> None:
    """The legend of five ordinarily named sources wraps: the chart keeps its width, the
    newest data and the series chooser stay on screen."""
    now = time.time()
    store = MetricStore()
    names = ("GET /api/v2/availability", "POST /checkout/confirm", "storefront.example.com",
             "payments-gateway (Stripe)", "booking-widget.example.com")
    for i, name in enumerate(names):
        fill(store, series_name(name, "latency_p95"), now - 120, now,
             lambda ts, i=i: np.full(ts.size, 0.1 + i * 0.0371))
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store))
    host = page.parentWidget()
    host.resize(1280, 800)
    page.resize(1280, 800)
    settled(qtbot, page, lambda: len(page.timeline.panel("latency").curves) == 5)
    latency = page.timeline.panel("latency")
    qtbot.waitUntil(lambda: "booking-widget.example.com" in latency.readout_text(), timeout=5000)
    qtbot.wait(100)
    view = page.timeline
    right = view.mapFromScene(latency.view_box.sceneBoundingRect().topRight()).x()
    assert right <= view.viewport().width()
    chooser = view.mapFromScene(latency.chooser.sceneBoundingRect()).boundingRect()
    assert chooser.right() <= view.viewport().width()
    assert view.mapTo(page, view.rect().topRight()).x() <= page.width()
    assert latency.plot.titleLabel.sceneBoundingRect().width() <= latency.plot.width()
    page.grab().save("/tmp/first/five-sources.png")


# -- labels: lanes, and thresholds in view ----------------------------------------------------


def shown_labels(panel) -> list[tuple[str, QRectF]]:
    """Each label a user sees on ``panel``: its text and its place in the scene."""
    found = []
    for line in panel.markers + panel.thresholds:
        label = getattr(line, "label", None)
        if label is not None and label.isVisible():
            found.append((label.textItem.toPlainText(), label.sceneBoundingRect()))
    return found


def test_close_events_thresholds_and_alerts_keep_their_labels_apart(make_page, qtbot) -> None:
    now = time.time()
    profile = SimpleNamespace(name="x", alerts=(
        rule("Slow pages", "latency_p95", "web", above=0.5),
        rule("Very slow", "latency_p95", "web", above=0.52),
    ))
    page = make_page(Services(profile, incident_store(now)))
    settled(qtbot, page, lambda: len(page.timeline.shown_panels()) == 4)
    events = ((now - 200, "cache off", "#888888"), (now - 196, "workers 2 → 0", "#888888"),
              (now - 192, "Slow pages: firing", WARN),
              (now - 8, "Very slow: firing", WARN), (now - 4, "Slow pages: resolved",
                                                            "#2e7d32"))
    for ts, text, colour in events:
        page.add_marker(ts, text, colour)
    latency = page.timeline.panel("latency")
    qtbot.wait(300)  # a few data ticks: the labels are laid out as the view moves
    labels = shown_labels(latency)
    assert sorted(text for text, _ in labels) == sorted(
        [e[1] for e in events] + ["Slow pages (> 500 ms)", "Very slow (> 520 ms)"])
    for i, (a, ra) in enumerate(labels):
        for b, rb in labels[i + 1:]:
            assert not ra.intersects(rb), f"{a!r} overlaps {b!r}"
    # every label inside the chart, and no line of data under the event labels
    inside = latency.view_box.sceneBoundingRect()
    assert all(inside.contains(r) for _, r in labels)
    page.grab().save("/tmp/first/labels.png")


def test_a_firing_rules_threshold_far_above_the_data_is_in_view(make_page, qtbot) -> None:
    now = time.time()

    class Alerts:
        def marks_since(self, ts: float) -> list[tuple[float, str, str]]:
            return [(now - 100, "Queue stuck", "firing")]

        def firing(self) -> list[SimpleNamespace]:
            return [SimpleNamespace(name="Queue stuck")]

    store = MetricStore()
    fill(store, 'mq/queue_depth{queue="emails"}', now - 300, now,
         lambda ts: np.full(ts.size, 40.0))
    profile = SimpleNamespace(name="x", alerts=(
        rule("Queue stuck", "queue_depth", "mq", above=5000),
        rule("Queue huge", "queue_depth", "mq", above=90000),
    ))
    page = make_page(Services(profile, store, alerts=Alerts()))
    queue = page.timeline.panel("queue")
    settled(qtbot, page, lambda: queue.markers and queue.curves)
    qtbot.wait(300)
    bottom, top = queue.view_box.viewRange()[1]
    stuck, huge = queue.thresholds
    assert bottom <= stuck.value() < top  # the firing rule's line, though the data sit at 40
    assert top < huge.value()  # a rule that does not fire leaves the data their height
    assert stuck.label.isVisible()
    assert queue.view_box.sceneBoundingRect().contains(stuck.label.sceneBoundingRect())


def test_the_demo_switches_come_once_the_demo_shop_answers(make_page, qtbot) -> None:
    """The demo shop still starting when the dashboard opened: its switches were left
    disabled with "did not answer" for good; they are read again on the next events tick."""
    from services.shop.demo_control import DemoEvent, DemoScenario

    now = time.time()
    calls: list[int] = []

    class Demo:
        def scenario(self) -> DemoScenario:
            calls.append(1)
            if len(calls) == 1:
                raise TimeoutError("the demo shop did not answer within 3 s")
            return DemoScenario(cache=True, booking_time_index=True, workers=2,
                                slow_endpoint=None, slow_ms=0, traffic_rate=5.0)

        def events(self, since_ts: float | None = None) -> list[DemoEvent]:
            return []

    page = make_page(Services(SimpleNamespace(name="x", alerts=()), incident_store(now),
                              demo_control=Demo()), is_demo=True)
    panel = page.demo_panel
    qtbot.waitUntil(lambda: "did not answer" in panel.status.text(), timeout=5000)
    assert not panel.cache.isEnabled()
    page.fetch_events()  # the events tick, every few seconds
    qtbot.waitUntil(lambda: panel.scenario is not None, timeout=5000)
    assert panel.cache.isEnabled() and panel.cache.isChecked()
    assert "did not answer" not in panel.status.text()


def test_a_relative_rule_draws_no_line_at_its_factor(make_page, qtbot) -> None:
    """"Busier than usual" fires at 2x the series' own median: its 2 is no level on the
    requests axis (it drew a "> 2 req/s" line), an absolute rule's line stays."""
    now = time.time()
    store = MetricStore()
    fill(store, "shop/request_rate", now - 120, now, lambda ts: np.full(ts.size, 9.0))
    busier = rule("Busier than usual", "request_rate", "shop", above=2.0)
    busier.baseline_s = 900.0
    profile = SimpleNamespace(name="x", alerts=(
        busier, rule("Flooded", "request_rate", "shop", above=50.0)))
    page = make_page(Services(profile, store))
    requests = page.timeline.panel("traffic")
    settled(qtbot, page, lambda: requests.curves)
    assert [t.label.toPlainText() for t in requests.thresholds] == ["Flooded (> 50 req/s)"]


def test_the_consoles_own_cost_source_gets_no_tile(make_page, qtbot) -> None:
    """The console's own polling cost (source "backroom") is shown in Diagnostics, not as a
    tile beside the shop's sources."""
    now = time.time()
    store = MetricStore()
    fill(store, "shop/latency_p95", now - 60, now, lambda ts: np.full(ts.size, 0.05))
    fill(store, "backroom/cpu_percent", now - 60, now, lambda ts: np.full(ts.size, 3.0))
    poller = FakePoller([status("shop", SourceState.UP, last_ok=now),
                         status("backroom", SourceState.UP, last_ok=now)])
    page = make_page(Services(SimpleNamespace(name="x", alerts=()), store, poller))
    settled(qtbot, page, lambda: "shop" in page.tiles.tiles)
    qtbot.wait(300)
    assert list(page.tiles.tiles) == ["shop"]


def test_following_live_the_view_moves_once_a_second_not_at_every_read(qtbot) -> None:
    """The 5 min range is 0.2 s a pixel: moving the view at every 5 Hz read repainted every
    chart five times a second (most of the console's idle cost). It moves once a second."""
    from services.bootstrap import Diagnostics, Local
    from ui.context import AppContext
    from ui.pages.dashboard import DashboardPage
    from ui.pages.dashboard.feed import LIVE_MOVE_S, read_in_step
    from ui.worker import TaskRunner

    now = [time.time()]
    store = MetricStore()
    fill(store, "web/latency_p95", now[0] - 600, now[0], lambda ts: np.full(ts.size, 0.05))
    ctx = AppContext(services=Services(SimpleNamespace(name="x", alerts=()), store),
                     tasks=TaskRunner(), diagnostics=Diagnostics(), local=Local())
    host = QWidget()  # a plain host window, as make_page's
    qtbot.add_widget(host)
    host.resize(1400, 900)
    page = DashboardPage(ctx, host, clock=lambda: now[0], reads=read_in_step)
    page.resize(1400, 900)
    host.show()
    try:
        page.tick()
        qtbot.waitUntil(lambda: bool(page.timeline.shown_panels()))
        page.tick()
        shown = page.timeline.x_range()[1]
        for _ in range(4):  # four reads at 5 Hz: the view stays where it is
            now[0] += 0.2
            page.tick()
            assert page.timeline.x_range()[1] == shown
        now[0] += LIVE_MOVE_S  # a second on: it catches up with the clock
        page.tick()
        assert page.timeline.x_range()[1] == pytest.approx(shown + 0.8 + LIVE_MOVE_S, abs=0.01)
    finally:
        page.shutdown()
        ctx.tasks.shutdown()


def test_following_live_each_move_of_the_view_paints_the_charts_once(qtbot) -> None:
    """Each move of the view repainted every chart twice: pyqtgraph set the views' new
    transforms in the first paint, which moved every item and asked for a second one."""
    from PyQt6.QtCore import QEvent, QObject

    from services.bootstrap import Diagnostics, Local
    from ui.context import AppContext
    from ui.pages.dashboard import DashboardPage
    from ui.pages.dashboard.feed import LIVE_MOVE_S, read_in_step
    from ui.worker import TaskRunner

    class Paints(QObject):
        count = 0

        def eventFilter(self, _obj: QObject | None, event: QEvent | None) -> bool:
            if event is not None and event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    now = [time.time()]
    store = MetricStore()
    fill(store, "web/latency_p95", now[0] - 600, now[0], lambda ts: np.full(ts.size, 0.05))
    fill(store, "web/request_rate", now[0] - 600, now[0], lambda ts: np.full(ts.size, 9.0))
    ctx = AppContext(services=Services(SimpleNamespace(name="x", alerts=()), store),
                     tasks=TaskRunner(), diagnostics=Diagnostics(), local=Local())
    host = QWidget()
    qtbot.add_widget(host)
    host.resize(1400, 900)
    page = DashboardPage(ctx, host, clock=lambda: now[0], reads=read_in_step)
    page.resize(1400, 900)
    host.show()
    paints = Paints()
    try:
        page.tick()
        qtbot.waitUntil(lambda: len(page.timeline.shown_panels()) == 2)
        page.tick()
        qtbot.wait(100)
        viewport = page.timeline.viewport()
        assert viewport is not None
        viewport.installEventFilter(paints)
        shown = page.timeline.x_range()[1]
        now[0] += LIVE_MOVE_S
        page.tick()
        qtbot.wait(80)
        assert page.timeline.x_range()[1] == pytest.approx(shown + LIVE_MOVE_S, abs=0.01)
        assert paints.count == 1
    finally:
        page.shutdown()
        ctx.tasks.shutdown()
