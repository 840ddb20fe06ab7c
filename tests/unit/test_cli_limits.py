"""Numbers on the command line are range-checked; the CLI's own failures are exit 3, one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A command that is not refused at once would run for hours (a window of inf, 10^14 rows):
# it is killed here and the test fails.
TIMEOUT = 40


def run_cli(tmp_path: Path, *args: str, code: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT)}
    command = ([sys.executable, "-c", code, *args] if code is not None
               else [sys.executable, str(ROOT / "main.py"), *args])
    try:
        return subprocess.run(command, capture_output=True, check=False, text=True,
                              timeout=TIMEOUT, cwd=tmp_path, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"backroom {' '.join(args)} was still running after {TIMEOUT} s")


def one_line_exit_3(result: subprocess.CompletedProcess[str]) -> str:
    """The run exited 3 with no traceback; returns its last line on stderr."""
    assert result.returncode == 3, (result.returncode, result.stderr[-1000:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines, "nothing said on stderr"
    assert lines[-1].startswith("backroom"), lines[-1]
    return lines[-1]


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    """A valid profile with nothing to check: diagnose on it finishes at once."""
    path = tmp_path / "empty.toml"
    path.write_text('name = "Corner Shop"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(("args", "says"), [
    (("gui", "--quit-after", "inf"), "not a finite number: 'inf'"),
    (("gui", "--quit-after", "nan"), "not a finite number: 'nan'"),
    (("gui", "--quit-after", "1e12"), "must be more than 0 and at most 604800"),
    (("diagnose", "--window", "inf"), "not a finite number: 'inf'"),
    (("diagnose", "--window", "nan"), "not a finite number: 'nan'"),
    (("diagnose", "--window", "1e300"), "must be from 0 to 3600"),
    (("diagnose", "--samples", "99999999999"), "must be from 1 to 100"),
    (("diagnose", "--samples", "١٢"), "not a whole number: '١٢'"),
])
def test_an_absurd_number_is_refused_with_its_range(tmp_path: Path, profile: Path,
                                                    args: tuple[str, ...], says: str) -> None:
    line = one_line_exit_3(run_cli(tmp_path, *args, "--profile", str(profile)))
    assert f"argument {args[1]}" in line
    assert says in line


@pytest.mark.parametrize(("args", "says"), [
    (("--port", "99999"), "argument --port: must be from 0 to 65535"),
    (("--port", "-5"), "argument --port: must be from 0 to 65535"),
    (("--rate", "inf"), "argument --rate: must be a number from 0 to 200"),
    (("--workers", "1000000"), "argument --workers: must be from 0 to 16"),
])
def test_demo_serve_refuses_absurd_numbers(tmp_path: Path, args: tuple[str, ...],
                                           says: str) -> None:
    line = one_line_exit_3(run_cli(tmp_path, "demo", "serve", *args))
    assert says in line
    assert not list((tmp_path / "data").rglob("*.sqlite3")), "the shop was started"


@pytest.mark.parametrize(("args", "says"), [
    (("--bookings", "99999999999999"), "--bookings must be at most 10,000,000"),
    (("--orders", "١٢"), "argument --orders: not a whole number"),
])
def test_db_seed_refuses_absurd_counts(tmp_path: Path, args: tuple[str, ...],
                                       says: str) -> None:
    database = tmp_path / "shop.db"
    line = one_line_exit_3(run_cli(tmp_path, "db", "seed", "--url", f"sqlite:///{database}",
                                   *args))
    assert says in line
    assert not database.exists()


@pytest.mark.parametrize("option", ["--html", "--bundle"])
def test_diagnose_that_cannot_write_its_file_is_unknown_not_warning(
        tmp_path: Path, profile: Path, option: str) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    line = one_line_exit_3(run_cli(tmp_path, "diagnose", "--profile", str(profile),
                                   option, str(folder)))
    assert "cannot write" in line and str(folder) in line
    assert folder.is_dir() and not any(folder.iterdir())


def test_diagnose_on_a_profile_it_cannot_read_is_unknown_not_warning(tmp_path: Path) -> None:
    nested = tmp_path / "nested.toml"
    nested.write_text('name = "Deep"\nx = ' + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    one_line_exit_3(run_cli(tmp_path, "diagnose", "--profile", str(nested)))


def test_package_without_pyinstaller_says_what_to_install(tmp_path: Path) -> None:
    # PyInstaller made unimportable the way Python documents (None in sys.modules), so the
    # test holds whether or not this environment has the package extra.
    code = ("import sys; sys.modules['PyInstaller'] = None; import main; "
            "sys.exit(main.main(['package']))")
    line = one_line_exit_3(run_cli(tmp_path, code=code))
    assert "pip install 'backroom[package]'" in line


@pytest.mark.parametrize("url", ["oracle://scott@127.0.0.1:9/shop",
                                 "mssql://sa@127.0.0.1:9/shop"])
def test_db_init_on_an_unsupported_database_says_what_is_supported(tmp_path: Path,
                                                                   url: str) -> None:
    line = one_line_exit_3(run_cli(tmp_path, "db", "init", "--url", url))
    assert "not supported" in line
    assert "sqlite, postgresql and mysql/mariadb" in line


def test_db_check_without_a_map_says_so(tmp_path: Path) -> None:
    profile = tmp_path / "shop.toml"
    profile.write_text('name = "Bistro"\n[database]\nurl = "sqlite:///shop.db"\n')
    line = one_line_exit_3(run_cli(tmp_path, "db", "check", "--profile", str(profile)))
    assert "no [database.map.*] to check" in line
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "Bistro"\n[database]\nurl = "sqlite:///shop.db"\n'
                   '[database.map.bookings]\ntable = "r"\n')
    line = one_line_exit_3(run_cli(tmp_path, "db", "check", "--profile", str(bad)))
    assert "database.map.bookings.columns: required" in line
