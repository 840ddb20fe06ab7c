"""Counts the demo's reads of a whole table, from SQLite's own query plans (as PostgreSQL's
``seq_scan`` and MySQL's ``Select_scan`` count them), and the rows of each table."""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import event
from sqlalchemy.engine import Engine

#: A plan step that reads every row of a table (``SCAN bookings``), not one that searches an
#: index (``SEARCH bookings USING INDEX ...``) nor a covering-index or temporary-table step.
_SCAN = re.compile(r"^SCAN (\w+)$")
#: Distinct statements whose plans are kept; past it the plans are read afresh.
MAX_PLANS = 1024


class FullScanCounter:
    """Adds one to ``counter{table=...}`` for each table a SELECT of ``engine`` reads whole.

    A statement's plan is asked of SQLite once (``EXPLAIN QUERY PLAN``, on the statement's
    own connection and parameters) and kept until :meth:`forget` (an index made or dropped
    changes plans)."""

    def __init__(self, engine: Engine, counter: Counter, tables: Iterable[str] = ()) -> None:
        """``tables`` are counted from zero at once, so a rate has a before to rise from."""
        self._counter = counter
        for table in tables:
            counter.labels(table=table)
        self._plans: dict[str, tuple[str, ...]] = {}
        #: Changes with every forget: SQLite never re-prepares a cached EXPLAIN after a
        #: schema change (it reads no table), so each generation's EXPLAIN text is new.
        self._generation = 0
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._before)

    def forget(self) -> None:
        """Read every statement's plan afresh (after a schema change)."""
        with self._lock:
            self._plans.clear()
            self._generation += 1

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                context: Any, executemany: bool) -> None:
        if executemany or statement.lstrip()[:6].upper() != "SELECT":
            return
        with self._lock:
            tables = self._plans.get(statement)
        if tables is None:
            plan = cursor.connection.execute(
                f"EXPLAIN QUERY PLAN /* plan {self._generation} */ {statement}",
                parameters).fetchall()
            tables = tuple(m.group(1) for row in plan if (m := _SCAN.match(str(row[3])))
                           and not m.group(1).startswith("sqlite_"))  # SQLite's own
            with self._lock:
                if len(self._plans) >= MAX_PLANS:
                    self._plans.clear()
                self._plans[statement] = tables
        for table in tables:
            self._counter.labels(table=table).inc()


def count_rows(path: Path, tables: Iterable[str], gauge: Gauge) -> None:
    """``gauge{table=...}`` reads each table's row count when scraped, on a connection of its
    own (the shop's engine would count these reads as the shop's)."""
    for table in tables:
        gauge.labels(table=table).set_function(partial(_rows, path, table))


def _rows(path: Path, table: str) -> float:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)) as conn:
            return float(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    except sqlite3.Error:
        return math.nan  # the file is busy or gone: no figure rather than a failed page
