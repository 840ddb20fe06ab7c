"""`backroom diagnose`: the sweep printed as a table or JSON, files written, Nagios exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from console.domain import Status
from console.profile import Profile
from console.report import DiagnoseResult, render_json, render_table
from services.bootstrap import history_path
from services.diagnostics.diagnose import run_diagnose
from services.diagnostics.query_plans import with_query_plans
from services.diagnostics.usual import history_usual
from services.local.user_files import UnusableFile, check_target

EXIT_BY_STATUS = {Status.OK: 0, Status.WARN: 1, Status.FAIL: 2}
#: diagnose's own failure (a file it cannot write, say): "unknown" to Nagios and Icinga,
#: never 1, which they would read as a warning about the shop.
EXIT_UNKNOWN = 3


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
    # the usual traffic, where a console on this machine keeps the profile's history
    usual = history_usual(profile, history_path(profile.name))
    result = with_query_plans(run_diagnose(profile, samples=samples, window_s=window_s,
                                           timeout_cap_s=timeout_cap_s, recent=usual),
                              profile)
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
