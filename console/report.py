"""The result of a diagnostic sweep and its renderings: a readable table and one JSON object."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from console.domain import Check, Finding, Reading, SlowQuery, Status
from console.own_cost import CostWindow


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Latency quantiles of one probe or source, in seconds (None when unknown)."""

    name: str
    p50: float | None
    p95: float | None
    p99: float | None
    count: int


@dataclass(frozen=True, slots=True)
class TrafficSummary:
    """Requests and 5xx answers per second of one source (or one group of it) over its window."""

    name: str
    request_rate: float | None
    error_rate: float | None
    error_ratio: float | None
    #: The usual request rate (from the console's history); None: no history to judge by.
    usual_rate: float | None = None


@dataclass(frozen=True, slots=True)
class DiagnoseResult:
    """Everything one sweep found; ``status`` is the worst of checks and findings."""

    profile: str
    status: Status
    checks: tuple[Check, ...]
    latency: tuple[LatencySummary, ...] = ()
    traffic: tuple[TrafficSummary, ...] = ()
    cache_hit_rate: tuple[tuple[str, float | None], ...] = ()
    queue_depth: tuple[tuple[str, int], ...] = ()
    slow_queries: tuple[SlowQuery, ...] = ()
    findings: tuple[Finding, ...] = ()
    readings: tuple[Reading, ...] = ()
    started_at: float = 0.0
    duration_s: float = 0.0
    console_cost: CostWindow | None = None
    """What this run asked of the sources and its CPU (``console.own_cost``)."""


def _ms(seconds: float | None) -> float | None:
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        return None
    return round(seconds * 1000, 3)


def _finite(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value


def diagnose_to_dict(result: DiagnoseResult) -> dict[str, Any]:
    """The JSON shape of ``backroom diagnose --json`` (latencies in milliseconds)."""
    out: dict[str, Any] = {
        "profile": result.profile,
        "status": result.status.value,
        "checks": [
            {"name": c.name, "kind": c.kind, "status": c.status.value, "detail": c.detail,
             "latency_ms": _finite(None if c.latency_ms is None else round(c.latency_ms, 3))}
            for c in result.checks
        ],
        "metrics": {
            "latency_ms": {
                s.name: {"p50": _ms(s.p50), "p95": _ms(s.p95), "p99": _ms(s.p99),
                         "count": s.count}
                for s in result.latency
            },
            "traffic": {
                t.name: {"requests_per_s": _finite(t.request_rate),
                         "errors_per_s": _finite(t.error_rate),
                         "error_ratio": _finite(t.error_ratio),
                         "usual_requests_per_s": _finite(t.usual_rate)}
                for t in result.traffic
            },
            "cache_hit_rate": {name: _finite(rate) for name, rate in result.cache_hit_rate},
            "queue_depth": dict(result.queue_depth),
        },
        "slow_queries": [
            {"query": q.query, "calls": q.calls, "mean_ms": round(q.mean_ms, 3),
             "total_ms": round(q.total_ms, 3)}
            for q in result.slow_queries
        ],
        "findings": [
            {"severity": f.severity.value, "title": f.title, "evidence": f.evidence,
             "advice": f.advice}
            for f in result.findings
        ],
    }
    if result.console_cost is not None:  # what the run itself asked of the sources
        out["console_cost"] = result.console_cost.as_json()
    return out


def render_json(result: DiagnoseResult) -> str:
    """One JSON object (no NaN: unknown numbers are null)."""
    return json.dumps(diagnose_to_dict(result), indent=2, allow_nan=False, ensure_ascii=False)


_VERDICT = {Status.OK: "all normal", Status.WARN: "needs attention", Status.FAIL: "failing"}


def _cell(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}{unit}"


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    last = len(headers) - 1

    def line(cells: list[str]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            if i == last and i not in right:
                parts.append(cell)
            elif i in right:
                parts.append(cell.rjust(widths[i]))
            else:
                parts.append(cell.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _took(seconds: float) -> str:
    """'1.3 s', or '42 ms' under a second (a quick sweep is not '0.0 s')."""
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def figure_tables(result: Any) -> list[tuple[str, list[str], list[list[str]], set[int]]]:
    """The sweep's latency, traffic, cache and queue figures as (title, headers, rows, right-aligned
    columns): the text output and the HTML report print the same tables."""
    tables: list[tuple[str, list[str], list[list[str]], set[int]]] = []
    latency = tuple(getattr(result, "latency", ()) or ())
    caches = tuple(getattr(result, "cache_hit_rate", ()) or ())
    queues = tuple(getattr(result, "queue_depth", ()) or ())
    traffic = tuple(getattr(result, "traffic", ()) or ())
    if latency:
        tables.append(("Latency", ["LATENCY", "p50 ms", "p95 ms", "p99 ms", "count"],
                       [[s.name, _cell(_ms(s.p50)), _cell(_ms(s.p95)), _cell(_ms(s.p99)),
                         str(s.count)] for s in latency], {1, 2, 3, 4}))
    if traffic:
        # without a usual (no history of the last minutes) a rise cannot be judged: said so
        tables.append(("Requests and errors",
                       ["TRAFFIC", "req/s", "5xx/s", "errors", "usual req/s"],
                       [[t.name, _cell(_finite(t.request_rate)), _cell(_finite(t.error_rate)),
                         "-" if _finite(t.error_ratio) is None else f"{t.error_ratio:.1%}",
                         "no history" if _finite(t.usual_rate) is None
                         else _cell(_finite(t.usual_rate))]
                        for t in traffic], {1, 2, 3, 4}))
    if caches:
        tables.append(("Cache hit rate", ["CACHE", "hit rate"],
                       [[name, "-" if _finite(rate) is None else f"{rate:.1%}"]
                        for name, rate in caches], {1}))
    if queues:
        tables.append(("Queues", ["QUEUE", "waiting"],
                       [[name, str(depth)] for name, depth in queues], {1}))
    cost = getattr(result, "console_cost", None)
    if cost is not None and cost.sources:
        headers, rows = cost.table()
        tables.append(("Backroom's own cost", headers, rows, {1, 2, 3, 4, 5}))
    return tables


def render_table(result: DiagnoseResult) -> str:
    """The sweep as text for a terminal: checks, latency, caches, queues, queries, findings."""
    out = [f"Backroom diagnose: {result.profile}: {result.status.value.upper()} "
           f"({_VERDICT[result.status]}), {len(result.checks)} checks in "
           f"{_took(result.duration_s)}", ""]
    out += _table(["CHECK", "KIND", "STATUS", "LATENCY", "DETAIL"],
                  [[c.name, c.kind, c.status.value.upper(), _cell(c.latency_ms, " ms"),
                    c.detail] for c in result.checks], right={3})
    for _title, headers, rows, right in figure_tables(result):
        out += ["", *_table(headers, rows, right)]
    if result.slow_queries:
        out += ["", *_table(
            ["SLOW QUERIES", "calls", "mean ms", "total ms"],
            [[_clip(q.query, 70), str(q.calls), _cell(q.mean_ms), _cell(q.total_ms)]
             for q in result.slow_queries], right={1, 2, 3})]
    out.append("")
    if result.findings:
        out.append("FINDINGS")
        for f in result.findings:
            out += [f"[{f.severity.value.upper()}] {f.title}", f"    {f.evidence}",
                    f"    -> {f.advice}"]
    else:
        out.append("No findings.")
    return "\n".join(out) + "\n"


def _clip(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"
