"""Databases through SQLAlchemy: PostgreSQL/MySQL activity, slow statements, scans; SQLite size."""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.engine import Connection, Engine

from console import metrics
from console.domain import CollectorReport, Reading, SlowQuery, Status, series_name
from console.own_cost import count_request
from console.redaction import mask_url
from services.collectors.mysql_stats import (
    ENABLE_PERFORMANCE_SCHEMA,
    ENABLE_SLOW_LOG,
    mysql_full_scans,
    mysql_status,
    mysql_top_statements,
)
from services.errors import (
    AuthFailed,
    BadResponse,
    CollectorError,
    NotFound,
    SourceTimeout,
    SourceUnreachable,
)

log = logging.getLogger(__name__)

TOP_STATEMENTS = 20
#: pg_stat_statements is sampled into the local statement history this often (seconds).
STATEMENT_SAMPLE_S = 300.0
TOP_TABLES = 10
MAX_QUERY_TEXT = 2000
PG13 = 130000
#: Begins every statement the console sends to PostgreSQL, so pg_stat_statements tells them
#: apart (it keeps a leading comment in its query text) and the slow list leaves them out.
OWN_STATEMENT_TAG = "/* backroom */"
#: MySQL keeps no comment in a statement digest: the console's own statements there name this
#: alias (an identifier survives the digest), and its connections say this program_name.
OWN_ALIAS = "backroom_own"
OWN_PROGRAM = "backroom"
#: Maintenance that is slow by nature and says nothing about a missing index.
MAINTENANCE = (r"^\s*(copy|create\s+(unique\s+)?index|reindex|vacuum|analyze|cluster"
               r"|refresh\s+materialized\s+view)\M")


def tag_own_statements(engine: Engine) -> Engine:
    """Mark every statement of ``engine`` as the console's own (see OWN_STATEMENT_TAG)."""
    def tag(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
            executemany: bool) -> tuple[str, Any]:
        return f"{OWN_STATEMENT_TAG} {statement}", parameters

    sa.event.listen(engine, "before_cursor_execute", tag, retval=True)
    return engine


def is_own_statement(query: str) -> bool:
    """Whether a statement (as pg_stat_statements or a MySQL digest gives it) is the
    console's own: tagged on PostgreSQL, naming OWN_ALIAS on MySQL."""
    return query.lstrip().startswith(OWN_STATEMENT_TAG) or OWN_ALIAS in query


def statement_filter(include_maintenance: bool = False) -> tuple[str, dict[str, str]]:
    """SQL conditions on pg_stat_statements.query (and their parameters) that leave out the
    console's own statements and, unless asked for, maintenance (COPY, CREATE INDEX, VACUUM)."""
    where = "query NOT LIKE :own_tag AND query NOT LIKE '%pg_stat_statements%'"
    params = {"own_tag": OWN_STATEMENT_TAG + "%"}
    if not include_maintenance:
        where += " AND NOT (query ~* :maintenance)"
        params["maintenance"] = MAINTENANCE
    return where, params

ENABLE_PGSS = ("add shared_preload_libraries = 'pg_stat_statements' to postgresql.conf, "
               "restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; in this "
               "database")


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (None for in-memory)."""
    parsed = sa.engine.make_url(url)
    database = parsed.database or ""
    if not database or database == ":memory:":
        return None
    return Path(database.removeprefix("file:"))


def database_engine(url: str, password: str | None = None, timeout_s: float = 5.0) -> Engine:
    """An engine for monitoring: read-only, every connect and statement bounded, every
    statement counted as a request of the console's own cost (console/own_cost.py)."""
    engine = _monitoring_engine(url, password, timeout_s)
    sa.event.listen(engine, "before_cursor_execute", _count_statement)
    return engine


def _count_statement(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                     executemany: bool) -> None:
    count_request()


def _monitoring_engine(url: str, password: str | None, timeout_s: float) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
    if password is not None:
        parsed = parsed.set(password=password)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is None:
            return sa.create_engine("sqlite://", connect_args={"timeout": timeout_s})
        ro = sa.engine.URL.create("sqlite", database=f"file:{path}",
                                  query={"mode": "ro", "uri": "true"})
        return sa.create_engine(ro, connect_args={"timeout": timeout_s,
                                                  "check_same_thread": False},
                                poolclass=sa.pool.NullPool)
    statement_ms = int(timeout_s * 1000)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": max(2, math.ceil(timeout_s)),
            "options": (f"-c statement_timeout={statement_ms} "
                        f"-c lock_timeout={statement_ms} "
                        "-c default_transaction_read_only=on"),
            "application_name": "backroom",
        }
    elif parsed.get_backend_name() in ("mysql", "mariadb"):
        seconds = max(2, math.ceil(timeout_s))
        connect_args = {
            "connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds,
            # read_timeout bounds every statement on our side; the session only reads.
            "init_command": "SET SESSION TRANSACTION READ ONLY",
            "program_name": OWN_PROGRAM,  # performance_schema.session_connect_attrs
        }
    engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=1, max_overflow=1,
                              pool_timeout=timeout_s, connect_args=connect_args)
    return tag_own_statements(engine) if parsed.get_backend_name() == "postgresql" else engine


def database_error(err: Exception, url: str, timeout_s: float) -> CollectorError:
    """A database failure as a typed error saying what to try."""
    where = mask_url(url)
    text = str(getattr(err, "orig", None) or err).strip().splitlines()[0][:300]
    lowered = text.lower()
    user = re.search(r'role "([^"]*)" does not exist', text)
    if user:
        return AuthFailed(f"{where} has no user named {user.group(1)!r} ({text}); check the "
                          "user in the URL")
    database = re.search(r'database "([^"]*)" does not exist|unknown database \'([^\']*)\'',
                         text, re.IGNORECASE)
    if database:
        return NotFound(f"the server at {where} answers, but has no database named "
                        f"{(database.group(1) or database.group(2))!r} ({text}); check the "
                        "database name at the end of the URL")
    if "password authentication failed" in lowered or "authentication failed" in lowered \
            or "no password supplied" in lowered or "permission denied" in lowered \
            or "access denied for user" in lowered:
        return AuthFailed(f"{where} refused us ({text}); check the user and password")
    if "timeout" in lowered or "timed out" in lowered or "canceling statement" in lowered:
        return SourceTimeout(f"{where} did not answer within {timeout_s:g} s ({text})")
    if isinstance(err, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError) or \
            "could not connect" in lowered or "connection refused" in lowered:
        return SourceUnreachable(f"cannot reach the database at {where} ({text}); check the "
                                 "URL and that the server is running")
    return BadResponse(f"{where} answered an error: {text}")


class DatabaseCollector:
    """One read-only round of statistics queries per collect."""

    kind = "database"

    def __init__(self, name: str, engine: Engine, *, url: str = "", interval_s: float = 30.0,
                 timeout_s: float = 5.0, sqlite_file: Path | None = None,
                 include_maintenance: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        #: List COPY, CREATE INDEX, VACUUM ... among the slow statements too.
        self.include_maintenance = include_maintenance
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._engine = engine
        self._url = url or engine.url.render_as_string(hide_password=True)
        self._clock = clock
        database = engine.url.database or ""
        if sqlite_file is None and engine.dialect.name == "sqlite" and database:
            sqlite_file = Path(database.removeprefix("file:"))
        self._sqlite_file = sqlite_file
        #: Where pg_stat_statements' deltas go (a StatementHistory), under which profile.
        self.statement_history: Any = None
        self.history_profile = ""
        self._sampled_at = -math.inf
        #: Full-scan counters at the last collect (monotonic time, by table), for their rates.
        self._scans_before: tuple[float, dict[str, float]] | None = None

    def collect(self) -> CollectorReport:
        try:
            with self._engine.connect() as conn:
                if self._engine.dialect.name == "postgresql":
                    return self._postgres(conn)
                if self._engine.dialect.name == "sqlite":
                    return self._sqlite(conn)
                if self._engine.dialect.name in ("mysql", "mariadb"):
                    return self._mysql(conn)
                raise BadResponse(f"{self._engine.dialect.name} is not supported yet "
                                  "(PostgreSQL, MySQL/MariaDB and SQLite are)")
        except sqlalchemy.exc.SQLAlchemyError as err:
            raise database_error(err, self._url, self.timeout_s) from err

    # -- PostgreSQL --------------------------------------------------------------------------
    def _postgres(self, conn: Connection) -> CollectorReport:
        ts = self._clock()
        out: list[Reading] = [Reading(series_name(self.name, metrics.UP), ts, 1.0)]

        def add(metric: str, value: float, labels: dict[str, str] | None = None) -> None:
            out.append(Reading(series_name(self.name, metric, labels), ts, float(value)))

        version_num, version, max_connections = conn.execute(sa.text(
            "SELECT current_setting('server_version_num')::int, "
            "current_setting('server_version'), current_setting('max_connections')::int"
        )).one()
        states = conn.execute(sa.text(
            "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' GROUP BY 1"
        )).all()
        total = 0
        for state, count in states:
            add(metrics.DB_CONNECTIONS, count, {"state": str(state)})
            total += int(count)
        add(metrics.DB_CONNECTIONS_TOTAL, total)
        add(metrics.DB_MAX_CONNECTIONS, max_connections)
        hit, read = conn.execute(sa.text(
            "SELECT coalesce(blks_hit, 0), coalesce(blks_read, 0) FROM pg_stat_database "
            "WHERE datname = current_database()"
        )).one()
        if hit + read > 0:
            add(metrics.DB_BUFFER_HIT_RATE, hit / (hit + read))
        tables = conn.execute(sa.text(
            "SELECT schemaname || '.' || relname, seq_scan, coalesce(idx_scan, 0), n_live_tup "
            "FROM pg_stat_user_tables ORDER BY seq_tup_read DESC, relname LIMIT :n"
        ), {"n": TOP_TABLES}).all()
        for table, seq_scan, idx_scan, rows in tables:
            labels = {"table": str(table)}
            add(metrics.TABLE_SEQ_SCANS, seq_scan, labels)
            add(metrics.TABLE_IDX_SCANS, idx_scan, labels)
            add(metrics.TABLE_ROWS, rows, labels)
        for table, rate in self._scan_rates({str(t): float(s) for t, s, _i, _r in tables}):
            add(metrics.FULL_SCANS_RATE, rate, {"table": table})
        slow, pgss = self._statements(conn, int(version_num))
        if pgss == "enabled" and int(version_num) >= PG13:
            self._sample_statements(conn)
        detail = (f"PostgreSQL {version}: {total} of {max_connections} connections in use")
        status = Status.OK
        if pgss == "enabled":
            detail += f", {len(slow)} statements from pg_stat_statements"
        else:
            status = Status.WARN
            detail += f"; pg_stat_statements is {pgss}: {ENABLE_PGSS}"
        return CollectorReport(readings=tuple(out), detail=detail, status=status,
                               server_version=str(version), slow_queries=tuple(slow),
                               facts=(("pg_stat_statements", pgss),))

    def _scan_rates(self, counts: dict[str, float]) -> list[tuple[str, float]]:
        """Full scans per second of each table since the last collect (a table first seen, or
        a counter that went down after a restart or reset, gives none this time)."""
        now = time.monotonic()
        before, self._scans_before = self._scans_before, (now, counts)
        if before is None or now <= before[0]:
            return []
        dt = now - before[0]
        return [(table, (count - before[1][table]) / dt) for table, count in counts.items()
                if table in before[1] and count >= before[1][table]]

    def _statements(self, conn: Connection, version_num: int) -> tuple[list[SlowQuery], str]:
        installed = conn.execute(sa.text(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")).first()
        if installed is None:
            return [], "not installed"
        total, mean = (("total_exec_time", "mean_exec_time") if version_num >= PG13
                       else ("total_time", "mean_time"))
        where, params = statement_filter(self.include_maintenance)
        try:
            rows = conn.execute(sa.text(
                f"SELECT query, calls, {mean}, {total}, rows FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                f"AND {where} ORDER BY {total} DESC LIMIT :n"
            ), {"n": TOP_STATEMENTS, **params}).all()
        except sqlalchemy.exc.DBAPIError as err:
            conn.rollback()
            if "shared_preload_libraries" in str(err):
                return [], "installed but not loaded"
            raise
        slow = [SlowQuery(query=" ".join(str(q).split())[:MAX_QUERY_TEXT], calls=int(calls),
                          mean_ms=float(mean_ms), total_ms=float(total_ms), rows=int(n or 0))
                for q, calls, mean_ms, total_ms, n in rows]
        return slow, "enabled"

    def _sample_statements(self, conn: Connection) -> None:
        """Every few minutes, what each statement did since the last sample, kept locally
        (so "the slowest in the last hour" can be answered); never fails the reading."""
        now = self._clock()
        if self.statement_history is None or now - self._sampled_at < STATEMENT_SAMPLE_S:
            return
        self._sampled_at = now
        try:
            self.statement_history.record(self.history_profile, self.name,
                                          pg_statement_totals(conn), now=now)
        except Exception as err:  # a local file or the read: the readings still count
            log.warning("%s: statement history not sampled: %s", self.name, err)

    # -- MySQL / MariaDB ---------------------------------------------------------------------
    def _mysql(self, conn: Connection) -> CollectorReport:
        ts = self._clock()
        out: list[Reading] = [Reading(series_name(self.name, metrics.UP), ts, 1.0)]

        def add(metric: str, value: float, labels: dict[str, str] | None = None) -> None:
            out.append(Reading(series_name(self.name, metric, labels), ts, float(value)))

        s = mysql_status(conn)
        add(metrics.DB_CONNECTIONS, s.running, {"state": "active"})
        add(metrics.DB_CONNECTIONS, max(0, s.connected - s.running), {"state": "idle"})
        add(metrics.DB_CONNECTIONS_TOTAL, s.connected)
        add(metrics.DB_MAX_CONNECTIONS, s.max_connections)
        if s.buffer_hit_rate is not None:
            add(metrics.DB_BUFFER_HIT_RATE, s.buffer_hit_rate)
        slow: tuple[SlowQuery, ...] = ()
        problems: list[str] = []
        select_scan = conn.execute(sa.text("SHOW GLOBAL STATUS LIKE 'Select_scan'")).first()
        if select_scan is not None:
            for _all, rate in self._scan_rates({"": float(select_scan[1])}):
                add(metrics.FULL_SCANS_RATE, rate)
        if s.performance_schema:
            slow = mysql_top_statements(conn, "total", TOP_STATEMENTS)
            for scan in mysql_full_scans(conn, TOP_TABLES):
                labels = {"table": scan.table}
                add(metrics.TABLE_SEQ_SCANS, scan.rows_without_index, labels)
                add(metrics.TABLE_IDX_SCANS, scan.rows_with_index, labels)
                add(metrics.TABLE_ROWS, scan.table_rows, labels)
        else:
            problems.append(ENABLE_PERFORMANCE_SCHEMA)
        if not s.slow_query_log:
            problems.append(ENABLE_SLOW_LOG)
        detail = (f"MySQL {s.version}: {s.connected} of {s.max_connections} connections "
                  f"({s.running} running), {s.settings_words}")
        if s.performance_schema:
            detail += f", {len(slow)} statements from performance_schema"
        if problems:
            detail += "; " + "; ".join(problems)
        return CollectorReport(
            readings=tuple(out), detail=detail, status=Status.WARN if problems else Status.OK,
            server_version=s.version, slow_queries=slow,
            facts=(("performance_schema", "on" if s.performance_schema else "off"),
                   ("slow_query_log", s.settings_words)))

    # -- SQLite ------------------------------------------------------------------------------
    def _sqlite(self, conn: Connection) -> CollectorReport:
        ts = self._clock()
        version = conn.execute(sa.text("SELECT sqlite_version()")).scalar_one()
        page_count = int(conn.execute(sa.text("PRAGMA page_count")).scalar_one())
        page_size = int(conn.execute(sa.text("PRAGMA page_size")).scalar_one())
        free_pages = int(conn.execute(sa.text("PRAGMA freelist_count")).scalar_one())
        journal = str(conn.execute(sa.text("PRAGMA journal_mode")).scalar_one())
        path = self._sqlite_file
        size = page_count * page_size
        wal = 0
        if path is not None:
            with_wal = Path(f"{path}-wal")
            wal = os.path.getsize(with_wal) if with_wal.exists() else 0
        readings = (
            Reading(series_name(self.name, metrics.UP), ts, 1.0),
            Reading(series_name(self.name, metrics.DB_SIZE_BYTES), ts, float(size)),
            Reading(series_name(self.name, metrics.DB_WAL_BYTES), ts, float(wal)),
            Reading(series_name(self.name, metrics.DB_FREE_PAGES), ts, float(free_pages)),
        )
        detail = (f"SQLite {version}: {size / 1e6:.1f} MB in {page_count} pages "
                  f"({free_pages} free), journal {journal}")
        if journal.lower() == "wal":
            detail += f", WAL {wal / 1e6:.1f} MB"
        return CollectorReport(readings=readings, detail=detail, server_version=str(version),
                               facts=(("journal_mode", journal),))

    def close(self) -> None:
        self._engine.dispose()


def pg_statement_totals(conn: Connection) -> list[tuple[str, str, int, float, int]]:
    """(queryid, query, calls, total ms, rows) of every statement of this database."""
    rows = conn.execute(sa.text(
        """SELECT queryid::text, query, sum(calls), sum(total_exec_time), sum(rows)
           FROM pg_stat_statements
           WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND queryid IS NOT NULL
           GROUP BY queryid, query""")).all()
    return [(str(r[0]), str(r[1]), int(r[2]), float(r[3] or 0.0), int(r[4] or 0)) for r in rows]
