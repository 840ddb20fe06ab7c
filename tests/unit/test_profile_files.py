"""Profiles on disk: load, save, list, default, and the built-in demo profile."""

from __future__ import annotations

import logging
import stat
import tomllib
from pathlib import Path

import pytest
import tomli_w

from console import metrics
from console.profile import ProfileError, parse_profile, profile_to_dict
from services.profiles import (
    default_profile_path,
    demo_profile,
    list_profiles,
    load_profile,
    save_profile,
)


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text('name = "x"\n[backend\n')
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.problems[0].startswith("shop.toml: not valid TOML:")
    assert "line 2" in info.value.problems[0]


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_profile(tmp_path / "nowhere.toml")


def test_literal_secret_is_logged_as_a_warning_without_the_value(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "shop.toml"
    path.write_text('name = "x"\n[backend]\nbase_url = "http://h"\ntoken = "tok-99887766"\n')
    with caplog.at_level(logging.WARNING):
        profile = load_profile(path)
    assert profile.backend is not None
    assert "backend.token" in caplog.text
    assert "tok-99887766" not in caplog.text


def test_save_then_load_round_trips_and_is_private(tmp_path: Path) -> None:
    profile = demo_profile("http://127.0.0.1:8000", "demo-token", tmp_path / "demo.sqlite3")
    path = save_profile(profile, tmp_path / "profiles" / "demo.toml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_profile(path) == profile
    assert list_profiles(tmp_path / "profiles") == [path]


def test_default_profile_prefers_default_toml(tmp_path: Path) -> None:
    assert default_profile_path(tmp_path) is None
    (tmp_path / "a.toml").write_text('name = "a"\n')
    assert default_profile_path(tmp_path) == tmp_path / "a.toml"
    (tmp_path / "default.toml").write_text('name = "d"\n')
    assert default_profile_path(tmp_path) == tmp_path / "default.toml"


def test_demo_profile_is_valid_and_has_the_default_alerts(tmp_path: Path) -> None:
    profile = demo_profile("http://127.0.0.1:8000/", "demo-token", tmp_path / "demo.sqlite3")
    assert profile.warnings == ()
    assert [p.url for p in profile.probes] == [
        "http://127.0.0.1:8000/health",
        "http://127.0.0.1:8000/api/availability?date={today}&party_size=2",
    ]
    assert {s.kind for s in profile.sources} == {"prometheus", "database"}
    rules = {(a.metric, a.above, a.below, a.for_s) for a in profile.alerts}
    assert rules == {(metrics.LATENCY_P95, 0.5, None, 30.0),
                     (metrics.CACHE_HIT_RATE, None, 0.5, 60.0),
                     (metrics.QUEUE_DEPTH, 50.0, None, 60.0),
                     (metrics.ERROR_RATIO, 0.05, None, 30.0)}
    # The demo profile passes the same validation as a user's file.
    data = tomllib.loads(tomli_w.dumps(profile_to_dict(profile)))
    assert parse_profile(data) == profile
    assert "demo-token" not in repr(profile)
