"""``backroom diagnose``: every probe and source checked once in parallel, then the advisor."""

from __future__ import annotations

import concurrent.futures
import heapq
import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from console import metrics
from console.advisor import (
    advise,
    measurements_from_readings,
    source_thresholds,
    thresholds_from_rules,
)
from console.alerts import RuleSpec
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
from console.profile import Profile
from console.quantiles import sample_quantile
from console.redaction import Redactor, profile_secrets
from console.report import (
    DiagnoseResult,
    LatencySummary,
    TrafficSummary,
    render_json,
    render_table,
)
from services.collectors import build_checked
from services.collectors.base import Collector
from services.errors import CollectorError
from services.local.secrets import resolve_secret
from services.local.user_files import UnusableFile, check_target

log = logging.getLogger(__name__)

__all__ = ["DiagnoseResult", "diagnose_main", "run_diagnose"]

MAX_WORKERS = 8
CACHE_KINDS = frozenset({"redis", "memcached"})
MAX_SLOW_QUERIES = 10
EXIT_BY_STATUS = {Status.OK: 0, Status.WARN: 1, Status.FAIL: 2}
#: diagnose's own failure (a file it cannot write, say): "unknown" to Nagios and Icinga,
#: never 1, which they would read as a warning about the shop.
EXIT_UNKNOWN = 3
_SEVERITY_STATUS = {Severity.INFO: Status.OK, Severity.WARN: Status.WARN,
                    Severity.FAIL: Status.FAIL}
#: A profile with nothing to check is never OK.
NOTHING_CHECKED = Check("profile", "profile", Status.FAIL,
                        "nothing to check: the profile has no back end, probe, source or "
                        "database; add one in Settings or the profile file")


@dataclass(slots=True)
class _Outcome:
    """What checking one collector gave (internal to a sweep)."""

    check: Check
    readings: list[Reading] = field(default_factory=list)
    earlier: list[Reading] = field(default_factory=list)
    slow_queries: tuple[SlowQuery, ...] = ()
    latencies: list[float] = field(default_factory=list)


def _error_detail(err: Exception) -> str:
    if isinstance(err, CollectorError):
        return f"{err.kind}: {err}"
    return f"error: {type(err).__name__}: {err}"


def _check_probe(collector: Collector, samples: int) -> _Outcome:
    latencies: list[float] = []
    readings: list[Reading] = []
    statuses: list[Status] = []
    details: list[str] = []
    failures = 0
    for _ in range(samples):
        try:
            report = collector.collect()
        except Exception as err:
            failures += 1
            details.append(_error_detail(err))
            continue
        readings.extend(report.readings)
        statuses.append(report.status)
        details.append(report.detail)
        latencies += [r.value for r in report.readings
                      if split_series(r.series)[1] == metrics.LATENCY]
    if failures:
        statuses.append(Status.FAIL)
    status = Status.worst(statuses)
    detail = details[-1] if details else "no request made"
    if failures:
        errors = [d for d in details if not d.startswith("HTTP")]
        detail = f"{failures} of {samples} requests failed: {errors[0] if errors else '?'}"
    elif samples > 1:
        detail += f" ({samples} requests)"
    median = statistics.median(latencies) * 1000 if latencies else None
    return _Outcome(Check(collector.name, collector.kind, status, detail, median), readings,
                    latencies=latencies)


#: A source's report and how long it took (ms).
_Timed = tuple[CollectorReport, float]


def _read_once(collector: Collector) -> _Timed:
    start = time.perf_counter()
    report = collector.collect()
    return report, (time.perf_counter() - start) * 1000


def _source_outcome(collector: Collector, first: tuple[CollectorReport, float] | Exception,
                    second: tuple[CollectorReport, float] | Exception | None,
                    window_s: float) -> _Outcome:
    """One source's check from its first reading and, with a window, its second."""
    if isinstance(first, Exception):
        return _Outcome(Check(collector.name, collector.kind, Status.FAIL,
                              _error_detail(first)))
    report, elapsed_ms = first
    if second is None:
        return _Outcome(Check(collector.name, collector.kind, report.status, report.detail,
                              elapsed_ms), list(report.readings), [], report.slow_queries)
    if isinstance(second, Exception):
        detail = f"second reading failed after {window_s:g} s: {_error_detail(second)}"
        return _Outcome(Check(collector.name, collector.kind, Status.FAIL, detail, elapsed_ms),
                        list(report.readings))
    later, later_ms = second
    return _Outcome(Check(collector.name, collector.kind, later.status, later.detail, later_ms),
                    list(later.readings), list(report.readings), later.slow_queries)


def _budget(collector: Collector, samples: int, window_s: float) -> float:
    calls = samples if collector.kind == "http" else (2 if window_s > 0 else 1)
    # requests bounds connect and each read separately: allow twice the timeout per call.
    return calls * 2 * collector.timeout_s + window_s + 2.0


def run_diagnose(profile: Profile, *, samples: int = 5, window_s: float = 0.0,
                 timeout_cap_s: float | None = None,
                 collectors: Sequence[Collector] | None = None,
                 progress: Callable[[Check], None] | None = None,
                 recent: Sequence[Reading] = ()) -> DiagnoseResult:
    """Check every probe (``samples`` requests each) and source (once, or twice
    ``window_s`` apart for rates) in parallel, then run the advisor. Every call is bounded
    by its timeout (capped at ``timeout_cap_s``); the sweep never waits longer than the sum
    of the slowest collector's timeouts. The wait between a source's two readings holds no
    worker thread, so every source is read in the same window however many there are."""
    # ``recent``: the live store's windowed figures (what the charts and alerts show); where
    # given, they are judged instead of a single reading's (the GUI's sweep).
    samples = max(1, samples)
    started_at, start = time.time(), time.monotonic()
    own = collectors is None
    todo: list[Collector] = (build_checked(profile, timeout_cap_s=timeout_cap_s) if own
                             else list(collectors or ()))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(todo))),
                                                 thread_name_prefix="diagnose")
    try:
        budget = max((_budget(c, samples, window_s) for c in todo), default=0.0)
        outcomes = _sweep(pool, todo, samples, window_s, start + budget, progress)
        for index, c in enumerate(todo):
            if index not in outcomes:
                outcomes[index] = _Outcome(Check(c.name, c.kind, Status.FAIL,
                                                 f"timeout: no answer within {budget:.0f} s"))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        if own:
            for collector in todo:
                try:
                    collector.close()
                except Exception:
                    log.debug("closing %s failed", collector.name, exc_info=True)
    ordered = [outcomes[i] for i in range(len(todo))]
    result = _summarise(profile, ordered, started_at, time.monotonic() - start, recent)
    return _redacted(result, Redactor(profile_secrets(profile, resolve_secret)))


def _sweep(pool: concurrent.futures.ThreadPoolExecutor, todo: list[Collector], samples: int,
           window_s: float, deadline: float,
           progress: Callable[[Check], None] | None) -> dict[int, _Outcome]:
    """Run the probes and every source's first reading on the pool; each source's second
    reading is handed to the pool ``window_s`` after its first one came back (the main
    thread keeps the timetable), until ``deadline`` (monotonic)."""
    outcomes: dict[int, _Outcome] = {}
    firsts: dict[int, _Timed] = {}
    probes: dict[concurrent.futures.Future[_Outcome], int] = {}
    reads: dict[concurrent.futures.Future[_Timed], tuple[int, bool]] = {}  # (index, second?)
    due: list[tuple[float, int]] = []  # (monotonic time, index): second readings to start

    def finish(index: int, outcome: _Outcome) -> None:
        outcomes[index] = outcome
        if progress is not None:
            progress(outcome.check)

    for index, collector in enumerate(todo):
        if collector.kind == "http":
            probes[pool.submit(_check_probe, collector, samples)] = index
        else:
            reads[pool.submit(_read_once, collector)] = (index, False)
    while probes or reads or due:
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, index = heapq.heappop(due)
            reads[pool.submit(_read_once, todo[index])] = (index, True)
        if now >= deadline:
            break
        wait_s = max(0.0, (min(deadline, due[0][0]) if due else deadline) - now)
        if not probes and not reads:  # only second readings to come: wait for the first
            time.sleep(wait_s)
            continue
        pending: list[concurrent.futures.Future[Any]] = [*probes, *reads]
        done, _ = concurrent.futures.wait(pending, timeout=wait_s,
                                          return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            if future in probes:
                finish(probes.pop(future), future.result())
                continue
            index, second = reads.pop(future)
            error = future.exception()
            value: _Timed | Exception = (error if isinstance(error, Exception)
                                         else future.result())
            if second:
                finish(index, _source_outcome(todo[index], firsts[index], value, window_s))
            elif window_s > 0 and not isinstance(value, Exception):
                firsts[index] = value
                heapq.heappush(due, (time.monotonic() + window_s, index))
            else:
                finish(index, _source_outcome(todo[index], value, None, window_s))
    return outcomes


def _summarise(profile: Profile, outcomes: list[_Outcome], started_at: float,
               duration_s: float, recent: Sequence[Reading] = ()) -> DiagnoseResult:
    _with_recent(outcomes, recent)
    readings = [r for o in outcomes for r in o.readings]
    earlier = [r for o in outcomes for r in o.earlier]
    slow = sorted((replace(q, source=q.source or o.check.name) for o in outcomes
                   for q in o.slow_queries), key=lambda q: q.total_ms,
                  reverse=True)
    latency: list[LatencySummary] = []
    traffic: list[TrafficSummary] = []
    caches: list[tuple[str, float | None]] = []
    queues: list[tuple[str, int]] = []
    for outcome in outcomes:
        name, kind = outcome.check.name, outcome.check.kind
        latest: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for r in outcome.readings:
            source, metric, label_map = split_series(r.series)
            if source == name:
                latest[(metric, tuple(sorted(label_map.items())))] = r.value
        by_metric = {m: v for (m, labels), v in latest.items() if not labels}
        if kind == "http":
            if outcome.latencies:
                p50, p95, p99 = (sample_quantile(outcome.latencies, q)
                                 for q in (0.5, 0.95, 0.99))
                latency.append(LatencySummary(name, p50, p95, p99, len(outcome.latencies)))
            elif metrics.LATENCY_P95 in by_metric:
                latency.append(LatencySummary(
                    name, by_metric.get(metrics.LATENCY_P50), by_metric[metrics.LATENCY_P95],
                    by_metric.get(metrics.LATENCY_P99),
                    int(by_metric.get(metrics.LATENCY_COUNT, 0))))
            continue
        # The whole source first, then each group it reads apart (group_by: site, instance).
        groups: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
        for (metric, labels), value in latest.items():
            if metric != metrics.QUEUE_DEPTH:
                groups.setdefault(labels, {})[metric] = value
        groups.setdefault((), {})
        for labels, figures in sorted(groups.items()):
            where = name + "".join(f" {k}={v}" for k, v in labels)
            if metrics.LATENCY_P50 in figures or metrics.LATENCY_COUNT in figures:
                latency.append(LatencySummary(
                    where, figures.get(metrics.LATENCY_P50), figures.get(metrics.LATENCY_P95),
                    figures.get(metrics.LATENCY_P99),
                    int(figures.get(metrics.LATENCY_COUNT, 0))))
            if metrics.REQUEST_RATE in figures:
                traffic.append(TrafficSummary(where, figures.get(metrics.REQUEST_RATE),
                                              figures.get(metrics.ERROR_RATE),
                                              figures.get(metrics.ERROR_RATIO)))
            if metrics.CACHE_HIT_RATE in figures or (kind in CACHE_KINDS and not labels):
                caches.append((where, figures.get(metrics.CACHE_HIT_RATE)))
        for (metric, labels), value in latest.items():
            if metric == metrics.QUEUE_DEPTH and labels:
                queues.append((f"{name}/{dict(labels).get('queue', '')}", int(value)))
    measurements = measurements_from_readings(readings, earlier=earlier, slow_queries=slow)
    rules = [RuleSpec.from_rule(rule) for rule in profile.alerts]
    from_rules = thresholds_from_rules(rules, {o.check.name for o in outcomes})
    findings = advise(measurements, per_source=source_thresholds(profile.sources, from_rules),
                      apps=profile.apps())
    checks = tuple(o.check for o in outcomes) or (NOTHING_CHECKED,)
    status = Status.worst([c.status for c in checks]
                          + [_SEVERITY_STATUS[f.severity] for f in findings])
    return DiagnoseResult(
        profile=profile.name, status=status, checks=checks, latency=tuple(latency),
        traffic=tuple(traffic), cache_hit_rate=tuple(caches), queue_depth=tuple(sorted(queues)),
        slow_queries=tuple(slow[:MAX_SLOW_QUERIES]), findings=tuple(findings),
        readings=tuple(readings), started_at=started_at, duration_s=duration_s)


def _redacted(result: DiagnoseResult, clean: Redactor) -> DiagnoseResult:
    """No secret (nor URL password or secret query parameter) in anything a person may paste
    into a ticket."""
    checks = tuple(Check(c.name, c.kind, c.status, clean(c.detail), c.latency_ms)
                   for c in result.checks)
    findings = tuple(Finding(f.severity, clean(f.title), clean(f.evidence), clean(f.advice),
                             f.rule, f.sources) for f in result.findings)
    slow = tuple(SlowQuery(clean(q.query), q.calls, q.mean_ms, q.total_ms, q.rows)
                 for q in result.slow_queries)
    return DiagnoseResult(
        profile=result.profile, status=result.status, checks=checks, latency=result.latency,
        traffic=result.traffic, cache_hit_rate=result.cache_hit_rate,
        queue_depth=result.queue_depth,
        slow_queries=slow, findings=findings, readings=result.readings,
        started_at=result.started_at, duration_s=result.duration_s)


def diagnose_main(profile: Profile, *, as_json: bool, samples: int = 5, window_s: float = 0.0,
                  stdout: TextIO, stderr: TextIO, html_path: Path | None = None,
                  bundle_path: Path | None = None,
                  timeout_cap_s: float | None = None) -> int:
    """Run the sweep and print a table (or one JSON object). Exit status: 0 ok, 1 warn,
    2 fail, 3 when diagnose itself failed. With ``html_path`` also write the HTML report, with
    ``bundle_path`` the redacted support bundle (zip): each replaces a regular file only; any
    other path (a symbolic link, FIFO, device, folder, read-only file) is one line on
    ``stderr`` and exit 3, before the sweep, and is left as it was."""
    try:
        for target in (html_path, bundle_path):
            if target is not None:
                check_target(target, try_write=True)
        return _diagnose(profile, as_json=as_json, samples=samples, window_s=window_s,
                         stdout=stdout, stderr=stderr, html_path=html_path,
                         bundle_path=bundle_path, timeout_cap_s=timeout_cap_s)
    except UnusableFile as err:
        what = "the HTML report" if err.path == str(html_path) else "the support bundle"
        print(f"backroom: error: cannot write {what}: {err}", file=stderr)
        return EXIT_UNKNOWN


def _diagnose(profile: Profile, *, as_json: bool, samples: int, window_s: float,
              stdout: TextIO, stderr: TextIO, html_path: Path | None,
              bundle_path: Path | None, timeout_cap_s: float | None) -> int:
    if not as_json:
        print(f"Checking {len(profile.probes)} probes and {len(profile.sources)} sources of "
              f"{profile.name}...", file=stderr, flush=True)
    result = with_query_plans(run_diagnose(profile, samples=samples, window_s=window_s,
                                      timeout_cap_s=timeout_cap_s), profile)
    stdout.write(render_json(result) + "\n" if as_json else render_table(result))
    stdout.flush()
    if not _write_files(result, profile, html_path, bundle_path, stderr):
        return EXIT_UNKNOWN
    return EXIT_BY_STATUS[result.status]


def _write_files(result: DiagnoseResult, profile: Profile, html_path: Path | None,
                 bundle_path: Path | None, stderr: TextIO) -> bool:
    """Write the HTML report and the bundle asked for; False, with one line on ``stderr``,
    when one cannot be written."""
    if html_path is None and bundle_path is None:
        return True
    from services.diagnostics.report_export import write_bundle, write_html_report  # imports much

    for path, what, write in ((html_path, "the HTML report", write_html_report),
                              (bundle_path, "the support bundle", write_bundle)):
        if path is None:
            continue
        try:
            written = write(result, profile, Path(path))
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            print(f"backroom diagnose: cannot write {what} to {path}: {reason}", file=stderr)
            return False
        print(f"wrote {written}", file=stderr)
    return True


def _with_recent(outcomes: list[_Outcome], recent: Sequence[Reading]) -> None:
    """Put the live store's windowed figures of each checked source in place of the single
    reading's (the sweep then judges what the charts and alerts show)."""
    windowed: dict[str, list[Reading]] = {}
    for r in recent:
        source, metric, _labels = split_series(r.series)
        if metric in metrics.WINDOWED_METRICS:
            windowed.setdefault(source, []).append(r)
    for outcome in outcomes:
        live = windowed.get(outcome.check.name)
        if not live or outcome.check.status is Status.FAIL:
            continue
        names = {r.series for r in live}
        outcome.readings = [r for r in outcome.readings if r.series not in names] + live
        if outcome.check.kind == "http":
            outcome.latencies = []


def with_query_plans(result: DiagnoseResult, profile: Profile) -> DiagnoseResult:
    """Judge what the GUI's sweep judges: the query plans of the shop's known queries on its
    databases (a whole-table read of a big table is a missing index)."""
    from services.diagnostics.db_insights import collect_profile_insights, database_targets
    from services.diagnostics.sweep import (
        plan_findings,  # the sweep builds on diagnose: import late
    )

    if not database_targets(profile):
        return result
    try:
        insights, _problems = collect_profile_insights(profile)
    except Exception:  # the checks above already say what is wrong with a database
        log.debug("reading the database views failed", exc_info=True)
        return result
    found = plan_findings(insights)
    if not found:
        return result
    order = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}
    findings = tuple(sorted(result.findings + found, key=lambda f: order[f.severity]))
    status = Status.worst([result.status, *(_SEVERITY_STATUS[f.severity] for f in found)])
    return replace(result, findings=findings, status=status)
