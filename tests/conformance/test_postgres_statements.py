"""Slow statements of a real PostgreSQL: the app's work, not the console's nor maintenance."""

from __future__ import annotations

import psycopg

from services.collectors.database import DatabaseCollector, database_engine
from services.diagnostics.db_insights import make_engine, pg_top_statements, read_only

MAINTENANCE = ("COPY", "CREATE INDEX", "VACUUM")


def _app_work(database: str) -> None:
    """What a shop's app and its nightly jobs do: load, index, vacuum, then query."""
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={database} connect_timeout=5"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS conform_dishes")
        conn.execute("CREATE TABLE conform_dishes (id int, name text, price int)")
        with conn.cursor().copy("COPY conform_dishes FROM STDIN") as copy:
            for n in range(5000):
                copy.write_row((n, f"dish {n}", n % 40))
        conn.execute("CREATE INDEX conform_dishes_price ON conform_dishes (price)")
        conn.execute("VACUUM ANALYZE conform_dishes")
        for price in range(5):
            conn.execute("SELECT count(*) FROM conform_dishes WHERE name LIKE %s",
                         (f"%{price}%",)).fetchone()


def _statements(report_queries: tuple) -> list[str]:
    return [q.query for q in report_queries]


def test_slow_queries_are_the_apps_own_work(shop_database: str) -> None:
    _app_work(shop_database)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{shop_database}"
    engine = database_engine(url, timeout_s=5)
    try:
        collector = DatabaseCollector("db", engine, url=url, timeout_s=5)
        collector.collect()
        listed = _statements(collector.collect().slow_queries)
        everything = _statements(DatabaseCollector("db", engine, url=url, timeout_s=5,
                                                   include_maintenance=True)
                                 .collect().slow_queries)
    finally:
        engine.dispose()
    assert any("FROM conform_dishes WHERE name LIKE" in q for q in listed)
    assert not [q for q in listed if q.upper().startswith(MAINTENANCE)]
    # The console's own statistics queries (pg_stat_activity, pg_settings, ...) stay out.
    assert not [q for q in listed if "pg_stat_user_tables" in q or "pg_settings" in q]
    assert any(q.startswith("COPY conform_dishes") for q in everything)
    insights = make_engine(url, timeout_s=5)
    try:
        with read_only(insights, 5) as conn:
            top = _statements(pg_top_statements(conn, limit=100))
    finally:
        insights.dispose()
    assert any("FROM conform_dishes WHERE name LIKE" in q for q in top)
    assert not [q for q in top if q.upper().startswith(MAINTENANCE)
                or "pg_stat_user_tables" in q or "pg_settings" in q]
