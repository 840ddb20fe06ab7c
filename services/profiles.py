"""Profiles on disk: load and save TOML, list the user's profiles, and the built-in demo."""

from __future__ import annotations

import logging
import os
import tempfile
import tomllib
from pathlib import Path

import platformdirs
import tomli_w

from console import metrics
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

log = logging.getLogger(__name__)

APP_NAME = "backroom"
DEFAULT_NAME = "default.toml"
DEMO_PROMETHEUS = "shop"
DEMO_DATABASE = "database"


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
        name = tomllib.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
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


def load_profile(path: Path | str) -> Profile:
    """Read and validate a profile file. Raises :class:`ProfileError` for invalid TOML or an
    invalid profile (every problem listed) and OSError when the file cannot be read."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ProfileError([f"{path.name}: not UTF-8 text ({err.reason} at byte {err.start})"],
                           str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise ProfileError([f"{path.name}: not valid TOML: {err}"], str(path)) from None
    profile = parse_profile(data, origin=str(path))
    for warning in profile.warnings:
        log.warning("profile %s: %s", path.name, warning)
    return profile


def save_profile(profile: Profile, path: Path | str) -> Path:
    """Write the profile as TOML, atomically, readable only by the user (a literal secret
    may be in it). Returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = tomli_w.dumps(profile_to_dict(profile))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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
        ),
        origin="demo",
    )
