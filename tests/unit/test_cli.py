"""The command line: version, bad arguments and bad profiles give one clear line and exit 3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import main
from console import __version__

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          check=False, text=True, timeout=timeout, cwd=ROOT,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                               "HOME": str(ROOT / ".no-home")})


def test_version_prints_name_and_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"backroom {__version__}"


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("gui", "diagnose", "demo", "db", "package"):
        assert command in result.stdout


@pytest.mark.parametrize("args", [
    ("--bogus",),
    ("gui", "--page", "nowhere"),
    ("gui", "--quit-after", "soon"),
    ("diagnose", "--samples", "0"),
    ("diagnose", "--profile", "a.toml", "--demo"),
    ("demo", "serve", "--port", "eighty"),
    ("demo", "serve", "--bogus"),
])
def test_bad_argument_is_one_line_and_exit_3(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backroom")
    assert "Traceback" not in result.stderr


def test_missing_profile_is_one_line_and_exit_3(tmp_path: Path) -> None:
    result = run_cli("diagnose", "--profile", str(tmp_path / "nowhere.toml"))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "nowhere.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_profile_lists_the_problem_and_exits_3(tmp_path: Path) -> None:
    profile = tmp_path / "shop.toml"
    profile.write_text('name = "Bistro"\n[[sources]]\nname = "cache"\nkind = "redsi"\n'
                       'url = "redis://127.0.0.1:6379/0"\n')
    result = run_cli("gui", "--profile", str(profile), "--quit-after", "1")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "redsi" in result.stderr
    assert "sources[0].kind" in result.stderr


def test_profile_that_is_not_toml_exits_3(tmp_path: Path) -> None:
    profile = tmp_path / "shop.toml"
    profile.write_text("name = [unclosed\n")
    result = run_cli("diagnose", "--profile", str(profile))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "shop.toml" in result.stderr


def test_bare_backroom_means_gui() -> None:
    assert main._normalise([]) == ["gui"]
    assert main._normalise(["--demo", "--page", "bookings"]) == ["gui", "--demo", "--page",
                                                                  "bookings"]
    assert main._normalise(["-v", "diagnose", "--demo"]) == ["-v", "diagnose", "--demo"]
