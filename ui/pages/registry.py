"""The console's pages: key, title, icon, which views show them, and how to build each."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from PyQt6.QtWidgets import QWidget

from ui.context import AppContext
from ui.pages.placeholder import PlaceholderPage

log = logging.getLogger(__name__)

MANAGER = "manager"
SUPPORT = "support"


@dataclass(frozen=True, slots=True)
class PageSpec:
    """One entry of the navigation rail; ``target`` is 'module:Class' built lazily.
    ``before_services``: the page can be built while the profile's services are still being
    built (the window's first frame), and reads them when its ``services_ready()`` is
    called; any other page is built once they are there."""

    key: str
    title: str
    icon: str
    target: str
    views: frozenset[str]
    before_services: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("today", "Today", "fa5s.calendar-day", "ui.pages.today:TodayPage",
             frozenset({MANAGER, SUPPORT}), before_services=True),
    PageSpec("dashboard", "Dashboard", "fa5s.chart-line", "ui.pages.dashboard:DashboardPage",
             frozenset({SUPPORT}), before_services=True),
    PageSpec("bookings", "Bookings", "fa5s.book-open", "ui.pages.bookings:BookingsPage",
             frozenset({MANAGER, SUPPORT})),
    PageSpec("floor", "Floor", "fa5s.chair", "ui.pages.floor:FloorPage",
             frozenset({MANAGER, SUPPORT})),
    PageSpec("orders", "Orders", "fa5s.receipt", "ui.pages.orders:OrdersPage",
             frozenset({MANAGER, SUPPORT})),
    PageSpec("products", "Products", "fa5s.box", "ui.pages.products:ProductsPage",
             frozenset({MANAGER, SUPPORT})),
    PageSpec("past_days", "Past days", "fa5s.chart-bar", "ui.pages.past_days:PastDaysPage",
             frozenset({MANAGER})),
    PageSpec("diagnostics", "Diagnostics", "fa5s.stethoscope",
             "ui.pages.diagnostics:DiagnosticsPage", frozenset({SUPPORT})),
    PageSpec("alerts", "Alerts", "fa5s.bell", "ui.pages.alerts:AlertsPage",
             frozenset({SUPPORT})),
    PageSpec("overview", "All shops", "fa5s.store", "ui.pages.overview:OverviewPage",
             frozenset({SUPPORT})),
    PageSpec("settings", "Settings", "fa5s.cog", "ui.pages.settings:SettingsPage",
             frozenset({MANAGER, SUPPORT})),
)


def spec(key: str) -> PageSpec:
    for page in PAGES:
        if page.key == key:
            return page
    raise KeyError(key)


def build_page(page: PageSpec, ctx: AppContext) -> QWidget:
    """Build a page; a page whose module is not in this build becomes a placeholder."""
    module_name, _, class_name = page.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        log.info("page %s not available: %s", page.key, exc)
        return PlaceholderPage(page.title, f"The {page.title} page is not part of this build yet.")
    factory: Callable[..., QWidget] = getattr(module, class_name)
    return factory(ctx)
