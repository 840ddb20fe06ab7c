"""MySQL/MariaDB statistics: threads, buffer pool, statement digests, full scans, the slow log."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from console.domain import SlowQuery

#: Picoseconds (performance_schema's timer unit) in a millisecond.
PS_PER_MS = 1e9
MAX_QUERY_TEXT = 2000

ENABLE_PERFORMANCE_SCHEMA = (
    "performance_schema is off, so there are no statement digests or index-use figures: add "
    "'performance_schema = ON' under [mysqld] in the server's my.cnf (e.g. /etc/mysql/my.cnf "
    "or /etc/mysql/mariadb.conf.d/50-server.cnf) and restart the server (it cannot be turned "
    "on while the server runs)")
ENABLE_SLOW_LOG = (
    "the slow query log is off: run SET GLOBAL slow_query_log = ON; SET GLOBAL "
    "long_query_time = 1; as an admin, and put slow_query_log = ON and long_query_time = 1 "
    "under [mysqld] in my.cnf so it stays on after a restart")
#: digest columns for each ordering the database views offer
_ORDER_BY = {"total": "SUM_TIMER_WAIT", "mean": "AVG_TIMER_WAIT", "calls": "COUNT_STAR",
             "rows": "SUM_ROWS_SENT"}


@dataclass(frozen=True, slots=True)
class MysqlStatus:
    """One reading of a MySQL/MariaDB server's counters and settings."""

    version: str
    connected: int
    running: int
    max_connections: int
    buffer_hit_rate: float | None
    performance_schema: bool
    slow_query_log: bool
    long_query_time_s: float
    slow_log_output: str

    @property
    def settings_words(self) -> str:
        """The slow log's settings in a line: what a support person checks first."""
        if not self.slow_query_log:
            return "slow query log off"
        return (f"slow query log on (long_query_time {self.long_query_time_s:g} s, "
                f"to {self.slow_log_output.lower()})")


def _variables(conn: Connection, statement: str, names: tuple[str, ...]) -> dict[str, str]:
    like = " OR ".join(f"Variable_name = '{n}'" for n in names)  # our own constant names
    return {str(k).lower(): str(v) for k, v in conn.execute(sa.text(
        f"{statement} WHERE {like}")).all()}


def mysql_status(conn: Connection) -> MysqlStatus:
    status = _variables(conn, "SHOW GLOBAL STATUS", (
        "Threads_connected", "Threads_running", "Innodb_buffer_pool_read_requests",
        "Innodb_buffer_pool_reads"))
    variables = _variables(conn, "SHOW GLOBAL VARIABLES", (
        "version", "max_connections", "performance_schema", "slow_query_log",
        "long_query_time", "log_output"))
    requests = float(status.get("innodb_buffer_pool_read_requests", 0))
    from_disk = float(status.get("innodb_buffer_pool_reads", 0))
    return MysqlStatus(
        version=variables.get("version", "?"),
        connected=int(status.get("threads_connected", 0)),
        running=int(status.get("threads_running", 0)),
        max_connections=int(variables.get("max_connections", 0)),
        buffer_hit_rate=(1.0 - from_disk / requests) if requests > 0 else None,
        performance_schema=variables.get("performance_schema", "OFF").upper() in ("ON", "1"),
        slow_query_log=variables.get("slow_query_log", "OFF").upper() in ("ON", "1"),
        long_query_time_s=float(variables.get("long_query_time", 10)),
        slow_log_output=variables.get("log_output", "FILE"))


def mysql_top_statements(conn: Connection, ordering: str = "total",
                         limit: int = 20) -> tuple[SlowQuery, ...]:
    """The current database's statements from events_statements_summary_by_digest."""
    rows = conn.execute(sa.text(
        "SELECT DIGEST_TEXT, COUNT_STAR, AVG_TIMER_WAIT, SUM_TIMER_WAIT, SUM_ROWS_SENT "
        "FROM performance_schema.events_statements_summary_by_digest "
        "WHERE SCHEMA_NAME = DATABASE() AND DIGEST_TEXT IS NOT NULL "
        "AND DIGEST_TEXT NOT LIKE '%performance_schema%' "
        f"ORDER BY {_ORDER_BY[ordering]} DESC LIMIT :n"), {"n": limit}).all()
    return tuple(SlowQuery(query=" ".join(str(q).split())[:MAX_QUERY_TEXT], calls=int(calls),
                           mean_ms=float(mean) / PS_PER_MS, total_ms=float(total) / PS_PER_MS,
                           rows=int(sent or 0))
                 for q, calls, mean, total, sent in rows)


@dataclass(frozen=True, slots=True)
class FullScan:
    """Rows of one table read without an index versus through one (performance_schema's
    table_io_waits_summary_by_index_usage counts row fetches, not scans)."""

    table: str
    rows_without_index: int
    rows_with_index: int
    table_rows: int


def mysql_full_scans(conn: Connection, limit: int = 20) -> tuple[FullScan, ...]:
    """Tables of the current database by rows fetched without an index, most first."""
    rows = conn.execute(sa.text(
        "SELECT u.OBJECT_NAME, "
        "SUM(CASE WHEN u.INDEX_NAME IS NULL THEN u.COUNT_FETCH ELSE 0 END) AS scanned, "
        "SUM(CASE WHEN u.INDEX_NAME IS NOT NULL THEN u.COUNT_FETCH ELSE 0 END) AS indexed, "
        "MAX(COALESCE(t.TABLE_ROWS, 0)) "
        "FROM performance_schema.table_io_waits_summary_by_index_usage u "
        "LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = u.OBJECT_SCHEMA "
        "AND t.TABLE_NAME = u.OBJECT_NAME "
        "WHERE u.OBJECT_SCHEMA = DATABASE() AND u.OBJECT_TYPE = 'TABLE' "
        "GROUP BY u.OBJECT_NAME HAVING scanned > 0 ORDER BY scanned DESC LIMIT :n"),
        {"n": limit}).all()
    return tuple(FullScan(str(t), int(s), int(i), int(n)) for t, s, i, n in rows)


def mysql_no_index_statements(conn: Connection, limit: int = 5) -> tuple[tuple[str, int], ...]:
    """Statements that read a table without any index: (digest text, times), most first."""
    rows = conn.execute(sa.text(
        "SELECT DIGEST_TEXT, SUM_NO_INDEX_USED "
        "FROM performance_schema.events_statements_summary_by_digest "
        "WHERE SCHEMA_NAME = DATABASE() AND SUM_NO_INDEX_USED > 0 AND DIGEST_TEXT IS NOT NULL "
        "AND DIGEST_TEXT NOT LIKE '%performance_schema%' "
        "ORDER BY SUM_NO_INDEX_USED DESC LIMIT :n"), {"n": limit}).all()
    return tuple((" ".join(str(q).split())[:MAX_QUERY_TEXT], int(n)) for q, n in rows)
