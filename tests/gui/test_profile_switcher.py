"""The top bar's profile switcher: shops listed by name, the open one shown, switching works."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent, QSettings
from PyQt6.QtWidgets import QApplication

from services.local.profiles import load_profile
from ui.app import ConsoleApp

pytestmark = pytest.mark.gui


@pytest.fixture
def console(qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / kind.lower()))
    folder = tmp_path / "config" / "backroom"
    folder.mkdir(parents=True)
    (folder / "a-bistro.toml").write_text('name = "Main Street Bistro"\n', encoding="utf-8")
    (folder / "b-harbour.toml").write_text('name = "Harbour Café"\n', encoding="utf-8")
    prefs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    app = ConsoleApp(qapp, prefs)
    yield app, folder
    window = app.window
    app.shutdown()
    if window is not None:
        window.close()
        window.deleteLater()


def items(app: ConsoleApp) -> list[str]:
    box = app.window.top_bar.profiles
    return [box.itemText(i) for i in range(box.count())]


def test_switcher_lists_shops_by_name_and_shows_the_open_one(console, qtbot) -> None:
    app, folder = console
    app.open(load_profile(folder / "a-bistro.toml"), is_demo=False)
    assert items(app) == ["Main Street Bistro", "Harbour Café"]
    assert app.window.top_bar.profiles.currentText() == "Main Street Bistro"


def test_choosing_another_shop_opens_it(console, qtbot) -> None:
    app, folder = console
    app.open(load_profile(folder / "a-bistro.toml"), is_demo=False)
    first = app.window
    box = app.window.top_bar.profiles
    index = box.findText("Harbour Café")
    box.setCurrentIndex(index)
    box.activated.emit(index)  # what a user's pick in the list sends
    qtbot.waitUntil(lambda: app.window is not first)
    # the services are built after the window's first paint
    qtbot.waitUntil(lambda: app.services is not None)
    assert app.services.profile.name == "Harbour Café"
    assert app.window.top_bar.profiles.currentText() == "Harbour Café"
    assert items(app) == ["Main Street Bistro", "Harbour Café"]


def test_a_profile_opened_from_elsewhere_is_listed_under_its_name(console, tmp_path) -> None:
    app, _folder = console
    outside = tmp_path / "elsewhere.toml"
    outside.write_text('name = "Pop-up Kitchen"\n', encoding="utf-8")
    app.open(load_profile(outside), is_demo=False)
    assert items(app) == ["Main Street Bistro", "Harbour Café", "Pop-up Kitchen"]
    assert app.window.top_bar.profiles.currentText() == "Pop-up Kitchen"
    # Picking it again changes nothing: no rebuild of the open shop.
    window = app.window
    app.switch_profile(str(outside.resolve()))
    assert app.window is window


def test_switching_then_quitting_at_once_leaves_no_thread_behind(console, qtbot) -> None:
    """The new shop's services start on a zero timer; quitting before it fires must not let
    them start afterwards with nobody left to stop them."""
    app, folder = console
    app.open(load_profile(folder / "a-bistro.toml"), is_demo=False)
    qtbot.waitUntil(lambda: app.services is not None and app.services._started)
    app.switch_profile(str((folder / "b-harbour.toml").resolve()))
    app.shutdown()  # before the event loop has run the new services' start
    qtbot.wait(300)
    left = [t.name for t in threading.enumerate()
            if t.name.startswith(("poller-", "history-writer", "alerts-"))]
    assert not left, left


def test_the_demo_is_offered_when_a_real_shop_is_open_and_starts_when_picked(
        qapp: QApplication, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    from demo import DemoShop
    from services.local.profiles import demo_profile

    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / kind.lower()))
    folder = tmp_path / "config" / "backroom"
    folder.mkdir(parents=True)
    (folder / "a-bistro.toml").write_text('name = "Main Street Bistro"\n', encoding="utf-8")
    made: list[DemoShop] = []

    def demo_on_demand():  # what main.py passes: a real demo shop, made when picked
        shop = DemoShop(tmp_path / "demo.sqlite", port=0, traffic=False)
        shop.reserve()
        made.append(shop)
        return demo_profile(shop.base_url, shop.token, shop.db_path), \
            shop.start_in_background, shop.stop

    prefs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    app = ConsoleApp(qapp, prefs, demo_on_demand=demo_on_demand)
    try:
        app.open(load_profile(folder / "a-bistro.toml"), is_demo=False)
        assert items(app) == ["Demo shop", "Main Street Bistro"]
        assert made == []  # nothing started until it is picked
        box = app.window.top_bar.profiles
        box.setCurrentIndex(0)
        box.activated.emit(0)
        qtbot.waitUntil(lambda: app.services is not None
                        and app.services.profile.name == "Demo shop", timeout=10_000)
        assert len(made) == 1
        url = made[0].base_url
        qtbot.waitUntil(lambda: _serves(requests, url), timeout=30_000)
        assert app.window.top_bar.profiles.currentText() == "Demo shop"
    finally:
        window = app.window
        app.shutdown()
        if window is not None:
            window.close()
            window.deleteLater()
    assert not _serves(requests, url)  # stopped with the console


def _serves(requests, url: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return requests.get(url + "/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_the_window_of_a_shop_switched_away_from_is_freed(console, qtbot) -> None:
    """The open window's objects are kept out of the collector's sight (gc.freeze) once its
    services are built; switching shop thaws them, so the closed window is freed, and
    freezes the new one's."""
    app, folder = console
    app.open(load_profile(folder / "a-bistro.toml"), is_demo=False)
    qtbot.waitUntil(lambda: app.services is not None)
    assert gc.get_freeze_count() > 0, "the open shop's objects are frozen"
    first = weakref.ref(app.window)
    app.switch_profile(str((folder / "b-harbour.toml").resolve()))
    qtbot.waitUntil(lambda: app.services is not None)
    assert app.services.profile.name == "Harbour Café"
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert first() is None, "the closed shop's window was freed"
    assert gc.get_freeze_count() > 0
    app.shutdown()
    assert gc.get_freeze_count() == 0, "quitting thaws what was frozen"
