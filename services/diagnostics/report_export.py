"""The CLI's exporters: ``diagnose --html`` and ``--bundle`` with the database views added."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from console.profile import Profile
from console.report_html import render_html
from services.diagnostics import bundle
from services.diagnostics.bundle import versions_of
from services.diagnostics.db_insights import collect_profile_insights
from services.diagnostics.query_plans import plan_findings
from services.diagnostics.sweep import SweepResult, report_sections
from services.local.logsetup import log_dir
from services.local.user_files import replace_file

log = logging.getLogger(__name__)


def _with_views(result: Any, profile: Profile) -> SweepResult:
    """The diagnose result plus the database views (read-only, bounded by each database's
    timeout) and the query-plan findings."""
    if isinstance(result, SweepResult):
        return result
    insights, problems = collect_profile_insights(profile)
    return SweepResult(diagnose=result, insights=tuple(insights),
                       insight_problems=tuple(problems),
                       plan_findings=plan_findings(insights),
                       servers=tuple((db.name, db.server_version) for db in insights
                                     if db.server_version))


def write_html_report(result: Any, profile: Profile, path: Path) -> Path:
    """Write the self-contained HTML report of a diagnose run (a regular file only: see
    services.user_files.replacing)."""
    full = _with_views(result, profile)
    text = render_html(full, sections=report_sections(full.insights),
                       versions=versions_of(full))
    text = bundle.profile_redactor(profile)(text)
    return replace_file(path, text.encode("utf-8"), make_folder=True)


def write_bundle(result: Any, profile: Profile, path: Path) -> Path:
    """Write the support bundle of a diagnose run (metrics from what diagnose collected)."""
    full = _with_views(result, profile)
    return bundle.write_bundle(path, result=full, profile=profile, store=None,
                               log_dir=log_dir(), sections=report_sections(full.insights))
