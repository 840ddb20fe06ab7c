"""The composition root: one function builds the console's services from a profile."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)


def data_dir() -> Path:
    """Where the console keeps its own files (history, alert log)."""
    path = Path(platformdirs.user_data_dir("backroom", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _slug(name: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in name).strip("-")
    return "-".join(part for part in cleaned.split("-") if part) or "profile"


@dataclass
class Services:
    """Everything the UI and the headless commands use for one profile.

    Built by :func:`build_services`; ``start()`` starts the poller and history writer threads
    and ``stop()`` stops and joins them. Nothing here imports Qt.
    """

    profile: Any
    store: Any
    poller: Any = None
    history: Any = None
    shop: Any = None
    collectors: list[Any] = field(default_factory=list)
    alerts: Any = None
    _started: bool = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.history is not None:
            self.history.start()
            self._reload_history()
        if self.poller is not None:
            self.poller.start()

    def _reload_history(self) -> None:
        """Charts show the last day at once: put the stored day back into the store."""
        import time

        try:
            for series, ts, values in self.history.load(time.time() - 86_400):
                self.store.append_many(series, ts, values)
        except Exception:
            log.exception("could not reload history; starting with empty charts")

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        if self.poller is not None:
            self.poller.stop()
        if self.history is not None:
            self.history.stop()
        for collector in self.collectors:
            try:
                collector.close()
            except Exception:
                log.debug("closing %s failed", getattr(collector, "name", collector))
        close = getattr(self.shop, "close", None)
        if callable(close):
            close()


def build_services(profile: Any, *, directory: Path | None = None, history: bool = True,
                   poll: bool = True) -> Services:
    """Build store, collectors, poller, history and the shop repository for ``profile``."""
    from console.store import MetricStore
    from services.collectors import build_collectors
    from services.history import History
    from services.poller import Poller

    directory = directory or data_dir()
    store = MetricStore()
    collectors = build_collectors(profile) if poll else []
    hist = History(directory / f"history-{_slug(profile.name)}.sqlite") if history else None
    poller = Poller(collectors, store, hist) if poll else None
    shop = build_shop(profile)
    return Services(profile=profile, store=store, poller=poller, history=hist, shop=shop,
                    collectors=collectors)


def build_shop(profile: Any, prefer: str = "api") -> Any:
    """The shop repository: the REST API when the profile has a back end, else direct SQL."""
    try:
        from services.shop import make_repository
    except ImportError:
        log.info("shop repository not available in this build")
        return None
    return make_repository(profile, prefer=prefer)
