"""The live PostgreSQL views as a user sees them, on a real server: sessions with cancel and
terminate, who blocks whom, statements over a window, reset, and the index to copy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from PyQt6.QtWidgets import QApplication, QMainWindow

from services.bootstrap import Diagnostics
from tests.support.pg_sessions import LiveDatabase, Running, blocking_chain, live_database
from tests.support.shots import SHOTS
from ui.widgets.db_live import SessionsView
from ui.widgets.db_views import DbViews
from ui.worker import TaskRunner

pytestmark = [pytest.mark.gui, pytest.mark.integration]

#: docs/screenshots when BACKROOM_SHOTS names that folder.
SCREENSHOTS = Path(SHOTS or ".")


@pytest.fixture
def runner(qapp: QApplication) -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    assert tasks.shutdown(8000)


@pytest.fixture
def db(postgres_url: str) -> Iterator[LiveDatabase]:
    with live_database() as live:
        yield live


class Confirmations:
    """Stands in for the Yes/No question: records what it was asked and answers ``answer``."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def __call__(self, _parent: object, title: str, words: str) -> bool:
        self.asked.append((title, words))
        return self.answer


def views(qtbot, runner: TaskRunner, url: str, tmp_path: Path) -> DbViews:
    profile = SimpleNamespace(name="shop", sources=(),
                              database=SimpleNamespace(url=url, password=None, timeout_s=5.0))
    diagnostics = Diagnostics()
    widget = DbViews(profile, runner, diagnostics,
                     live=diagnostics.database_live_tools(tmp_path / "statements.sqlite"))
    window = QMainWindow()
    window.resize(1400, 800)
    window.setCentralWidget(widget)
    qtbot.addWidget(window)
    window.show()
    widget.test_window = window  # type: ignore[attr-defined]
    with qtbot.waitSignal(widget.sig_loaded, timeout=15_000):
        widget.refresh()
    return widget


def read(qtbot, view) -> None:
    """Read the view again once any read in flight has ended."""
    qtbot.waitUntil(lambda: view._handle is None or view._handle.done, timeout=10_000)
    with qtbot.waitSignal(view.sig_loaded, timeout=10_000):
        view.refresh()
    assert not view.error.isVisible(), view.error.text()


def open_tab(qtbot, widget: DbViews, view) -> None:
    index = widget.tabs.indexOf(view)
    assert widget.tabs.isTabEnabled(index)
    widget.tabs.setCurrentIndex(index)
    read(qtbot, view)


def row_of(view: SessionsView, words: str) -> int:
    return next(i for i, row in enumerate(view.model.rows()) if words in row[-1])


def test_a_running_query_is_shown_and_cancelled_after_asking(qtbot, runner: TaskRunner,
                                                            db: LiveDatabase,
                                                            tmp_path: Path) -> None:
    widget = views(qtbot, runner, db.url, tmp_path)
    sessions = widget.sessions
    running = Running(db.engine(application="shop-web"),
                      ["SELECT pg_sleep(30), '<b>report</b>'"])
    open_tab(qtbot, widget, sessions)
    qtbot.waitUntil(lambda: (read(qtbot, sessions), any(
        "pg_sleep(30)" in r[-1] and r[3] == "active" for r in sessions.model.rows()))[1],
        timeout=10_000)
    row = sessions.model.rows()[row_of(sessions, "pg_sleep(30)")]
    pid = int(row[0])
    assert row[1:5] == ("postgres", "shop-web", "active", "Timeout: PgSleep")
    assert row[-1] == "SELECT pg_sleep(30), '<b>report</b>'"  # the text as it is
    assert sessions.cancel_button.isVisible() and not sessions.no_right.isVisible()

    sessions.table.selectRow(row_of(sessions, "pg_sleep(30)"))
    sessions.confirm = no = Confirmations(answer=False)
    sessions.cancel_button.click()
    assert no.asked and f"pid {pid}, started at " in no.asked[0][1]
    assert not running.done.wait(0.5)  # the user said no: it keeps running

    sessions.confirm = yes = Confirmations()
    sessions.cancel_button.click()
    assert yes.asked[0][0] == "Cancel query"
    assert running.done.wait(10)
    assert "canceling statement due to user request" in str(running.error)
    qtbot.waitUntil(lambda: sessions.outcome.text() == f"pid {pid} cancelled", timeout=10_000)


def test_terminate_ends_a_session_and_a_role_without_the_right_sees_why(
        qtbot, runner: TaskRunner, db: LiveDatabase, tmp_path: Path) -> None:
    idle = db.engine(application="shop-worker").connect()
    pid = int(idle.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    idle.commit()
    widget = views(qtbot, runner, db.url, tmp_path)
    open_tab(qtbot, widget, widget.sessions)
    sessions = widget.sessions
    assert sessions.select_pid(pid)
    assert not sessions.cancel_button.isEnabled()  # idle: nothing to cancel
    sessions.confirm = yes = Confirmations()
    sessions.terminate_button.click()
    assert f"End session pid {pid} (postgres, shop-worker)" in yes.asked[0][1]
    qtbot.waitUntil(lambda: sessions.outcome.text() == f"pid {pid} terminated", timeout=10_000)
    read(qtbot, sessions)
    assert str(pid) not in [r[0] for r in sessions.model.rows()]
    with pytest.raises(sa.exc.DBAPIError):
        idle.exec_driver_sql("SELECT 1")
    idle.invalidate()

    weak = views(qtbot, runner, db.weak_url, tmp_path / "weak")
    open_tab(qtbot, weak, weak.sessions)
    assert not weak.sessions.cancel_button.isVisible()
    assert not weak.sessions.terminate_button.isVisible()
    assert weak.sessions.no_right.isVisible()
    assert f"GRANT pg_signal_backend TO {db.weak_role}" in weak.sessions.no_right.toolTip()


def test_the_blocking_chain_is_a_tree(qtbot, runner: TaskRunner, db: LiveDatabase,
                                      tmp_path: Path) -> None:
    widget = views(qtbot, runner, db.url, tmp_path)
    open_tab(qtbot, widget, widget.blocking)
    assert widget.blocking.empty.isVisible()
    with blocking_chain(db) as (a, b, c):
        read(qtbot, widget.blocking)
        held = "(holds RowExclusiveLock on table bookings)"
        assert widget.blocking.lines() == [
            f"pid {a} blocks others",
            f"  pid {b} waits for pid {a} {held}",
            f"    pid {c} waits for pid {b} {held}",
            f"  pid {c} waits for pid {a} {held}",
        ]
        assert not widget.blocking.empty.isVisible()
        top = widget.blocking.tree.topLevelItem(0)
        assert top is not None and top.text(1).startswith("idle in transaction")
        assert top.child(0).text(2) == "ShareLock on transactionid"  # type: ignore[union-attr]
        qtbot.wait(50)  # the labels' new sizes laid out
        if SHOTS:
            widget.blocking.grab().save(str(SCREENSHOTS / "diagnostics-blocking.png"))
        open_tab(qtbot, widget, widget.sessions)
        waiting = [r for r in widget.sessions.model.rows() if r[4] == "Lock: relation"]
        assert [int(r[0]) for r in waiting] == [c]
        qtbot.wait(50)
        if SHOTS:
            widget.grab().save(str(SCREENSHOTS / "diagnostics-sessions.png"))


def test_statements_over_a_window_reset_and_the_index_to_copy(qtbot, runner: TaskRunner,
                                                              db: LiveDatabase,
                                                              tmp_path: Path) -> None:
    widget = views(qtbot, runner, db.url, tmp_path)
    windows = widget.statement_windows
    open_tab(qtbot, widget, windows)  # the first sample: the baseline
    assert windows.reset_button.isVisible()
    with db.engine(application="shop-web").connect() as conn:
        for _ in range(5):
            conn.execute(sa.text("SELECT id FROM bookings WHERE customer_name ILIKE :p"),
                         {"p": "%ada%"})
    time.sleep(0.05)
    read(qtbot, windows)  # the second sample: the five calls since the first
    assert windows.window_combo.currentText() == "last hour"
    ours = [r for r in windows.model.rows() if "customer_name ILIKE" in r[4]]
    assert len(ours) == 1 and ours[0][2] == "5"
    assert ours[0][5] == ("CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY "
                          "ix_bookings_customer_name_trgm ON bookings USING gin "
                          "(customer_name gin_trgm_ops);")
    windows.table.selectRow(windows.model.rows().index(ours[0]))
    windows.copy_button.click()
    clipboard = QApplication.clipboard()
    assert clipboard is not None and "gin_trgm_ops" in clipboard.text()
    assert "trigram" in windows.outcome.text()

    windows.confirm = yes = Confirmations()
    windows.reset_button.click()
    assert yes.asked[0][0] == "Reset statistics"
    qtbot.waitUntil(lambda: windows.outcome.text() == "Statistics reset", timeout=10_000)
    windows.window_combo.setCurrentText("since reset")
    read(qtbot, windows)
    assert not [r for r in windows.model.rows() if "customer_name ILIKE" in r[4]]
    windows.window_combo.setCurrentText("last hour")
    read(qtbot, windows)  # the history keeps what happened before the reset
    assert [r[2] for r in windows.model.rows() if "customer_name ILIKE" in r[4]] == ["5"]


def test_weak_role_sees_no_reset(qtbot, runner: TaskRunner, db: LiveDatabase,
                                 tmp_path: Path) -> None:
    widget = views(qtbot, runner, db.weak_url, tmp_path)
    open_tab(qtbot, widget, widget.statement_windows)
    assert not widget.statement_windows.reset_button.isVisible()


def test_mariadb_sessions_with_kill_query(qtbot, runner: TaskRunner, tmp_path: Path) -> None:
    from tests import servers
    from tests.support.mysql_sessions import live_mariadb

    servers.require_port("MariaDB", "127.0.0.1", 3306)
    with live_mariadb() as maria:
        widget = views(qtbot, runner, maria.url, tmp_path)
        assert widget.tabs.isTabEnabled(widget.tabs.indexOf(widget.blocking))
        assert widget.tabs.isTabEnabled(widget.tabs.indexOf(widget.statement_windows))
        running = Running(maria.engine(), ["SELECT SLEEP(30), 'slow report'"])
        sessions = widget.sessions
        open_tab(qtbot, widget, sessions)
        qtbot.waitUntil(lambda: (read(qtbot, sessions), any(
            "slow report" in r[-1] for r in sessions.model.rows()))[1], timeout=10_000)
        row = sessions.model.rows()[row_of(sessions, "slow report")]
        assert row[3:5] == ("active", "User sleep")
        sessions.table.selectRow(row_of(sessions, "slow report"))
        sessions.confirm = yes = Confirmations()
        sessions.cancel_button.click()
        assert f"Cancel the query of connection {row[0]}, started at " in yes.asked[0][1]
        assert running.done.wait(10)
        qtbot.waitUntil(lambda: sessions.outcome.text() == f"connection {row[0]} cancelled",
                        timeout=10_000)

        weak = views(qtbot, runner, maria.weak_url, tmp_path / "weak")
        open_tab(qtbot, weak, weak.sessions)
        assert not weak.sessions.cancel_button.isVisible()
        assert "CONNECTION ADMIN" in weak.sessions.no_right.toolTip()


def test_mariadb_blocking_chain_and_statements_over_time(qtbot, runner: TaskRunner,
                                                          tmp_path: Path) -> None:
    """On real MariaDB: a session holding a row and one waiting for it, shown as a chain
    under the holder; the statements that ran between two samples, without PostgreSQL's
    index advice or reset."""
    from tests import servers
    from tests.support.mysql_sessions import live_mariadb

    servers.require_port("MariaDB", "127.0.0.1", 3306)
    with live_mariadb() as maria:
        widget = views(qtbot, runner, maria.url, tmp_path)
        windows = widget.statement_windows
        open_tab(qtbot, widget, windows)
        read(qtbot, windows)  # the first sample: the baseline
        holder = maria.engine().connect()
        holder.exec_driver_sql("UPDATE bookings SET guests = 3 WHERE id = 1")
        held_by = int(holder.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())
        waiting = Running(maria.engine(), ["SET SESSION innodb_lock_wait_timeout = 30",
                                           "UPDATE bookings SET guests = 5 WHERE id = 1"])
        try:
            blocking = widget.blocking
            open_tab(qtbot, widget, blocking)
            qtbot.waitUntil(lambda: (read(qtbot, blocking), len(blocking.lines()) == 2)[1],
                            timeout=10_000)
            lines = blocking.lines()
            assert lines[0] == f"connection {held_by} blocks others"
            assert lines[1].startswith("  connection ")
            assert lines[1].endswith(f"waits for connection {held_by} (holds X row lock on "
                                     "table bookings)")
            if SHOTS:
                widget.blocking.grab().save(str(SCREENSHOTS / "diagnostics-mariadb-blocking.png"))
        finally:
            holder.rollback()
            holder.close()
            assert waiting.done.wait(10)
        open_tab(qtbot, widget, windows)
        read(qtbot, windows)
        if "digest table is full" in windows.note.text():  # a shared server: see the note
            pytest.skip("the server's statement digest table is full (other databases' "
                        "statements); the view says so")
        rows = [r for r in windows.model.rows() if "UPDATE `bookings`" in r[4]]
        assert rows and rows[0][2] == "2" and rows[0][5] == ""  # the holder's and the waiter's
        assert not windows.reset_button.isVisible() and not windows.copy_button.isVisible()
        assert windows.table.isColumnHidden(5)  # no "Index to try": it is PostgreSQL's advice
        assert "performance_schema's statement digests" in windows.note.text()
        if SHOTS:
            windows.grab().save(str(SCREENSHOTS / "diagnostics-mariadb-statements.png"))
