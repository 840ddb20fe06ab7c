"""Diagnose: every probe and source of a profile checked once in parallel, then the advisor."""

from __future__ import annotations

import concurrent.futures
import heapq
import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from console import metrics
from console.advisor import advise, source_thresholds, thresholds_from_rules
from console.alert_rules import RuleSpec
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
from console.measurements import measurements_from_readings
from console.own_cost import CostWindow, PollCost, metered
from console.profile import Profile
from console.quantiles import sample_quantile
from console.redaction import Redactor, profile_secrets
from console.report import (
    DiagnoseResult,
    LatencySummary,
    TrafficSummary,
)
from console.series_limit import DEFAULT_MAX_SERIES, OTHER_LABELS, SeriesLimit
from services.collectors import build_checked
from services.collectors.base import Collector
from services.errors import CollectorError
from services.local.secrets import resolve_secret

log = logging.getLogger(__name__)

__all__ = ["DiagnoseResult", "run_diagnose"]

MAX_WORKERS = 8
CACHE_KINDS = frozenset({"redis", "memcached"})
MAX_SLOW_QUERIES = 10
_OTHER = tuple(OTHER_LABELS.items())  # the labels of the series past max_series, as a key
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


def _metered_collect(collector: Collector, cost: PollCost | None) -> CollectorReport:
    """``collector.collect()``, its requests, bytes and time added to ``cost``."""
    if cost is None:
        return collector.collect()
    start = time.perf_counter()
    with metered() as tally:
        try:
            return collector.collect()
        finally:
            cost.add(collector.name, tally, time.perf_counter() - start)


def _check_probe(collector: Collector, samples: int, cost: PollCost | None = None) -> _Outcome:
    latencies: list[float] = []
    readings: list[Reading] = []
    statuses: list[Status] = []
    details: list[str] = []
    failures = 0
    for _ in range(samples):
        try:
            report = _metered_collect(collector, cost)
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


def _read_once(collector: Collector, limit: SeriesLimit,
               cost: PollCost | None = None) -> _Timed:
    """One reading of a source, kept to its ``max_series`` per metric as the poller keeps it
    (the rest folded into ``other``; the check says so and is at least a warning)."""
    start = time.perf_counter()
    report = _metered_collect(collector, cost)
    elapsed_ms = (time.perf_counter() - start) * 1000
    kept = limit.apply(report.readings, report.folded)
    warning = limit.warning()
    if warning:
        report = replace(report, readings=tuple(kept), status=Status.worst(
            [report.status, Status.WARN]), detail="; ".join(filter(None, (report.detail,
                                                                         warning))))
    else:
        report = replace(report, readings=tuple(kept))
    return report, elapsed_ms


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
    cost = PollCost()
    try:
        budget = max((_budget(c, samples, window_s) for c in todo), default=0.0)
        limits = {s.name: s.max_series for s in profile.sources}
        outcomes = _sweep(pool, todo, samples, window_s, start + budget, progress, limits,
                          cost)
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
    result = replace(result, console_cost=_with_intervals(cost.since_start(), todo))
    return _redacted(result, Redactor(profile_secrets(profile, resolve_secret)))


def _with_intervals(window: CostWindow, collectors: Sequence[Collector]) -> CostWindow:
    """The run's cost, each source with its polling interval (so steady polling is told)."""
    intervals = {c.name: float(c.interval_s) for c in collectors}
    return replace(window, sources=tuple(replace(s, interval_s=intervals.get(s.source))
                                         for s in window.sources))


def _sweep(pool: concurrent.futures.ThreadPoolExecutor, todo: list[Collector], samples: int,
           window_s: float, deadline: float,
           progress: Callable[[Check], None] | None,
           max_series: dict[str, int], cost: PollCost | None = None) -> dict[int, _Outcome]:
    """Run the probes and every source's first reading on the pool; each source's second
    reading is handed to the pool ``window_s`` after its first one came back (the main
    thread keeps the timetable), until ``deadline`` (monotonic). A source's readings keep
    ``max_series[name]`` label sets per metric, the same ones in both readings."""
    outcomes: dict[int, _Outcome] = {}
    limits = [SeriesLimit(max_series.get(c.name, DEFAULT_MAX_SERIES)) for c in todo]
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
            probes[pool.submit(_check_probe, collector, samples, cost)] = index
        else:
            reads[pool.submit(_read_once, collector, limits[index], cost)] = (index, False)
    while probes or reads or due:
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, index = heapq.heappop(due)
            reads[pool.submit(_read_once, todo[index], limits[index], cost)] = (index, True)
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
                                              figures.get(metrics.ERROR_RATIO),
                                              figures.get(metrics.REQUEST_RATE_USUAL)))
            if metrics.CACHE_HIT_RATE in figures or (kind in CACHE_KINDS and not labels):
                caches.append((where, figures.get(metrics.CACHE_HIT_RATE)))
        for (metric, labels), value in latest.items():
            if metric == metrics.QUEUE_DEPTH and labels:
                queue = dict(labels).get("queue") or ("(other)" if labels == _OTHER else "")
                site = "" if labels == _OTHER else "".join(  # a chain's site, group_by
                    f" {k}={v}" for k, v in labels if k != "queue")
                queues.append((f"{name}/{queue}{site}", int(value)))
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
        started_at=result.started_at, duration_s=result.duration_s,
        console_cost=result.console_cost)


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
