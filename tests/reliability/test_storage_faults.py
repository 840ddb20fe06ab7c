"""The console's own files going wrong: another program's database or a damaged file at the
history's path, a data folder that cannot be made or is removed, a full disk."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.exc import OperationalError

from console.domain import Reading
from console.profile import Profile, parse_profile
from services.bootstrap import build_services, profile_slug
from services.local.local_files import LocalFileProblem
from services.monitoring.history_writer import History

pytestmark = pytest.mark.integration

NOW = 1_700_006_400.0
SHOP = Profile(name="Corner Bakery")


def history_file(directory: Path) -> Path:
    return directory / f"history-{profile_slug(SHOP.name)}.sqlite"


def foreign_database(path: Path) -> bytes:
    """A small database of another program (a shop's own orders), as bytes on disk."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("create table orders (id integer primary key, customer text, total real)")
        conn.executemany("insert into orders (customer, total) values (?, ?)",
                         [("Ana", 12.5), ("Ben", 8.0)])
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["another-programs-database", "not-a-database"])
def test_a_file_that_is_not_our_history_is_never_written_and_the_window_is_told(
        tmp_path: Path, kind: str) -> None:
    path = history_file(tmp_path)
    if kind == "another-programs-database":
        before = foreign_database(path)
        words = ["another program's database", "orders", "move the file aside"]
    else:
        before = b"Backroom? no: a spreadsheet saved over the history\n" * 100
        path.write_bytes(before)
        words = ["not a SQLite database", "move the file aside"]
    services = build_services(SHOP, directory=tmp_path, poll=False)
    services.start()
    services.stop()
    assert path.read_bytes() == before, "not one byte of a file that is not ours is changed"
    assert not Path(f"{path}-wal").exists()
    problems = services.storage_problems()
    assert len(problems) == 1 and problems[0].startswith("History is off: ")
    assert all(word in problems[0] for word in words), problems[0]
    with pytest.raises(LocalFileProblem):
        History(path)
    assert path.read_bytes() == before


def test_another_programs_database_at_the_alert_log_path_is_never_written(
        tmp_path: Path) -> None:
    from console.alerts import AlertEvent
    from console.domain import Severity

    path = tmp_path / "alerts.sqlite"
    before = foreign_database(path)
    services = build_services(SHOP, directory=tmp_path, poll=False)
    event = AlertEvent(ts=NOW, rule="Slow pages", state="firing", previous="ok",
                       severity=Severity.WARN, value=0.9, series="web/latency_p95",
                       message="Slow pages: 900 ms")
    with pytest.raises(LocalFileProblem):
        services.alert_log.record([event])
    assert path.read_bytes() == before
    problems = services.storage_problems()
    assert problems == [f"The alert history is not kept: {path} is another program's database "
                        "(its tables: orders), so it is left as it is: move the file aside (or "
                        "delete it) and restart the console to start a new one."]


def test_a_data_folder_that_cannot_be_made_leaves_live_charts_running(tmp_path: Path) -> None:
    from tests.integration.local_servers import http_server, reply

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    metrics = b"# TYPE orders_total counter\norders_total 42\n"
    with http_server({"/metrics": reply(body=metrics)}) as base:
        profile = parse_profile({"name": "Corner Bakery", "alerts": [
            {"name": "Web up", "source": "web", "metric": "up", "above": 0.5, "for_s": 0}],
            "sources": [{"name": "web", "kind": "prometheus", "url": base + "/metrics",
                         "interval_s": 0.2}]})
        services = build_services(profile, directory=blocked / "backroom")
        try:
            services.start()
            deadline = time.monotonic() + 10
            while not services.store.series_names() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert services.store.series_names(), "the poller still fills the live store"
            # the rule fires on the alerts thread or here, whichever evaluates first, and its
            # write fails there or here: the window reads the problem once it is known
            services.alerts.evaluate_once(time.time())
            deadline = time.monotonic() + 10
            while len(problems := services.storage_problems()) < 2 \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            services.stop()
    assert problems[0].startswith(f"History is off: the folder {blocked / 'backroom'} cannot "
                                  "be created (Not a directory)")
    assert problems[1].startswith("The alert history is not kept: the folder")


def test_a_data_folder_removed_while_running_gets_a_new_history(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    path = folder / "history.sqlite"
    history = History(path, wall=lambda: NOW)
    history.start()
    try:
        history.record([Reading("web/latency_p95", NOW, 0.25)])
        assert history.flush()
        shutil.rmtree(folder)
        history.record([Reading("web/latency_p95", NOW + 5, 0.5)])
        assert history.flush()
        assert path.exists(), "a new file where the old one was"
        assert history.problem is not None and "was removed" in history.problem
    finally:
        history.stop()
    reopened = History(path, wall=lambda: NOW)
    try:
        ((series, ts, values),) = list(reopened.load(NOW - 60))
    finally:
        reopened.stop()
    assert series == "web/latency_p95"
    assert ts.tolist() == [NOW, NOW + 5] and values.tolist() == [0.25, 0.5]


# -- a full disk --------------------------------------------------------------------------------

@contextlib.contextmanager
def mounted(mount_point: Path, options: str) -> Iterator[Path]:
    """A real small file system (tmpfs) at ``mount_point``; skips the test with the reason
    where mounting is not allowed (it needs root)."""
    mount_point.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs",
                               str(mount_point)], capture_output=True, text=True, timeout=10,
                              check=False)
    except OSError as err:
        pytest.skip(f"cannot run mount: {err}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) for this test (needs root): "
                    f"{done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=10,
                       check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB file system to fill up."""
    with mounted(tmp_path / "disk", "size=1m") as mount_point:
        yield mount_point


def fill(folder: Path) -> Path:
    """Take every free byte of the file system holding ``folder``."""
    filler = folder / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as handle:
        while True:
            handle.write(b"\0" * 4096)
    return filler


def test_on_a_full_disk_the_history_keeps_a_bounded_backlog_and_says_so_once(
        small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    history = History(small_disk / "history.sqlite", wall=lambda: NOW, backlog_s=60.0)
    series = [f"web/requests{{path=\"/p{i}\"}}" for i in range(20)]
    try:
        for name in series:
            history.record_many(name, [NOW], [1.0])
        assert history.flush()
        filler = fill(small_disk)
        with pytest.raises(OSError) as info:
            (small_disk / "more").write_bytes(b"x" * 4096)
        assert info.value.errno == errno.ENOSPC, "the disk is really full"

        caplog.clear()
        with caplog.at_level(logging.INFO, logger="services.monitoring.history_writer"):
            for minute in range(10):  # ten minutes of samples at 1 Hz, a flush a minute
                ts = NOW + 1 + minute * 60 + np.arange(60.0)
                for name in series:
                    history.record_many(name, ts, np.full(60, float(minute)))
                assert not history.flush()
        failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len([r for r in failures if "writing history failed" in r.getMessage()]) == 1
        assert len([r for r in failures if "backlog is full" in r.getMessage()]) == 1
        problem = history.problem
        assert problem is not None and "is full: free space" in problem
        assert "the last 1 min of samples wait in memory" in problem
        assert "older samples dropped so far" in problem
        waiting = sum(c.unflushed for c in history._open.values())
        assert waiting <= len(series) * 61, "no more than the backlog waits in memory"
        assert history.dropped_samples == len(series) * 600 - waiting

        filler.unlink()
        with caplog.at_level(logging.INFO, logger="services.monitoring.history_writer"):
            assert history.flush()
        assert history.problem is None
        assert "written to" in caplog.text and "again" in caplog.text
        raw, _rollups = history.stored_samples()
        assert raw == len(series) * (1 + 61)  # the first sample, then the last minute
    finally:
        history.stop()


def test_a_data_folder_that_cannot_be_written_turns_the_history_off_with_the_reason(
        tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    with mounted(folder, "size=1m,ro"):
        services = build_services(SHOP, directory=folder, poll=False)
        services.start()
        services.stop()
        with pytest.raises(OperationalError, match="unable to open database file"):
            services.alert_log.events()
    history, alert_log = services.storage_problems()
    assert history.startswith(f"History is off: {history_file(folder)} cannot be written ("), \
        history
    assert "check the permissions of the file and its folder" in history
    assert alert_log.startswith(f"The alert history is not kept: {folder / 'alerts.sqlite'} "
                                "cannot be written (")


def test_the_writer_thread_tries_less_often_while_the_disk_stays_full(small_disk: Path) -> None:
    """Each try encodes the whole backlog again (0.7 s for 1,000 series): the writer waits
    1, 2, 4 ... up to 30 flush intervals between tries instead of trying at every one."""
    history = History(small_disk / "history.sqlite", flush_interval_s=0.05)
    history.start()
    try:
        history.record([Reading("web/up", NOW, 1.0)])
        assert history.flush()
        filler = fill(small_disk)
        started = time.monotonic()
        while time.monotonic() - started < 3.0:  # 60 flush intervals of live readings
            history.record([Reading("web/up", NOW + time.monotonic() - started, 1.0)])
            time.sleep(0.01)
        assert history.problem is not None and "is full" in history.problem
        assert 1 <= history.flush_errors <= 7  # 0.05 + 0.1 + ... + 1.6 s: 6 tries in 3 s
        filler.unlink()
        assert history.flush()
        assert history.problem is None
    finally:
        history.stop()


def test_the_log_file_on_a_full_disk_does_not_flood_stderr(tmp_path: Path) -> None:
    """Python's logging prints '--- Logging error ---' and a traceback for every record a
    handler cannot write; on a full disk that is every line. It says so once instead."""
    import sys

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "backroom.log").symlink_to("/dev/full")
    script = (f"import logging, sys; sys.path.insert(0, {str(Path.cwd())!r})\n"
              "from services.local.logsetup import setup_logging\n"
              f"setup_logging(directory=__import__('pathlib').Path({str(logs)!r}))\n"
              "for i in range(200): logging.getLogger('backroom').info('sample %d', i)\n"
              "logging.getLogger('backroom').warning('still here')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "--- Logging error ---" not in done.stderr
    lines = done.stderr.splitlines()
    assert "backroom: WARNING: still here" in lines
    assert len(lines) <= 3, done.stderr
