"""The support bundle: one zip of report, metrics, log, redacted profile and versions, no secret."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import platform
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import tomli_w

from console import __version__
from console.domain import iso_time
from console.profile import Profile, SecretRef, profile_to_dict
from console.redaction import MASK, Redactor, profile_secrets
from console.report_html import Chart, Section, render_html
from services.local.user_files import replacing

log = logging.getLogger(__name__)

#: How much of the past the metrics CSV holds.
METRICS_WINDOW_S = 3600.0
#: The newest log files taken (backroom.log, backroom.log.1, ...) and at most this many bytes.
LOG_FILES = 2
LOG_MAX_BYTES = 4 << 20


# -- secrets ------------------------------------------------------------------------------------

def profile_redactor(profile: Profile, resolve: Callable[[SecretRef], str] | None = None
                     ) -> Redactor:
    """console.redaction's redactor for every secret the profile can reach (keyring and env
    references resolved with ``resolve``, services.local.secrets.resolve_secret by default)."""
    if resolve is None:
        from services.local.secrets import resolve_secret

        resolve = resolve_secret
    return Redactor(profile_secrets(profile, resolve))


# -- the parts ----------------------------------------------------------------------------------

def redacted_profile_toml(profile: Profile) -> str:
    """The profile as TOML with literal secrets removed and URL secrets masked; a comment
    says which fields held a literal secret (worth telling support)."""
    data = profile_to_dict(profile, redact=True, url_secret_mark=MASK)
    removed = _literal_fields(profile)
    head = "# Backroom profile, secrets removed for a support bundle.\n"
    if removed:
        head += ("# These fields held a secret written in the profile itself (removed here): "
                 + ", ".join(removed) + "\n")
    return head + tomli_w.dumps(data)


def _literal_fields(profile: Profile) -> list[str]:
    fields: list[str] = []

    def note(where: str, ref: SecretRef | None) -> None:
        if ref is not None and ref.kind == "literal":
            fields.append(where)

    if profile.backend is not None:
        note("backend.token", profile.backend.token)
    for i, probe in enumerate(profile.probes):
        note(f"probes[{i}].token", probe.token)
    for i, source in enumerate(profile.sources):
        note(f"sources[{i}].password", source.password)
    if profile.database is not None:
        note("database.password", profile.database.password)
    return fields


def metrics_csv(store: Any = None, readings: Iterable[Any] = (), *,
                window_s: float = METRICS_WINDOW_S, now: float | None = None) -> str:
    """``series,ts,value`` rows of the last ``window_s`` seconds: from the live store (1 s
    buckets, empty ones left out) or, headless, from the readings a diagnose run took."""
    now = time.time() if now is None else now
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("series", "ts", "value"))
    if store is not None:
        for series in store.series_names():
            window = store.window(series, now - window_s, now)
            for ts, value in zip(window.ts.tolist(), window.value.tolist(), strict=True):
                if math.isfinite(value):
                    writer.writerow((series, iso_time(ts), repr(float(value))))
    else:
        for reading in sorted(readings, key=lambda r: (r.series, r.ts)):
            if now - window_s <= reading.ts <= now + 60 and math.isfinite(reading.value):
                writer.writerow((reading.series, iso_time(reading.ts), repr(float(reading.value))))
    return out.getvalue()


def read_logs(log_dir: Path | None, files: int = LOG_FILES,
              max_bytes: int = LOG_MAX_BYTES) -> str:
    """The newest log files, oldest first, cut to the last ``max_bytes``."""
    if log_dir is None:
        return ""
    paths = [log_dir / "backroom.log", *(log_dir / f"backroom.log.{i}" for i in range(1, files))]
    chunks = []
    for path in reversed(paths):
        try:
            chunks.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    text = "".join(chunks)
    if len(text) > max_bytes:
        text = text[-max_bytes:]
        text = text[text.find("\n") + 1:]
    return text


def versions_of(result: Any, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Backroom, Python and the platform, what the caller adds (Qt from the UI) and every
    server version the sweep saw (``result.servers`` as (name, version) pairs)."""
    found = [("Backroom", __version__), ("Python", platform.python_version()),
             ("Platform", platform.platform())]
    found += [(str(k), str(v)) for k, v in extra]
    for name, version in getattr(result, "servers", ()) or ():
        if version:
            found.append((f"server {name}", str(version)))
    return found


def result_json(result: Any) -> str:
    """The sweep as JSON: ``console.report``'s shape when it can render it, else the
    dataclass fields of the result as they are."""
    as_diagnose = getattr(result, "as_diagnose_result", None)
    if callable(as_diagnose):
        result = as_diagnose()
    try:
        from console import report as report_module

        render = getattr(report_module, "render_json", None) or getattr(report_module,
                                                                         "to_json", None)
    except ImportError:
        render = None
    if callable(render):
        try:
            text = render(result)
            return text if isinstance(text, str) else json.dumps(text, indent=2, default=str)
        except Exception:
            log.debug("console.report could not render this result; using plain fields")
    return json.dumps(_plain(result), indent=2, default=str)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        try:
            return _plain(asdict(value))
        except TypeError:
            pass
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


_README = """Backroom support bundle

report.html   the diagnostic sweep: findings, checks, charts (open in any browser)
report.json   the same as JSON
metrics.csv   the last hour of every series: series,ts (UTC epoch seconds),value
backroom.log  the console's log (secrets masked)
profile.toml  the shop profile, every secret removed
versions.txt  Backroom, Python, Qt and the servers seen

Every secret of the profile was removed or replaced with *** before anything was written.
"""


_CONSOLE_LOG_DIR = Path("<the console's log directory>")


def write_bundle(path: Path | str, *, result: Any, profile: Profile, store: Any = None,
                 log_dir: Path | None = _CONSOLE_LOG_DIR,
                 versions: Sequence[tuple[str, str]] = (),
                 sections: Sequence[Section] = (), charts: Sequence[Chart] | None = None,
                 resolve: Callable[[SecretRef], str] | None = None,
                 now: float | None = None) -> Path:
    """Write the support bundle zip at ``path`` and return it (``log_dir`` defaults to the
    console's own log directory; None leaves the log out).

    Every text member is scrubbed of every secret the profile can reach (raw, URL-encoded and
    base64) on the way in, whatever its source already did. The zip is written to a
    temporary name and renamed, so a half-written bundle never has the final name, and only
    a regular file is replaced (services.user_files.replacing).
    """
    path = Path(path)
    if log_dir is _CONSOLE_LOG_DIR:
        from services.local.logsetup import log_dir as console_log_dir

        log_dir = console_log_dir()
    clean = profile_redactor(profile, resolve)
    all_versions = versions_of(result, versions)
    readings = getattr(result, "readings", ()) or ()
    members = {
        "README.txt": _README,
        "report.html": render_html(result, sections=sections, charts=charts,
                                   versions=all_versions),
        "report.json": result_json(result),
        "metrics.csv": metrics_csv(store, readings, now=now),
        "backroom.log": read_logs(log_dir),
        "profile.toml": redacted_profile_toml(profile),
        "versions.txt": "".join(f"{k}: {v}\n" for k, v in all_versions),
    }
    stamp = time.gmtime(time.time() if now is None else now)[:6]
    with replacing(path, make_folder=True) as handle, \
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, clean(text).encode("utf-8"))
    log.info("support bundle written: %s (%d members)", path.name, len(members))
    return path


__all__ = [
    "metrics_csv",
    "profile_redactor",
    "read_logs",
    "redacted_profile_toml",
    "result_json",
    "versions_of",
    "write_bundle",
]
