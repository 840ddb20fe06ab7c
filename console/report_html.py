"""A sweep as one self-contained HTML page: findings, checks, tables and inline SVG charts."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from console.domain import Check, Finding, Severity, SlowQuery, Status
from console.report import figure_tables
from console.report_charts import FONT_PX, Chart, bar_chart


@dataclass(frozen=True, slots=True)
class Section:
    """A plain table in the report (database views, slow queries, anything tabular)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    flags: tuple[str, ...] = ()  # per row: "", "ok", "warn" or "fail" (colours the row)


# -- reading a sweep result (duck-typed: the diagnose result or the GUI's sweep) --------------

def _checks(result: Any) -> tuple[Check, ...]:
    return tuple(getattr(result, "checks", ()) or ())


def _findings(result: Any) -> tuple[Finding, ...]:
    return tuple(getattr(result, "findings", ()) or ())


def overall_status(result: Any) -> Status:
    status = getattr(result, "status", None)
    if isinstance(status, Status):
        return status
    return Status.worst([c.status for c in _checks(result)])


def shop_name(result: Any) -> str:
    for attr in ("profile_name", "profile", "shop", "name"):
        value = getattr(result, attr, None)
        if isinstance(value, str) and value:
            return value
    profile = getattr(result, "profile", None)
    return str(getattr(profile, "name", "") or "")


def result_time(result: Any) -> float:
    for attr in ("finished_at", "started_at", "ts", "generated_at"):
        value = getattr(result, attr, None)
        if isinstance(value, int | float):
            return float(value)
    return time.time()


def latency_chart(result: Any) -> Chart | None:
    """Bars of every check's latency, coloured by its status; None without any figure."""
    checks = _checks(result)
    if not any(c.latency_ms is not None for c in checks):
        return None
    bars = [(c.name, c.latency_ms, str(c.status)) for c in checks]
    alt = "; ".join(f"{c.name}: " + ("no answer" if c.latency_ms is None
                                     else f"{c.latency_ms:.1f} ms") for c in checks)
    return bar_chart("Response time per check", bars, unit="ms", alt=alt)


def slow_query_section(queries: Iterable[SlowQuery], title: str = "Slow queries") -> Section:
    rows = tuple((f"{q.total_ms:,.1f}", f"{q.mean_ms:,.2f}", f"{q.calls:,}", f"{q.rows:,}",
                  q.query) for q in queries)
    return Section(title, ("Total ms", "Mean ms", "Calls", "Rows", "Query"), rows)


# -- HTML -----------------------------------------------------------------------------------

def _px(value: float) -> str:
    """A coordinate for an SVG attribute: at most one decimal, no trailing zero."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


@cache
def _template() -> Template:
    env = Environment(loader=PackageLoader("console", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["px"] = _px
    return env.get_template("report.html.j2")


def _severity_state(severity: Severity | str) -> str:
    value = str(severity)
    return {"info": "info", "warn": "warn", "fail": "fail"}.get(value, "info")


def _looks_numeric(values: Iterable[str]) -> bool:
    seen = False
    for value in values:
        cleaned = value.replace(",", "").replace(".", "").replace("-", "").replace("%", "")
        if value and not cleaned.isdigit():
            return False
        seen = seen or bool(value)
    return seen


def figure_sections(result: Any) -> list[Section]:
    """The latency, cache and queue tables the text output prints, as report sections."""
    return [Section(title, tuple(h.capitalize() if h.isupper() else h for h in headers),
                    tuple(tuple(row) for row in rows))
            for title, headers, rows, _right in figure_tables(result)]


def _finding_view(finding: Finding) -> dict[str, str]:
    return {"state": _severity_state(finding.severity), "title": finding.title,
            "evidence": finding.evidence, "advice": finding.advice}


def _check_view(check: Check) -> dict[str, str]:
    state = str(check.status)
    return {"state": state, "flag": state if check.status != Status.OK else "",
            "name": check.name, "kind": check.kind, "detail": check.detail,
            "figure": "" if check.latency_ms is None else f"{check.latency_ms:,.1f} ms"}


def _section_view(section: Section) -> dict[str, Any]:
    """A section with each cell's class: "num" for a column of figures, "code" for SQL."""
    code = {j for j, c in enumerate(section.columns) if c.lower() in ("query", "sql", "plan")}
    numeric = {j for j in range(len(section.columns))
               if _looks_numeric(r[j] for r in section.rows if j < len(r))} - code
    rows = [{"flag": section.flags[i] if i < len(section.flags) else "",
             "cells": [(cell, "num" if j in numeric else "code" if j in code else "")
                       for j, cell in enumerate(row)]}
            for i, row in enumerate(section.rows)]
    return {"title": section.title, "note": section.note, "columns": section.columns,
            "rows": rows}


def render_html(result: Any, *, title: str | None = None, sections: Sequence[Section] = (),
                charts: Sequence[Chart] | None = None,
                versions: Sequence[tuple[str, str]] = (),
                generated_at: float | None = None) -> str:
    """The whole report as one HTML document with nothing to fetch (charts are inline SVG).

    ``result`` needs ``checks`` (Check) and may have ``findings`` (Finding),
    ``slow_queries`` (SlowQuery), ``profile_name``/``profile`` and ``finished_at``. With
    ``charts`` None, a response-time chart is drawn from the checks. Every text is escaped
    (the template's autoescape).
    """
    checks = _checks(result)
    findings = _findings(result)
    shop = shop_name(result)
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC",
                         time.gmtime(generated_at if generated_at is not None
                                     else result_time(result)))
    counts = {s: sum(1 for c in checks if c.status == s) for s in Status}
    order = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}
    chart_list = list(charts) if charts is not None else [
        c for c in (latency_chart(result),) if c is not None]
    slow = tuple(getattr(result, "slow_queries", ()) or ())
    all_sections = figure_sections(result) + list(sections)
    if slow and not any(s.title == "Slow queries" for s in all_sections):
        all_sections.insert(0, slow_query_section(slow))
    return _template().render(
        heading=title or (f"Diagnostic report: {shop}" if shop else "Diagnostic report"),
        status=str(overall_status(result)),
        when=when,
        summary=(f"{len(checks)} checks: {counts[Status.OK]} ok, {counts[Status.WARN]} warn, "
                 f"{counts[Status.FAIL]} fail · {len(findings)} findings"),
        findings=[_finding_view(f)
                  for f in sorted(findings, key=lambda f: order.get(f.severity, 3))],
        checks=[_check_view(c) for c in checks],
        charts=chart_list,
        font_px=FONT_PX,
        sections=[_section_view(s) for s in all_sections],
        versions=list(versions),
    )
