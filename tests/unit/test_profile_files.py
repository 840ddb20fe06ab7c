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
from services.local.profiles import (
    default_profile_path,
    demo_profile,
    list_profiles,
    load_profile,
    profile_label,
    save_profile,
)

# tomllib recurses once a level: a RecursionError, not a TOMLDecodeError
DEEP = "a = " + "[" * 100_000


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text('name = "x"\n[backend\n')
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.problems[0].startswith("shop.toml: not valid TOML:")
    assert "line 2" in info.value.problems[0]


def test_toml_nested_too_deep_is_an_invalid_profile_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "default.toml"
    path.write_text(DEEP)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.problems == ["default.toml: not valid TOML: nested too deeply"]
    assert profile_label(path) == "default"  # listed by its file name, not a crash


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


def test_saving_through_a_symbolic_link_keeps_the_link(tmp_path: Path) -> None:
    """A profile kept in a dotfiles repository and linked into the config folder: saving
    writes the repository's file and the link stays a link."""
    target = tmp_path / "dotfiles" / "bistro.toml"
    target.parent.mkdir()
    target.write_text('name = "Old name"\n')
    link = tmp_path / "config" / "default.toml"
    link.parent.mkdir()
    link.symlink_to(target)
    profile = parse_profile({"name": "Main Street Bistro"})
    assert save_profile(profile, link) == link
    assert link.is_symlink() and link.readlink() == target
    assert load_profile(target) == profile
    assert list(link.parent.iterdir()) == [link]  # no temporary file left behind
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_saving_through_a_link_to_a_pipe_is_refused_and_changes_nothing(tmp_path: Path
                                                                      ) -> None:
    import os

    from services.local.user_files import UnusableFile

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "shop.toml"
    link.symlink_to(fifo)
    with pytest.raises(UnusableFile, match=r"pipe is a named pipe \(FIFO\)"):
        save_profile(parse_profile({"name": "x"}), link)
    assert link.is_symlink() and stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "shop.toml"]


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
    rules = {(a.metric, a.above, a.below, a.for_s, a.baseline_s) for a in profile.alerts}
    assert rules == {(metrics.LATENCY_P95, 0.5, None, 30.0, 0.0),
                     (metrics.CACHE_HIT_RATE, None, 0.5, 60.0, 0.0),
                     (metrics.QUEUE_DEPTH, 50.0, None, 60.0, 0.0),
                     (metrics.ERROR_RATIO, 0.05, None, 30.0, 0.0),
                     # traffic against its own last 15 minutes (a relative rule)
                     (metrics.REQUEST_RATE, 2.0, None, 30.0, 900.0),
                     # the bookings read whole (a dropped index)
                     (metrics.FULL_SCANS_RATE, 0.5, None, 30.0, 0.0)}
    whole = next(a for a in profile.alerts if a.metric == metrics.FULL_SCANS_RATE)
    assert whole.series == 'shop/full_scans_rate{table="bookings"}'
    # The demo profile passes the same validation as a user's file.
    data = tomllib.loads(tomli_w.dumps(profile_to_dict(profile)))
    assert parse_profile(data) == profile
    assert "demo-token" not in repr(profile)
