"""MySQL/MariaDB, live: the sessions of a database (PROCESSLIST) and KILL QUERY / KILL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from services.diagnostics.db_insights import make_engine
from services.diagnostics.pg_live import Session, SignalRight

#: MySQL's "Unknown thread id": the session had already gone.
UNKNOWN_THREAD = 1094
_STATES = {"Query": "active", "Execute": "active", "Sleep": "idle"}


@contextmanager
def mysql_connection(url: str, password: str | None, timeout_s: float) -> Iterator[Connection]:
    """A read-only session (statements bounded by ``timeout_s`` through read_timeout)."""
    engine = make_engine(url, password=password, timeout_s=timeout_s)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def read_sessions(conn: Connection) -> tuple[Session, ...]:
    """This database's client sessions other than this one, the running first."""
    rows = conn.execute(text(
        """SELECT ID, USER, HOST, COMMAND, TIME, STATE, INFO, NOW()
           FROM information_schema.PROCESSLIST
           WHERE ID <> CONNECTION_ID() AND DB = DATABASE()
             AND COMMAND NOT IN ('Daemon', 'Binlog Dump')
           ORDER BY COMMAND = 'Sleep', TIME DESC, ID""")).all()
    sessions = []
    for pid, user, host, command, seconds, state, info, now in rows:
        active = _STATES.get(str(command), str(command).lower()) == "active"
        started: datetime | None = (now - timedelta(seconds=int(seconds or 0))
                                    if active and isinstance(now, datetime) else None)
        sessions.append(Session(
            pid=int(pid), user=str(user or ""), application=str(host or ""),
            database="", state=_STATES.get(str(command), str(command).lower()),
            wait_event_type="", wait_event=str(state or ""), query=str(info or ""),
            query_start=started, duration_s=float(seconds or 0)))
    return tuple(sessions)


def signal_right(conn: Connection) -> SignalRight:
    """Killing others' sessions needs SUPER or (MariaDB 10.5+, MySQL 8) CONNECTION_ADMIN."""
    user = str(conn.execute(text("SELECT CURRENT_USER()")).scalar_one())
    name, _, host = user.rpartition("@")
    grantee = f"'{name}'@'{host}'"
    rights = {str(r[0]).upper().replace("_", " ") for r in conn.execute(text(
        "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = :g"),
        {"g": grantee}).all()}
    if rights & {"SUPER", "CONNECTION ADMIN"}:
        return SignalRight(True, user)
    return SignalRight(False, user, (
        f"The database user {user} may not kill other users' sessions: that needs "
        f"CONNECTION ADMIN (MariaDB 10.5+; CONNECTION_ADMIN on MySQL 8) or SUPER "
        f"(GRANT CONNECTION ADMIN ON *.* TO {grantee})."))


def _kill(url: str, password: str | None, timeout_s: float, statement: str) -> bool:
    engine = make_engine(url, password=password, timeout_s=timeout_s)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
        return True
    except DBAPIError as exc:
        code = getattr(exc.orig, "args", (None,))[0]
        if code == UNKNOWN_THREAD:
            return False
        raise
    finally:
        engine.dispose()


def cancel_query(url: str, password: str | None, pid: int, timeout_s: float = 5.0) -> bool:
    """KILL QUERY: stop the session's statement, keep its connection; False if it was gone."""
    return _kill(url, password, timeout_s, f"KILL QUERY {int(pid)}")


def terminate_session(url: str, password: str | None, pid: int,
                      timeout_s: float = 5.0) -> bool:
    """KILL: end the session, rolling back its transaction."""
    return _kill(url, password, timeout_s, f"KILL {int(pid)}")
