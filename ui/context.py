"""What every page is given: the active profile's services, the tools, the task runner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PyQt6.QtCore import QSettings

from ui.worker import TaskRunner

if TYPE_CHECKING:
    from collections.abc import Iterable

    from console.domain import NamedState
    from console.profile import Profile
    from console.store import MetricStore
    from services.bootstrap import Diagnostics, Local
    from services.monitoring.alert_log import AlertLog
    from services.monitoring.alerting import AlertService
    from services.monitoring.history_writer import History
    from services.monitoring.poller import SourceStatus
    from services.shop.demo_control import DemoControl
    from services.shop.repository import ShopRepository


class SourceStates(Protocol):
    """The poller as the UI reads it: each source's state."""

    def statuses(self) -> list[SourceStatus]: ...


class ActiveServices(Protocol):
    """What the UI uses of the active profile's :class:`services.bootstrap.Services`
    (read-only: the root owns them, starts and stops them)."""

    @property
    def profile(self) -> Profile: ...
    @property
    def store(self) -> MetricStore: ...
    @property
    def poller(self) -> SourceStates | None: ...
    @property
    def history(self) -> History | None: ...
    @property
    def shop(self) -> ShopRepository | None: ...
    @property
    def alerts(self) -> AlertService | None: ...
    @property
    def alert_log(self) -> AlertLog | None: ...
    @property
    def demo_control(self) -> DemoControl | None: ...
    def storage_problems(self) -> list[str]: ...
    def health_summary(self, sources: Iterable[NamedState] | None = None) -> tuple[str, str]: ...


class StartingServices:
    """The active profile's services while they are built, after the window's first paint:
    the profile and its metric store (the pages' charts hold it already); nothing else yet.
    The window and its pages say "starting" rather than "none" while these are in place."""

    starting = True
    poller: SourceStates | None = None
    history: History | None = None
    shop: ShopRepository | None = None
    alerts: AlertService | None = None
    alert_log: AlertLog | None = None
    demo_control: DemoControl | None = None

    def __init__(self, profile: Profile, store: MetricStore) -> None:
        self.profile = profile
        self.store = store
        self.failed = False
        """Building them failed (the status bar says why): the light says so."""

    def storage_problems(self) -> list[str]:
        return []

    def health_summary(self, sources: Iterable[NamedState] | None = None) -> tuple[str, str]:
        if self.failed:
            return "fail", "Sources not connected"
        return "unknown", "Starting…"


@dataclass
class AppContext:
    """The composition root's output as the UI sees it; pages take it, never a global.

    ``services`` are the active profile's (store, poller, history, shop repository,
    profile); ``tasks`` runs blocking calls off the GUI thread; ``diagnostics`` and ``local``
    are the one-off checks and this computer's folders, keychain and files, all built by the
    root (``ui.app``). A page reads what it needs through the properties below, which give
    None for what these services do not have (a test's services may have only a few).
    """

    services: ActiveServices
    tasks: TaskRunner
    diagnostics: Diagnostics
    local: Local
    is_demo: bool = False
    """The embedded demo shop is open (its scenario panel and markers show)."""
    settings: QSettings | None = None
    """The console's own preferences (None: ``ui.app.settings()``)."""

    @property
    def profile(self) -> Profile:
        return self.services.profile

    @property
    def starting(self) -> bool:
        """The services are still being built (the window paints first): what they will
        have (a shop, a poller, alerts) is not there yet, which is not the same as absent."""
        return bool(getattr(self.services, "starting", False))

    @property
    def shop(self) -> ShopRepository | None:
        """The shop repository (bookings, orders, products) or None without a back end."""
        return getattr(self.services, "shop", None)

    @property
    def store(self) -> MetricStore | None:
        return getattr(self.services, "store", None)

    @property
    def poller(self) -> SourceStates | None:
        return getattr(self.services, "poller", None)

    @property
    def history(self) -> History | None:
        return getattr(self.services, "history", None)

    @property
    def alerts(self) -> AlertService | None:
        return getattr(self.services, "alerts", None)

    @property
    def demo_control(self) -> DemoControl | None:
        return getattr(self.services, "demo_control", None)
