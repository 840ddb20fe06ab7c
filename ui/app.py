"""Starts the Qt application on a profile: theme, services, the main window, timed quit."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6 import sip
from PyQt6.QtCore import QObject, QSettings, QTimer, pyqtSignal
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QApplication, QWidget

from ui.first_paint import after_first_paint
from ui.plain_text import warn
from ui.preferences import settings

if TYPE_CHECKING:
    from console.profile import Profile
    from console.store import MetricStore
    from services.bootstrap import Diagnostics, Services
    from services.local.logsetup import SecretMaskingFilter
    from ui.main_window import MainWindow
    from ui.tray import AlertNotifier
    from ui.worker import TaskState

log = logging.getLogger(__name__)

DEMO_ENTRY = ""
DEMO_NAME = "Demo shop"
StartDemo = Callable[[Callable[[BaseException | None], None]], None]
DemoOnDemand = Callable[[], tuple["Profile", StartDemo, Callable[[], None]]]
#: How long a thread keeps the GIL once another asks for it (CPython's default: 5 ms).
GIL_SWITCH_S = 0.001


class ConsoleApp(QObject):
    """Owns the active profile's services and its main window; switches profiles."""

    sig_demo_ready = pyqtSignal(object)
    """Emitted (from the demo's start thread; delivered on the GUI thread) with None once the
    embedded demo shop serves, or with the error that stopped it."""

    def __init__(self, app: QApplication, prefs: QSettings, *,
                 masking: SecretMaskingFilter | None = None,
                 demo_profile: Profile | None = None,
                 start_demo: Callable[[Callable[[BaseException | None], None]], None] | None
                 = None, demo_on_demand: DemoOnDemand | None = None) -> None:
        super().__init__(app)
        self._start_demo = start_demo
        #: Opened on a real shop: makes the embedded demo shop when it is picked in the
        #: switcher (its profile, how to start it, how to stop it).
        self._demo_on_demand = demo_on_demand
        self._stop_demo: Callable[[], None] | None = None
        self.sig_demo_ready.connect(self._demo_ready)
        from ui.worker import TaskRunner

        self.app = app
        self.prefs = prefs
        self.masking = masking
        self.demo_profile = demo_profile
        self.tasks = TaskRunner(self)
        self.diagnostics: Diagnostics | None = None  # one for every profile opened
        self.services: Services | None = None
        """The open window's services; None until they are built (after its first paint)."""
        self._unadopted: list[Services] = []
        """Services built on a worker thread whose window has not taken them yet."""
        self._waiting_for_demo = False
        self._closing = False
        self._switched = False  # a window was closed since the heap was last frozen
        self.window: MainWindow | None = None
        self.notifier: AlertNotifier | None = None

    def open(self, profile: Profile, *, is_demo: bool, first_run: bool = False,
             view: str | None = None, page: str | None = None,
             broken_profile: tuple[str, str] | None = None) -> None:
        """Show ``profile``'s main window, then build its services off the GUI thread.

        The window paints first (rail, top bar, the page it opens on) on a metric store and
        the profile alone; collectors, poller, history, alerts and the shop repository are
        built once it has painted, on a worker thread, and handed to its pages when done
        (:meth:`_services_built`). The embedded demo shop, when it is still to start, starts
        then too; the services start once both are ready."""
        from console.store import MetricStore
        from services.bootstrap import Diagnostics, Local
        from ui.context import AppContext, StartingServices
        from ui.main_window import MainWindow

        store = MetricStore()
        if self.diagnostics is None:
            self.diagnostics = Diagnostics()
        ctx = AppContext(services=StartingServices(profile, store), tasks=self.tasks,
                         diagnostics=self.diagnostics, local=Local(), is_demo=is_demo,
                         settings=self.prefs)
        window = MainWindow(ctx, self.prefs, is_demo=is_demo, first_run=first_run, view=view,
                            broken_profile=broken_profile)
        window.sig_page_built.connect(self._wire_page)
        for key, built in window.built_pages():  # the page it opened on was built already
            self._wire_page(key, built)
        window.top_bar.set_profiles(self._profile_entries(), _entry_of(profile, is_demo),
                                    profile.name)
        window.sig_profile_chosen.connect(self.switch_profile)
        if page:
            window.show_page(page)
        window.show()
        self.services, self.window, self.notifier = None, window, None
        self._waiting_for_demo = self._start_demo is not None
        after_first_paint(window, lambda: self._after_paint(window, profile, store, is_demo))

    def _after_paint(self, window: MainWindow, profile: Profile, store: MetricStore,
                     is_demo: bool) -> None:
        """The window has painted: start the demo shop if it is still to start, and build
        the profile's services on a worker thread (imports and clients: a tenth of a
        second or more, which the first frame does not wait for)."""
        if window is not self.window or self._closing:
            return  # switched away or quit before the first paint: nothing to build
        if self._start_demo is not None:
            start_demo, self._start_demo = self._start_demo, None
            start_demo(self.sig_demo_ready.emit)
        from services.bootstrap import build_services
        from ui.context import StartingServices

        masking, built = self.masking, self._unadopted

        def build(_state: TaskState) -> Services:
            services = build_services(profile, masking=masking, demo=is_demo, store=store)
            built.append(services)  # stopped at quit if its window never takes it
            return services

        def failed(exc: BaseException) -> None:
            log.error("the services of %s could not be built", profile.name, exc_info=exc)
            if window is not self.window:
                return
            if isinstance(window.ctx.services, StartingServices):
                window.ctx.services.failed = True
            window.update_source_states()
            self.show_problem(f"The console could not connect its sources: {exc}. "
                              "See the log.")

        self.tasks.run(build, owner=None, name="build-services",
                       on_success=lambda services: self._services_built(window, services),
                       on_failure=failed)

    def _services_built(self, window: MainWindow, services: Services) -> None:
        """The services are built: hand them to the window's pages, and start them once the
        demo shop (if any) serves. A window closed or switched away meanwhile: stop them."""
        from ui.tray import AlertNotifier

        with contextlib.suppress(ValueError):
            self._unadopted.remove(services)
        if window is not self.window or sip.isdeleted(window) or self._closing:
            services.stop()
            return
        days = _int_pref(self.prefs, "alerts/retention_days", 30)
        if services.alerts is not None:
            services.alerts.retention_s = days * 86_400.0
        self.services = services
        window.ctx.services = services
        self.notifier = AlertNotifier(services.alerts, window, icon=_app_icon())
        self.notifier.sig_open_alerts.connect(lambda: window.show_page("alerts"))
        window.services_ready()
        if not self._waiting_for_demo:
            services.start()
        self._freeze_heap()

    def _freeze_heap(self) -> None:
        """What the open window and its services hold while they are open (Qt wrappers,
        pyqtgraph items, the profile) leaves the cyclic collector's sight (``gc.freeze``):
        each full collection scanned those 200,000 objects, ~95 ms of the GUI thread, and
        found nothing to free there. A profile switch thaws them (:meth:`switch_profile`),
        and the closed window's cycles are collected before the new window's are frozen."""
        if self._switched:
            self._switched = False
            gc.collect()
        gc.freeze()

    def _demo_ready(self, error: BaseException | None) -> None:
        self._waiting_for_demo = False
        if error is not None:
            log.error("the demo shop could not start: %s", error)
            if self.window is not None:
                self.window.statusBar().showMessage(
                    f"The demo shop could not start: {error}. See the log.")
            return
        if self.services is not None:
            self.services.start()  # a no-op once they were stopped or started already

    def _wire_page(self, key: str, widget: QWidget) -> None:
        """Connect what a page offers to the rest of the app (pages never reach for globals)."""
        if key == "overview":
            from ui.pages.overview import OverviewPage  # imported already: the page is built

            if isinstance(widget, OverviewPage):
                widget.sig_open_shop.connect(self.open_shop)
            return
        if key != "settings":
            return
        from ui.pages.settings import SettingsPage  # imported already: the page is built

        if isinstance(widget, SettingsPage):
            widget.sig_open_profile.connect(self.switch_profile)
            widget.sig_profile_saved.connect(self._refresh_profile_list)
            widget.console_settings.sig_theme_changed.connect(self._theme_changed)

    def _theme_changed(self, _choice: str) -> None:
        if self.window is not None:
            self.window.theme_changed()

    def _refresh_profile_list(self, _path: str = "") -> None:
        if self.window is not None:
            self._show_current_profile()

    def _show_current_profile(self) -> None:
        if self.window is None:
            return
        profile = self.window.ctx.profile
        is_demo = self.window.ctx.is_demo
        self.window.top_bar.set_profiles(self._profile_entries(), _entry_of(profile, is_demo),
                                         profile.name)

    def _profile_entries(self) -> list[tuple[str, str]]:
        from services.local.profiles import list_profiles, profile_label

        entries = [(profile_label(path), str(path.resolve())) for path in list_profiles()]
        if self.demo_profile is not None:
            entries.insert(0, (self.demo_profile.name, DEMO_ENTRY))
        elif self._demo_on_demand is not None:
            entries.insert(0, (DEMO_NAME, DEMO_ENTRY))  # started when it is picked
        return entries

    def switch_profile(self, path: str) -> None:
        """Close the current shop and open another; a bad profile leaves the current one."""
        from console.profile import ProfileError
        from services.local.profiles import load_profile

        if path == DEMO_ENTRY:
            if self.demo_profile is None and self._demo_on_demand is not None:
                self.demo_profile, self._start_demo, self._stop_demo = self._demo_on_demand()
                self._demo_on_demand = None
            if self.demo_profile is None:
                return
            profile, is_demo = self.demo_profile, True
        else:
            try:
                profile, is_demo = load_profile(Path(path)), False
            except (ProfileError, OSError) as exc:
                problems = "\n".join(getattr(exc, "problems", [])) or str(exc)
                warn(self.window, "Cannot open this profile",
                     f"{path} could not be opened:\n{problems}\n\n"
                     "Fix it in Settings, then pick it again.")
                self._show_current_profile()
                return
        old_window, old_services = self.window, self.services
        if old_window is None:
            return  # nothing is open yet (open() comes first)
        # old_services is None while they are still being built: they stop when they come
        current, was_demo = old_window.ctx.profile, old_window.ctx.is_demo
        if _entry_of(profile, is_demo) == _entry_of(current, was_demo) and profile == current:
            return  # the shop that is open, unchanged: nothing to rebuild
        if self.notifier is not None:
            self.notifier.stop()
        # The old shop's loads are of no use now: cancel them (their callbacks are dropped).
        self.tasks.cancel_owned_by(old_window)
        self.open(profile, is_demo=is_demo, view=getattr(old_window, "view", None))
        old_window.close()
        old_window.deleteLater()
        if old_services is not None:
            old_services.stop()
        gc.unfreeze()  # the closed window's objects can be collected again
        self._switched = True

    def open_shop(self, key: str, group: str) -> None:
        """A row of All shops: that shop's profile (the switcher's key), on its dashboard; a
        site of a grouped source is shown there alone where the dashboard can."""
        self.switch_profile(key)
        window = self.window
        if window is None or _entry_of(window.ctx.profile, window.ctx.is_demo) != key:
            return  # the profile could not be opened: the switch said why
        window.show_page("dashboard")
        focus = getattr(window.page("dashboard"), "focus_group", None)
        if group and callable(focus):
            focus(group)

    def show_problem(self, text: str) -> None:
        """One line about something that went wrong, in the open window's status bar."""
        if self.window is not None and not sip.isdeleted(self.window):
            self.window.statusBar().showMessage(text)

    def shutdown(self) -> None:
        self._closing = True
        if getattr(self, "notifier", None) is not None:
            self.notifier.stop()
        self.tasks.shutdown()
        for services in self._unadopted:  # built after the event loop ended: never started
            services.stop()
        self._unadopted.clear()
        if self.diagnostics is not None:
            self.diagnostics.close()
        if self.services is not None:
            self.services.stop()
        if self._stop_demo is not None:
            stop, self._stop_demo = self._stop_demo, None
            stop()
        gc.unfreeze()  # the window's objects go with it


def _entry_of(profile: Profile, is_demo: bool) -> str:
    """The switcher's key for a profile: its file's path, or '' for the demo shop."""
    if is_demo:
        return DEMO_ENTRY
    return str(Path(profile.origin).resolve()) if profile.origin else profile.name


def _int_pref(prefs: QSettings, key: str, default: int) -> int:
    try:
        return int(prefs.value(key, default))
    except (TypeError, ValueError):
        return default


def _app_icon() -> QIcon:
    icon_path = Path(__file__).resolve().parent.parent / "resources" / "icons" / "backroom.svg"
    return QIcon(str(icon_path)) if icon_path.exists() else QIcon()


def share_the_gil() -> None:
    """The GUI thread gets the GIL back within a millisecond of asking, not five: the
    poller's threads parse a big page for seconds, and the GUI thread asks at every return
    from Qt into Python (a page of 100,000 queues: worst wait 61-98 -> 22-53 ms)."""
    sys.setswitchinterval(GIL_SWITCH_S)


def run_gui(profile: Profile, *, is_demo: bool = False, first_run: bool = False,
            page: str | None = None, quit_after: float | None = None,
            screenshot: Path | None = None, view: str | None = None,
            masking: SecretMaskingFilter | None = None,
            start_demo: Callable[[Callable[[BaseException | None], None]], None] | None = None,
            broken_profile: tuple[Path, str] | None = None,
            demo_on_demand: DemoOnDemand | None = None) -> int:
    """Open the main window on ``profile`` and run the event loop; returns the exit status.
    ``start_demo`` starts the embedded demo shop in the background once the window has
    painted, calling back when it serves. ``broken_profile``: (path, fault) of the user's
    profile that could not be opened (the demo opens instead, and its banner says so)."""
    from services.local.logsetup import log_dir
    from ui import theme
    from ui.uncaught import install_excepthook

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    share_the_gil()
    app.setApplicationName("Backroom")
    app.setOrganizationName("backroom")
    app.setDesktopFileName("backroom")
    app.setWindowIcon(_app_icon())
    prefs = settings()
    theme.apply(app, str(prefs.value("appearance/theme", "system")))

    console = ConsoleApp(app, prefs, masking=masking, demo_profile=profile if is_demo else None,
                         start_demo=start_demo, demo_on_demand=demo_on_demand)
    restore_excepthook = install_excepthook(console.show_problem, log_dir() / "backroom.log")
    broken = (str(broken_profile[0]), broken_profile[1]) if broken_profile else None
    console.open(profile, is_demo=is_demo, first_run=first_run, view=view, page=page,
                 broken_profile=broken)

    if quit_after is not None:
        def finish() -> None:
            window = console.window
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                if not window.grab().save(str(screenshot)):
                    log.error("could not save the screenshot to %s", screenshot)
            window.close()
            app.quit()

        QTimer.singleShot(int(quit_after * 1000), finish)
    try:
        status = app.exec()
    finally:
        console.shutdown()
        restore_excepthook()
    return int(status)
