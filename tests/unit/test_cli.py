"""The command line: version, bad arguments and bad profiles give one clear line and exit 3."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
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


def run_capped(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """run_cli with the address space capped at 2 GB: a CLI that reads /dev/zero fails with
    MemoryError instead of taking the machine's memory."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          check=False, text=True, timeout=timeout, cwd=ROOT, preexec_fn=cap,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                               "HOME": str(ROOT / ".no-home")})


def not_a_file(kind: str, tmp_path: Path) -> Path:
    """A path of the given kind that diagnose must neither read as a profile nor replace."""
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return tmp_path / "pipe"
    if kind == "folder":
        (tmp_path / "folder").mkdir()
        return tmp_path / "folder"
    if kind == "read-only file system":
        return Path("/proc/backroom-report")
    if kind == "device" and os.geteuid() == 0:
        # root may replace /dev/full itself (the bug this guards against did): use a device
        # node of our own, a twin of /dev/full
        device = tmp_path / "full"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        return device
    device = Path("/dev/full" if kind == "device" else kind)  # a user cannot replace them
    if not device.exists():
        pytest.skip(f"no {device} here")
    return device


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 3, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backroom: error: ")
    return lines[0]


@pytest.mark.parametrize("option", ["--html", "--bundle"])
@pytest.mark.parametrize("kind", ["symlink", "fifo", "device", "folder",
                                  "read-only file system"])
def test_diagnose_replaces_a_regular_file_only(option: str, kind: str, tmp_path: Path) -> None:
    profile = tmp_path / "shop.toml"
    profile.write_text('name = "Bistro"\n')
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    if kind == "symlink":
        target = tmp_path / "report"
        target.symlink_to(notes)
    else:
        target = not_a_file(kind, tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_capped("diagnose", "--profile", str(profile), option, str(target))
    line = one_error_line(result)
    assert str(target) in line
    assert result.stdout == ""  # refused before the sweep
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert notes.read_text() == "my notes\n"
    if kind == "symlink":
        assert target.is_symlink() and "symbolic link" in line
    if kind == "fifo":
        assert stat.S_ISFIFO(target.stat().st_mode)
    if kind == "device":
        assert stat.S_ISCHR(target.stat().st_mode)


def test_diagnose_replaces_a_regular_file_and_keeps_its_mode(tmp_path: Path) -> None:
    profile = tmp_path / "shop.toml"
    profile.write_text('name = "Bistro"\n')
    report = tmp_path / "report.html"
    report.write_text("last week's report")
    report.chmod(0o640)
    result = run_cli("diagnose", "--profile", str(profile), "--html", str(report))
    assert result.returncode == 2, result.stderr  # a profile with nothing to check is FAIL
    assert "<html" in report.read_text(encoding="utf-8").lower()
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "shop.toml"]


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "too large"])
def test_a_profile_that_is_not_a_small_regular_file_is_refused_unread(kind: str,
                                                                      tmp_path: Path) -> None:
    if kind == "too large":
        path = tmp_path / "huge.toml"
        with path.open("w") as handle:  # valid TOML, so only its size can stop it
            handle.write('name = "x"\n')
            handle.write("# filler\n" * 600_000)
        what = "more than the 4.0 MB allowed"
    else:
        path = not_a_file(kind, tmp_path)
        what = "not a file"
    started = time.monotonic()
    result = run_capped("diagnose", "--profile", str(path))
    line = one_error_line(result)
    assert line == f"backroom: error: cannot read profile {path}: " + (
        f"is {path.stat().st_size / (1 << 20):.1f} MB, {what}" if kind == "too large" else
        f"is a {'device' if kind == '/dev/zero' else 'named pipe (FIFO)'}, {what}")
    assert time.monotonic() - started < 20


def test_bare_backroom_means_gui() -> None:
    assert main._normalise([]) == ["gui"]
    assert main._normalise(["--demo", "--page", "bookings"]) == ["gui", "--demo", "--page",
                                                                  "bookings"]
    assert main._normalise(["-v", "diagnose", "--demo"]) == ["-v", "diagnose", "--demo"]
