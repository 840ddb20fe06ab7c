"""What every page is given: the active profile's services and the task runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ui.worker import TaskRunner


@dataclass
class AppContext:
    """The composition root's output as the UI sees it; pages take it, never a global.

    ``services`` is the :class:`services.bootstrap.Services` of the active profile (store,
    poller, history, shop repository, profile); ``tasks`` runs blocking calls off the GUI
    thread.
    """

    services: Any
    tasks: TaskRunner
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def profile(self) -> Any:
        return self.services.profile

    @property
    def shop(self) -> Any:
        """The shop repository (bookings, orders, products) or None without a back end."""
        return getattr(self.services, "shop", None)

    @property
    def store(self) -> Any:
        return getattr(self.services, "store", None)
