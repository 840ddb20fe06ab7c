"""The main window shell: navigation, views, shortcuts, remembered page and geometry, states."""

from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PyQt6 import sip
from PyQt6.QtCore import QEvent, QObject, QSettings, Qt
from PyQt6.QtWidgets import QApplication

from console.domain import SourceState
from console.profile import Profile
from console.store import MetricStore
from services.bootstrap import Diagnostics, Local
from services.monitoring.poller import SourceStatus
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


def status(name: str, state: SourceState, error: str = "") -> SourceStatus:
    return SourceStatus(name=name, kind="http", state=state, last_ok_ts=None, last_error=error,
                        last_latency_s=None, next_due=0.0)


@dataclass
class FakePoller:
    states: list[SourceStatus] = field(default_factory=list)

    def statuses(self) -> list[SourceStatus]:
        return list(self.states)


@dataclass
class FakeServices:
    profile: Profile
    poller: FakePoller
    store: MetricStore = field(default_factory=MetricStore)
    shop: object = None


@pytest.fixture
def prefs(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, qapp: QApplication, prefs: QSettings):
    runners: list[TaskRunner] = []

    def make(poller: FakePoller | None = None, **kwargs) -> MainWindow:
        runner = TaskRunner()
        runners.append(runner)
        services = FakeServices(Profile(name="Main Street Bistro"), poller or FakePoller())
        window = MainWindow(AppContext(services=services, tasks=runner,
                                       diagnostics=Diagnostics(), local=Local()), prefs, **kwargs)
        qtbot.addWidget(window)
        window.show()
        return window

    yield make
    for runner in runners:
        runner.shutdown()


def test_rail_lists_every_page_and_switches_the_stack(make_window) -> None:
    window = make_window()
    assert window.rail.visible_keys() == ["today", "dashboard", "bookings", "floor", "orders",
                                          "products", "diagnostics", "alerts", "overview",
                                          "settings"]
    window.rail.select("orders")
    assert window.current_page_key() == "orders"
    assert window.stack.currentWidget() is window.page("orders")


def test_ctrl_number_jumps_to_a_page(qtbot, make_window) -> None:
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "diagnostics"
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "bookings"


def press(qtbot, window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, key, modifiers)


def test_ctrl_number_follows_the_rail_of_the_current_view(qtbot, make_window) -> None:
    window = make_window()
    window.top_bar.manager_button.click()
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "bookings"  # the manager's 2nd page, not the Dashboard
    press(qtbot, window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "floor"
    press(qtbot, window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "settings"
    press(qtbot, window, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)  # no 8th page here
    assert window.current_page_key() == "settings" and window.view == "manager"
    assert window.rail.item(2).toolTip() == "Bookings (Ctrl+2)"


def test_ctrl_r_refreshes_like_f5_and_the_sweep_has_its_own_keys(qtbot, make_window) -> None:
    window = make_window()
    window.show_page("today")
    refreshed: list[str] = []
    window.page("today").refresh = lambda: refreshed.append("today")  # what F5 calls
    press(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, window, Qt.Key.Key_F5, Qt.KeyboardModifier.NoModifier)
    assert refreshed == ["today", "today"]
    assert window.current_page_key() == "today"
    swept: list[bool] = []
    window.page("diagnostics").run_sweep = lambda: swept.append(True)
    press(qtbot, window, Qt.Key.Key_D,
          Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.current_page_key() == "diagnostics" and swept == [True]


def test_the_help_menu_lists_the_shortcuts_of_the_current_view(make_window) -> None:
    window = make_window()
    window.top_bar.manager_button.click()
    listing = window.help_menu.listing()
    assert "Refresh this page (F5 or Ctrl+R)\tF5 or Ctrl+R" in listing
    assert "Search this page\tCtrl+F" in listing
    assert "Run the diagnostic sweep\tCtrl+Shift+D" in listing
    assert [line for line in listing if line.startswith("Go to")] == [
        "Go to Today\tCtrl+1", "Go to Bookings\tCtrl+2", "Go to Floor\tCtrl+3",
        "Go to Orders\tCtrl+4", "Go to Products\tCtrl+5", "Go to Past days\tCtrl+6",
        "Go to Settings\tCtrl+7"]
    window.top_bar.support_button.click()
    assert "Go to Dashboard\tCtrl+2" in window.help_menu.listing()
    menu_bar = window.menuBar()
    assert menu_bar is not None and window.help_menu.menuAction() in menu_bar.actions()


def lightness(widget) -> float:
    image = widget.grab().toImage()
    step = 7
    values = [image.pixelColor(x, y).lightness() for x in range(0, image.width(), step)
              for y in range(0, image.height(), step)]
    return sum(values) / len(values)


@pytest.mark.parametrize("key", ["dashboard", "today"])
def test_switching_the_theme_recolours_the_charts_at_once(qtbot, qapp, make_window,
                                                          key: str) -> None:
    from ui import theme

    sheet, palette = qapp.styleSheet(), qapp.palette()
    try:
        theme.apply(qapp, "light")
        window = make_window()
        window.show_page(key)
        light = lightness(window.stack.currentWidget())
        theme.apply(qapp, "dark")
        window.theme_changed()  # what Settings' theme choice calls
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page(key))
        dark = lightness(window.stack.currentWidget())
        assert window.current_page_key() == key
        # the charts were white on dark: now the page as a whole is dark
        assert dark < 100 < light, (light, dark)
    finally:
        qapp.setStyleSheet(sheet)
        qapp.setPalette(palette)


class CollectOnPaint(QObject):
    """Runs the garbage collector as a paint begins, as an allocation in pyqtgraph's paint
    code may."""

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.Paint:
            gc.collect()
        return False


def collect_while_painting(window: MainWindow, collect: CollectOnPaint) -> None:
    for chart in (window.page("today").bookings_chart, window.page("today").orders_chart):
        chart.viewport().installEventFilter(collect)


def test_an_open_window_outlives_every_reference_to_it(qtbot, make_window) -> None:
    """The collector deleted a window nobody referred to any more in the middle of painting
    its charts (a segfault in AxisItem.paint); open, it stays; closed, it can go."""
    collect = CollectOnPaint()
    window = make_window()
    window.show_page("today")
    collect_while_painting(window, collect)
    kept = weakref.ref(window)
    del window
    for _ in range(3):  # the charts rebuilt by a theme switch, painted unreferenced again
        gc.collect()
        window = kept()
        assert window is not None and not sip.isdeleted(window)
        window.theme_changed()
        collect_while_painting(window, collect)
        del window
        qtbot.wait(50)
    window = kept()
    assert window is not None
    window.close()
    del window
    gc.collect()
    assert kept() is None


def test_manager_view_hides_support_pages(make_window) -> None:
    window = make_window()
    window.show_page("dashboard")
    window.top_bar.manager_button.click()
    assert window.rail.visible_keys() == ["today", "bookings", "floor", "orders", "products",
                                          "past_days",
                                          "settings"]
    assert window.current_page_key() == "today"
    window.top_bar.support_button.click()
    assert "diagnostics" in window.rail.visible_keys()


def test_last_page_and_view_are_remembered(make_window, prefs: QSettings) -> None:
    first = make_window()
    first.show_page("products")
    first.close()
    second = make_window()
    assert second.current_page_key() == "products"


def test_geometry_is_remembered(make_window) -> None:
    first = make_window()
    first.resize(1111, 777)
    first.close()
    second = make_window()
    assert (second.width(), second.height()) == (1111, 777)


def test_status_light_and_chips_follow_the_poller(make_window) -> None:
    poller = FakePoller([status("web", SourceState.UP), status("cache", SourceState.UP)])
    window = make_window(poller)
    assert window.top_bar.light.text() == "All normal"
    assert window.top_bar.light.state == "ok"
    poller.states[1] = status("cache", SourceState.DOWN, "Connection refused by 127.0.0.1:6379")
    window.update_source_states()
    assert window.top_bar.light.state == "fail"
    assert window.top_bar.light.text() == "cache down"
    assert window.source_states.state_of("cache") == "down"
    # the error is in words beside the chip, not only on hover
    chip = window.source_states._chips["cache"]
    assert "Connection refused by 127.0.0.1:6379" in chip.text()
    assert "Connection refused" not in window.source_states._chips["web"].text()


def test_demo_banner_offers_to_add_a_shop(qtbot, make_window) -> None:
    window = make_window(is_demo=True, first_run=True)
    assert window.banner is not None and window.banner.isVisible()
    assert "demo shop" in window.banner.label.text()
    with qtbot.waitSignal(window.sig_add_shop, timeout=1000):
        window.banner.add_button.click()
    assert window.current_page_key() == "settings"


def test_no_banner_on_a_real_shop(make_window) -> None:
    assert make_window().banner is None


def test_a_broken_profile_is_named_in_the_banner_and_opens_in_settings(
        qtbot, make_window, prefs: QSettings, tmp_path: Path) -> None:
    """The user's default.toml is not TOML: the console runs on the demo, its banner names
    the file and the fault, and "Fix it in Settings" opens that file in the editor with the
    fault said above the form."""
    broken = tmp_path / "profiles" / "default.toml"
    broken.parent.mkdir()
    broken.write_text('name = "Main Street Bistro"\na = ' + "[" * 100_000, encoding="utf-8")
    fault = f"profile {broken} is not valid: default.toml: not valid TOML: nested too deeply"
    window = make_window(is_demo=True, first_run=False, broken_profile=(str(broken), fault))
    window.ctx.local = Local(profiles_dir=broken.parent)
    window.ctx.settings = prefs
    assert window.banner is not None and window.banner.isVisible()
    words = window.banner.label.text()
    assert str(broken) in words and "nested too deeply" in words and "demo shop" in words
    assert window.banner.label.textFormat() == Qt.TextFormat.PlainText
    assert not window.banner.add_button.isVisible()

    window.banner.fix_button.click()
    assert window.current_page_key() == "settings"
    settings = window.page("settings")
    assert settings.names() == ["default  ⚠"]
    assert settings.editor.path == broken
    assert settings.editor.message.isVisible()
    assert "nested too deeply" in settings.editor.message.text()


def test_the_window_says_history_is_off_and_what_to_do(qtbot, qapp, prefs: QSettings,
                                                       tmp_path: Path) -> None:
    """Another program's database sits where the history goes: the console goes on, and the
    window (not only the log) says the history is off, why, and what to do."""
    import sqlite3

    from services.bootstrap import build_services, profile_slug

    profile = Profile(name="Main Street Bistro")
    foreign = tmp_path / f"history-{profile_slug(profile.name)}.sqlite"
    conn = sqlite3.connect(foreign)
    with conn:
        conn.execute("create table customers (id integer primary key, name text)")
    conn.close()
    services = build_services(profile, directory=tmp_path, poll=False)
    runner = TaskRunner()
    window = MainWindow(AppContext(services=services, tasks=runner,
                                   diagnostics=Diagnostics(), local=Local()), prefs)
    qtbot.addWidget(window)
    window.show()
    try:
        assert not window.storage_notice.isVisible()
        services.start()
        qtbot.waitUntil(window.storage_notice.isVisible, timeout=3000)
        words = window.storage_notice.label.text()
        assert words.startswith(f"History is off: {foreign} is another program's database")
        assert "move the file aside" in words and "Live charts go on" in words
        assert window.storage_notice.label.textFormat() == Qt.TextFormat.PlainText
    finally:
        services.stop()
        runner.shutdown()


def test_a_manager_page_opened_from_support_switches_to_the_manager_view(make_window) -> None:
    window = make_window()
    window.top_bar.support_button.click()
    assert "past_days" not in window.rail.visible_keys()
    window.show_page("past_days")
    assert window.view == "manager" and window.current_page_key() == "past_days"
