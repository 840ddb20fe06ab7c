"""The live database views' calls (sessions, blocking, statements over time), for the UI."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.collectors.database import (
    STATEMENT_SAMPLE_S,
    is_own_statement,
    pg_statement_totals,
)
from services.diagnostics import mysql_live, pg_live
from services.diagnostics.db_insights import database_targets
from services.diagnostics.pg_live import ChainNode, Session, SignalRight, Wait
from services.local.statement_history import KEEP_S, WINDOWS, StatementHistory, WindowStatement

#: How many statements a window shows.
WINDOW_TOP = 30


@dataclass(frozen=True, slots=True)
class LiveTarget:
    """The database the live views read: a profile's database and how to reach it."""

    profile: str
    name: str
    url: str
    password_ref: Any
    timeout_s: float
    dialect: str = "postgresql"  # or "mysql"

    def password(self) -> str | None:
        if self.password_ref is None:
            return None
        from services.local.secrets import resolve_secret

        return resolve_secret(self.password_ref)


@dataclass(frozen=True, slots=True)
class StatementWindow:
    """The top statements of a window and what the view says around them."""

    statements: tuple[WindowStatement, ...]
    may_reset: bool
    """The database user may run pg_stat_statements_reset."""
    oldest: float | None
    """When the local history of this database starts (None: no change sampled yet)."""
    window_s: float | None
    """The window asked for (None: since the last reset)."""
    counted_by: str = "pg_stat_statements"
    """Where the database counts its statements, in the words of the view's note."""
    switched_off: str = ""
    """Why the database counts no statements, and how to switch it on ("": it does)."""
    lost: str = ""
    """Why some statements are missing, and what to do ("": none is)."""

    def own(self, statement: WindowStatement) -> bool:
        """Whether the statement is the console's own (its polling and these views)."""
        return is_own_statement(statement.query)


class DatabaseLiveTools:
    """What the Diagnostics page's live database views call; the composition root hands it
    in with the statement history's file. Every method but :meth:`target` and
    :meth:`blocking_tree` talks to a database: call it off the GUI thread."""

    windows: dict[str, float | None] = WINDOWS
    """The windows of the statements view, words -> seconds (None: since the last reset)."""
    keep_s = KEEP_S
    """How long the local statement history keeps its samples."""
    sample_s = STATEMENT_SAMPLE_S
    """How often pg_stat_statements is sampled into the history."""

    def __init__(self, history_path: Path) -> None:
        self.history = StatementHistory(history_path)  # opened when first written

    def target(self, profile: Any, name: str, dialect: str) -> LiveTarget | None:
        """The profile's database called ``name`` (as the database views name it)."""
        for found, url, ref, timeout_s in database_targets(profile):
            if found == name:
                return LiveTarget(str(getattr(profile, "name", "")), name, url, ref,
                                  timeout_s, dialect)
        return None

    def sessions(self, target: LiveTarget) -> tuple[tuple[Session, ...], SignalRight]:
        """The database's other sessions and whether this user may cancel or end them."""
        password = target.password()
        if target.dialect == "mysql":
            with mysql_live.mysql_connection(target.url, password, target.timeout_s) as conn:
                return mysql_live.read_sessions(conn), mysql_live.signal_right(conn)
        with pg_live.pg_connection(target.url, password, target.timeout_s) as conn:
            return pg_live.read_sessions(conn), pg_live.signal_right(conn)

    def cancel(self, target: LiveTarget, pid: int) -> bool:
        """Cancel a session's running statement; False when it had already gone."""
        module: Any = mysql_live if target.dialect == "mysql" else pg_live
        return bool(module.cancel_query(target.url, target.password(), pid, target.timeout_s))

    def terminate(self, target: LiveTarget, pid: int) -> bool:
        """End a session (its open transaction is rolled back); False when it had gone."""
        module: Any = mysql_live if target.dialect == "mysql" else pg_live
        return bool(module.terminate_session(target.url, target.password(), pid,
                                             target.timeout_s))

    def waits(self, target: LiveTarget) -> tuple[tuple[Wait, ...], dict[int, Session]]:
        """Who waits for whose lock, and the sessions involved by pid."""
        if target.dialect == "mysql":
            with mysql_live.mysql_connection(target.url, target.password(),
                                             target.timeout_s) as conn:
                found = mysql_live.read_waits(conn)
                sessions = {s.pid: s for s in mysql_live.read_sessions(conn)} if found else {}
                return found, sessions
        with pg_live.pg_connection(target.url, target.password(), target.timeout_s) as conn:
            waits = pg_live.read_waits(conn)
            sessions = {s.pid: s for s in pg_live.read_sessions(conn)} if waits else {}
            return waits, sessions

    def blocking_tree(self, waits: Sequence[Wait]) -> list[ChainNode]:
        """The waits as trees: each blocker at a root, who waits for it below."""
        return pg_live.blocking_tree(waits)

    def statement_window(self, target: LiveTarget, window_s: float | None,
                         order: str) -> StatementWindow:
        """Sample the database's statement totals (pg_stat_statements; performance_schema's
        digests on MySQL/MariaDB) into the history, then the top statements of the window
        (``order``: total, mean or calls)."""
        counted_by, off, lost = "pg_stat_statements", "", ""
        if target.dialect == "mysql":
            counted_by = "performance_schema's statement digests"
            with mysql_live.mysql_connection(target.url, target.password(),
                                             target.timeout_s) as conn:
                totals = mysql_live.statement_totals(conn)
                if not mysql_live.statements_switched_on(conn):
                    off = ("performance_schema is off on this server: start it with "
                           "performance_schema=ON (my.cnf, [mysqld]) to count statements")
                else:
                    lost = mysql_live.digests_lost(conn)
            may_reset = False  # TRUNCATE of the digests resets every database of the server
        else:
            with pg_live.pg_connection(target.url, target.password(),
                                       target.timeout_s) as conn:
                totals = pg_statement_totals(conn)
                may_reset = pg_live.may_reset_statements(conn)
        self.history.record(target.profile, target.name, totals)
        oldest = self.history.oldest(target.profile, target.name)
        if window_s is None:
            key: Callable[[WindowStatement], float] = {
                "total": lambda s: s.total_ms, "mean": lambda s: s.mean_ms,
                "calls": lambda s: s.calls}[order]
            everything = (WindowStatement(q, c, t, n) for _i, q, c, t, n in totals)
            top = tuple(sorted(everything, key=key, reverse=True)[:WINDOW_TOP])
        else:
            top = self.history.top(target.profile, target.name, time.time() - window_s,
                                   WINDOW_TOP, order)
        return StatementWindow(top, may_reset, oldest, window_s, counted_by, off, lost)

    def reset_statements(self, target: LiveTarget) -> None:
        """pg_stat_statements_reset for this database (the local history stays)."""
        pg_live.reset_statements(target.url, target.password(), target.timeout_s)

    def close(self) -> None:
        self.history.close()
