"""Findings from the plans of the shop's known queries: a whole-table read wants an index."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from console.domain import Finding, Severity, Status
from console.profile import Profile
from console.report import DiagnoseResult
from services.diagnostics.db_insights import DatabaseInsights

log = logging.getLogger(__name__)

#: A full scan of a table with fewer rows than this is cheap, not a finding.
MIN_PLAN_ROWS = 1000
_SEVERITY_STATUS = {Severity.INFO: Status.OK, Severity.WARN: Status.WARN,
                    Severity.FAIL: Status.FAIL}


def plan_findings(insights: Sequence[DatabaseInsights],
                  min_rows: int = MIN_PLAN_ROWS) -> tuple[Finding, ...]:
    """A finding per known query whose plan reads a whole table of many rows."""
    found = []
    for db in insights:
        for plan in db.flagged_plans:
            if plan.table_rows < min_rows:
                continue
            steps = "; ".join(plan.steps)
            found.append(Finding(
                Severity.WARN,
                f"{plan.name.capitalize()} reads the whole table: likely a missing index",
                f"{db.name}: EXPLAIN QUERY PLAN gives {steps} over {plan.table_rows:,} rows",
                (f"Add the index: {plan.suggestion}." if plan.suggestion else
                 "Index the columns this query filters on.")
                + " Until then every such request reads every row, and gets slower as the "
                  "table grows.",
                "missing-index"))
    return tuple(found)


def with_query_plans(result: DiagnoseResult, profile: Profile) -> DiagnoseResult:
    """Judge what the GUI's sweep judges: the query plans of the shop's known queries on its
    databases (a whole-table read of a big table is a missing index)."""
    from services.diagnostics.db_insights import collect_profile_insights, database_targets

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
