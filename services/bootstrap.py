"""The composition root: one function builds the console's services from a profile."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from console.changes import default_user
from console.domain import NamedState, summarise_sources
from console.profile import Profile, SecretRef
from services.local.local_files import describe_write_error

if TYPE_CHECKING:
    import requests

    from console.domain import Reading
    from console.report_charts import Chart
    from console.report_html import Section
    from console.store import MetricStore
    from services.collectors.base import Collector
    from services.diagnostics.celery_inside import CeleryTools
    from services.diagnostics.connection_check import ConnectionResult
    from services.diagnostics.database_live import DatabaseLiveTools
    from services.diagnostics.db_insights import DatabaseInsights
    from services.diagnostics.overview import ShopOverview
    from services.diagnostics.pyspy import PySpyTools
    from services.diagnostics.redis_inside import RedisTools
    from services.diagnostics.sweep import ProgressFn, SweepResult
    from services.local.logsetup import SecretMaskingFilter
    from services.monitoring.alert_log import AlertLog
    from services.monitoring.alerting import AlertService
    from services.monitoring.history_writer import History
    from services.monitoring.poller import Poller
    from services.shop.demo_control import DemoControl
    from services.shop.repository import ShopRepository

log = logging.getLogger(__name__)

RELOAD_HISTORY_S = 86_400.0
#: How long stopping (quit, profile switch) waits for poller threads in a call that cannot
#: be cut (HTTP calls are cut at once; closing the clients then ends a hung Redis call).
STOP_WAIT_S = 0.5
#: The statement history's file in the data folder (the database sources and views share it).
STATEMENT_HISTORY = "statements.sqlite"
#: How often the console's history writes: each flush rewrites the open chunk of every
#: series that got samples, so its cost is per flush (200 targets at 1 Hz: 14 % of a core
#: at 1 s, bench_idle_cost); a killed console loses at most this much of its history...
HISTORY_FLUSH_S = 5.0
#: ...or more where flushes cost more than this share of a core at that pace (thousands of
#: series: 200 targets at 1 Hz flushed every 5 s took 3-5 % of a core), up to
#: HISTORY_FLUSH_MAX_S. 0.005 since flushes encode many chunks at a time: 200 targets at
#: 1 Hz then wait 24-27 s (16-24 s at 0.01 before), the writer 0.6 % of a core, not 1.2 %.
HISTORY_FLUSH_SHARE = 0.005
HISTORY_FLUSH_MAX_S = 30.0


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


def history_path(profile_name: str, directory: Path | None = None) -> Path:
    """The file where the console keeps a profile's metric history (in the data folder)."""
    folder = directory if directory is not None else data_dir(create=False)
    return folder / f"history-{profile_slug(profile_name)}.sqlite"


@dataclass
class Services:
    """Everything the UI and the headless commands use for one profile.

    Built by :func:`build_services`; ``start()`` starts the poller, history writer and alert
    evaluator threads and ``stop()`` stops and joins them. Nothing here imports Qt.
    """

    profile: Profile
    store: MetricStore
    poller: Poller | None = None
    history: History | None = None
    shop: ShopRepository | None = None
    alerts: AlertService | None = None
    alert_log: AlertLog | None = None
    collectors: list[Collector] = field(default_factory=list)
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
                self._reload_history(self.history)
        if self.poller is not None:
            self.poller.start()
        if self.alerts is not None:
            self.alerts.start()

    def _reload_history(self, history: History) -> None:
        """Charts show the last day at once: put the stored day back into the store."""
        started = time.perf_counter()
        count = 0
        try:
            for series, ts, values in history.load(time.time() - RELOAD_HISTORY_S):
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

    def health_summary(self, sources: Iterable[NamedState] | None = None) -> tuple[str, str]:
        """(state, words) for the overall status light: firing alerts first, then sources
        (``sources``: the poller's statuses, when just read)."""
        if self.alerts is not None:
            return self.alerts.health_summary(sources)
        if sources is None:
            sources = self.poller.statuses() if self.poller is not None else ()
        return summarise_sources(sources)

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


def _resolver(masking: SecretMaskingFilter | None) -> Callable[[SecretRef], str]:
    """resolve_secret, also telling the log's masking filter every secret it hands out."""
    from services.local.secrets import resolve_secret

    def resolve(ref: SecretRef) -> str:
        value = resolve_secret(ref)
        if masking is not None:
            masking.add_secret(value)
        return value

    return resolve


def build_services(profile: Profile, *, directory: Path | None = None, history: bool = True,
                   poll: bool = True, masking: SecretMaskingFilter | None = None,
                   demo: bool = False, store: MetricStore | None = None) -> Services:
    """Build store, collectors, poller, history, alerts and the shop repository for a profile
    (and, for the demo shop's profile, ``demo=True``, the demo shop's control). ``store``:
    the metric store to fill (the GUI makes it before its first paint, for the charts)."""
    from console.redaction import profile_secrets
    from console.store import MetricStore
    from services.collectors import attach_statement_history, build_collectors
    from services.monitoring.alert_log import AlertLog
    from services.monitoring.alerting import AlertService
    from services.monitoring.history_writer import History
    from services.monitoring.own_cost import with_own_cost
    from services.monitoring.poller import Poller

    # made when the history and the alert log open: a folder that cannot be made turns them
    # off with the reason in the window, the console goes on
    directory = directory or data_dir(create=False)
    resolve = _resolver(masking)
    if masking is not None:  # literals and what the URLs hold; resolve adds the rest
        masking.add_secrets(profile_secrets(profile))
    store = store if store is not None else MetricStore()
    collectors = build_collectors(profile, resolve=resolve) if poll else []
    attach_statement_history(collectors, directory / STATEMENT_HISTORY if history else None,
                             profile.name)
    # opened when the services start (after the window paints, in the GUI)
    hist = History(history_path(profile.name, directory), lazy=True,
                   flush_interval_s=HISTORY_FLUSH_S, flush_share=HISTORY_FLUSH_SHARE,
                   max_flush_interval_s=HISTORY_FLUSH_MAX_S) if history else None
    limits = {s.name: s.max_series for s in profile.sources}
    polled, cost = with_own_cost(collectors)  # the console's own cost as series too
    poller = Poller(polled, store, hist, series_limits=limits, cost=cost) if poll else None
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
               resolve: Callable[[SecretRef], str] | None = None) -> ShopRepository | None:
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
        prefer="sql" if prefer == "sql" else "api", user=default_user(profile.user))


class Diagnostics:
    """The one-off checks the UI runs off the GUI thread, built by the root and handed to the
    pages: the sweep and what a report or bundle of it needs, the database views, "Test
    connection". Each imports its module when first called (they pull in SQLAlchemy)."""

    def run_sweep(self, profile: Profile, *, samples: int, progress: ProgressFn,
                  cancelled: Callable[[], bool], recent: Sequence[Reading]) -> SweepResult:
        from services.diagnostics.sweep import run_sweep

        return run_sweep(profile, samples=samples, progress=progress, cancelled=cancelled,
                         recent=recent)

    _overview: ShopOverview | None = None

    def shop_overview(self) -> ShopOverview:
        """The reader of every shop's summary (All shops, Compare's shops), one for as long
        as these diagnostics live (a profile switch keeps it, and its hour of reads);
        :meth:`close` closes it."""
        if self._overview is None:
            from services.diagnostics.overview import ShopOverview

            self._overview = ShopOverview()
        return self._overview

    def shop_overview_made(self) -> ShopOverview | None:
        """The reader of every shop if it was made already (None: no shop was read yet);
        asking does not import it, which a page's status tick need not pay for."""
        return self._overview

    def close(self) -> None:
        """Close what was opened for the UI (the shops' reader)."""
        if self._overview is not None:
            self._overview.close()
            self._overview = None

    def live_figures(self, store: MetricStore, profile: Profile) -> list[Reading]:
        """The store's latest figures the sweep's findings may use."""
        from services.diagnostics.sweep import live_figures

        return live_figures(store, profile)

    def report_sections(self, insights: Sequence[DatabaseInsights]) -> list[Section]:
        """The database views as sections of an exported report."""
        from services.diagnostics.sweep import report_sections

        return report_sections(insights)

    def write_bundle(self, path: Path, *, result: SweepResult, profile: Profile,
                     store: MetricStore | None, versions: Sequence[tuple[str, str]],
                     charts: Sequence[Chart]) -> Path:
        """Write the support bundle of a sweep (its report, the metrics, the console's log)."""
        from services.diagnostics.bundle import write_bundle
        from services.local.logsetup import log_dir

        return write_bundle(path, result=result, profile=profile, store=store,
                            log_dir=log_dir(), versions=versions,
                            sections=self.report_sections(result.insights), charts=charts)

    @property
    def statement_orderings(self) -> Mapping[str, str]:
        """How the top statements can be ordered: key -> words."""
        from services.diagnostics.db_insights import ORDERINGS

        return ORDERINGS

    def database_insights(self, profile: Profile, *, cancelled: Callable[[], bool]
                          ) -> tuple[list[DatabaseInsights], list[str]]:
        """Read every database of the profile: (insights, problems as sentences)."""
        from services.diagnostics.db_insights import collect_profile_insights

        return collect_profile_insights(profile, cancelled=cancelled)

    def check_connection(self, kind: str, item: object) -> ConnectionResult:
        """Test one probe, source, back end or database once; never raises."""
        from services.diagnostics.connection_check import check_target

        return check_target(kind, item)

    def redis_tools(self) -> RedisTools:
        """The Redis view's reads: slow log, clients, memory by key pattern, keyspace."""
        from services.diagnostics.redis_inside import RedisTools

        return RedisTools()

    def pyspy_tools(self) -> PySpyTools:
        """The profiler's recorder: this machine's Python processes, py-spy record."""
        from services.diagnostics.pyspy import PySpyTools

        return PySpyTools()

    def celery_tools(self) -> CeleryTools:
        """The Celery view's reads and its purge: workers, their tasks, events."""
        from services.diagnostics.celery_inside import CeleryTools

        return CeleryTools()

    def database_live_tools(self, history: Path | None = None) -> DatabaseLiveTools:
        """The live database views' reads and actions: sessions (cancel, terminate),
        blocking, statements over time from the history file (default: the one in the
        console's data folder, where the database sources sample it)."""
        from services.diagnostics.database_live import DatabaseLiveTools

        return DatabaseLiveTools(history or data_dir(create=False) / STATEMENT_HISTORY)


@dataclass(frozen=True)
class Local:
    """This computer as the UI uses it: the console's folders, the keychain, profile files
    and the files the user saves. Built by the root and handed to the pages."""

    profiles_dir: Path | None = None
    """Where the profiles live (None: the user's config folder, made when first asked)."""

    def config_dir(self) -> Path:
        from services.local.profiles import config_dir

        return self.profiles_dir or config_dir(create=True)

    def data_dir(self) -> Path:
        return data_dir()

    def log_dir(self) -> Path:
        from services.local.logsetup import log_dir

        return log_dir()

    def keychain_available(self) -> bool:
        from services.local.secrets import keychain_available

        return keychain_available()

    def store_secret(self, name: str, value: str) -> SecretRef:
        """Put a secret in the OS keychain; the reference the profile keeps."""
        from services.local.secrets import store_secret

        return store_secret(name, value)

    def hold_for_session(self, name: str, value: str) -> None:
        """Keep a secret in memory until the console quits."""
        from services.local.secrets import hold_for_session

        hold_for_session(name, value)

    def save_profile(self, profile: Profile, path: Path) -> Path:
        from services.local.profiles import save_profile

        return save_profile(profile, path)

    def read_profile_toml(self, path: Path) -> dict[str, object]:
        """A profile file's TOML data (not yet checked); raises OSError or ProfileError."""
        from services.local.profiles import parse_toml, read_profile_bytes

        return parse_toml(read_profile_bytes(path), path.name, origin=str(path))

    def replace_file(self, path: Path, data: bytes) -> None:
        """Write a file the user named, whole or not at all (only a regular file is
        replaced; OSError says what the path is otherwise)."""
        from services.local.user_files import replace_file

        replace_file(path, data)
