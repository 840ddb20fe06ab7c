"""Database collector against real PostgreSQL (pg_stat_statements on) and SQLite files."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from console import metrics
from console.domain import Status
from services.collectors.database import DatabaseCollector, database_engine, database_error
from services.errors import SourceTimeout, SourceUnreachable

pytestmark = pytest.mark.integration


def values(report: object) -> dict[str, float]:
    return {r.series.split("/", 1)[1]: r.value for r in report.readings}  # type: ignore[attr-defined]


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        enabled = conn.execute(sa.text(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")).first()
        if enabled is None:
            try:
                conn.execute(sa.text("CREATE EXTENSION pg_stat_statements"))
            except sa.exc.DBAPIError:
                pytest.fail("pg_stat_statements is not available: set shared_preload_libraries "
                            "= 'pg_stat_statements' and restart PostgreSQL")
    yield engine
    engine.dispose()


@pytest.fixture
def own_database(pg_engine: sa.Engine, postgres_url: str) -> Iterator[str]:
    """A database of this test alone (pg_stat_statements on), so other tests' statements
    never crowd ours out of the top of the list; dropped afterwards."""
    name = f"br_collect_{uuid.uuid4().hex[:8]}"
    with pg_engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.engine.make_url(postgres_url).set(database=name).render_as_string(
        hide_password=False)
    try:
        yield url
    finally:
        with pg_engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_postgres_statements_connections_and_scans(pg_engine: sa.Engine,
                                                   own_database: str) -> None:
    table = "bookings"
    workload = sa.create_engine(own_database, isolation_level="AUTOCOMMIT")
    with workload.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION pg_stat_statements"))
        conn.execute(sa.text(f"CREATE TABLE {table} (id serial PRIMARY KEY, party int)"))
        conn.execute(sa.text(f"INSERT INTO {table} (party) SELECT g % 20 FROM "
                             "generate_series(1, 20000) g"))
        for i in range(120):  # no index on party: every call is a sequential scan
            conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE party = :p"), {"p": i % 20})
    workload.dispose()  # a session hands its table statistics over when it ends
    collector = DatabaseCollector("db", database_engine(own_database, timeout_s=5.0),
                                  url=own_database)
    try:
        deadline = time.monotonic() + 10
        while True:  # table statistics reach the views within a second or so
            report = collector.collect()
            got = values(report)
            scans = got.get(f'table_seq_scans{{table="public.{table}"}}', 0)
            rows = got.get(f'table_rows{{table="public.{table}"}}', 0)
            if (scans >= 120 and rows == 20000) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        with pg_engine.connect() as conn:
            max_connections = int(conn.execute(sa.text("SHOW max_connections")).scalar_one())
    finally:
        collector.close()
    assert report.status is Status.OK
    assert got[metrics.DB_MAX_CONNECTIONS] == max_connections
    assert got[metrics.DB_CONNECTIONS_TOTAL] >= 1
    assert got[f'table_seq_scans{{table="public.{table}"}}'] >= 120
    assert got[f'table_rows{{table="public.{table}"}}'] == 20000
    ours = [q for q in report.slow_queries if f"FROM {table} WHERE party" in q.query]
    assert ours, [q.query for q in report.slow_queries]
    assert ours[0].calls == 120
    assert ours[0].total_ms == pytest.approx(ours[0].mean_ms * 120, rel=1e-6)
    assert report.server_version


def test_postgres_without_the_extension_says_how_to_enable_it(pg_engine: sa.Engine,
                                                              postgres_url: str) -> None:
    name = f"br_collect_noext_{uuid.uuid4().hex[:8]}"
    with pg_engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.engine.make_url(postgres_url).set(database=name).render_as_string(
        hide_password=False)
    collector = DatabaseCollector("db", database_engine(url, timeout_s=5.0), url=url)
    try:
        report = collector.collect()
    finally:
        collector.close()
        with pg_engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    assert report.status is Status.WARN
    assert "pg_stat_statements is not installed" in report.detail
    assert "CREATE EXTENSION pg_stat_statements" in report.detail
    assert report.slow_queries == ()


def test_postgres_engine_is_read_only_and_bounded(postgres_url: str) -> None:
    engine = database_engine(postgres_url, timeout_s=1.0)
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.execute(sa.text("CREATE TABLE br_should_not_exist (x int)"))
        start = time.monotonic()
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as info:
            conn.execute(sa.text("SELECT pg_sleep(5)"))
        assert time.monotonic() - start < 3
        assert isinstance(database_error(info.value, postgres_url, 1.0), SourceTimeout)
    finally:
        engine.dispose()


def test_sqlite_size_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=wal")
    writer.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, note TEXT)")
    writer.executemany("INSERT INTO bookings (note) VALUES (?)", [("x" * 200,)] * 500)
    writer.commit()
    collector = DatabaseCollector("db", database_engine(f"sqlite:///{path}"),
                                  sqlite_file=path)
    try:
        report = collector.collect()
        wal_size = (tmp_path / "shop.sqlite3-wal").stat().st_size
    finally:
        collector.close()
        writer.close()
    got = values(report)
    assert got[metrics.DB_SIZE_BYTES] >= 100_000
    assert got[metrics.DB_WAL_BYTES] == wal_size > 0
    assert "journal wal" in report.detail


def test_missing_sqlite_file_is_unreachable_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.sqlite3"
    collector = DatabaseCollector("db", database_engine(f"sqlite:///{path}"))
    with pytest.raises(SourceUnreachable):
        collector.collect()
    collector.close()
    assert not path.exists()


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    from tests.support.databases import throwaway_mariadb

    url, drop = throwaway_mariadb()
    try:
        yield url
    finally:
        drop()


def test_mariadb_digests_full_scans_connections_and_slow_log(mariadb_database: str) -> None:
    workload = sa.create_engine(mariadb_database)
    with workload.connect() as conn:
        if not conn.execute(sa.text("SELECT @@performance_schema")).scalar_one():
            pytest.fail("MariaDB runs without performance_schema: .ci/run turns it on")
        slow_log = bool(conn.execute(sa.text("SELECT @@slow_query_log")).scalar_one())
        max_connections = int(conn.execute(sa.text("SELECT @@max_connections")).scalar_one())
        conn.execute(sa.text("CREATE TABLE bookings (id INT AUTO_INCREMENT PRIMARY KEY, "
                             "party INT)"))
        conn.execute(sa.text("INSERT INTO bookings (party) VALUES " +
                             ", ".join(f"({i % 20})" for i in range(5000))))
        conn.commit()
        for i in range(120):  # no index on party: every call reads the whole table
            conn.execute(sa.text("SELECT count(*) FROM bookings WHERE party = :p"),
                         {"p": i % 20})
    workload.dispose()
    collector = DatabaseCollector("db", database_engine(mariadb_database, timeout_s=5.0),
                                  url=mariadb_database)
    try:
        report = collector.collect()
    finally:
        collector.close()
    got = values(report)
    assert got[metrics.DB_MAX_CONNECTIONS] == max_connections
    assert got[metrics.DB_CONNECTIONS_TOTAL] >= 1
    assert 0.0 <= got[metrics.DB_BUFFER_HIT_RATE] <= 1.0
    # 120 full reads of 5,000 rows, and no row through an index
    assert got['table_seq_scans{table="bookings"}'] >= 120 * 5000
    assert got['table_idx_scans{table="bookings"}'] == 0
    ours = [q for q in report.slow_queries if "FROM `bookings` WHERE `party` =" in q.query]
    assert ours, [q.query for q in report.slow_queries]
    assert ours[0].calls == 120
    assert ours[0].total_ms == pytest.approx(ours[0].mean_ms * 120, rel=0.01)
    assert ("performance_schema", "on") in report.facts
    if slow_log:
        assert report.status is Status.OK and "slow query log on" in report.detail
    else:
        assert report.status is Status.WARN
        assert "SET GLOBAL slow_query_log = ON" in report.detail


def test_mariadb_without_performance_schema_says_how_to_turn_it_on(tmp_path: Path) -> None:
    from services.diagnostics.db_insights import collect_insights
    from tests.integration.local_servers import mariadb_server

    with mariadb_server(tmp_path, "--performance-schema=OFF") as url:
        collector = DatabaseCollector("db", database_engine(url, timeout_s=5.0), url=url)
        try:
            report = collector.collect()
        finally:
            collector.close()
        insights = collect_insights(url, name="shop", timeout_s=5.0)
    assert report.status is Status.WARN
    assert ("performance_schema", "off") in report.facts
    assert "add 'performance_schema = ON' under [mysqld] in the server's my.cnf" in report.detail
    assert "restart the server" in report.detail
    assert "SET GLOBAL slow_query_log = ON" in report.detail  # off by default too
    assert values(report)[metrics.DB_CONNECTIONS_TOTAL] >= 1
    assert not report.slow_queries
    assert any(n.startswith("Performance_schema is off") for n in insights.notes)
    assert insights.top_by_total == () and insights.table_scans == ()


def test_postgres_whole_table_reads_per_second_by_table(pg_engine: sa.Engine,
                                                        own_database: str) -> None:
    """pg_stat_user_tables' seq_scan between two collects, per table: what a dropped index
    makes rise."""
    workload = sa.create_engine(own_database, isolation_level="AUTOCOMMIT")
    with workload.connect() as conn:
        conn.execute(sa.text("CREATE TABLE bookings (id serial PRIMARY KEY, party int)"))
        conn.execute(sa.text("INSERT INTO bookings (party) SELECT g % 20 FROM "
                             "generate_series(1, 5000) g"))
        conn.execute(sa.text("ANALYZE bookings"))
    collector = DatabaseCollector("db", database_engine(own_database, timeout_s=5.0),
                                  url=own_database)
    try:
        first = values(collector.collect())
        assert 'full_scans_rate{table="public.bookings"}' not in first  # no before yet
        started = time.monotonic()
        with workload.connect() as conn:
            for i in range(40):  # no index on party: each reads the whole table
                conn.execute(sa.text("SELECT count(*) FROM bookings WHERE party = :p"),
                             {"p": i % 20})
        workload.dispose()  # a backend reports its counts at exit (else at most every 1 s)
        time.sleep(0.5)
        second = values(collector.collect())
        took = time.monotonic() - started
    finally:
        collector.close()
        workload.dispose()
    rate = second['full_scans_rate{table="public.bookings"}']
    assert rate == pytest.approx(40 / took, rel=0.5)  # 40 scans over the collects' interval
    assert rate >= 40 / (took + 1.0)


def test_mariadb_whole_table_reads_per_second(mariadb_database: str) -> None:
    """Select_scan between two collects (the server's joins that read a whole first table)."""
    workload = sa.create_engine(mariadb_database)
    with workload.connect() as conn:
        conn.execute(sa.text("CREATE TABLE bookings (id INT AUTO_INCREMENT PRIMARY KEY, "
                             "party INT)"))
        conn.execute(sa.text("INSERT INTO bookings (party) VALUES " +
                             ", ".join(f"({i % 20})" for i in range(2000))))
        conn.commit()
    collector = DatabaseCollector("db", database_engine(mariadb_database, timeout_s=5.0),
                                  url=mariadb_database)
    try:
        assert metrics.FULL_SCANS_RATE not in values(collector.collect())
        started = time.monotonic()
        with workload.connect() as conn:
            for i in range(200):
                conn.execute(sa.text("SELECT count(*) FROM bookings WHERE party = :p"),
                             {"p": i % 20})
        rate = values(collector.collect())[metrics.FULL_SCANS_RATE]
        took = time.monotonic() - started
    finally:
        collector.close()
        workload.dispose()
    # server-wide: ours, and whatever else the server is doing meanwhile
    assert rate >= 200 / took * 0.9
