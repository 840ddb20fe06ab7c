"""The GUI's diagnostic sweep: diagnose's checks, TLS certificates and database views in
parallel, with progress and cancel."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from console import metrics
from console.domain import (
    Check,
    CollectorReport,
    Finding,
    Reading,
    Severity,
    SlowQuery,
    Status,
    split_series,
)
from console.own_cost import CostWindow
from console.profile import Profile
from console.redaction import Redactor, profile_secrets
from console.report import DiagnoseResult, LatencySummary, render_json
from console.report_html import Section
from services.collectors import build_checked
from services.collectors.base import Collector
from services.diagnostics.db_insights import DatabaseInsights, collect_profile_insights
from services.diagnostics.diagnose import run_diagnose
from services.diagnostics.query_plans import plan_findings
from services.diagnostics.usual import usual_request_rates
from services.http.tls_check import certificate_check, https_targets
from services.local.secrets import resolve_secret

log = logging.getLogger(__name__)

_SEVERITY_STATUS = {Severity.INFO: Status.OK, Severity.WARN: Status.WARN,
                    Severity.FAIL: Status.FAIL}
_ORDER = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}

ProgressFn = Callable[[float, str], None]


class SweepCancelled(Exception):
    """The user cancelled the sweep; what was still running ends within its own timeout."""


@dataclass(frozen=True, slots=True)
class SweepResult:
    """A whole sweep: diagnose's result plus TLS checks, database views and plan findings.

    It reads like a :class:`DiagnoseResult` (``checks``, ``findings``, ``status``,
    ``slow_queries``, ``profile``...) so reports render either.
    """

    diagnose: DiagnoseResult
    tls: tuple[Check, ...] = ()
    insights: tuple[DatabaseInsights, ...] = ()
    insight_problems: tuple[str, ...] = ()
    plan_findings: tuple[Finding, ...] = ()
    servers: tuple[tuple[str, str], ...] = ()
    finished_at: float = field(default_factory=time.time)

    @property
    def profile(self) -> str:
        return self.diagnose.profile

    @property
    def latency(self) -> tuple[LatencySummary, ...]:
        return self.diagnose.latency

    @property
    def cache_hit_rate(self) -> tuple[tuple[str, float | None], ...]:
        return self.diagnose.cache_hit_rate

    @property
    def queue_depth(self) -> tuple[tuple[str, int], ...]:
        return self.diagnose.queue_depth

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.diagnose.checks + self.tls + self._insight_checks()

    @property
    def findings(self) -> tuple[Finding, ...]:
        merged = list(self.diagnose.findings) + list(self.plan_findings)
        return tuple(sorted(merged, key=lambda f: _ORDER[f.severity]))

    @property
    def status(self) -> Status:
        return Status.worst([self.diagnose.status, *(c.status for c in self.checks),
                             *(_SEVERITY_STATUS[f.severity] for f in self.findings)])

    @property
    def slow_queries(self) -> tuple[SlowQuery, ...]:
        return self.diagnose.slow_queries

    @property
    def readings(self) -> tuple[Reading, ...]:
        return self.diagnose.readings

    @property
    def started_at(self) -> float:
        return self.diagnose.started_at

    @property
    def console_cost(self) -> CostWindow | None:
        return self.diagnose.console_cost

    @property
    def duration_s(self) -> float:
        return self.finished_at - self.diagnose.started_at

    def _insight_checks(self) -> tuple[Check, ...]:
        checks = []
        for problem in self.insight_problems:
            name, _, detail = problem.partition(": ")
            checks.append(Check(f"{name} views", "db-views", Status.FAIL, detail or problem))
        return tuple(checks)

    def as_diagnose_result(self) -> DiagnoseResult:
        """One DiagnoseResult with every check and finding (for ``console.report``'s JSON)."""
        d = self.diagnose
        return DiagnoseResult(
            profile=d.profile, status=self.status, checks=self.checks, latency=d.latency,
            traffic=d.traffic, cache_hit_rate=d.cache_hit_rate, queue_depth=d.queue_depth,
            slow_queries=d.slow_queries, findings=self.findings, readings=d.readings,
            started_at=d.started_at, duration_s=self.duration_s, console_cost=d.console_cost)

    def to_json(self) -> str:
        return render_json(self.as_diagnose_result())


class _Recording:
    """A collector that remembers the server version its reports name (diagnose drops it)."""

    def __init__(self, inner: Collector, servers: dict[str, str]) -> None:
        self._inner = inner
        self._servers = servers
        self.name = inner.name
        self.kind = inner.kind
        self.interval_s = inner.interval_s
        self.timeout_s = inner.timeout_s

    def collect(self) -> CollectorReport:
        report = self._inner.collect()
        if report.server_version:
            self._servers[self.name] = report.server_version
        return report

    def close(self) -> None:
        self._inner.close()


def run_sweep(profile: Profile, *, samples: int = 3, progress: ProgressFn | None = None,
              cancelled: Callable[[], bool] | None = None,
              timeout_cap_s: float | None = None,
              collectors: Sequence[Collector] | None = None,
              database_views: bool = True,
              recent: Sequence[Reading] = ()) -> SweepResult:
    """Run diagnose's checks, every https certificate check and the database views at once.

    ``recent`` are the live store's windowed figures (:func:`live_figures`): the sweep judges
    them, as the charts, the alerts and the status light do, not a single reading's.

    ``progress(fraction, message)`` is called from worker threads as each part finishes;
    ``cancelled()`` is polled about ten times a second and, once true, the sweep raises
    :class:`SweepCancelled` at once (work in flight ends within its own timeouts).
    """
    is_cancelled = cancelled or (lambda: False)
    report = progress or (lambda _f, _m: None)
    servers: dict[str, str] = {}
    own = collectors is None
    built = list(collectors) if collectors is not None else build_checked(
        profile, timeout_cap_s=timeout_cap_s)
    wrapped: list[Collector] = [_Recording(c, servers) for c in built]
    tls_targets = https_targets(profile)
    has_db = database_views and bool(_database_count(profile))
    total = max(1, len(wrapped) + len(tls_targets) + (1 if has_db else 0))
    done = 0
    lock = threading.Lock()

    def step(message: str) -> None:
        nonlocal done
        with lock:
            done += 1
            fraction = done / total
        if not is_cancelled():
            report(min(fraction, 0.99), message)

    def on_check(check: Check) -> None:
        step(f"{check.name}: {check.status.value}")

    report(0.0, f"Checking {total} things of {profile.name}…")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2 + min(4, len(tls_targets)),
                                                 thread_name_prefix="sweep")
    try:
        diag_future = pool.submit(run_diagnose, profile, samples=samples,
                                  timeout_cap_s=timeout_cap_s, collectors=wrapped,
                                  progress=on_check, recent=recent)
        tls_futures = []
        for name, url, ca, verify, timeout in tls_targets:
            cap = timeout if timeout_cap_s is None else min(timeout, timeout_cap_s)

            def tls_job(name: str = name, url: str = url, ca: str | None = ca,
                        verify: bool = verify, cap: float = cap) -> Check:
                check = certificate_check(f"{name} certificate", url, timeout_s=cap,
                                          ca_bundle=ca, verify=verify)
                step(f"{check.name}: {check.status.value}")
                return check

            tls_futures.append(pool.submit(tls_job))
        db_future = None
        if has_db:
            def db_job() -> tuple[list[DatabaseInsights], list[str]]:
                found = collect_profile_insights(profile, cancelled=is_cancelled)
                step("database views read")
                return found

            db_future = pool.submit(db_job)
        pending: set[concurrent.futures.Future[Any]] = {diag_future, *tls_futures}
        if db_future is not None:
            pending.add(db_future)
        while pending:
            if is_cancelled():
                raise SweepCancelled
            _done, pending = concurrent.futures.wait(pending, timeout=0.1)
        diagnose = diag_future.result()
        tls = tuple(f.result() for f in tls_futures)
        insights: list[DatabaseInsights] = []
        problems: list[str] = []
        if db_future is not None:
            insights, problems = db_future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        if own:
            # after a cancel diagnose may still be using them: close once it is through
            diag_future.add_done_callback(lambda _f: _close(built))
    for db in insights:
        if db.server_version:
            servers.setdefault(db.name, db.server_version)
    clean = Redactor(profile_secrets(profile, resolve_secret))
    result = SweepResult(
        diagnose=diagnose,
        tls=tuple(Check(c.name, c.kind, c.status, clean(c.detail), c.latency_ms) for c in tls),
        insights=tuple(insights),
        insight_problems=tuple(clean(p) for p in problems),
        plan_findings=plan_findings(insights),
        servers=tuple(sorted(servers.items())),
    )
    report(1.0, f"Sweep done: {result.status.value}")
    return result


def live_figures(store: Any, profile: Profile, now: float | None = None) -> list[Reading]:
    """The newest windowed figure of every series in the live store (what the charts and the
    alerts show), those no older than three of their source's intervals, and each source's
    usual request rate where the store holds enough history for one."""
    intervals = {p.name: p.interval_s for p in profile.probes}
    intervals.update({s.name: s.interval_s for s in profile.sources})
    now = time.time() if now is None else now
    fresh = []
    for name in store.series_names():
        source, metric, _labels = split_series(name)
        if metric not in metrics.WINDOWED_METRICS or source not in intervals:
            continue
        reading = store.latest(name)
        if reading is not None and now - reading.ts <= 3 * intervals[source]:
            fresh.append(reading)
    # and each source's usual traffic, from the history the store holds (its last day)
    return fresh + usual_request_rates(profile, store.series_names(), store.window, now)


def _close(collectors: Sequence[Collector]) -> None:
    for collector in collectors:
        try:
            collector.close()
        except Exception:
            log.debug("closing %s failed", collector.name, exc_info=True)


def _database_count(profile: Profile) -> int:
    from services.diagnostics.db_insights import database_targets

    return len(database_targets(profile))


def report_sections(insights: Sequence[DatabaseInsights]) -> list[Section]:
    """The database views as report tables: top statements, index candidates, unused
    indexes, query plans (SCAN rows flagged)."""
    sections: list[Section] = []
    for db in insights:
        head = f"{db.name} ({db.server_version})" if db.server_version else db.name
        note = " ".join(db.notes)
        if db.dialect == "postgresql":
            sections.append(Section(
                f"{head}: top statements by total time",
                ("Total ms", "Mean ms", "Calls", "Rows", "Query"),
                tuple((f"{q.total_ms:,.1f}", f"{q.mean_ms:,.2f}", f"{q.calls:,}",
                       f"{q.rows:,}", q.query) for q in db.top_by_total[:15]), note=note))
            if db.own_statements:
                sections.append(Section(
                    f"{head}: Backroom's own statements",
                    ("Total ms", "Mean ms", "Calls", "Rows", "Query"),
                    tuple((f"{q.total_ms:,.1f}", f"{q.mean_ms:,.2f}", f"{q.calls:,}",
                           f"{q.rows:,}", q.query) for q in db.own_statements[:15]),
                    note="What the console's own monitoring queries cost this database "
                         "(left out of the top statements above)."))
            sections.append(Section(
                f"{head}: tables read by sequential scans",
                ("Table", "Seq scans", "Rows read by seq scans", "Index scans", "Live rows",
                 "Index candidate"),
                tuple((t.table, f"{t.seq_scan:,}", f"{t.seq_tup_read:,}", f"{t.idx_scan:,}",
                       f"{t.live_rows:,}", "yes" if t.index_candidate else "")
                      for t in db.table_scans),
                flags=tuple("warn" if t.index_candidate else "" for t in db.table_scans)))
            sections.append(Section(
                f"{head}: unused indexes", ("Table", "Index", "Size bytes"),
                tuple((i.table, i.index, f"{i.size_bytes:,}") for i in db.unused_indexes),
                note="Never scanned since statistics were last reset; neither unique nor "
                     "primary. Each costs writes and disk."))
        else:
            sections.append(Section(
                f"{head}: query plans of the shop's known queries",
                ("Query", "Plan", "Rows scanned", "SQL"),
                tuple((p.name, p.error or p.verdict,
                       f"{p.table_rows:,}" if p.scans else "", p.sql) for p in db.plans),
                note=note,
                flags=tuple("warn" if p.flagged else "" for p in db.plans)))
    return sections
