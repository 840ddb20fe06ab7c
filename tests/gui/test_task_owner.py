"""Tasks belong to a widget: a shop switch while every page loads reaches no deleted widget."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PyQt6 import sip
from PyQt6.QtCore import QObject, QSettings
from PyQt6.QtWidgets import QApplication

from demo import DemoShop
from services.local.profiles import demo_profile
from ui.app import ConsoleApp
from ui.pages import registry

pytestmark = [pytest.mark.gui, pytest.mark.integration]

SLOW_MS = 2500


@pytest.fixture(scope="module")
def slow_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoShop]:
    """The demo shop with every /api/ call held for SLOW_MS: pages stay mid-load."""
    path = tmp_path_factory.mktemp("slow-shop") / "shop.sqlite3"
    with DemoShop(path, traffic=False, seed_scale=0.1, workers=1) as shop:
        shop.set_scenario(slow_endpoint="*", slow_ms=SLOW_MS)
        yield shop


def _qobjects_of(callback: Callable[..., Any]) -> list[QObject]:
    """The Qt objects a callback works on: its bound self, a partial's, its closure's."""
    seen: list[QObject] = []
    stack: list[Any] = [callback]
    while stack:
        fn = stack.pop()
        if isinstance(fn, functools.partial):
            stack.append(fn.func)
            continue
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, QObject):
            seen.append(owner)
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, QObject):
                seen.append(value)
            elif callable(value) and value is not fn:
                stack.append(value)
    return seen


def test_switching_shop_while_every_page_loads_reaches_no_deleted_widget(
        slow_shop: DemoShop, qapp: QApplication, qtbot, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / kind.lower()))
    folder = tmp_path / "config" / "backroom"
    folder.mkdir(parents=True)
    other = folder / "harbour.toml"
    other.write_text('name = "Harbour Café"\n', encoding="utf-8")
    prefs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    profile = demo_profile(slow_shop.base_url, slow_shop.token, slow_shop.db_path)
    app = ConsoleApp(qapp, prefs, demo_profile=profile)

    # Watch (without changing) every callback the pages hand to the runner: a callback called
    # while a Qt object it works on is deleted is what crashed the console.
    reached_deleted: list[str] = []
    real_run = app.tasks.run

    def watched(callback: Callable[..., Any] | None) -> Callable[..., Any] | None:
        if callback is None:
            return None

        def call(*args: Any) -> Any:
            gone = [type(o).__name__ for o in _qobjects_of(callback) if sip.isdeleted(o)]
            if gone:
                reached_deleted.append(f"{getattr(callback, '__qualname__', callback)}: {gone}")
            return callback(*args)

        return call

    handles: list[Any] = []

    def run(fn: Any, **kwargs: Any) -> Any:
        for key in ("on_success", "on_failure", "on_progress"):
            kwargs[key] = watched(kwargs.get(key))
        handles.append(real_run(fn, **kwargs))
        return handles[-1]

    monkeypatch.setattr(app.tasks, "run", run)
    try:
        with qtbot.captureExceptions() as exceptions:
            app.open(profile, is_demo=True, view="support")
            old = app.window
            # its services are built after the first paint; then every page can load
            qtbot.waitUntil(lambda: app.services is not None)
            for spec in registry.PAGES:
                old.show_page(spec.key)
            old.page("diagnostics").run_sweep()
            loading = [h for h in handles if not h.done]
            assert len(loading) >= 5, [h.name for h in loading]
            app.switch_profile(str(other.resolve()))
            assert app.window is not old
            # The old shop's loads are cancelled at the switch, not left to run on.
            assert [h.name for h in loading if not h.cancelled] == []
            qtbot.waitUntil(lambda: sip.isdeleted(old), timeout=5000)
            # The old shop's calls come back now; nothing of theirs may reach the old pages.
            qtbot.waitUntil(lambda: app.tasks.active() == 0, timeout=SLOW_MS * 4 + 10_000)
        assert [f"{e[0].__name__}: {e[1]}" for e in exceptions] == []
        assert reached_deleted == []
        qtbot.waitUntil(lambda: app.services is not None)
        assert app.services.profile.name == "Harbour Café"
        # The new shop works: its pages open.
        app.window.show_page("bookings")
        assert app.window.current_page_key() == "bookings"
    finally:
        window = app.window
        app.shutdown()
        if window is not None:
            window.close()
            window.deleteLater()
