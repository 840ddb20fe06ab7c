"""PostgreSQL, live: sessions and their cancel/terminate, blocking chains, statement deltas."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from services.diagnostics.db_insights import make_engine, read_only

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Session:
    """One client backend of pg_stat_activity."""

    pid: int
    user: str
    application: str
    database: str
    state: str
    wait_event_type: str
    wait_event: str
    query: str
    query_start: datetime | None
    duration_s: float  # of the query when active, else of the state
    own: bool = False  # one of the console's own connections

    @property
    def waiting(self) -> str:
        """What it waits for; an idle session waiting for its client's next query is not."""
        if not self.wait_event_type:  # MySQL: its thread state alone
            return self.wait_event
        if self.state == "idle" and self.wait_event == "ClientRead":
            return ""
        return f"{self.wait_event_type}: {self.wait_event}"


@dataclass(frozen=True, slots=True)
class SignalRight:
    """Whether the console's database user may cancel or end other sessions, and why not."""

    allowed: bool
    user: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Wait:
    """One edge of a blocking chain: ``pid`` waits for ``blocker``, which holds ``held``."""

    pid: int
    blocker: int
    held: str  # "RowExclusiveLock on table bookings"
    wanted: str  # "ShareLock on transactionid"
    noun: str = "pid"  # what the database calls a session's number (MySQL: connection)

    def words(self) -> str:
        held = f" (holds {self.held})" if self.held else ""
        return f"{self.noun} {self.pid} waits for {self.noun} {self.blocker}{held}"


@dataclass(slots=True)
class ChainNode:
    """A session in a blocking tree: the blockers at the roots, their waiters below."""

    pid: int
    wait: Wait | None = None  # how this pid waits for its parent (None at a root)
    children: list[ChainNode] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------------

@contextmanager
def pg_connection(url: str, password: str | None, timeout_s: float) -> Iterator[Connection]:
    """A read-only, time-bounded transaction on a PostgreSQL database."""
    engine = make_engine(url, password=password, timeout_s=timeout_s)
    try:
        with read_only(engine, timeout_s) as conn:
            yield conn
    finally:
        engine.dispose()


def read_sessions(conn: Connection) -> tuple[Session, ...]:
    """Client backends of this database other than this one, the active first, each the
    longest-running first."""
    rows = conn.execute(text(
        """SELECT pid, coalesce(usename, ''), coalesce(application_name, ''),
                  coalesce(datname, ''), coalesce(state, ''), coalesce(wait_event_type, ''),
                  coalesce(wait_event, ''), coalesce(query, ''), query_start,
                  extract(epoch FROM clock_timestamp() - CASE WHEN state = 'active'
                          THEN query_start ELSE coalesce(state_change, backend_start) END)
           FROM pg_stat_activity
           WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
             AND datname = current_database()
           ORDER BY state = 'active' DESC, 10 DESC NULLS LAST, pid""")).all()
    return tuple(Session(pid=int(r[0]), user=str(r[1]), application=str(r[2]),
                         database=str(r[3]), state=str(r[4]), wait_event_type=str(r[5]),
                         wait_event=str(r[6]), query=str(r[7]), query_start=r[8],
                         duration_s=max(0.0, float(r[9] or 0.0)),
                         own=str(r[2]).startswith("backroom"))
                 for r in rows)


def signal_right(conn: Connection) -> SignalRight:
    """Superuser or a member of pg_signal_backend may cancel and terminate others' sessions."""
    user, superuser, member = conn.execute(text(
        """SELECT current_user, rolsuper,
                  pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')
           FROM pg_roles WHERE rolname = current_user""")).one()
    if superuser or member:
        return SignalRight(True, str(user))
    return SignalRight(False, str(user), (
        f"The database user {user} may not cancel or end other users' sessions: that needs "
        f"a superuser or a member of pg_signal_backend (GRANT pg_signal_backend TO {user})."))


def may_reset_statements(conn: Connection) -> bool:
    """Whether this user may run pg_stat_statements_reset (superusers only, unless granted)."""
    row = conn.execute(text(
        """SELECT bool_or(has_function_privilege(p.oid, 'EXECUTE')) FROM pg_proc p
           JOIN pg_extension e ON e.extname = 'pg_stat_statements'
           WHERE p.proname = 'pg_stat_statements_reset'""")).scalar()
    return bool(row)


def read_waits(conn: Connection) -> tuple[Wait, ...]:
    """Who waits for whom (pg_blocking_pids), with the lock each blocker holds on the
    table the waiter wants (pg_locks)."""
    pairs = [(int(r[0]), int(r[1])) for r in conn.execute(text(
        """SELECT a.pid, b.blocker FROM pg_stat_activity a,
                  unnest(pg_blocking_pids(a.pid)) AS b(blocker)
           WHERE a.wait_event_type = 'Lock' AND a.datname = current_database()
           ORDER BY a.pid, b.blocker""")).all()]
    if not pairs:
        return ()
    pids = sorted({p for pair in pairs for p in pair})
    locks = [(int(r[0]), str(r[1]), str(r[2] or ""), str(r[3]), bool(r[4]), str(r[5] or ""))
             for r in conn.execute(text(
                 """SELECT l.pid, l.locktype, c.relname, l.mode, l.granted, c.relkind
                    FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
                    WHERE l.pid = ANY(:pids)"""), {"pids": pids}).all()]
    return blocking_edges(pairs, locks)


_RELKIND = {"r": "table", "p": "table", "i": "index", "S": "sequence", "v": "view",
            "m": "materialized view"}


def blocking_edges(pairs: Sequence[tuple[int, int]],
                   locks: Sequence[tuple[int, str, str, str, bool, str]]) -> tuple[Wait, ...]:
    """Name each wait: (waiter, blocker) pairs and pg_locks rows (pid, locktype, relation name,
    mode, granted, relkind) give "pid X waits for pid Y (holds M on table t)"."""
    edges = []
    for waiter, blocker in pairs:
        mine = [lk for lk in locks if lk[0] == waiter]
        wanted = next((lk for lk in mine if not lk[4]), None)
        # the tables the waiter is after: the one it waits for, else those it locked already
        # (a row lock waits on the blocker's transaction id, its table locked by both)
        tables = [lk[2] for lk in mine if lk[2] and lk[5] in ("r", "p")]
        if wanted is not None and wanted[2]:
            tables.insert(0, wanted[2])
        held = ""
        for table in dict.fromkeys(tables):
            theirs = [lk for lk in locks if lk[0] == blocker and lk[4] and lk[2] == table
                      and lk[1] == "relation"]
            if theirs:
                kind = _RELKIND.get(theirs[0][5], "relation")
                held = f"{', '.join(dict.fromkeys(lk[3] for lk in theirs))} on {kind} {table}"
                break
        wanted_words = ""
        if wanted is not None:
            wanted_words = f"{wanted[3]} on {wanted[2] or wanted[1]}"
        edges.append(Wait(waiter, blocker, held, wanted_words))
    return tuple(edges)


def blocking_tree(waits: Sequence[Wait]) -> list[ChainNode]:
    """The waits as trees: each root blocks others and waits for no one (a deadlock's
    circle, which PostgreSQL ends within deadlock_timeout, is shown from its lowest pid)."""
    by_blocker: dict[int, list[Wait]] = {}
    for wait in waits:
        by_blocker.setdefault(wait.blocker, []).append(wait)
    waiting = {w.pid for w in waits}
    roots = sorted(b for b in by_blocker if b not in waiting) or sorted(by_blocker)[:1]

    def grow(node: ChainNode, seen: frozenset[int]) -> ChainNode:
        for wait in by_blocker.get(node.pid, []):
            if wait.pid not in seen:
                node.children.append(grow(ChainNode(wait.pid, wait), seen | {wait.pid}))
        return node

    return [grow(ChainNode(pid), frozenset({pid})) for pid in roots]


# -- acting -------------------------------------------------------------------------------------

def _act(url: str, password: str | None, timeout_s: float, sql: str,
         params: dict[str, Any]) -> bool:
    engine: Engine = make_engine(url, password=password, timeout_s=timeout_s)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"SET statement_timeout = {max(1, int(timeout_s * 1000))}")
            return bool(conn.execute(text(sql), params).scalar())
    finally:
        engine.dispose()


def cancel_query(url: str, password: str | None, pid: int, timeout_s: float = 5.0) -> bool:
    """Cancel the session's running statement (pg_cancel_backend); False if it was gone."""
    return _act(url, password, timeout_s, "SELECT pg_cancel_backend(:pid)", {"pid": int(pid)})


def terminate_session(url: str, password: str | None, pid: int,
                      timeout_s: float = 5.0) -> bool:
    """End the session (pg_terminate_backend), rolling back its transaction."""
    return _act(url, password, timeout_s, "SELECT pg_terminate_backend(:pid)",
                {"pid": int(pid)})


def reset_statements(url: str, password: str | None, timeout_s: float = 5.0) -> None:
    """pg_stat_statements_reset for this database's statements only."""
    _act(url, password, timeout_s,
         "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database "
         "WHERE datname = current_database()), 0) IS NULL", {})
