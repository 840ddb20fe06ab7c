"""The thin main window: top bar, navigation rail, a stack of pages, the status bar."""

from __future__ import annotations

import logging
from typing import ClassVar

from PyQt6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent, QShowEvent
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain import summarise_sources
from ui import icons
from ui.context import AppContext
from ui.pages import registry
from ui.plain_text import plain_label
from ui.shortcuts import HelpMenu
from ui.theme import FAIL
from ui.widgets.demo_banner import DemoBanner
from ui.widgets.nav_rail import NavRail
from ui.widgets.source_states import SourceStates
from ui.widgets.storage_notice import StorageNotice
from ui.widgets.top_bar import TopBar

log = logging.getLogger(__name__)


#: Pages with charts that are coloured when built (rebuilt when the theme changes).
CHARTED_PAGES = ("dashboard", "today")


class MainWindow(QMainWindow):
    """Composes the page widgets; holds no business logic of its own."""

    sig_page_changed = pyqtSignal(str)
    """Emitted with the key of the page now shown."""
    sig_add_shop = pyqtSignal()
    """Emitted when the user asks to add their own shop (from the demo banner)."""
    sig_profile_chosen = pyqtSignal(str)
    """Emitted with a profile path chosen in the top bar's switcher."""
    sig_page_built = pyqtSignal(str, QWidget)
    """Emitted with (key, widget) when a page is built, so the app can wire its signals."""

    _open: ClassVar[set[MainWindow]] = set()
    """The windows on screen, each kept from when it is shown until it is closed. A window
    has no Qt parent: its Python object owns it, and reference cycles (its callbacks) leave
    it to the garbage collector once whoever opened it lets go. The collector runs at any
    allocation, so it deleted an unreferenced open window in the middle of painting it (a
    segfault inside pyqtgraph's AxisItem.paint); closed, nothing paints it."""

    def __init__(self, ctx: AppContext, settings: QSettings, *, is_demo: bool = False,
                 first_run: bool = False, view: str | None = None,
                 broken_profile: tuple[str, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._settings = settings
        self._pages: dict[str, QWidget] = {}
        self._after_start: str | None = None
        """The page chosen while the services were being built, shown once they are."""
        profile = ctx.profile
        self.setWindowTitle(f"Backroom — {profile.name}")
        self.setMinimumSize(960, 600)

        self.top_bar = TopBar(profile.name)
        self.top_bar.sig_view_changed.connect(self.set_view)
        self.top_bar.sig_profile_chosen.connect(self.sig_profile_chosen)
        self.banner: DemoBanner | None = None
        if is_demo:
            self.banner = DemoBanner(first_run, broken=broken_profile)
            self.banner.sig_add_shop.connect(self.sig_add_shop)
            self.banner.sig_add_shop.connect(lambda: self.show_page("settings"))
            self.banner.sig_fix_profile.connect(self.show_profile_in_settings)
        self.storage_notice = StorageNotice()

        self.rail = NavRail()
        for page in registry.PAGES:
            self.rail.add_page(page.key, page.title, icons.icon(page.icon, "#5b6573"))
        self.help_menu = HelpMenu(self, refresh=self.refresh_current, search=self._focus_search,
                                  sweep=self._run_sweep, go_to=self._go_to_position)
        menu_bar = self.menuBar()
        assert menu_bar is not None
        menu_bar.addMenu(self.help_menu)
        self.rail.sig_page_chosen.connect(self._on_rail)
        self.stack = QStackedWidget()

        body = QWidget()
        body_layout = QHBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(0)
        body_layout.addWidget(self.rail)
        right = QVBoxLayout()
        right.setContentsMargins(12, 10, 12, 6)
        if self.banner is not None:
            right.addWidget(self.banner)
        right.addWidget(self.storage_notice)
        right.addWidget(self.stack, 1)
        body_layout.addLayout(right, 1)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.top_bar)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)

        self.profile_label = plain_label(f"Profile: {profile.name}")
        self.tls_warning = plain_label()
        self.tls_warning.setStyleSheet(f"color: {FAIL}; font-weight: 600;")
        self.tls_warning.setVisible(False)
        self.source_states = SourceStates()
        self.statusBar().addWidget(self.profile_label)
        self.statusBar().addWidget(self.tls_warning)
        self.statusBar().addPermanentWidget(self.source_states)
        self._show_tls_warning()

        self._state_timer = QTimer(self)
        self._state_timer.setInterval(1000)
        self._state_timer.timeout.connect(self.update_source_states)
        self._state_timer.start()

        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        size = settings.value("window/size")
        self.resize(size if isinstance(size, QSize) and size.isValid() else QSize(1400, 900))
        start_view = view or str(settings.value("window/view", getattr(profile, "role", "support")
                                                or "support"))
        self.set_view(start_view if start_view in ("manager", "support") else "support")
        last = str(settings.value("window/page", "dashboard"))
        self.show_page(last if last in self.rail.visible_keys() else self.rail.visible_keys()[0])
        self.update_source_states()

    # -- pages -------------------------------------------------------------------------------

    def page(self, key: str) -> QWidget:
        """The page widget for ``key``, built on first use."""
        widget = self._pages.get(key)
        if widget is None:
            widget = registry.build_page(registry.spec(key), self.ctx)
            widget.setObjectName(widget.objectName() or "page")
            self._pages[key] = widget
            self.stack.addWidget(widget)
            self.sig_page_built.emit(key, widget)
        return widget

    def built_pages(self) -> list[tuple[str, QWidget]]:
        """The pages built so far, as (key, widget)."""
        return list(self._pages.items())

    def current_page_key(self) -> str | None:
        return self.rail.current_key()

    def show_page(self, key: str) -> None:
        if key not in self.rail.visible_keys():  # to the view that has it (Support, else Manager)
            views = registry.spec(key).views
            self.set_view(registry.SUPPORT if registry.SUPPORT in views else registry.MANAGER)
        if self.rail.current_key() != key:
            self.rail.select(key)  # comes back through _on_rail
        else:
            self._on_rail(key)

    def _on_rail(self, key: str) -> None:
        if self.ctx.starting and key not in self._pages \
                and not registry.spec(key).before_services:
            self._after_start = key  # built once the services are (services_ready)
            return
        self._after_start = None
        widget = self.page(key)
        self.stack.setCurrentWidget(widget)
        on_shown = getattr(widget, "on_shown", None)
        if callable(on_shown):
            on_shown()
        self._settings.setValue("window/page", key)
        self.sig_page_changed.emit(key)

    def services_ready(self) -> None:
        """The profile's services are built (they come after the first paint): the pages
        built before them read them now, and a page asked for meanwhile is built."""
        for widget in list(self._pages.values()):
            ready = getattr(widget, "services_ready", None)
            if callable(ready):
                ready()
        if self._after_start is not None and self._after_start == self.rail.current_key():
            self._on_rail(self._after_start)
        self.update_source_states()

    def set_view(self, view: str) -> None:
        """Manager view shows the manager's pages; Support the support staff's."""
        keys = {p.key for p in registry.PAGES if view in p.views}
        self.rail.set_visible_keys(keys)
        titles = {p.key: p.title for p in registry.PAGES}
        self.help_menu.set_pages([titles[k] for k in self.rail.visible_keys()])
        self.top_bar.set_view(view)
        self._settings.setValue("window/view", view)
        self.view = view
        current = self.rail.current_key()
        if current is not None and current not in keys:
            self.rail.select(self.rail.visible_keys()[0])

    def _go_to_position(self, position: int) -> None:
        """Ctrl+N: the N-th page of the rail as the current view shows it."""
        keys = self.rail.visible_keys()
        if 1 <= position <= len(keys):
            self.show_page(keys[position - 1])

    def refresh_current(self) -> None:
        widget = self.stack.currentWidget()
        refresh = getattr(widget, "refresh", None)
        if callable(refresh):
            refresh()

    def theme_changed(self) -> None:
        """The theme was switched: pages whose charts took their colours when built (the
        dashboard's and Today's pyqtgraph plots ignore the stylesheet) are built again, so
        nothing stays white on dark until a restart."""
        current = self.rail.current_key()
        for key in CHARTED_PAGES:
            widget = self._pages.pop(key, None)
            if widget is None:
                continue
            shutdown = getattr(widget, "shutdown", None)
            if callable(shutdown):
                shutdown()
            self.stack.removeWidget(widget)
            widget.deleteLater()
        if current in CHARTED_PAGES:
            self._on_rail(current)

    def show_profile_in_settings(self, path: str) -> None:
        """Open Settings on the profile file at ``path`` (one that needs fixing)."""
        self.show_page("settings")
        show_profile = getattr(self.page("settings"), "show_profile", None)
        if callable(show_profile):
            show_profile(path)

    def _focus_search(self) -> None:
        focus = getattr(self.stack.currentWidget(), "focus_search", None)
        if callable(focus):
            focus()

    def _run_sweep(self) -> None:
        self.show_page("diagnostics")
        run = getattr(self.page("diagnostics"), "run_sweep", None)
        if callable(run):
            run()

    # -- status -------------------------------------------------------------------------------

    def _show_tls_warning(self) -> None:
        profile = self.ctx.profile
        off = []
        backend = getattr(profile, "backend", None)
        if backend is not None and not getattr(backend, "verify_tls", True):
            off.append("back end")
        for source in getattr(profile, "sources", ()):
            if not getattr(source, "verify_tls", True):
                off.append(source.name)
        if off:
            self.tls_warning.setText("TLS verification OFF: " + ", ".join(off))
            self.tls_warning.setVisible(True)

    def update_source_states(self) -> None:
        """Read the poller's per-source states (thread-safe) into the chips and the light,
        and what is wrong with the console's own files into the notice."""
        if self.ctx.starting:  # the services are being built: what they say meanwhile
            self.top_bar.light.set_state(*self.ctx.services.health_summary())
            return
        storage_problems = getattr(self.ctx.services, "storage_problems", None)
        if callable(storage_problems):
            self.storage_notice.set_problems(storage_problems())
        poller = getattr(self.ctx.services, "poller", None)
        if poller is None:
            self.top_bar.light.set_state("unknown", "No live sources in this profile")
            return
        from console.own_cost import OWN_SOURCE  # imported by the services by now

        statuses = list(poller.statuses())
        self.source_states.update_states(  # the console's own cost source: not the shop's
            (s.name, str(s.state), s.last_error or "") for s in statuses
            if s.name != OWN_SOURCE)
        summary = getattr(self.ctx.services, "health_summary", None)
        state, words = summary(statuses) if callable(summary) else summarise_sources(statuses)
        self.top_bar.light.set_state(state, words)

    # -- lifetime ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent | None) -> None:
        MainWindow._open.add(self)
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent | None) -> None:
        MainWindow._open.discard(self)
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/size", self.size())
        self._state_timer.stop()
        for widget in self._pages.values():
            shutdown = getattr(widget, "shutdown", None)
            if callable(shutdown):
                shutdown()
        super().closeEvent(event)


__all__ = ["MainWindow", "Qt"]
