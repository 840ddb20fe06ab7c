"""Alert history in the console's local SQLite (SQLAlchemy Core): every rule state change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.alert_rules import parse_severity
from console.alerts import AlertEvent
from services.local.local_files import check_own_file, describe_write_error
from services.local.sqlite import lazy_schema, sqlite_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


def _tables(sa: Any, metadata: Any) -> dict[str, Any]:
    events = sa.Table(
        "alert_events",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("profile", sa.String(200), nullable=False, default=""),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("previous", sa.String(20), nullable=False, default=""),
        sa.Column("severity", sa.String(10), nullable=False, default="warn"),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("series", sa.String(300), nullable=False, default=""),
        sa.Column("message", sa.Text, nullable=False, default=""),
    )
    sa.Index("ix_alert_events_profile_ts", events.c.profile, events.c.ts)
    return {"events": events}


_sql = lazy_schema(_tables)
"""SQLAlchemy (``sa``) and the alert log's table (``events``)."""


#: Event states a timeline marks by default: a rule going pending, its firing and its end.
TIMELINE_STATES = ("pending", "firing", "resolved")


class AlertLog:
    """The alert history of one profile in a SQLite file (WAL), shared by every profile.

    Thread-safe: the evaluator thread records while the GUI reads. ``record`` is one short
    transaction; reads are bounded by ``limit``.
    """

    def __init__(self, path: Path | str, *, profile: str = "", engine: Engine | None = None
                 ) -> None:
        self.profile = profile
        self.path = Path(path) if engine is None else None
        self._engine = engine
        self._ready = False
        self._opening = threading.Lock()
        self._lock = threading.Lock()
        self.problem: str | None = None
        """Why the log cannot be written now, and what to do (None when it can)."""

    @property
    def engine(self) -> Engine:
        """The log's engine: the file is opened, and its table made, on first use."""
        if self._ready:
            assert self._engine is not None
            return self._engine
        with self._opening:
            try:
                if self._engine is None:
                    assert self.path is not None
                    check_own_file(self.path, _sql().metadata.tables)
                    self._engine = sqlite_engine(self.path, timeout_s=5)
                _sql().metadata.create_all(self._engine)
            except Exception as err:
                if self.path is not None:  # the window says why there is no alert history
                    self.problem = describe_write_error(err, self.path)
                raise
            self._ready = True
        return self._engine

    # -- writing -----------------------------------------------------------------------------

    def record(self, events: Iterable[AlertEvent]) -> int:
        """Store events; returns how many."""
        rows = [{
            "profile": self.profile, "ts": e.ts, "rule": e.rule, "state": e.state,
            "previous": e.previous, "severity": str(e.severity), "value": e.value,
            "series": e.series, "message": e.message,
        } for e in events]
        if not rows:
            return 0
        db = _sql()
        if self._ready and self.path is not None and not self.path.exists():
            self._forget_file()  # removed while running: a new file at the same place
        try:
            with self._lock, self.engine.begin() as conn:
                conn.execute(db.sa.insert(db.events), rows)
        except Exception as err:
            if self.path is not None:
                self.problem = describe_write_error(err, self.path)
            raise
        self.problem = None
        return len(rows)

    def prune(self, older_than_ts: float) -> int:
        """Forget this profile's events older than ``older_than_ts``; returns how many."""
        db = _sql()
        with self._lock, self.engine.begin() as conn:
            result = conn.execute(db.sa.delete(db.events).where(
                db.events.c.profile == self.profile, db.events.c.ts < older_than_ts))
        return int(result.rowcount or 0)

    # -- reading -----------------------------------------------------------------------------

    def events(self, *, since: float | None = None, until: float | None = None,
               rule: str | None = None, states: Sequence[str] | None = None,
               limit: int = 500, newest_first: bool = True) -> list[AlertEvent]:
        """This profile's events, filtered, newest first unless asked otherwise."""
        db = _sql()
        table = db.events
        query = db.sa.select(table).where(table.c.profile == self.profile)
        if since is not None:
            query = query.where(table.c.ts >= since)
        if until is not None:
            query = query.where(table.c.ts <= until)
        if rule:
            query = query.where(table.c.rule == rule)
        if states:
            query = query.where(table.c.state.in_(list(states)))
        order = (table.c.ts.desc(), table.c.id.desc()) if newest_first else (table.c.ts,
                                                                              table.c.id)
        query = query.order_by(*order).limit(max(1, int(limit)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AlertEvent(ts=r["ts"], rule=r["rule"], state=r["state"],
                           previous=r["previous"], severity=parse_severity(r["severity"]),
                           value=r["value"], series=r["series"], message=r["message"])
                for r in rows]

    def marks_since(self, ts: float, states: Sequence[str] = TIMELINE_STATES,
                    limit: int = 2000) -> list[tuple[float, str, str]]:
        """For the dashboard timeline: (ts, rule name, state) since ``ts``, oldest first."""
        return [(e.ts, e.rule, e.state)
                for e in self.events(since=ts, states=states, limit=limit, newest_first=False)]

    def count(self) -> int:
        db = _sql()
        with self.engine.connect() as conn:
            return int(conn.execute(db.sa.select(db.sa.func.count()).select_from(db.events).where(
                db.events.c.profile == self.profile)).scalar_one())

    def _forget_file(self) -> None:
        log.warning("the alert log %s was removed while the console ran; starting a new one",
                    self.path)
        with self._opening:
            engine, self._engine, self._ready = self._engine, None, False
        if engine is not None:
            engine.dispose()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

