"""Sequential-scan findings on a real PostgreSQL count the rows a table holds now: a table
emptied by a purge is no index candidate, however much its scans once read."""

from __future__ import annotations

import time

import psycopg

from console.advisor import Thresholds, seq_scan_findings
from console.measurements import measurements_from_readings
from services.collectors.database import DatabaseCollector, database_engine
from services.diagnostics.db_insights import collect_insights
from services.diagnostics.insights_model import MIN_CANDIDATE_ROWS
from tests.conformance.compare import record

#: Rows the purged table held, and kept after the purge (one in a thousand, on every page).
PURGED_ROWS, KEPT_EVERY = 40_000, 1_000
BUSY_ROWS = 20_000
#: Sequential scans of each table: past the advisor's 100 on both, so only rows decide.
SCANS = 120


def _dsn(database: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={database} connect_timeout=5"


def _shop_history(database: str) -> None:
    """An order-lines table the app reads whole on every request, and an audit table that
    was read whole while it was big, then purged to a few rows and vacuumed."""
    with psycopg.connect(_dsn(database), autocommit=True) as conn:
        for table, rows in (("conform_purged", PURGED_ROWS), ("conform_lines", BUSY_ROWS)):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (id int, note text)")
            conn.execute(f"INSERT INTO {table} SELECT g, 'line ' || g "
                         f"FROM generate_series(1, {rows}) g")
        for _ in range(SCANS // 2):
            conn.execute("SELECT count(*) FROM conform_purged WHERE note = 'x'").fetchone()
        conn.execute(f"DELETE FROM conform_purged WHERE id % {KEPT_EVERY} <> 0")
        if conn.info.server_version >= 150000:
            # The insert's and delete's counts reach the statistics before VACUUM's own live
            # count does (else they are added to it once more when this session sends them).
            conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("VACUUM ANALYZE conform_purged")
        conn.execute("ANALYZE conform_lines")
        for _ in range(SCANS // 2):
            conn.execute("SELECT count(*) FROM conform_purged WHERE note = 'x'").fetchone()
        for _ in range(SCANS):
            conn.execute("SELECT count(*) FROM conform_lines WHERE note = 'x'").fetchone()
    # The closed connection has sent its statistics; wait until they are visible.
    deadline = time.monotonic() + 15
    with psycopg.connect(_dsn(database), autocommit=True) as conn:
        while True:
            counts = dict(conn.execute(
                "SELECT relname, seq_scan FROM pg_stat_user_tables "
                "WHERE relname IN ('conform_purged', 'conform_lines')").fetchall())
            if min(counts.get("conform_purged", 0), counts.get("conform_lines", 0)) >= SCANS:
                return
            assert time.monotonic() < deadline, f"statistics not visible in 15 s: {counts}"
            time.sleep(0.5)


def test_index_candidates_are_tables_that_hold_many_rows_now(shop_database: str) -> None:
    _shop_history(shop_database)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{shop_database}"
    insights = collect_insights(url, timeout_s=10)
    engine = database_engine(url, timeout_s=10)
    try:
        readings = DatabaseCollector("db", engine, url=url, timeout_s=10).collect().readings
    finally:
        engine.dispose()
    findings = seq_scan_findings(measurements_from_readings(readings), Thresholds())
    with psycopg.connect(_dsn(shop_database), autocommit=True) as conn:
        (purged_now,) = conn.execute("SELECT count(*) FROM conform_purged").fetchone() or (0,)
        (inserted, read, pages) = conn.execute(
            "SELECT n_tup_ins, seq_tup_read, relpages FROM pg_stat_user_tables "
            "JOIN pg_class c ON c.oid = relid WHERE c.relname = 'conform_purged'"
        ).fetchone() or (0, 0, 0)
    scans = {t.table: t for t in insights.table_scans}
    purged, busy = scans["conform_purged"], scans["conform_lines"]  # public: unqualified
    # The trap is set: rows inserted, rows read by sequential scans and pages are all big.
    assert inserted == PURGED_ROWS and read >= PURGED_ROWS * SCANS // 2
    assert pages * 100 > PURGED_ROWS // 2  # VACUUM left the pages of the kept rows in place
    record("PostgreSQL 15 (pg_stat_user_tables)", "live rows of a purged table", purged.live_rows,
           purged_now, "count(*) after the readings")
    assert purged.live_rows == purged_now == PURGED_ROWS // KEPT_EVERY
    assert purged.seq_scan > SCANS and purged.idx_scan == 0
    assert not purged.index_candidate
    record("PostgreSQL 15 (pg_stat_user_tables)", "live rows of a table read whole",
           busy.live_rows, BUSY_ROWS, "rows inserted, none deleted")
    assert busy.live_rows == BUSY_ROWS >= MIN_CANDIDATE_ROWS
    assert busy.index_candidate
    assert "conform_lines" in {t.table for t in insights.index_candidates}
    assert "conform_purged" not in {t.table for t in insights.index_candidates}
    # The advisor's finding, from the database source's readings, says the same.
    titles = [finding.title for finding in findings]
    assert "Table public.conform_lines is read by sequential scans" in titles
    assert not [title for title in titles if "conform_purged" in title]
