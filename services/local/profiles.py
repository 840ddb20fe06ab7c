"""Profiles on disk: load and save TOML, list the user's profiles, and the built-in demo."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import platformdirs

from console import metrics
from console.alert_rules import (
    BUSIER_BASELINE_S,
    BUSIER_FACTOR,
    BUSIER_THAN_USUAL,
    TABLES_READ_WHOLE,
)
from console.domain import Severity
from console.profile import (
    AlertRule,
    Backend,
    Probe,
    Profile,
    ProfileError,
    SecretRef,
    Source,
    parse_profile,
    profile_to_dict,
)
from services.local.user_files import read_regular_file, replace_file

log = logging.getLogger(__name__)

APP_NAME = "backroom"
DEFAULT_NAME = "default.toml"
DEMO_PROMETHEUS = "shop"
DEMO_DATABASE = "database"
#: A profile is a few kB of TOML; past this a file is refused unread (``--profile /dev/zero``
#: or a log picked by mistake must not fill the memory).
MAX_PROFILE_BYTES = 4 << 20


def config_dir(create: bool = False) -> Path:
    """The user's Backroom config folder (platformdirs), where profiles live."""
    path = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def list_profiles(directory: Path | None = None) -> list[Path]:
    """The profile files (``*.toml``) in the config folder, sorted by name."""
    folder = directory or config_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if p.is_file())


def profile_label(path: Path) -> str:
    """The shop's ``name`` in a profile file, for lists; the file name when it has none or
    cannot be read (the list must show every file, even one that needs fixing)."""
    try:
        name = parse_toml(read_profile_bytes(path), path.name).get("name")
    except (OSError, ProfileError):
        return path.stem
    return name.strip() if isinstance(name, str) and name.strip() else path.stem


def default_profile_path(directory: Path | None = None) -> Path | None:
    """The profile to open without ``--profile``: ``default.toml``, else the one most
    recently saved, else None (then the console opens on the demo shop)."""
    profiles = list_profiles(directory)
    for path in profiles:
        if path.name == DEFAULT_NAME:
            return path
    if not profiles:
        return None
    return max(profiles, key=lambda p: p.stat().st_mtime)


def read_profile_bytes(path: Path | str) -> bytes:
    """A profile file's bytes. A FIFO, device or folder, or a file over
    :data:`MAX_PROFILE_BYTES`, raises :class:`~services.user_files.UnusableFile` (an OSError)
    without being read."""
    return read_regular_file(path, MAX_PROFILE_BYTES)


def load_profile(path: Path | str) -> Profile:
    """Read and validate a profile file. Raises :class:`ProfileError` for invalid TOML or an
    invalid profile (every problem listed) and OSError when the file cannot be read or is not
    a regular file of at most :data:`MAX_PROFILE_BYTES`."""
    path = Path(path)
    raw = read_profile_bytes(path)
    profile = parse_profile(parse_toml(raw, path.name, origin=str(path)), origin=str(path))
    for warning in profile.warnings:
        log.warning("profile %s: %s", path.name, warning)
    return profile


def parse_toml(raw: bytes, name: str, origin: str = "") -> dict[str, Any]:
    """The TOML data of a profile file's bytes. Raises :class:`ProfileError` naming the file
    and the fault for text that is not UTF-8 or not TOML, nesting too deep included (tomllib
    recurses once a level and raises RecursionError there)."""
    import tomllib  # here: the demo's start reads no file before its window paints

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        fault = f"not UTF-8 text ({err.reason} at byte {err.start})"
    except tomllib.TOMLDecodeError as err:
        fault = f"not valid TOML: {err}"
    except RecursionError:
        fault = "not valid TOML: nested too deeply"
    raise ProfileError([f"{name}: {fault}"], origin or name)


def save_profile(profile: Profile, path: Path | str) -> Path:
    """Write the profile as TOML, atomically, readable only by the user (a literal secret
    may be in it). A symbolic link is written through: its target is replaced and the link
    stays a link. A path (or link target) that is not a regular file raises
    :class:`~services.user_files.UnusableFile`. Returns ``path``."""
    import tomli_w

    path = Path(path)
    text = tomli_w.dumps(profile_to_dict(profile))
    replace_file(Path(os.path.realpath(path)), text.encode("utf-8"), mode=0o600,
                 make_folder=True)
    return path


def demo_profile(base_url: str, token: str, db_path: Path) -> Profile:
    """The built-in profile of the embedded demo shop (its token is fine to hold literally)."""
    base = base_url.rstrip("/")
    secret = SecretRef.literal(token)
    return Profile(
        name="Demo shop",
        role="support",
        backend=Backend(base_url=base, token=secret, timeout_s=10.0),
        probes=(
            Probe(name="health", url=f"{base}/health", interval_s=5.0, timeout_s=5.0,
                  expect_status=(200,)),
            Probe(name="availability",
                  url=f"{base}/api/availability?date={{today}}&party_size=2",
                  interval_s=5.0, timeout_s=5.0, expect_status=(200,), token=secret),
        ),
        sources=(
            Source(name=DEMO_PROMETHEUS, kind="prometheus", url=f"{base}/metrics",
                   interval_s=5.0, timeout_s=5.0),
            Source(name=DEMO_DATABASE, kind="database",
                   url=f"sqlite:///{Path(db_path).resolve()}", interval_s=30.0, timeout_s=5.0),
        ),
        alerts=(
            AlertRule(name="Slow responses", source=DEMO_PROMETHEUS,
                      metric=metrics.LATENCY_P95, above=0.5, for_s=30.0,
                      severity=Severity.WARN),
            AlertRule(name="Cache hit rate low", source=DEMO_PROMETHEUS,
                      metric=metrics.CACHE_HIT_RATE, below=0.5, for_s=60.0,
                      severity=Severity.WARN),
            AlertRule(name="Queue backing up", source=DEMO_PROMETHEUS,
                      metric=metrics.QUEUE_DEPTH, above=50.0, for_s=60.0,
                      severity=Severity.WARN),
            AlertRule(name="Requests failing", source=DEMO_PROMETHEUS,
                      metric=metrics.ERROR_RATIO, above=0.05, for_s=30.0,
                      severity=Severity.FAIL),
            AlertRule(name=TABLES_READ_WHOLE, source=DEMO_PROMETHEUS,
                      metric=metrics.FULL_SCANS_RATE, above=0.5, for_s=30.0,
                      severity=Severity.WARN, labels=(("table", "bookings"),)),
            AlertRule(name=BUSIER_THAN_USUAL, source=DEMO_PROMETHEUS,
                      metric=metrics.REQUEST_RATE, above=BUSIER_FACTOR, for_s=30.0,
                      severity=Severity.INFO, baseline_s=BUSIER_BASELINE_S),
        ),
        origin="demo",
    )
