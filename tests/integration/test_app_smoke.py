"""The whole console, as a user starts it: on the demo shop, offscreen, with a screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def run_console(tmp_path: Path, *args: str,
                timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          check=False, text=True, timeout=timeout, cwd=tmp_path, env=env)


def test_first_start_opens_on_the_demo_and_saves_a_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    result = run_console(tmp_path, "--quit-after", "6", "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    image = QImage(str(shot))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1400, 900)
    # A real window, not a blank frame: many distinct colours (charts, chips, text).
    colours = {image.pixel(x, y) for x in range(0, 1400, 7) for y in range(0, 900, 7)}
    assert len(colours) > 50
    # The demo shop wrote its database where the user's data lives, and stopped cleanly.
    assert list((tmp_path / "data").rglob("demo-shop.sqlite"))


@pytest.mark.parametrize("page", ["today", "bookings", "diagnostics", "settings"])
def test_each_page_opens_from_the_command_line(tmp_path: Path, page: str) -> None:
    shot = tmp_path / f"{page}.png"
    result = run_console(tmp_path, "gui", "--demo", "--no-traffic", "--page", page,
                         "--quit-after", "3", "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    assert not QImage(str(shot)).isNull()


def test_diagnose_on_the_demo_prints_json(tmp_path: Path) -> None:
    import json

    result = run_console(tmp_path, "diagnose", "--demo", "--json", "--samples", "2")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["profile"] == "Demo shop"
    assert {c["name"] for c in report["checks"]} >= {"health", "shop", "database"}
    assert all(c["status"] == "ok" for c in report["checks"])


def test_a_broken_default_profile_opens_the_demo_and_commands_exit_3(tmp_path: Path) -> None:
    """default.toml nested 100,000 deep (tomllib raises RecursionError there): the window
    still opens, on the demo shop; diagnose says what is wrong in one line and exits 3."""
    profiles = tmp_path / "config" / "backroom"
    profiles.mkdir(parents=True)
    (profiles / "default.toml").write_text("a = " + "[" * 100_000, encoding="utf-8")
    shot = tmp_path / "shot.png"
    gui = run_console(tmp_path, "--no-traffic", "--quit-after", "3", "--screenshot", str(shot))
    assert gui.returncode == 0, gui.stderr
    assert "Traceback" not in gui.stderr
    assert not QImage(str(shot)).isNull()

    diagnose = run_console(tmp_path, "diagnose")
    assert diagnose.returncode == 3
    assert diagnose.stderr.splitlines() == [
        f"backroom: error: profile {profiles / 'default.toml'} is not valid: default.toml: "
        "not valid TOML: nested too deeply"]
