"""services.diagnostics.db_insights on real PostgreSQL (pg_stat_statements) and SQLite."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from services.diagnostics.db_insights import (
    KNOWN_QUERY_NAMES,
    InsightsError,
    collect_insights,
    collect_profile_insights,
    make_engine,
    read_only,
)
from tests import servers

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_table(postgres_url: str) -> Iterator[str]:
    """A table of 12,000 rows read by sequential scans, with an index nobody uses."""
    name = f"br_insights_{secrets.token_hex(4)}"
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.exec_driver_sql(f"CREATE TABLE {name} (id serial PRIMARY KEY, guests int, "
                             "note text)")
        conn.exec_driver_sql(f"CREATE INDEX {name}_note_idx ON {name} (note)")
        conn.exec_driver_sql(f"INSERT INTO {name} (guests, note) SELECT mod(g, 12), 'n' || g "
                             "FROM generate_series(1, 12000) g")
    with engine.connect() as conn:
        for guests in range(6):
            conn.execute(text(f"SELECT count(*) FROM {name} WHERE guests = :g"), {"g": guests})
        conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        conn.commit()
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()


def _wait_for_stats(postgres_url: str, table: str) -> None:
    """Table statistics reach other sessions when the writer flushes them (~1 s at most)."""
    engine = create_engine(postgres_url)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = conn.execute(text("SELECT seq_scan, n_live_tup FROM pg_stat_user_tables "
                                        "WHERE relname = :t"), {"t": table}).first()
            if row is not None and row[0] >= 6 and row[1] >= 12000:
                return
            time.sleep(0.1)
    finally:
        engine.dispose()
    pytest.fail(f"statistics of {table} never arrived")


def test_postgres_views(postgres_url: str, pg_table: str) -> None:
    _wait_for_stats(postgres_url, pg_table)
    insights = collect_insights(postgres_url, name="shop db", timeout_s=5.0, limit=200)
    assert insights.dialect == "postgresql"
    assert insights.server_version.startswith("PostgreSQL ")
    assert insights.notes == ()

    ours = [q for q in insights.top_by_calls if pg_table in q.query and "guests" in q.query]
    assert ours, "the scanning statement is among the top statements by calls"
    assert ours[0].calls >= 6
    assert ours[0].rows == 6
    assert ours[0].total_ms >= ours[0].mean_ms > 0
    for ordering in ("total", "mean", "calls", "rows"):
        tops = insights.top(ordering)
        key = {"total": "total_ms", "mean": "mean_ms", "calls": "calls", "rows": "rows"}
        values = [getattr(q, key[ordering]) for q in tops]
        assert values == sorted(values, reverse=True)
        assert not any("pg_stat_statements" in q.query for q in tops)

    scans = {t.table: t for t in insights.table_scans}
    assert scans[pg_table].seq_scan >= 6
    assert scans[pg_table].live_rows == 12000
    assert pg_table in {t.table for t in insights.index_candidates}
    unused = {i.index for i in insights.unused_indexes}
    assert f"{pg_table}_note_idx" in unused
    assert f"{pg_table}_pkey" not in unused  # primary keys enforce something


def test_postgres_transactions_are_read_only_and_bounded(postgres_url: str) -> None:
    engine = make_engine(postgres_url, timeout_s=0.3)
    try:
        with pytest.raises(DBAPIError, match="read-only transaction"), \
                read_only(engine, 0.3) as conn:
            conn.exec_driver_sql(f"CREATE TABLE br_never_{secrets.token_hex(4)} (id int)")
        started = time.monotonic()
        with pytest.raises(DBAPIError, match="statement timeout"), \
                read_only(engine, 0.3) as conn:
            conn.exec_driver_sql("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 3
    finally:
        engine.dispose()


def test_postgres_without_the_extension_says_what_to_do(postgres_url: str) -> None:
    name = f"br_noext_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        insights = collect_insights(url, timeout_s=5.0)
        assert insights.top_by_total == ()
        assert any("CREATE EXTENSION pg_stat_statements" in n for n in insights.notes)
        # this server preloads the library (CI configures it so): no restart to advise
        with admin.connect() as conn:
            preloaded = conn.exec_driver_sql("SHOW shared_preload_libraries").scalar_one()
        assert "pg_stat_statements" in preloaded
        assert not any("restart PostgreSQL" in n for n in insights.notes), insights.notes
        assert any("no restart needed" in n for n in insights.notes)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def test_unreachable_database_hides_the_password() -> None:
    port = servers.free_port()
    canary = "Canary-Pw-7731"
    with pytest.raises(InsightsError) as err:
        collect_insights(f"postgresql+psycopg://shop@127.0.0.1:{port}/shop", name="shop db",
                         password=canary, timeout_s=2.0)
    assert str(err.value).startswith("shop db: ")
    assert canary not in str(err.value)


def test_sqlite_plans_flag_the_missing_booking_index(demo_shop: object) -> None:
    url = f"sqlite:///{demo_shop.db_path}"  # type: ignore[attr-defined]
    on = collect_insights(url, name="shop")
    assert on.server_version.startswith("SQLite ")
    assert [p.name for p in on.plans] == list(KNOWN_QUERY_NAMES)
    assert on.flagged_plans == ()
    by_time = on.plans[0]
    assert by_time.uses_index
    assert by_time.verdict == "SEARCH USING INDEX ix_bookings_start_at"

    demo_shop.set_scenario(booking_time_index=False)  # type: ignore[attr-defined]
    off = collect_insights(url, name="shop")
    assert [p.name for p in off.flagged_plans] == ["bookings by start time"]
    flagged = off.flagged_plans[0]
    assert flagged.verdict == "SCAN bookings"
    assert flagged.table_rows > 1000
    assert any(step.startswith("SCAN bookings") for step in flagged.steps)


def test_sqlite_is_opened_read_only_and_interrupted_past_the_timeout(demo_shop: object) -> None:
    url = f"sqlite:///{demo_shop.db_path}"  # type: ignore[attr-defined]
    engine = make_engine(url, timeout_s=0.2)
    try:
        with pytest.raises(OperationalError, match="readonly"), read_only(engine, 5) as conn:
            conn.exec_driver_sql("DELETE FROM bookings")
        started = time.monotonic()
        with pytest.raises(OperationalError, match="interrupt"), read_only(engine, 0.2) as conn:
            conn.exec_driver_sql("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                 "FROM n) SELECT count(*) FROM n").all()
        assert time.monotonic() - started < 3
    finally:
        engine.dispose()


def test_profile_insights_collect_every_database(demo_shop: object, postgres_url: str) -> None:
    from console.profile import DatabaseConfig, Profile, SecretRef, Source

    port = servers.free_port()
    profile = Profile(
        name="Two databases",
        database=DatabaseConfig(url=postgres_url),
        sources=(Source(name="shop sqlite", kind="database",
                        url=f"sqlite:///{demo_shop.db_path}"),  # type: ignore[attr-defined]
                 Source(name="gone", kind="database",
                        url=f"postgresql+psycopg://u@127.0.0.1:{port}/x", timeout_s=2.0,
                        password=SecretRef.literal("Canary-Pw-7731"))),
    )
    found, problems = collect_profile_insights(profile)
    assert [i.name for i in found] == ["database", "shop sqlite"]
    assert len(problems) == 1
    assert problems[0].startswith("gone: ")
    assert "Canary-Pw-7731" not in problems[0]


@pytest.fixture
def mariadb_table() -> Iterator[str]:
    """A MariaDB database with a table of 12,000 rows read without an index."""
    from tests.support.databases import throwaway_mariadb

    url, drop = throwaway_mariadb()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT @@performance_schema")).scalar_one():
                pytest.fail("MariaDB runs without performance_schema: .ci/run turns it on")
            conn.execute(text("CREATE TABLE visits (id INT AUTO_INCREMENT PRIMARY KEY, "
                              "guest INT, KEY ix_visits_unused (guest, id))"))
            conn.execute(text("CREATE TABLE tickets (id INT AUTO_INCREMENT PRIMARY KEY, "
                              "table_no INT)"))
            conn.execute(text("INSERT INTO tickets (table_no) VALUES " +
                              ", ".join(f"({i % 30})" for i in range(12_000))))
            conn.execute(text("ANALYZE TABLE tickets")).all()
            conn.commit()
            for i in range(40):
                conn.execute(text("SELECT count(*) FROM tickets WHERE table_no = :t"),
                             {"t": i % 30})
        yield url
    finally:
        engine.dispose()
        drop()


def test_mariadb_views_say_what_reads_without_an_index(mariadb_table: str) -> None:
    insights = collect_insights(mariadb_table, name="shop", timeout_s=5.0)
    assert insights.dialect == "mysql" and insights.server_version.startswith("MySQL 10.")
    ours = [q for q in insights.top_by_calls if "FROM `tickets` WHERE `table_no` =" in q.query]
    assert ours and ours[0].calls == 40
    scans = {t.table: t for t in insights.table_scans}
    assert scans["tickets"].seq_scan >= 40 * 12_000 and scans["tickets"].idx_scan == 0
    assert scans["tickets"].index_candidate  # 12,000 rows, none read through an index
    assert any(n.startswith("Read a table without any index 40 times: SELECT COUNT")
               for n in insights.notes), insights.notes
    slow_log = any("slow query log on" in n for n in insights.notes)
    assert slow_log or any("SET GLOBAL slow_query_log = ON" in n for n in insights.notes)


def test_mariadb_transactions_are_read_only(mariadb_table: str) -> None:
    engine = make_engine(mariadb_table, timeout_s=2.0)
    try:
        with pytest.raises(DBAPIError, match="READ ONLY"), read_only(engine, 2.0) as conn:
            conn.exec_driver_sql("INSERT INTO tickets (table_no) VALUES (1)")
    finally:
        engine.dispose()
