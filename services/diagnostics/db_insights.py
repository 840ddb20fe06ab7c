"""Read-only database views: top statements, seq-scan-heavy tables, unused indexes, query plans."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from console.domain import SlowQuery
from console.redaction import mask_url, redact
from services.collectors.database import (
    OWN_PROGRAM,
    OWN_STATEMENT_TAG,
    statement_filter,
    tag_own_statements,
)
from services.diagnostics.insights_model import (
    ORDERINGS,
    DatabaseInsights,
    InsightsError,
    QueryPlan,
    TableScans,
    UnusedIndex,
)
from services.local.secrets import with_password

log = logging.getLogger(__name__)


def _known_queries() -> tuple[tuple[str, str, dict[str, Any], str], ...]:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    day = now.replace(hour=0, minute=0, second=0)
    return (
        ("bookings by start time",
         "SELECT id, customer_name, party_size, start_at FROM bookings "
         "WHERE start_at >= :start AND start_at < :end ORDER BY start_at",
         {"start": day, "end": day + timedelta(days=1)},
         "CREATE INDEX ix_bookings_start_at ON bookings (start_at)"),
        ("bookings by customer name",
         "SELECT id, start_at FROM bookings WHERE customer_name = :name",
         {"name": "Ada Lovelace"},
         "CREATE INDEX ix_bookings_customer_name ON bookings (customer_name)"),
        ("orders by time and status",
         "SELECT id, total_cents FROM orders WHERE status = :status AND placed_at >= :since "
         "ORDER BY placed_at DESC LIMIT 50",
         {"status": "pending", "since": now - timedelta(days=1)},
         "CREATE INDEX ix_orders_placed_at ON orders (placed_at)"),
        ("products by category",
         "SELECT id, name, stock FROM products WHERE category = :category ORDER BY name",
         {"category": "Drinks"},
         "CREATE INDEX ix_products_category ON products (category)"),
    )


KNOWN_QUERY_NAMES: tuple[str, ...] = tuple(q[0] for q in _known_queries())


# -- connecting ---------------------------------------------------------------------------------

def make_engine(url: str, *, password: str | None = None, timeout_s: float = 5.0) -> Engine:
    """An engine that only reads: SQLite opened ``mode=ro``; PostgreSQL with a connect timeout
    (every transaction is made read-only with a statement timeout by :func:`read_only`)."""
    dialect = url.partition("://")[0].partition("+")[0]
    if dialect == "sqlite":
        path = url.partition(":///")[2].partition("?")[0]
        if not path or path == ":memory:":
            raise InsightsError("an in-memory SQLite database has nothing to look at")
        return create_engine(f"sqlite:///file:{quote(path)}?mode=ro&uri=true", poolclass=NullPool,
                             connect_args={"timeout": timeout_s, "check_same_thread": False})
    if dialect == "postgresql":
        if password:
            url = with_password(url, password)
        return tag_own_statements(create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": max(1, round(timeout_s)),
                                                   "application_name": "backroom-insights"}))
    if dialect in ("mysql", "mariadb"):
        from services.shop.db import with_driver

        parsed = with_driver(url)
        if password:
            parsed = parsed.set(password=password)
        seconds = max(1, round(timeout_s))
        # read_timeout bounds every statement; the session cannot write.
        return create_engine(parsed, poolclass=NullPool, connect_args={
            "connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds,
            "init_command": "SET SESSION TRANSACTION READ ONLY", "program_name": OWN_PROGRAM})
    raise InsightsError(f"unsupported database {dialect!r}: expected postgresql, mysql/mariadb "
                        "or sqlite")


@contextmanager
def read_only(engine: Engine, timeout_s: float) -> Iterator[Connection]:
    """A read-only transaction whose every statement is bounded by ``timeout_s``; always
    rolled back. PostgreSQL: ``SET TRANSACTION READ ONLY`` + ``SET LOCAL statement_timeout``;
    SQLite: a ``mode=ro`` file and a progress handler that interrupts past the deadline."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql(
                    f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
            elif engine.dialect.name == "sqlite":
                deadline = time.monotonic() + timeout_s
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.set_progress_handler(  # type: ignore[attr-defined]
                    lambda: 1 if time.monotonic() > deadline else 0, 10_000)
            yield conn
        finally:
            trans.rollback()


def _explain_error(exc: BaseException, secrets: tuple[str, ...]) -> str:
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip().splitlines()[0]
    return redact(message, secrets)


# -- PostgreSQL -------------------------------------------------------------------------------

def _pg_has_statements(conn: Connection) -> bool:
    row = conn.execute(text(
        "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")).first()
    return row is not None


def _pg_preloaded(conn: Connection) -> bool:
    """Whether the server loads the pg_stat_statements library (then no restart is needed)."""
    with conn.begin_nested() as nested:
        try:
            libraries = str(conn.execute(text("SHOW shared_preload_libraries")).scalar_one())
        except DBAPIError:  # not allowed to read the setting: say the whole recipe
            nested.rollback()
            return False
    return "pg_stat_statements" in {part.strip() for part in libraries.split(",")}


def pg_top_statements(conn: Connection, ordering: str = "total", limit: int = 20,
                      include_maintenance: bool = False) -> tuple[SlowQuery, ...]:
    """Top statements of the current database from pg_stat_statements (PG 13+ columns),
    the console's own and (unless asked for) maintenance left out."""
    column = {"total": "total_exec_time", "mean": "mean_exec_time", "calls": "calls",
              "rows": "rows"}[ordering]
    where, params = statement_filter(include_maintenance)
    rows = conn.execute(text(
        f"""SELECT query, calls, mean_exec_time, total_exec_time, rows
            FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND {where}
              AND query NOT ILIKE 'SET %'
              AND query NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK')
            ORDER BY {column} DESC NULLS LAST, queryid
            LIMIT :limit"""), {"limit": int(limit), **params}).all()
    return tuple(SlowQuery(query=str(r[0]), calls=int(r[1]), mean_ms=float(r[2] or 0.0),
                           total_ms=float(r[3] or 0.0), rows=int(r[4] or 0)) for r in rows)


def pg_own_statements(conn: Connection, limit: int = 20) -> tuple[SlowQuery, ...]:
    """Backroom's own statements in this database (they begin with OWN_STATEMENT_TAG), by
    total time: what the console's monitoring costs the database."""
    rows = conn.execute(text(
        """SELECT query, calls, mean_exec_time, total_exec_time, rows
            FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query LIKE :own_tag
            ORDER BY total_exec_time DESC NULLS LAST, queryid
            LIMIT :limit"""), {"own_tag": OWN_STATEMENT_TAG + "%", "limit": int(limit)}).all()
    return tuple(SlowQuery(query=str(r[0]), calls=int(r[1]), mean_ms=float(r[2] or 0.0),
                           total_ms=float(r[3] or 0.0), rows=int(r[4] or 0), own=True)
                 for r in rows)


def pg_table_scans(conn: Connection, limit: int = 30) -> tuple[TableScans, ...]:
    """Tables by rows read in sequential scans, most first."""
    rows = conn.execute(text(
        """SELECT schemaname, relname, seq_scan, seq_tup_read, COALESCE(idx_scan, 0),
                  n_live_tup
           FROM pg_stat_user_tables
           WHERE seq_scan > 0
           ORDER BY seq_tup_read DESC, relname
           LIMIT :limit"""), {"limit": int(limit)}).all()
    return tuple(TableScans(table=_qualified(r[0], r[1]), seq_scan=int(r[2]),
                            seq_tup_read=int(r[3]), idx_scan=int(r[4]), live_rows=int(r[5]))
                 for r in rows)


def pg_unused_indexes(conn: Connection, limit: int = 30) -> tuple[UnusedIndex, ...]:
    """Indexes never scanned, neither unique nor primary (they enforce something), biggest first."""
    rows = conn.execute(text(
        """SELECT s.schemaname, s.relname, s.indexrelname, pg_relation_size(s.indexrelid),
                  s.idx_scan
           FROM pg_stat_user_indexes s
           JOIN pg_index i ON i.indexrelid = s.indexrelid
           WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
           ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
           LIMIT :limit"""), {"limit": int(limit)}).all()
    return tuple(UnusedIndex(table=_qualified(r[0], r[1]), index=str(r[2]),
                             size_bytes=int(r[3]), scans=int(r[4])) for r in rows)


def _qualified(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


# -- SQLite -----------------------------------------------------------------------------------

def sqlite_plan(conn: Connection, name: str, sql: str,
                params: dict[str, Any] | None = None, suggestion: str = "") -> QueryPlan:
    """EXPLAIN QUERY PLAN of one statement, with SCAN vs SEARCH USING INDEX read off it."""
    try:
        rows = conn.execute(text("EXPLAIN QUERY PLAN " + sql), params or {}).all()
    except SQLAlchemyError as exc:
        return QueryPlan(name, sql, (), (), (), error=_explain_error(exc, ()),
                         suggestion=suggestion)
    steps = tuple(str(r[-1]) for r in rows)
    scans: list[str] = []
    indexes: list[str] = []
    for step in steps:
        words = step.split()
        if len(words) >= 2 and words[0] == "SCAN":
            table = words[1]
            # "SCAN t USING [COVERING] INDEX i" reads the whole index: still every row.
            if table not in scans:
                scans.append(table)
        if "USING" in words and "INDEX" in words:
            index = words[words.index("INDEX") + 1]
            if index not in indexes:
                indexes.append(index)
        elif "USING INTEGER PRIMARY KEY" in step and "PRIMARY KEY" not in indexes:
            indexes.append("PRIMARY KEY")
    table_rows = 0
    for table in scans:
        if table.isidentifier():
            count = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            table_rows = max(table_rows, int(count))
    return QueryPlan(name, sql, steps, tuple(scans), tuple(indexes), table_rows,
                     suggestion=suggestion)


def sqlite_known_plans(conn: Connection) -> tuple[QueryPlan, ...]:
    """Plans of the shop's known queries (bookings by time and name, orders, products)."""
    tables = {str(r[0]) for r in conn.execute(text(
        "SELECT name FROM sqlite_master WHERE type = 'table'")).all()}
    plans = []
    for name, sql, params, suggestion in _known_queries():
        table = sql.split(" FROM ")[1].split()[0]
        if table not in tables:
            continue
        plans.append(sqlite_plan(conn, name, sql, params, suggestion))
    return tuple(plans)


def sqlite_unused_indexes(conn: Connection) -> tuple[UnusedIndex, ...]:
    """SQLite keeps no index usage statistics: nothing to report (stated in the notes)."""
    return ()


# -- one pass -----------------------------------------------------------------------------------

def collect_insights(url: str, *, name: str = "database", password: str | None = None,
                     timeout_s: float = 5.0, limit: int = 20,
                     engine: Engine | None = None,
                     cancelled: Callable[[], bool] | None = None) -> DatabaseInsights:
    """Read every view of one database in a read-only, time-bounded transaction.

    Raises :class:`InsightsError` when the database cannot be reached at all; a view that
    fails (e.g. no pg_stat_statements) becomes a note instead.
    """
    secrets = tuple(s for s in (password,) if s)
    own_engine = engine is None
    started = time.monotonic()
    eng = engine or make_engine(url, password=password, timeout_s=timeout_s)
    notes: list[str] = []
    masked = mask_url(url)
    try:
        with read_only(eng, timeout_s) as conn:
            dialect = eng.dialect.name
            if dialect == "postgresql":
                result = _collect_pg(conn, name, masked, limit, notes, cancelled)
            elif dialect in ("mysql", "mariadb"):
                result = _collect_mysql(conn, name, masked, limit, notes)
            else:
                version = str(conn.execute(text("SELECT sqlite_version()")).scalar_one())
                plans = sqlite_known_plans(conn)
                if not plans:
                    notes.append("None of the shop's tables (bookings, orders, products) are "
                                 "in this database, so there is no query plan to show.")
                notes.append("SQLite keeps no statistics of statements or index use; the "
                             "query plans below show which of the shop's queries read whole "
                             "tables.")
                result = DatabaseInsights(name=name, dialect="sqlite", url=masked,
                                          server_version=f"SQLite {version}", plans=plans)
    except (OperationalError, DBAPIError) as exc:
        raise InsightsError(f"{name}: {_explain_error(exc, secrets)}") from None
    finally:
        if own_engine:
            eng.dispose()
    elapsed = (time.monotonic() - started) * 1000.0
    return DatabaseInsights(**{**_fields(result), "notes": tuple(notes), "elapsed_ms": elapsed})


def _fields(insights: DatabaseInsights) -> dict[str, Any]:
    return {f: getattr(insights, f) for f in DatabaseInsights.__dataclass_fields__}


def _collect_pg(conn: Connection, name: str, masked: str, limit: int, notes: list[str],
                cancelled: Callable[[], bool] | None) -> DatabaseInsights:
    version = str(conn.execute(text("SHOW server_version")).scalar_one())
    tops: dict[str, tuple[SlowQuery, ...]] = dict.fromkeys(ORDERINGS, ())
    own: tuple[SlowQuery, ...] = ()
    if _pg_has_statements(conn):
        for ordering in ORDERINGS:
            if cancelled is not None and cancelled():
                break
            # a savepoint, so one failed view does not abort the others
            with conn.begin_nested() as nested:
                try:
                    tops[ordering] = pg_top_statements(conn, ordering, limit)
                except DBAPIError as exc:
                    nested.rollback()
                    notes.append(f"pg_stat_statements could not be read: "
                                 f"{_explain_error(exc, ())}")
                    break
        with conn.begin_nested() as nested:
            try:
                own = pg_own_statements(conn, limit)
            except DBAPIError:
                nested.rollback()  # the note above says why the statements are missing
        if any("<insufficient privilege>" in q.query for q in tops["total"]):
            notes.append("Some statement texts are hidden: grant pg_read_all_stats to the "
                         "console's database user to see them.")
    elif _pg_preloaded(conn):
        notes.append("pg_stat_statements is loaded by the server but not created in this "
                     "database: run CREATE EXTENSION pg_stat_statements in it (no restart "
                     "needed) to see the top queries.")
    else:
        notes.append("pg_stat_statements is not installed: add it to "
                     "shared_preload_libraries, restart PostgreSQL, then run CREATE EXTENSION "
                     "pg_stat_statements in this database to see the top queries.")
    scans = pg_table_scans(conn, limit)
    unused = pg_unused_indexes(conn, limit)
    return DatabaseInsights(
        name=name, dialect="postgresql", url=masked, server_version=f"PostgreSQL {version}",
        top_by_total=tops["total"], top_by_mean=tops["mean"], top_by_calls=tops["calls"],
        top_by_rows=tops["rows"], own_statements=own, table_scans=scans,
        unused_indexes=unused)


def _collect_mysql(conn: Connection, name: str, masked: str, limit: int,
                   notes: list[str]) -> DatabaseInsights:
    """Statement digests and rows read without an index (performance_schema), the slow log's
    settings; where one is off, the note says how to turn it on. A table's "sequential scans"
    here are rows fetched without an index (performance_schema counts rows, not scans)."""
    from services.collectors.mysql_stats import (
        ENABLE_PERFORMANCE_SCHEMA,
        ENABLE_SLOW_LOG,
        mysql_full_scans,
        mysql_no_index_statements,
        mysql_status,
        mysql_top_statements,
    )

    status = mysql_status(conn)
    notes.append(ENABLE_SLOW_LOG[0].upper() + ENABLE_SLOW_LOG[1:] + "." if not
                 status.slow_query_log else f"The server's {status.settings_words}.")
    if not status.performance_schema:
        notes.append(ENABLE_PERFORMANCE_SCHEMA[0].upper() + ENABLE_PERFORMANCE_SCHEMA[1:] + ".")
        return DatabaseInsights(name=name, dialect="mysql", url=masked,
                                server_version=f"MySQL {status.version}")
    tops = {o: mysql_top_statements(conn, o, limit) for o in ORDERINGS}
    for query, times in mysql_no_index_statements(conn, 3):
        notes.append(f"Read a table without any index {times:,} times: {query}")
    scans = tuple(TableScans(table=s.table, seq_scan=s.rows_without_index,
                             seq_tup_read=s.rows_without_index, idx_scan=s.rows_with_index,
                             live_rows=s.table_rows) for s in mysql_full_scans(conn, limit))
    return DatabaseInsights(
        name=name, dialect="mysql", url=masked, server_version=f"MySQL {status.version}",
        top_by_total=tops["total"], top_by_mean=tops["mean"], top_by_calls=tops["calls"],
        top_by_rows=tops["rows"], table_scans=scans)


def database_targets(profile: Any) -> list[tuple[str, str, Any, float]]:
    """(name, url, password SecretRef or None, timeout_s) of every database of a profile."""
    targets: list[tuple[str, str, Any, float]] = []
    database = getattr(profile, "database", None)
    if database is not None:
        targets.append(("database", database.url, database.password, database.timeout_s))
    for source in getattr(profile, "sources", ()):
        if source.kind == "database" and all(t[1] != source.url for t in targets):
            targets.append((source.name, source.url, source.password, source.timeout_s))
    names = [t[0] for t in targets]
    return [(f"{name} ({url.partition(':')[0].partition('+')[0]})" if names.count(name) > 1
             else name, url, ref, timeout) for name, url, ref, timeout in targets]


def collect_profile_insights(profile: Any, *, limit: int = 20,
                             resolve: Callable[[Any], str] | None = None,
                             cancelled: Callable[[], bool] | None = None,
                             ) -> tuple[list[DatabaseInsights], list[str]]:
    """Insights of every database in a profile; returns (insights, problems as sentences)."""
    if resolve is None:
        from services.local.secrets import resolve_secret

        resolve = resolve_secret
    found: list[DatabaseInsights] = []
    problems: list[str] = []
    for name, url, ref, timeout_s in database_targets(profile):
        if cancelled is not None and cancelled():
            break
        password: str | None = None
        try:
            password = resolve(ref) if ref is not None else None
            found.append(collect_insights(url, name=name, password=password,
                                          timeout_s=timeout_s, limit=limit,
                                          cancelled=cancelled))
        except Exception as exc:
            message = redact(str(exc), [password or ""])
            log.info("database views of %s failed: %s", name, message)
            problems.append(message if message.startswith(name) else f"{name}: {message}")
    return found, problems
