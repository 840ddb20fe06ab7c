"""The advisor: rules that turn measurements into findings with evidence and advice (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from console import metrics
from console.alert_rules import BUSIER_BASELINE_S, BUSIER_FACTOR, RuleSpec
from console.domain import Finding, Severity
from console.durations import format_duration
from console.measurements import Measurements


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where each rule starts to speak (documented in docs/advisor.md)."""

    latency_p95_s: float = 0.5
    latency_p95_fail_s: float = 2.0
    slow_mean_ms: float = 20.0  # PgHero: mean >= 20 ms ...
    slow_calls: int = 100  # ... over >= 100 calls is a slow query
    seq_scans: int = 100
    seq_scan_rows: int = 10_000
    full_scans_per_s: float = 0.5  # one table read whole more often than this, over a window
    full_scan_min_rows: int = 1_000  # where the rows are known: smaller tables are cheap to read
    cache_warn: float = 0.8
    cache_fail: float = 0.5
    cache_min_lookups: int = 20  # fewer lookups than this say nothing about a hit rate
    queue_depth: float = 10.0
    error_ratio_warn: float = 0.01  # 99 % availability, the usual first SLO
    error_ratio_fail: float = 0.05
    connections_warn: float = 0.8
    connections_fail: float = 0.95
    max_findings_per_rule: int = 5
    busier_factor: float = BUSIER_FACTOR  # requests at this many times their usual ...
    usual_window_s: float = BUSIER_BASELINE_S  # ... the median of this long before


def thresholds_from_rules(rules: Iterable[RuleSpec], sources: Iterable[str],
                          base: Thresholds | None = None) -> dict[str, Thresholds]:
    """The advisor's thresholds for each source, taken from the profile's alert rules (the
    status light's and the alerts' lines), the defaults where no rule speaks: a rule on
    ``latency_p95`` above, ``cache_hit_rate`` below or ``queue_depth`` above sets that line
    (a rule of severity fail also sets the failing line). A rule naming the source wins over
    a rule for every source; rules with labels stay with the alerts."""
    t = base or Thresholds()
    plain = [r for r in rules if not r.labels]
    out: dict[str, Thresholds] = {}
    for source in sources:
        own = t
        for general in (True, False):  # every-source rules first, the source's own win
            for rule in plain:
                if bool(rule.source) == general or (rule.source and rule.source != source):
                    continue
                own = _with_rule(own, rule)
        if own != t:
            out[source] = own
    return out


def _with_rule(t: Thresholds, rule: RuleSpec) -> Thresholds:
    if rule.relative:
        if rule.metric == metrics.REQUEST_RATE and rule.direction == "above":
            return replace(t, busier_factor=rule.threshold, usual_window_s=rule.baseline_s)
        return t  # a factor of the series' own usual value, not a line the advisor draws
    fails = rule.severity is Severity.FAIL
    if rule.metric == metrics.LATENCY_P95 and rule.direction == "above":
        fail = rule.threshold if fails else max(t.latency_p95_fail_s, rule.threshold)
        return replace(t, latency_p95_s=rule.threshold, latency_p95_fail_s=fail)
    if rule.metric == metrics.CACHE_HIT_RATE and rule.direction == "below":
        fail = rule.threshold if fails else min(t.cache_fail, rule.threshold)
        return replace(t, cache_warn=rule.threshold, cache_fail=fail)
    if rule.metric == metrics.QUEUE_DEPTH and rule.direction == "above":
        return replace(t, queue_depth=rule.threshold)
    if rule.metric == metrics.FULL_SCANS_RATE and rule.direction == "above":
        return replace(t, full_scans_per_s=rule.threshold)
    if rule.metric == metrics.ERROR_RATIO and rule.direction == "above":
        fail = rule.threshold if fails else max(t.error_ratio_fail, rule.threshold)
        return replace(t, error_ratio_warn=rule.threshold, error_ratio_fail=fail)
    return t


# ---- rules ----------------------------------------------------------------------------------


def _short(query: str, size: int = 90) -> str:
    text = " ".join(query.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def slow_query_findings(m: Measurements, t: Thresholds) -> list[Finding]:
    """PgHero's rule: a statement is slow when its mean is >= 20 ms over >= 100 calls."""
    slow = [q for q in m.slow_queries if q.mean_ms >= t.slow_mean_ms and q.calls >= t.slow_calls]
    slow.sort(key=lambda q: q.total_ms, reverse=True)
    return [
        Finding(
            severity=Severity.WARN,
            title="Slow query: likely a missing index",
            evidence=(f"{q.calls} calls, mean {q.mean_ms:.1f} ms, total {q.total_ms / 1000:.1f} s"
                      f": {_short(q.query)}"),
            advice=("Run EXPLAIN (ANALYZE, BUFFERS) on it; a Seq Scan over a big table means an "
                    "index on the columns of its WHERE / JOIN / ORDER BY is missing "
                    "(CREATE INDEX CONCURRENTLY ...)."),
            rule="missing-index",
            sources=(q.source,) if q.source else (),
        )
        for q in slow[: t.max_findings_per_rule]
    ]


def seq_scan_findings(m: Measurements, t: Thresholds) -> list[Finding]:
    """Tables read mostly by sequential scans while holding many rows."""
    heavy = [x for x in m.tables
             if x.seq_scans >= t.seq_scans and (x.rows or 0.0) >= t.seq_scan_rows
             and x.seq_scans > x.idx_scans]
    heavy.sort(key=lambda x: x.seq_scans * (x.rows or 0.0), reverse=True)
    return [
        Finding(
            severity=Severity.WARN,
            title=f"Table {x.table} is read by sequential scans",
            evidence=(f"{x.source}: {int(x.seq_scans)} sequential vs {int(x.idx_scans)} index "
                      f"scans over {int(x.rows or 0):,} rows"),
            advice=("Find the queries filtering this table (slow queries list) and index the "
                    "columns they filter on."),
            rule="table-seq-scans",
            sources=(x.source,),
        )
        for x in heavy[: t.max_findings_per_rule]
    ]


def full_scan_findings(m: Measurements, base: Thresholds,
                       per_source: Mapping[str, Thresholds] | None = None) -> list[Finding]:
    """A table read whole more than ``full_scans_per_s`` times a second over the window
    (where its rows are known, only one of ``full_scan_min_rows`` or more; an empty table is
    known to be small): a dropped or
    missing index, or a query that cannot use one."""
    per_source = per_source or {}
    hot = [x for x in m.tables if x.full_scans_per_s is not None
           and x.full_scans_per_s > per_source.get(x.source, base).full_scans_per_s
           and (x.rows is None or x.rows >= base.full_scan_min_rows)]
    hot.sort(key=lambda x: x.full_scans_per_s or 0.0, reverse=True)
    return [
        Finding(
            severity=Severity.WARN,
            title=f"Table {x.table} is read whole {x.full_scans_per_s:.1f} times a second",
            evidence=(f"{x.source}: {x.full_scans_per_s:.1f} whole-table reads/s of {x.table}"
                      + (f" ({int(x.rows):,} rows)" if x.rows is not None else "")
                      + f" (threshold {per_source.get(x.source, base).full_scans_per_s:g}/s)"),
            advice=("An index the queries on this table need is missing or was dropped: the "
                    "sweep's query plans and the slow statements name the query; index the "
                    "columns it filters and sorts on (CREATE INDEX CONCURRENTLY ... on "
                    "PostgreSQL)."),
            rule="full-scans",
            sources=(x.source,),
        )
        for x in hot[: base.max_findings_per_rule]
    ]


def cache_findings(m: Measurements, base: Thresholds,
                   per_source: Mapping[str, Thresholds] | None = None) -> list[Finding]:
    """Low hit rate (< 0.8 warn, < 0.5 fail) over at least 20 lookups when their number is
    known; evictions point at a cache too small."""
    found = []
    for c in m.caches:
        t = (per_source or {}).get(c.source, base)
        evicting = c.evictions_per_s is not None and c.evictions_per_s > 0
        enough = c.lookups is None or c.lookups >= t.cache_min_lookups
        if c.hit_rate is not None and c.hit_rate < t.cache_warn and enough:
            severity = Severity.FAIL if c.hit_rate < t.cache_fail else Severity.WARN
            evidence = f"{c.source}: hit rate {c.hit_rate:.0%}"
            if evicting:
                evidence += f", evicting {c.evictions_per_s:.1f} keys/s"
                advice = ("The cache is too small for what is put in it: raise its memory "
                          "(maxmemory / -m) or cache fewer, smaller entries.")
            else:
                advice = ("Entries expire before they are read again or are never reused: "
                          "lengthen TTLs of hot keys, check the cache keys are stable, and "
                          "that the cache is switched on.")
            found.append(Finding(severity, "Cache hit rate low", evidence, advice,
                                 "cache-hit-rate", (c.source,)))
        elif evicting:
            found.append(Finding(
                Severity.WARN, "Cache is evicting keys",
                f"{c.source}: {c.evictions_per_s:.1f} evictions/s"
                + (f" at hit rate {c.hit_rate:.0%}" if c.hit_rate is not None else ""),
                "The cache is full: raise its memory or shorten TTLs of cold keys.",
                "cache-evictions", (c.source,)))
    return found


def queue_findings(m: Measurements, base: Thresholds,
                   per_source: Mapping[str, Thresholds] | None = None) -> list[Finding]:
    """Work piling up: no consumers at all, or growing with too few."""
    found = []
    for q in m.queues:
        t = (per_source or {}).get(q.source, base)
        if q.depth < t.queue_depth:
            continue
        growing = q.growth_per_s is not None and q.growth_per_s > 0
        shrinking = q.growth_per_s is not None and q.growth_per_s < 0
        growth = (f", growing {q.growth_per_s:.1f}/s" if growing else "")
        name = f"{q.source}/{q.queue}"
        if q.consumers is not None and q.consumers == 0:
            found.append(Finding(
                Severity.FAIL, f"Queue {q.queue} has no workers",
                f"{name}: {int(q.depth)} waiting, 0 consumers{growth}",
                "Start the workers (celery worker / the consumer service) and check their "
                "logs for crashes.", "queue-no-consumers", (q.source,)))
        elif growing:
            consumers = f"{int(q.consumers)} consumers" if q.consumers is not None else \
                "consumers unknown"
            found.append(Finding(
                Severity.WARN, f"Queue {q.queue} is growing",
                f"{name}: {int(q.depth)} waiting, {consumers}{growth}",
                "The workers cannot keep up: add workers (or concurrency), or find the slow "
                "task in the worker logs.", "queue-growing", (q.source,)))
        elif not shrinking and q.growth_per_s is None:
            found.append(Finding(
                Severity.INFO, f"Queue {q.queue} has a backlog",
                f"{name}: {int(q.depth)} waiting"
                + (f", {int(q.consumers)} consumers" if q.consumers is not None else ""),
                "Take two readings (diagnose --window 30) to see whether it grows.",
                "queue-backlog", (q.source,)))
    return found


def _app_of(finding: Finding, apps: Mapping[str, str]) -> str:
    return next((apps.get(s, "") for s in finding.sources), "")


#: How to see where a slow app spends its time (the seed's playbook: py-spy beside cProfile).
PROFILE_ADVICE = ("To see where the time goes, record the app server with py-spy "
                  "(`py-spy record --pid PID --duration 30 --format speedscope -o app.json`, or "
                  "Diagnostics › Profiler › Record): it samples every thread without a restart. "
                  "On a threaded or async server (gunicorn threads, uvicorn, Celery) cProfile "
                  "sees only the thread it runs in and misses the request handlers.")


def latency_findings(m: Measurements, base: Thresholds, causes: list[Finding],
                     per_source: Mapping[str, Thresholds] | None = None,
                     apps: Mapping[str, str] | None = None) -> list[Finding]:
    """p95 above the threshold, with the database or cache named when they look guilty (only
    a database or cache of the slow source's own app: ``apps`` maps sources to apps)."""
    found = []
    apps = apps or {}
    for lat in m.latency:
        t = (per_source or {}).get(lat.source, base)
        app = apps.get(lat.source, "")
        own = [f for f in causes if _app_of(f, apps) == app]
        db_cause = any(f.rule in ("missing-index", "table-seq-scans") for f in own)
        cache_cause = any(f.rule in ("cache-hit-rate", "cache-evictions") for f in own)
        if lat.p95_s <= t.latency_p95_s:
            continue
        severity = Severity.FAIL if lat.p95_s >= t.latency_p95_fail_s else Severity.WARN
        if db_cause and cache_cause:
            advice = ("Likely the database, made worse by cache misses: fix the slow queries "
                      "listed here first, then the cache.")
        elif db_cause:
            advice = "Likely the database: fix the slow queries / missing indexes listed here."
        elif cache_cause:
            advice = ("Likely the cache: misses send reads to the database; fix the cache "
                      "finding listed here.")
        else:
            advice = ("Neither the database nor the cache looks guilty: check the app servers' "
                      "CPU, worker count and outside calls; compare the endpoints' latencies. "
                      + PROFILE_ADVICE)
        found.append(Finding(
            severity, "Responses are slow",
            f"{lat.where}: p95 latency {lat.p95_s * 1000:.0f} ms "
            f"(threshold {t.latency_p95_s * 1000:.0f} ms)", advice, "latency-p95",
            (lat.source,)))
    return found


def error_findings(m: Measurements, t: Thresholds,
                   per_source: Mapping[str, Thresholds] | None = None) -> list[Finding]:
    """Server errors (5xx) over the requests of the window: >= 1 % warn, >= 5 % fail, as an
    availability SLO of 99 % would page (each source may set its own)."""
    found = []
    for x in m.traffic:
        own = (per_source or {}).get(x.source, t)
        ratio = x.error_ratio
        if ratio is None and x.error_rate is not None and x.request_rate > 0:
            ratio = min(1.0, x.error_rate / x.request_rate)
        if ratio is None or x.request_rate <= 0 or ratio < own.error_ratio_warn:
            continue
        severity = Severity.FAIL if ratio >= own.error_ratio_fail else Severity.WARN
        errors = f"{x.error_rate:.2f} errors/s of " if x.error_rate is not None else ""
        found.append(Finding(
            severity, "Requests are failing",
            f"{x.where}: {ratio:.1%} of requests answered 5xx ({errors}"
            f"{x.request_rate:.2f} requests/s; threshold {own.error_ratio_warn:.0%})",
            "Read the app's error log for the failing endpoints (the traffic chart shows when "
            "it started); a deploy, a full disk or a database or cache that went away are the "
            "usual causes.", "error-ratio", (x.source,)))
    return found


def traffic_findings(m: Measurements, t: Thresholds,
                     per_source: Mapping[str, Thresholds] | None = None) -> list[Finding]:
    """Requests over the window at ``busier_factor`` times their usual or more (the median of
    the ``usual_window_s`` before, from the console's history): news, not a fault. Without
    a usual nothing is said here (the traffic table says there is no history to judge by)."""
    found = []
    for x in m.traffic:
        own = (per_source or {}).get(x.source, t)
        usual = x.usual_rate
        if usual is None or usual <= 0 or x.request_rate < own.busier_factor * usual:
            continue
        found.append(Finding(
            Severity.INFO, "Busier than usual",
            f"{x.where}: {x.request_rate:.2f} requests/s, {x.request_rate / usual:.1f}x its "
            f"usual {usual:.2f}/s (median of the last {format_duration(own.usual_window_s)};"
            f" threshold {own.busier_factor:g}x)",
            "More requests than usual: a rush, a promotion, a crawler or clients retrying "
            "(the access log says who). Nothing to do while latency and errors stay normal; "
            "else add app servers or workers, or rate-limit the crawler.",
            "traffic-high", (x.source,)))
    return found


def pool_findings(m: Measurements, t: Thresholds) -> list[Finding]:
    """Connections near max_connections (>= 80 % warn, >= 95 % fail)."""
    found = []
    for p in m.pools:
        share = p.connections / p.max_connections
        if share < t.connections_warn:
            continue
        severity = Severity.FAIL if share >= t.connections_fail else Severity.WARN
        found.append(Finding(
            severity, "Database connections near the limit",
            f"{p.source}: {int(p.connections)} of {int(p.max_connections)} connections "
            f"({share:.0%})",
            "Put a pooler (PgBouncer) in front, shrink the app's pool sizes, or look for idle "
            "in transaction sessions; raising max_connections costs memory.",
            "connections-near-limit", (p.source,)))
    return found


def source_thresholds(sources: Iterable[Any],
                      from_rules: Mapping[str, Thresholds] | None = None) -> dict[str, Thresholds]:
    """The thresholds of each source: ``from_rules`` (:func:`thresholds_from_rules`), with
    the error ratios a profile source sets for itself laid over them."""
    out = dict(from_rules or {})
    for source in sources:
        base = out.get(source.name, Thresholds())
        warn: float | None = getattr(source, "error_ratio_warn", None)
        fail: float | None = getattr(source, "error_ratio_fail", None)
        if warn is None and fail is None:
            continue
        if warn is None:
            warn = min(base.error_ratio_warn, fail or 1.0)
        if fail is None:
            fail = max(base.error_ratio_fail, warn)
        out[source.name] = replace(base, error_ratio_warn=warn, error_ratio_fail=fail)
    return out


_ORDER = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}


def merge_duplicates(findings: Iterable[Finding],
                     apps: Mapping[str, str] | None = None) -> list[Finding]:
    """One finding per thing: the same finding (rule and title) of one app from two sources
    (a cache read through the app's own metrics and through Redis, say) becomes one, the
    worse severity, with both sources' evidence. Findings of one source stay apart."""
    apps = apps or {}
    merged: list[Finding] = []
    for f in findings:
        key = (f.rule, f.title, _app_of(f, apps))
        into = next((i for i, g in enumerate(merged)
                     if (g.rule, g.title, _app_of(g, apps)) == key and f.sources
                     and not set(f.sources) & set(g.sources)), None)
        if into is None:
            merged.append(f)
            continue
        g = merged[into]
        worse = g if _ORDER[g.severity] <= _ORDER[f.severity] else f
        merged[into] = Finding(worse.severity, g.title, f"{g.evidence}; {f.evidence}",
                               worse.advice, g.rule, g.sources + f.sources)
    return merged


def advise(m: Measurements, thresholds: Thresholds | None = None,
           per_source: Mapping[str, Thresholds] | None = None,
           apps: Mapping[str, str] | None = None) -> list[Finding]:
    """Every finding of every rule, duplicates merged, most severe first (``per_source``
    overrides thresholds for the sources it names, e.g. from :func:`thresholds_from_rules`;
    ``apps`` maps sources to their app, so that causes link within one app)."""
    t = thresholds or Thresholds()
    causes = (full_scan_findings(m, t, per_source) + slow_query_findings(m, t)
              + seq_scan_findings(m, t) + cache_findings(m, t, per_source))
    findings = (error_findings(m, t, per_source) + latency_findings(m, t, causes, per_source, apps)
                + causes + queue_findings(m, t, per_source) + pool_findings(m, t)
                + traffic_findings(m, t, per_source))
    return sorted(merge_duplicates(findings, apps), key=lambda f: _ORDER[f.severity])
