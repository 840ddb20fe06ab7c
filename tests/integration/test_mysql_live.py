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
