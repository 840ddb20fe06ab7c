"""The composition root: one function builds the console's services from a profile."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from console.domain import summarise_sources
from console.profile import Profile, SecretRef
from services.local.local_files import describe_write_error

if TYPE_CHECKING:
    import requests

    from services.shop.demo_control import DemoControl

log = logging.getLogger(__name__)

RELOAD_HISTORY_S = 86_400.0
#: How long stopping (quit, profile switch) waits for poller threads in a call that cannot
#: be cut (HTTP calls are cut at once; closing the clients then ends a hung Redis call).
STOP_WAIT_S = 0.5


def data_dir(create: bool = True) -> Path:
    """Where the console keeps its own files (history, alert log)."""
    path = Path(platformdirs.user_data_dir("backroom", appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def profile_slug(name: str) -> str:
    """A file-name-safe form of a profile's name."""
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in name)
    return "-".join(part for part in cleaned.split("-") if part) or "profile"


@dataclass
class Services:
    """Everything the UI and the headless commands use for one profile.

    Built by :func:`build_services`; ``start()`` starts the poller, history writer and alert
    evaluator threads and ``stop()`` stops and joins them. Nothing here imports Qt.
    """

    profile: Profile
    store: Any
    poller: Any = None
    history: Any = None
    shop: Any = None
    alerts: Any = None
    alert_log: Any = None
    collectors: list[Any] = field(default_factory=list)
    directory: Path | None = None
    history_off: str | None = None
    """Why the history could not be opened, in words for the window (None: it was)."""
    demo_control: DemoControl | None = None
    """The demo shop's scenario switches and event log (built for the demo profile only)."""
    _demo_session: requests.Session | None = None
    _started: bool = False
    _stopped: bool = False

    def start(self) -> None:
        """Start polling, history and alerts; a no-op once :meth:`stop` has run (the GUI
        starts services after the window's first paint, which may come after a quick profile
        switch or quit has already stopped them: they must not come back to life then)."""
        if self._started or self._stopped:
            return
        self._started = True
        if self.history is not None:
            path = self.history.path
            try:
                self.history.start()
            except Exception as err:
                # e.g. a file of another format: live charts go on without a history
                log.error("history is off: %s", err)
                self.history_off = (f"History is off: {describe_write_error(err, path)}. "
                                    "Live charts go on, but nothing is kept for after a "
                                    "restart.")
                self.history = None
                if self.poller is not None:
                    self.poller.history = None
            else:
                self._reload_history()
        if self.poller is not None:
            self.poller.start()
        if self.alerts is not None:
            self.alerts.start()

    def _reload_history(self) -> None:
        """Charts show the last day at once: put the stored day back into the store."""
        started = time.perf_counter()
        count = 0
        try:
            for series, ts, values in self.history.load(time.time() - RELOAD_HISTORY_S):
                self.store.append_many(series, ts, values)
                count += len(ts)
        except Exception:
            log.exception("could not reload history; starting with empty charts")
            return
        log.info("reloaded %d samples of history in %.0f ms", count,
                 (time.perf_counter() - started) * 1000)

    def storage_problems(self) -> list[str]:
        """What is wrong with the console's own files (history, alert log) and what to do,
        for the window; empty when all is well. Safe to call from the GUI thread."""
        problems: list[str] = []
        history = self.history_off or (self.history.problem if self.history is not None
                                       else None)
        if history:
            problems.append(history)
        alert_problem = getattr(self.alert_log, "problem", None)
        if alert_problem:
            problems.append(f"The alert history is not kept: {alert_problem}.")
        return problems

    def health_summary(self) -> tuple[str, str]:
        """(state, words) for the overall status light: firing alerts first, then sources."""
        if self.alerts is not None:
            return tuple(self.alerts.health_summary())  # type: ignore[return-value]
        return summarise_sources(self.poller.statuses() if self.poller is not None else ())

    def stop(self) -> None:
        self._stopped = True
        if not self._started:
            self._close_clients()
            return
        self._started = False
        if self.alerts is not None:
            self.alerts.stop()
        if self.poller is not None:
            self.poller.stop(timeout=STOP_WAIT_S)
        if self.history is not None:
            self.history.stop()
        self._close_clients()

    def _close_clients(self) -> None:
        for collector in self.collectors:
            try:
                collector.close()
            except Exception:
                log.debug("closing %s failed", getattr(collector, "name", collector))
        close = getattr(self.shop, "close", None)
        if callable(close):
            close()
        if self._demo_session is not None:
            self._demo_session.close()


def _resolver(masking: Any) -> Callable[[SecretRef], str]:
    """resolve_secret, also telling the log's masking filter every secret it hands out."""
    from services.local.secrets import resolve_secret

    def resolve(ref: SecretRef) -> str:
        value = resolve_secret(ref)
        if masking is not None:
            masking.add_secret(value)
        return value

    return resolve


def build_services(profile: Profile, *, directory: Path | None = None, history: bool = True,
                   poll: bool = True, masking: Any = None, demo: bool = False) -> Services:
    """Build store, collectors, poller, history, alerts and the shop repository for a profile
    (and, for the demo shop's profile, ``demo=True``, the demo shop's control)."""
    from console.redaction import profile_secrets
    from console.store import MetricStore
    from services.collectors import build_collectors
    from services.collectors.database import attach_statement_history
    from services.monitoring.alert_log import AlertLog
    from services.monitoring.alerting import AlertService
    from services.monitoring.history_writer import History
    from services.monitoring.poller import Poller

    # made when the history and the alert log open: a folder that cannot be made turns them
    # off with the reason in the window, the console goes on
    directory = directory or data_dir(create=False)
    resolve = _resolver(masking)
    if masking is not None:  # literals and what the URLs hold; resolve adds the rest
        masking.add_secrets(profile_secrets(profile))
    store = MetricStore()
    collectors = build_collectors(profile, resolve=resolve) if poll else []
    attach_statement_history(collectors, directory / "statements.sqlite" if history else None,
                             profile.name)
    slug = profile_slug(profile.name)
    # opened when the services start (after the window paints, in the GUI)
    hist = History(directory / f"history-{slug}.sqlite", lazy=True) if history else None
    limits = {s.name: s.max_series for s in profile.sources}
    poller = Poller(collectors, store, hist, series_limits=limits) if poll else None
    alert_log = AlertLog(directory / "alerts.sqlite", profile=profile.name)
    alerts = AlertService.from_profile(profile, store, poller, alert_log)
    shop = build_shop(profile, resolve=resolve)
    demo_control, demo_session = build_demo_control(profile) if demo else (None, None)
    return Services(profile=profile, store=store, poller=poller, history=hist, shop=shop,
                    alerts=alerts, alert_log=alert_log, collectors=collectors,
                    directory=directory, demo_control=demo_control,
                    _demo_session=demo_session)


def build_demo_control(profile: Profile) -> tuple[DemoControl | None, requests.Session]:
    """The demo shop's control (None without a back end) and the session it talks over,
    which the caller closes."""
    import requests

    from services.shop.demo_control import control_for_profile

    session = requests.Session()
    return control_for_profile(profile, session), session


def build_shop(profile: Profile, prefer: str = "api",
               resolve: Callable[[SecretRef], str] | None = None) -> Any:
    """The shop repository: the REST API when the profile has a back end, else direct SQL."""
    from services.local.secrets import SecretError
    from services.shop import make_repository

    resolve = resolve or _resolver(None)
    backend, database = profile.backend, profile.database
    try:
        token = resolve(backend.token) if backend is not None and backend.token else None
        db_password = (resolve(database.password)
                       if database is not None and database.password else None)
    except SecretError as err:
        log.warning("shop repository not available: %s", err)
        return None
    verify: bool | str = True
    if backend is not None:
        verify = backend.ca_bundle or backend.verify_tls
    return make_repository(
        base_url=backend.base_url if backend else None, token=token, verify=verify,
        timeout=backend.timeout_s if backend else 10.0,
        db_url=database.url if database else None, db_password=db_password,
        db_map=database.map if database else None,
        prefer="sql" if prefer == "sql" else "api")
