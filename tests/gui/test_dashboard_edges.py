"""The dashboard's edge cases: no latency source, many sources, many queues, crowded labels."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from console.domain import SourceState, series_name
from console.store import MetricStore
from tests.gui.test_dashboard import FakePoller, Services, fill, make_page, settled, status

pytestmark = pytest.mark.gui
__all__ = ["make_page"]


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
    settled(qtbot, page, lambda: tile.spark.isVisible())


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
