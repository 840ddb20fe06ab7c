"""MySQL/MariaDB, live: sessions (PROCESSLIST) and KILL, InnoDB lock waits, statement digests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from services.collectors.database import OWN_ALIAS
from services.diagnostics.db_insights import make_engine
from services.diagnostics.pg_live import Session, SignalRight, Wait

#: MySQL's "Unknown thread id": the session had already gone.
UNKNOWN_THREAD = 1094
#: "Access denied; you need the PROCESS privilege".
NEEDS_RIGHT = 1227
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
        f"""SELECT ID, USER, HOST, COMMAND, TIME, STATE, INFO, NOW()
            FROM information_schema.PROCESSLIST {OWN_ALIAS}
            WHERE ID <> CONNECTION_ID() AND DB = DATABASE()
              AND COMMAND NOT IN ('Daemon', 'Binlog Dump')
            ORDER BY COMMAND = 'Sleep', TIME DESC, ID""")).all()
    programs = _programs(conn)
    sessions = []
    for pid, user, host, command, seconds, state, info, now in rows:
        active = _STATES.get(str(command), str(command).lower()) == "active"
        started: datetime | None = (now - timedelta(seconds=int(seconds or 0))
                                    if active and isinstance(now, datetime) else None)
        sessions.append(Session(
            pid=int(pid), user=str(user or ""),
            application=" on ".join(p for p in (programs.get(int(pid), ""), str(host or "")) if p),
            database="", state=_STATES.get(str(command), str(command).lower()),
            wait_event_type="", wait_event=str(state or ""), query=str(info or ""),
            query_start=started, duration_s=float(seconds or 0)))
    return tuple(sessions)


def _programs(conn: Connection) -> dict[int, str]:
    """Each connection's program_name attribute (the console's say "backroom"), by id; none
    when performance_schema is off or not readable by this user."""
    try:  # a failed statement leaves MySQL's transaction as it was
        rows = conn.execute(text(
            f"""SELECT PROCESSLIST_ID, ATTR_VALUE
                FROM performance_schema.session_connect_attrs {OWN_ALIAS}
                WHERE ATTR_NAME = 'program_name'""")).all()
    except DBAPIError:
        return {}
    return {int(r[0]): str(r[1]) for r in rows}


def read_waits(conn: Connection) -> tuple[Wait, ...]:
    """Who waits for whose row or table lock in this database, and the lock each holds
    (InnoDB's information_schema.INNODB_LOCK_WAITS, INNODB_TRX and INNODB_LOCKS: MariaDB and
    MySQL 5.7; the pid of a wait is the blocked connection's id). Reading InnoDB's
    transactions needs the PROCESS privilege: without it, a PermissionError says so."""
    try:
        rows = _lock_waits(conn)
    except DBAPIError as exc:
        if getattr(exc.orig, "args", (None,))[0] != NEEDS_RIGHT:
            raise
        user = str(conn.execute(text(f"SELECT CURRENT_USER() AS {OWN_ALIAS}")).scalar_one())
        name, _, host = user.rpartition("@")
        raise PermissionError(
            f"The database user {user} may not read InnoDB's lock waits: that needs the "
            f"PROCESS privilege (GRANT PROCESS ON *.* TO '{name}'@'{host}')") from None
    return _waits_of(rows)


def _lock_waits(conn: Connection) -> Sequence[Any]:
    w = OWN_ALIAS
    return conn.execute(text(
        f"""SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id,
                  bl.lock_mode, bl.lock_type, bl.lock_table, rl.lock_mode, rl.lock_table
           FROM information_schema.INNODB_LOCK_WAITS {w}
           JOIN information_schema.INNODB_TRX r ON r.trx_id = {w}.requesting_trx_id
           JOIN information_schema.INNODB_TRX b ON b.trx_id = {w}.blocking_trx_id
           LEFT JOIN information_schema.INNODB_LOCKS bl ON bl.lock_id = {w}.blocking_lock_id
           LEFT JOIN information_schema.INNODB_LOCKS rl ON rl.lock_id = {w}.requested_lock_id
           WHERE rl.lock_table LIKE CONCAT('`', DATABASE(), '`.%')
           ORDER BY 1, 2""")).all()


def _waits_of(rows: Sequence[Any]) -> tuple[Wait, ...]:
    waits = []
    for waiter, blocker, held_mode, held_type, held_table, want_mode, want_table in rows:
        kind = "row lock" if str(held_type or "").upper() == "RECORD" else "table lock"
        held = f"{held_mode} {kind} on table {_table(held_table)}" if held_mode else ""
        wanted = f"{want_mode} on table {_table(want_table)}" if want_mode else ""
        waits.append(Wait(int(waiter), int(blocker), held, wanted, noun="connection"))
    return tuple(waits)


def _table(name: object) -> str:
    """`shop`.`bookings` -> bookings (the view is of one database)."""
    return str(name or "").rsplit(".", 1)[-1].strip("`")


def statement_totals(conn: Connection) -> list[tuple[str, str, int, float, int]]:
    """(digest, text, calls, total ms, rows) of every statement of this database since the
    digests were last truncated (performance_schema's events_statements_summary_by_digest;
    its timers count picoseconds). Empty when performance_schema is off."""
    rows = conn.execute(text(
        f"""SELECT DIGEST, DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT / 1000000000,
                  SUM_ROWS_SENT + SUM_ROWS_AFFECTED
           FROM performance_schema.events_statements_summary_by_digest {OWN_ALIAS}
           WHERE SCHEMA_NAME = DATABASE() AND DIGEST IS NOT NULL""")).all()
    return [(str(r[0]), str(r[1] or ""), int(r[2]), float(r[3] or 0.0), int(r[4] or 0))
            for r in rows]


def digests_lost(conn: Connection) -> str:
    """What the view must say when the server's digest table is full: past
    performance_schema_digests_size statements (of every database), new ones are only
    counted together, under no digest ("": room left)."""
    used, size, lost = conn.execute(text(
        f"""SELECT COUNT(*), @@performance_schema_digests_size,
                   COALESCE(SUM(CASE WHEN DIGEST IS NULL THEN COUNT_STAR END), 0)
            FROM performance_schema.events_statements_summary_by_digest {OWN_ALIAS}""")).one()
    if not lost and int(used or 0) < int(size or 0):
        return ""
    return (f"The server's statement digest table is full ({int(size or 0):,} statements of "
            f"all its databases): {int(lost or 0):,} calls since were counted under no "
            "statement, so new statements are missing here. TRUNCATE "
            "performance_schema.events_statements_summary_by_digest (every database's totals "
            "start again) or raise performance_schema_digests_size (a restart).")


def statements_switched_on(conn: Connection) -> bool:
    """Whether performance_schema collects statement digests (it is off unless the server
    was started with performance_schema=ON)."""
    row = conn.execute(text(f"SELECT @@performance_schema AS {OWN_ALIAS}")).scalar()
    return bool(int(row or 0))


def signal_right(conn: Connection) -> SignalRight:
    """Killing others' sessions needs SUPER or (MariaDB 10.5+, MySQL 8) CONNECTION_ADMIN."""
    user = str(conn.execute(text(f"SELECT CURRENT_USER() AS {OWN_ALIAS}")).scalar_one())
    name, _, host = user.rpartition("@")
    grantee = f"'{name}'@'{host}'"
    rights = {str(r[0]).upper().replace("_", " ") for r in conn.execute(text(
        f"SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES {OWN_ALIAS} "
        "WHERE GRANTEE = :g"),
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
