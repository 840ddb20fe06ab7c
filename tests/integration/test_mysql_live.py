"""services.diagnostics.mysql_live on real MariaDB: this database's sessions, KILL QUERY and
KILL, and a user without the right told why."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from services.diagnostics.mysql_live import (
    cancel_query,
    mysql_connection,
    read_sessions,
    signal_right,
    terminate_session,
)
from tests import servers
from tests.support.mysql_sessions import LiveMariaDB, live_mariadb
from tests.support.pg_sessions import Running, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def db() -> Iterator[LiveMariaDB]:
    servers.require_port("MariaDB", "127.0.0.1", 3306)
    with live_mariadb() as live:
        yield live


def _sessions(url: str) -> dict[int, object]:
    with mysql_connection(url, None, 5.0) as conn:
        return {s.pid: s for s in read_sessions(conn)}


def test_a_running_query_is_listed_and_killed(db: LiveMariaDB) -> None:
    started = time.monotonic()
    running = Running(db.engine(), ["SELECT SLEEP(30), 'slow report' FROM bookings LIMIT 1"])

    def found() -> object:
        return next((s for s in _sessions(db.url).values() if "slow report" in s.query), None)

    session = wait_until(found)
    assert session.state == "active" and session.user == "root"
    assert session.waiting == "User sleep"
    assert session.query_start is not None
    assert cancel_query(db.url, None, session.pid) is True
    assert running.done.wait(10)
    assert time.monotonic() - started < 15  # stopped, not slept out


def test_kill_ends_an_idle_session_and_a_gone_one_says_so(db: LiveMariaDB) -> None:
    conn = db.engine().connect()
    pid = int(conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())
    conn.exec_driver_sql("USE " + conn.engine.url.database)
    assert _sessions(db.url)[pid].state == "idle"
    assert terminate_session(db.url, None, pid) is True
    wait_until(lambda: pid not in _sessions(db.url))
    with pytest.raises(sa.exc.DBAPIError):
        conn.exec_driver_sql("SELECT 1")
    conn.invalidate()
    assert terminate_session(db.url, None, pid) is False


def test_a_user_without_the_right_is_told_why(db: LiveMariaDB) -> None:
    with mysql_connection(db.url, None, 5.0) as conn:
        assert signal_right(conn).allowed
    with mysql_connection(db.weak_url, None, 5.0) as conn:
        right = signal_right(conn)
    assert not right.allowed
    assert f"GRANT CONNECTION ADMIN ON *.* TO '{db.weak_user}'@'%'" in right.reason


def _tools(tmp_path, db: LiveMariaDB, url: str | None = None):  # type: ignore[no-untyped-def]
    from services.diagnostics.database_live import DatabaseLiveTools, LiveTarget

    tools = DatabaseLiveTools(tmp_path / "statements.sqlite")
    return tools, LiveTarget("Shop", "shop", url or db.url, None, 5.0, "mysql")


def _skip_when_full(window) -> None:  # type: ignore[no-untyped-def]
    """On a shared server other databases may have filled the digest table: new statements
    are then counted under no digest, and the window says so (asserted) before the skip."""
    if window.lost:
        assert "TRUNCATE performance_schema.events_statements_summary_by_digest" in window.lost
        pytest.skip(f"the server's statement digest table is full: {window.lost}")


def test_a_real_lock_wait_is_shown_as_a_blocking_chain(db: LiveMariaDB, tmp_path) -> None:
    """Two real sessions: one holds a row of bookings in an open transaction, the other's
    UPDATE of that row waits for it; the chain names both connections and the lock."""
    holder = db.engine().connect()
    holder.exec_driver_sql("UPDATE bookings SET guests = 3 WHERE id = 1")  # transaction open
    held_by = int(holder.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())
    waiting = Running(db.engine(), ["SET SESSION innodb_lock_wait_timeout = 30",
                                    "UPDATE bookings SET guests = 5 WHERE id = 1"])
    tools, target = _tools(tmp_path, db)
    try:
        waits, sessions = wait_until(lambda: tools.waits(target)[0] and tools.waits(target),
                                     every_s=0.25)  # see the end
        (wait,) = waits
        assert wait.blocker == held_by
        assert "guests = 5" in sessions[wait.pid].query
        assert wait.words() == (f"connection {wait.pid} waits for connection {held_by} "
                                "(holds X row lock on table bookings)")
        assert wait.wanted == "X on table bookings"
        (root,) = tools.blocking_tree(waits)
        assert root.pid == held_by and [c.pid for c in root.children] == [wait.pid]
        # a user who may only read the database is told which right it lacks
        weak_tools, weak = _tools(tmp_path, db, db.weak_url)
        with pytest.raises(PermissionError, match=r"needs the PROCESS privilege \(GRANT "
                           rf"PROCESS ON \*\.\* TO '{db.weak_user}'@"):
            weak_tools.waits(weak)
        weak_tools.close()
    finally:
        holder.rollback()
        holder.close()
        assert waiting.done.wait(10)
        tools.close()
    assert waiting.error is None  # it got the row once the holder let go
    # InnoDB refills what information_schema shows of its lock waits only when nobody has
    # read it for 0.1 s (each read restarts that clock): asked every 50 ms it never changes
    wait_until(lambda: tools.waits(target)[0] == (), every_s=0.25)


def test_statements_over_time_are_deltas_of_the_digests(db: LiveMariaDB, tmp_path) -> None:
    """performance_schema's digests sampled into the local history: the window holds what
    ran between two samples, not the totals since the server started."""
    tools, target = _tools(tmp_path, db)
    try:
        with db.engine().connect() as conn:
            for _ in range(3):  # before the first sample: in the totals, not the window
                conn.exec_driver_sql("SELECT guests FROM bookings WHERE id = 2").all()
        first = tools.statement_window(target, 3600.0, "calls")
        assert first.statements == () and first.counted_by.startswith("performance_schema")
        assert not first.may_reset and first.switched_off == ""
        # the digest table (5,000 by default) is the server's, shared by every database
        with db.engine().connect() as conn:
            for _ in range(7):
                conn.exec_driver_sql("SELECT guests FROM bookings WHERE id = 2").all()
        window = tools.statement_window(target, 3600.0, "calls")
        _skip_when_full(window)
        (select,) = [s for s in window.statements if "bookings" in s.query
                     and s.query.upper().startswith("SELECT")]
        assert select.calls == 7 and select.rows == 7
        assert select.query.strip() == "SELECT `guests` FROM `bookings` WHERE ID = ?"
        since_reset = tools.statement_window(target, None, "calls")
        assert next(s for s in since_reset.statements if s.query == select.query).calls >= 10
    finally:
        tools.close()


def test_the_consoles_own_statements_and_sessions_are_labelled(db: LiveMariaDB,
                                                               tmp_path) -> None:
    """MySQL drops comments from its digests: the console's statements name an alias that
    survives them, and its connections say program_name=backroom, so both are told from
    the shop's in the views."""
    from services.diagnostics.db_insights import make_engine

    tools, target = _tools(tmp_path, db)
    try:
        tools.statement_window(target, 3600.0, "calls")  # the baseline
        with db.engine().connect() as conn:
            conn.exec_driver_sql("SELECT guests FROM bookings WHERE id = 2").all()
        console = make_engine(db.url).connect()  # as the console's database views connect
        try:
            mine = int(console.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())
            console.exec_driver_sql("USE " + console.engine.url.database)
            sessions, _right = tools.sessions(target)
            assert {s.pid: s.application for s in sessions}[mine].startswith("backroom on ")
        finally:
            console.close()
        window = tools.statement_window(target, 3600.0, "calls")
        _skip_when_full(window)
        own = {s.query: window.own(s) for s in window.statements}
        (shop,) = [q for q in own if "`bookings`" in q]
        assert own[shop] is False
        reads = [q for q in own if "events_statements_summary_by_digest" in q
                 or "PROCESSLIST" in q]
        assert len(reads) >= 2 and all(own[q] for q in reads)
    finally:
        tools.close()
