"""PostgreSQL, live: sessions and their cancel/terminate, blocking chains, statement deltas."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from services.diagnostics.db_insights import make_engine, read_only
from services.local.local_files import check_own_file
from services.local.sqlite import lazy_schema, sqlite_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: The windows the statement history answers, in seconds (None: since the last reset).
WINDOWS: dict[str, float | None] = {"last hour": 3600.0, "last 24 h": 86400.0,
                                    "since reset": None}
#: Statement samples older than this are dropped from the local history.
KEEP_S = 8 * 86400.0
#: Characters of a statement's text kept in the local history.
MAX_QUERY_TEXT = 2000


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
        if not self.wait_event_type or (self.state == "idle" and self.wait_event == "ClientRead"):
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

    def words(self) -> str:
        held = f" (holds {self.held})" if self.held else ""
        return f"pid {self.pid} waits for pid {self.blocker}{held}"


@dataclass(slots=True)
class ChainNode:
    """A session in a blocking tree: the blockers at the roots, their waiters below."""

    pid: int
    wait: Wait | None = None  # how this pid waits for its parent (None at a root)
    children: list[ChainNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WindowStatement:
    """A statement's calls and time within a window of the local history."""

    query: str
    calls: int
    total_ms: float
    rows: int

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


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


# -- the statement history ----------------------------------------------------------------------

def _tables(sa: Any, metadata: Any) -> dict[str, Any]:
    totals = sa.Table(
        "statement_totals", metadata,
        sa.Column("profile", sa.String(200), primary_key=True),
        sa.Column("database", sa.String(200), primary_key=True),
        sa.Column("queryid", sa.String(40), primary_key=True),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("total_ms", sa.Float, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )
    deltas = sa.Table(
        "statement_deltas", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("profile", sa.String(200), nullable=False),
        sa.Column("database", sa.String(200), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("queryid", sa.String(40), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("total_ms", sa.Float, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )
    sa.Index("ix_statement_deltas_window", deltas.c.profile, deltas.c.database, deltas.c.ts)
    return {"totals": totals, "deltas": deltas}


_sql = lazy_schema(_tables)


def read_statement_totals(conn: Connection) -> list[tuple[str, str, int, float, int]]:
    """(queryid, query, calls, total ms, rows) of every statement of this database."""
    rows = conn.execute(text(
        """SELECT queryid::text, query, sum(calls), sum(total_exec_time), sum(rows)
           FROM pg_stat_statements
           WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND queryid IS NOT NULL
           GROUP BY queryid, query""")).all()
    return [(str(r[0]), str(r[1]), int(r[2]), float(r[3] or 0.0), int(r[4] or 0)) for r in rows]


class StatementHistory:
    """pg_stat_statements as deltas per sample in a local SQLite file, so a window's top
    statements ("the last hour", "since yesterday") can be answered. Thread-safe."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                check_own_file(self.path, _sql().metadata.tables)
                engine = sqlite_engine(self.path, timeout_s=5)
                _sql().metadata.create_all(engine)
                self._engine = engine
            return self._engine

    def record(self, profile: str, database: str,
               totals: Sequence[tuple[str, str, int, float, int]],
               now: float | None = None) -> int:
        """Store what changed since the last sample; returns how many statements moved.
        The first sample only sets the baseline; a counter that went down was reset, so
        all of it is new."""
        now = time.time() if now is None else now
        sql = _sql()
        sa = sql.sa
        with self.engine.begin() as conn:
            where = (sql.totals.c.profile == profile) & (sql.totals.c.database == database)
            before = {str(r[0]): (int(r[1]), float(r[2]), int(r[3])) for r in conn.execute(
                sa.select(sql.totals.c.queryid, sql.totals.c.calls, sql.totals.c.total_ms,
                          sql.totals.c.rows).where(where)).all()}
            first = not before
            moved = []
            for queryid, query, calls, total_ms, rows in totals:
                old = before.get(queryid, (0, 0.0, 0))
                if calls < old[0]:
                    old = (0, 0.0, 0)
                if first or calls == old[0]:
                    continue
                moved.append({"profile": profile, "database": database, "ts": now,
                              "queryid": queryid, "query": query[:MAX_QUERY_TEXT],
                              "calls": calls - old[0], "total_ms": max(0.0, total_ms - old[1]),
                              "rows": max(0, rows - old[2])})
            if moved:
                conn.execute(sql.deltas.insert(), moved)
            conn.execute(sql.totals.delete().where(where))
            if totals:
                conn.execute(sql.totals.insert(), [
                    {"profile": profile, "database": database, "queryid": q, "calls": c,
                     "total_ms": t, "rows": n} for q, _text, c, t, n in totals])
            conn.execute(sql.deltas.delete().where(sql.deltas.c.ts < now - KEEP_S))
        return len(moved)

    def top(self, profile: str, database: str, since: float, limit: int = 20,
            order: str = "total") -> tuple[WindowStatement, ...]:
        """The statements with the most time (or calls, or mean) since ``since``."""
        sql = _sql()
        sa = sql.sa
        d = sql.deltas.c
        calls, total = sa.func.sum(d.calls), sa.func.sum(d.total_ms)
        key = {"total": total, "calls": calls, "mean": total / calls,
               "rows": sa.func.sum(d.rows)}[order]
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(sa.func.max(d.query), calls, total, sa.func.sum(d.rows))
                .where(d.profile == profile, d.database == database, d.ts >= since)
                .group_by(d.queryid).order_by(key.desc()).limit(limit)).all()
        return tuple(WindowStatement(str(r[0]), int(r[1]), float(r[2]), int(r[3]))
                     for r in rows)

    def oldest(self, profile: str, database: str) -> float | None:
        """When the history of this database starts (its first delta), if it has one."""
        sql = _sql()
        d = sql.deltas.c
        with self.engine.connect() as conn:
            value = conn.execute(sql.sa.select(sql.sa.func.min(d.ts)).where(
                d.profile == profile, d.database == database)).scalar()
        return None if value is None else float(value)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
