"""The Diagnostics page's Redis and Celery tabs as a user sees them: read off the GUI thread,
outside text shown as text, evictions charted from the store, a purge that names the queue and
its depth."""

from __future__ import annotations

import os
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QMainWindow

from console import metrics
from console.domain import Reading, series_name
from console.profile import Profile, parse_profile
from console.store import MetricStore
from services.bootstrap import Diagnostics, Local
from services.collectors.celery_redis import KOMBU_SEP
from services.diagnostics.celery_inside import (
    CELERY_MISSING,
    IDLE_ADVICE,
    CeleryInside,
    CeleryReadings,
    EventWindow,
    TaskInfo,
    TaskRate,
    WorkerInfo,
    broker_of,
)
from tests.integration.local_servers import redis_server
from ui.context import AppContext
from ui.pages.diagnostics import DiagnosticsPage
from ui.widgets.celery_inside import CeleryInsideView
from ui.widgets.redis_inside import RedisInsideView
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

#: Where to save what the tabs looked like (docs/screenshots when refreshing the docs).
SHOTS = os.environ.get("BACKROOM_SHOTS")


@pytest.fixture
def runner(qapp: QApplication) -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    assert tasks.shutdown(8000)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


def _profile(url: str, kind: str = "redis", queues: str = "") -> Profile:
    return parse_profile(tomllib.loads(f"""
name = "bistro"
[[sources]]
name = "{'cache' if kind == 'redis' else 'broker'}"
kind = "{kind}"
url = "{url}"
timeout_s = 3
{f'queues = [{queues}]' if queues else ''}
"""))


def _page(qtbot, runner: TaskRunner, profile: Profile, store: MetricStore) -> DiagnosticsPage:
    services = SimpleNamespace(profile=profile, store=store, poller=None)
    page = DiagnosticsPage(AppContext(services=services, tasks=runner,
                                      diagnostics=Diagnostics(), local=Local()))
    window = QMainWindow()
    window.resize(1280, 760)
    window.setCentralWidget(page)
    qtbot.addWidget(window)
    window.show()
    page.test_window = window  # type: ignore[attr-defined]
    return page


def _tab(page: DiagnosticsPage, title: str) -> object:
    index = next(i for i in range(page.tabs.count()) if page.tabs.tabText(i) == title)
    page.tabs.setCurrentIndex(index)
    return page.tabs.widget(index)


def _cells(model: object) -> list[list[str]]:
    return [[model.index(r, c).data() for c in range(model.columnCount())]  # type: ignore[attr-defined]
            for r in range(model.rowCount())]  # type: ignore[attr-defined]


def test_redis_tab_reads_off_the_gui_thread_and_charts_evictions(
        qtbot, runner: TaskRunner, private_redis: str) -> None:
    admin = redis.Redis.from_url(private_redis, socket_timeout=5)
    admin.config_set("slowlog-log-slower-than", "0")
    app = redis.Redis.from_url(private_redis, socket_timeout=5)
    app.client_setname("bistro-web")
    pipe = app.pipeline(transaction=False)
    for n in range(3000):
        pipe.set(f"session:{uuid.UUID(int=n)}", "s" * 900, ex=3600)
    for n in range(1500):
        pipe.rpush(f"cart:{n}:items", "soup", "bread")
    for n in range(600):
        pipe.set(f"menu:<b>{n}</b>", "soup")
    pipe.execute()
    app.get("menu:<b>1</b>")
    store = MetricStore()
    now = time.time()
    store.append([Reading(series_name("cache", metrics.EVICTIONS_RATE), now - 600 + 10 * i,
                          float(i % 7)) for i in range(60)]
                 + [Reading(series_name("cache", metrics.EXPIRIES_RATE), now - 600 + 10 * i,
                            2.0 + (i % 5)) for i in range(60)])
    page = _page(qtbot, runner, _profile(private_redis), store)
    view = _tab(page, "Redis")
    assert isinstance(view, RedisInsideView)
    assert view.source_combo.currentText() == "cache"
    started = time.monotonic()
    view.refresh()
    assert time.monotonic() - started < 0.2  # the GUI thread did not wait for Redis
    qtbot.waitUntil(lambda: view.readings.sources != (), timeout=10_000)

    slow = _cells(view.slowlog)
    assert any(row[2] == "GET menu:<b>1</b>" and "bistro-web" in row[3] for row in slow)
    clients = _cells(view.clients)
    assert any(row[1] == "bistro-web" and row[5] == "get" for row in clients)
    assert any(row[0].endswith("(this console)") for row in clients)
    patterns = {row[0]: row for row in _cells(view.patterns)}
    assert set(patterns) == {"session:*", "cart:*:items", "menu:<b>*</b>"}  # uuids collapsed
    assert _cells(view.patterns)[0][0] == "session:*"  # the most memory first
    # the sample's cap
    assert sum(int(row[1].replace(",", "")) for row in patterns.values()) == 2000
    assert sum(float(row[3].replace(",", "")) for row in patterns.values()) == \
        pytest.approx(5100, abs=2)  # scaled to the database
    assert view.sample_note.text().startswith(
        "A sample of 2,000 of 5,100 keys in db0 (39.2%): the first keys SCAN gave")
    assert "never KEYS" in view.sample_note.text()
    assert view.sample_note.textFormat() == Qt.TextFormat.PlainText
    keyspace = _cells(view.keyspace)
    assert keyspace == [["db0 (this source)", "5,100", "3,000", keyspace[0][3]]]
    assert keyspace[0][3].endswith(("min", "h 0 min", "59 min"))
    assert "noeviction" in view.summary.text()

    view.tabs.setCurrentIndex(4)
    assert view.show_chart(now) == 120
    assert "evicted" in view.chart_note.text()
    if SHOTS:
        for tab, name in ((2, "diagnostics-redis"), (0, "diagnostics-redis-slowlog"),
                          (4, "diagnostics-redis-evictions")):
            view.tabs.setCurrentIndex(tab)
            qtbot.wait(50)  # the layout settles before the picture
            assert page.grab().save(str(Path(SHOTS) / f"{name}.png"))
    app.close()
    admin.close()


def test_redis_tab_without_readings_says_so(qtbot, runner: TaskRunner) -> None:
    page = _page(qtbot, runner, _profile("redis://127.0.0.1:1/0"), MetricStore())
    view = _tab(page, "Redis")
    assert isinstance(view, RedisInsideView)
    assert view.show_chart() == 0
    assert "No readings yet" in view.chart_note.text()
    view.refresh()
    qtbot.waitUntil(view.error.isVisible, timeout=10_000)
    assert view.error.text().startswith("cache: cannot connect to Redis at redis://127.0.0.1:1/0")


def _celery_page(qtbot, runner: TaskRunner, url: str, queues: str = '"orders"') -> CeleryInsideView:
    page = _page(qtbot, runner, _profile(url, "celery-redis", queues), MetricStore())
    view = _tab(page, "Celery")
    assert isinstance(view, CeleryInsideView)
    return view


def test_purge_names_the_queue_and_its_depth_and_asks_first(
        qtbot, runner: TaskRunner, private_redis: str) -> None:
    client = redis.Redis.from_url(private_redis, socket_timeout=5)
    client.lpush("orders", *[f"task-{n}" for n in range(7)])
    client.lpush(f"orders{KOMBU_SEP}3", *[f"urgent-{n}" for n in range(3)])
    view = _celery_page(qtbot, runner, private_redis)
    assert view.queue_combo.currentText() == "orders"
    asked: list[str] = []
    view.confirm = lambda _parent, title, text: asked.append(title + "\n" + text) or False
    view.ask_purge()
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert "“orders”" in asked[0] and "10 tasks" in asked[0]
    assert client.llen("orders") == 7  # said no: nothing deleted
    assert view.message.text() == "Nothing purged from orders."

    view.confirm = lambda _parent, title, text: asked.append(text) or True
    qtbot.waitUntil(view.purge_button.isEnabled, timeout=5_000)
    view.ask_purge()
    qtbot.waitUntil(lambda: view.message.text().startswith("Purged"), timeout=10_000)
    assert view.message.text() == "Purged 10 tasks from orders on broker."
    assert client.exists("orders", f"orders{KOMBU_SEP}3") == 0
    client.close()


def test_without_celery_the_tab_says_how_to_install_it(
        qtbot, runner: TaskRunner, private_redis: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "celery", None)
    view = _celery_page(qtbot, runner, private_redis)
    view.refresh()
    qtbot.waitUntil(view.error.isVisible, timeout=10_000)
    assert view.error.text() == CELERY_MISSING


def test_celery_tab_shows_workers_tasks_and_rates_as_text(qtbot, runner: TaskRunner) -> None:
    url = "redis://127.0.0.1:6379/11"
    view = _celery_page(qtbot, runner, url, '"orders", "mail"')
    profile_source = view._profile.sources[0]
    broker = broker_of(profile_source, None)
    now = time.time()
    tasks = (
        TaskInfo("w1@shop-1", "active", "5c0f…", "shop.tasks.send_receipt",
                 "'<script>alert(1)</script>', retry=True", now - 75, "mail"),
        TaskInfo("w1@shop-1", "active", "9a1e…", "shop.tasks.resize_image", "1042", now - 4,
                 "orders"),
        TaskInfo("w1@shop-1", "reserved", "77b2…", "shop.tasks.resize_image", "1043", None,
                 "orders"),
        TaskInfo("w2@shop-2", "active", "e3d4…", "shop.tasks.sync_stock", "", now - 12,
                 "orders"),
    )
    inside = CeleryInside("broker", broker.where, (
        WorkerInfo("w1@shop-1", "prefork", 4, 18_204, ("orders", "mail"), 2, 1),
        WorkerInfo("w2@shop-2", "prefork", 4, 9_877, ("orders",), 1, 0)),
        tasks, ("orders", "mail"), 1.1)
    view.show_readings(CeleryReadings(((broker, inside),)))
    assert _cells(view.workers)[0] == ["w1@shop-1", "prefork", "4", "2", "1", "18,204",
                                       "orders, mail"]
    rows = _cells(view.task_rows)
    assert rows[0][3] == "'<script>alert(1)</script>', retry=True"
    assert rows[0][4] == "1 min" and rows[2][4] == ""
    assert "2 workers answered the ping" in view.message.text()
    assert [view.queue_combo.itemText(i) for i in range(view.queue_combo.count())] == \
        ["orders", "mail"]

    view.show_events(EventWindow(10.0, 3, (), (), ("w2@shop-2",), 41,
                                 "Task events are off on w2@shop-2: …"))
    assert "off on w2@shop-2" in view.rates_note.text()
    view.show_events(EventWindow(10.0, 0, (), (), (), 0, IDLE_ADVICE))
    assert IDLE_ADVICE in view.rates_note.text()
    view.show_events(EventWindow(10.0, 96, ("w1@shop-1", "w2@shop-2"), (
        TaskRate("shop.tasks.resize_image", 20, 19, 1, 0, 19 * 0.42, 10.0),
        TaskRate("shop.tasks.send_receipt", 9, 9, 0, 0, 9 * 1.3, 10.0),
        TaskRate("(received before the window)", 0, 3, 0, 0, 3 * 0.2, 10.0)), (), 32))
    rates = _cells(view.rates)
    assert rates[0] == ["shop.tasks.resize_image", "20", "19", "1", "120.0", "420 ms"]
    assert "96 task events from w1@shop-1, w2@shop-2" in view.rates_note.text()
    if SHOTS:
        qtbot.wait(50)
        page = view.parentWidget()
        while page is not None and not isinstance(page, DiagnosticsPage):
            page = page.parentWidget()
        assert page is not None and page.grab().save(str(Path(SHOTS) / "diagnostics-celery.png"))
