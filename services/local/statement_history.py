"""The console's local history of pg_stat_statements: deltas per sample, top per window."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.local.local_files import check_own_file
from services.local.sqlite import lazy_schema, sqlite_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: The windows the statement history answers, in seconds (None: since the last reset).
WINDOWS: dict[str, float | None] = {"last hour": 3600.0, "last 24 h": 86400.0,
                                    "since reset": None}
#: Statement samples older than this are dropped from the local history.
KEEP_S = 8 * 86400.0
#: Characters of a statement's text kept in the local history.
MAX_QUERY_TEXT = 2000
#: One lock per file: two samplers of this process (the database source, the open view)
#: must not both count the same calls.
_WRITING: dict[Path, threading.Lock] = {}


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
        with _WRITING.setdefault(self.path.resolve(), threading.Lock()), \
                self.engine.begin() as conn:
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
