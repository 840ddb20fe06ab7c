"""Schema by migrations (init_db), bulk seeding, the db CLI functions, PostgreSQL estimates."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from commands.db import db_init_main, db_seed_main
from console.shop import BackendUnavailable, BookingQuery, BookingStatus
from services.shop import make_repository, sql_paging
from services.shop.api import ApiShopRepository
from services.shop.db import SchemaError, head_revision, init_db, make_engine
from services.shop.seed import seed, table_counts
from services.shop.sql import SqlShopRepository
from tests import servers
from tests.support.databases import throwaway_postgres

SHOP_TABLES = {"customers", "bookings", "products", "orders", "order_items"}


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    url, drop = throwaway_postgres("br_mig_test")
    try:
        yield url
    finally:
        drop()


def tables_and_indexes(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url)
    try:
        insp = sa.inspect(engine)
        tables = set(insp.get_table_names())
        indexes = {i["name"] for t in SHOP_TABLES & tables for i in insp.get_indexes(t)
                   if i["name"]}
        return tables, indexes
    finally:
        engine.dispose()


def test_init_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    assert init_db(url) == head_revision()
    tables, indexes = tables_and_indexes(url)
    assert tables >= SHOP_TABLES and "alembic_version" in tables
    assert {"ix_bookings_start_at", "ix_bookings_customer_name"} <= indexes
    assert init_db(url) == head_revision()


def test_init_adopts_a_database_the_demo_shop_made(tmp_path: Path) -> None:
    from demo.db import Database

    path = tmp_path / "demo.sqlite3"
    db = Database(path)
    db.create_schema()
    db.dispose()
    url = f"sqlite:///{path}"
    assert init_db(url) == head_revision()
    repo = SqlShopRepository(make_engine(url))
    try:
        assert repo.count_bookings(BookingQuery()).value == 0
    finally:
        repo.close()


def test_half_a_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'half.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bookings (id INTEGER PRIMARY KEY)")
    engine.dispose()
    with pytest.raises(SchemaError, match="some shop tables"):
        init_db(url)
    err = io.StringIO()
    assert db_init_main(url, io.StringIO(), err) == 1
    assert "some shop tables" in err.getvalue()


def test_cli_init_and_seed_with_a_progress_bar(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    out, err = io.StringIO(), io.StringIO()
    assert db_init_main(url, out, err) == 0
    assert f"revision {head_revision()}" in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert db_seed_main(url, 2000, 30, 200, out, err) == 0
    assert "2,000 bookings" in out.getvalue() and "30 products" in out.getvalue()
    assert "100%" in err.getvalue() and "[" in err.getvalue()
    counts = table_counts(url)
    assert counts["bookings"] == 2000 and counts["products"] == 30 and counts["orders"] == 200
    assert counts["order_items"] >= 200


def test_cli_refuses_bad_input(tmp_path: Path) -> None:
    err = io.StringIO()
    assert db_init_main("not a url", io.StringIO(), err) == 3
    assert "not a database URL" in err.getvalue()
    assert db_seed_main(f"sqlite:///{tmp_path / 'x.db'}", -1, 0, 0, io.StringIO(),
                        io.StringIO()) == 3
    err = io.StringIO()
    assert db_init_main(f"postgresql+psycopg://nobody@127.0.0.1:{servers.free_port()}/x",
                        io.StringIO(), err) == 1
    assert "could not migrate" in err.getvalue()


def test_seed_twice_adds_rows_and_reads_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    seed(url, bookings=300, products=20, orders=50)
    seed(url, bookings=200, products=10, orders=0)
    counts = table_counts(url)
    assert counts["bookings"] == 500 and counts["products"] == 30
    repo = SqlShopRepository(make_engine(url))
    try:
        rows = repo.list_bookings(BookingQuery(), limit=200).rows
        assert rows and all(r.start_at.tzinfo is not None for r in rows)
        statuses = {r.status for r in rows}
        assert statuses  # parsed as BookingStatus members
    finally:
        repo.close()


def test_uninitialised_database_is_a_clear_error(tmp_path: Path) -> None:
    repo = SqlShopRepository(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        with pytest.raises(BackendUnavailable, match="db init"):
            repo.list_bookings(BookingQuery())
    finally:
        repo.close()


def test_factory_picks_an_adapter() -> None:
    assert make_repository() is None
    api = make_repository(base_url="http://127.0.0.1:1", token="t", db_url="sqlite://")
    assert isinstance(api, ApiShopRepository)
    sqlr = make_repository(base_url="http://127.0.0.1:1", db_url="sqlite://", prefer="sql")
    assert isinstance(sqlr, SqlShopRepository)
    assert isinstance(make_repository(db_url="sqlite://"), SqlShopRepository)
    for r in (api, sqlr):
        r.close()  # type: ignore[union-attr]


@pytest.mark.integration
def test_postgres_init_seed_and_estimated_counts(pg_database: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert init_db(pg_database) == head_revision()
    tables, indexes = tables_and_indexes(pg_database)
    assert tables >= SHOP_TABLES and "ix_bookings_start_at" in indexes
    out = io.StringIO()
    assert db_seed_main(pg_database, 3000, 40, 300, out, io.StringIO()) == 0
    repo = SqlShopRepository(make_engine(pg_database))
    try:
        exact = repo.count_bookings(BookingQuery())
        assert exact == type(exact)(3000, exact=True)
        # Above the threshold the planner's estimate is used: no COUNT(*) of the whole set.
        monkeypatch.setattr(sql_paging, "EXACT_COUNT_BELOW", 100)
        estimate = repo.count_bookings(BookingQuery())
        assert not estimate.exact and 1500 <= estimate.value <= 6000
        some = repo.count_bookings(BookingQuery(statuses=frozenset(BookingStatus),
                                                search="a"))
        assert not some.exact and some.value > 100
        assert repo.count_bookings(BookingQuery(), exact=True).value == 3000
        # New rows page in with ids from the sequence (seeding reset it).
        cursor = repo.seek_bookings(BookingQuery(), 2500)
        assert len(repo.list_bookings(BookingQuery(), after=cursor, limit=200).rows) == 200
    finally:
        repo.close()
    assert init_db(pg_database) == head_revision()


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    """A fresh, empty MariaDB database, dropped afterwards."""
    from tests.support.databases import throwaway_mariadb

    url, drop = throwaway_mariadb()
    try:
        yield url
    finally:
        drop()


@pytest.mark.integration
def test_mariadb_init_seed_through_the_cli_and_estimated_counts(
        mariadb_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The URL a support person types, without a driver: PyMySQL is the one installed.
    plain = mariadb_database.replace("mysql+pymysql://", "mysql://")
    out, err = io.StringIO(), io.StringIO()
    assert db_init_main(plain, out, err) == 0, err.getvalue()
    assert f"is at revision {head_revision()}" in out.getvalue()
    tables, indexes = tables_and_indexes(mariadb_database)
    assert tables >= SHOP_TABLES | {"alembic_version"}
    assert {"ix_bookings_start_at", "ix_bookings_customer_name", "ix_products_name",
            "ix_orders_placed_at"} <= indexes
    err = io.StringIO()
    # 100,000 bookings is a "big" load (SQLite and PostgreSQL drop and rebuild the indexes).
    assert db_seed_main(plain, 100_000, 30, 200, io.StringIO(), err) == 0, err.getvalue()
    assert table_counts(mariadb_database)["bookings"] == 100_000
    assert init_db(mariadb_database) == head_revision()
    repo = SqlShopRepository(make_engine(plain))
    try:
        assert repo.count_bookings(BookingQuery(), exact=True).value == 100_000
        # The scroll bar's count is the planner's estimate: no COUNT(*) over every row.
        monkeypatch.setattr(sql_paging, "EXACT_COUNT_BELOW", 1000)
        statements: list[str] = []
        sa.event.listen(repo.engine, "before_cursor_execute",
                        lambda *a: statements.append(str(a[2]).lower()))
        estimate = repo.count_bookings(BookingQuery())
        assert not estimate.exact and 50_000 <= estimate.value <= 200_000
        assert not any("count(" in s for s in statements), statements
        some = repo.count_bookings(BookingQuery(statuses=frozenset(BookingStatus), search="a"))
        assert not some.exact and some.value > 1000
        cursor = repo.seek_bookings(BookingQuery(), 90_000)
        assert len(repo.list_bookings(BookingQuery(), after=cursor, limit=200).rows) == 200
    finally:
        repo.close()
