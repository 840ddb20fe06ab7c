"""A restaurant's own tables through the profile's map, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from commands.db import db_check_main
from console.changes import Entity
from console.profile import parse_profile
from console.shop import (
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    Conflict,
    OrderQuery,
    OrderStatus,
    ProductDraft,
    ProductQuery,
    ProductSort,
    Unsupported,
    ValidationFailed,
)
from services.shop import make_repository
from services.shop.db import make_engine
from services.shop.mapped import MappedShopRepository
from tests.support.restaurant import Restaurant, open_restaurant, profile_text

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.integration),
         pytest.param("mariadb", marks=pytest.mark.integration)]


@pytest.fixture(params=KINDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Restaurant]:
    made = open_restaurant(request.param, tmp_path)
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture
def repo(shop: Restaurant) -> Iterator[MappedShopRepository]:
    r = make_repository(db_url=shop.url, db_map=shop.shop_map)
    assert isinstance(r, MappedShopRepository)
    yield r
    r.close()


def raw(shop: Restaurant, sql: str, **params: object) -> list[sa.Row]:  # type: ignore[type-arg]
    engine = make_engine(shop.url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())
    finally:
        engine.dispose()


def walk(list_page, query, limit: int = 7) -> list:  # type: ignore[no-untyped-def]
    rows, cursor = [], None
    while True:
        page = list_page(query, after=cursor, limit=limit)
        rows += page.rows
        cursor = page.next_cursor
        if cursor is None:
            return rows


def day_query(shop: Restaurant, **kw: object) -> BookingQuery:
    return BookingQuery(start_from=shop.day, start_to=shop.day + timedelta(days=1),
                        **kw)  # type: ignore[arg-type]


def test_bookings_page_over_the_shop_s_own_columns(shop: Restaurant,
                                                   repo: MappedShopRepository) -> None:
    rows = walk(repo.list_bookings, day_query(shop), limit=7)
    assert len(rows) == 60 == repo.count_bookings(day_query(shop)).value
    assert [(r.start_at, r.id) for r in rows] == sorted((r.start_at, r.id) for r in rows)
    first = repo.get_booking(1)
    assert (first.customer_name, first.party_size, first.phone, first.table_no,
            first.notes) == ("Ada Lovelace 000", 1, "+39 055 1000", 1, "window")
    assert first.start_at == shop.day + timedelta(hours=11)
    by_name = walk(repo.list_bookings, day_query(shop, sort=BookingSort.CUSTOMER_NAME,
                                                 descending=True), limit=9)
    assert [r.customer_name for r in by_name] == sorted((r.customer_name for r in rows),
                                                        reverse=True)
    cursor = repo.seek_bookings(day_query(shop), 40)
    assert [r.id for r in repo.list_bookings(day_query(shop), after=cursor, limit=5).rows] == \
        [r.id for r in rows[40:45]]


def test_the_shops_own_tables_keep_no_history_and_say_so(repo: MappedShopRepository) -> None:
    with pytest.raises(Unsupported, match="no history"):
        repo.history(Entity.BOOKINGS, 1)


def test_status_codes_filters_and_search_use_the_map(shop: Restaurant,
                                                     repo: MappedShopRepository) -> None:
    seated = walk(repo.list_bookings, day_query(shop, statuses=frozenset({BookingStatus.SEATED})))
    codes = {r.id: r.state for r in raw(shop, "SELECT id, state FROM reservations_reservation")}
    assert seated and {codes[b.id] for b in seated} == {"S"}
    assert {b.status for b in seated} == {BookingStatus.SEATED}
    assert len(seated) == sum(1 for c in codes.values() if c == "S")
    no_show = repo.count_bookings(day_query(shop, statuses=frozenset({BookingStatus.NO_SHOW})))
    assert no_show.value == sum(1 for c in codes.values() if c == "N")
    found = repo.list_bookings(day_query(shop, search="édith")).rows
    assert found and all(r.customer_name.startswith("Édith Piaf") for r in found)
    assert [r.id for r in repo.list_bookings(day_query(shop, search="055 1007")).rows] == [8]


def test_two_clients_editing_one_booking_lose_no_write(shop: Restaurant,
                                                       repo: MappedShopRepository) -> None:
    other = make_repository(db_url=shop.url, db_map=shop.shop_map)
    assert other is not None
    try:
        mine, theirs = repo.get_booking(3), other.get_booking(3)
        assert mine.version == theirs.version
        saved = other.update_booking(3, theirs.version, BookingDraft(
            customer_name="Alan Turing", party_size=5, start_at=theirs.start_at,
            phone="+39 055 9999", table_no=7, notes="birthday"))
        assert saved.version != mine.version
        # At once, in the same second: a DATETIME without fractions must still move on.
        with pytest.raises(Conflict) as info:
            repo.update_booking(3, mine.version, BookingDraft(
                customer_name="Alan T.", party_size=2, start_at=mine.start_at))
        assert info.value.theirs.party_size == 5 and info.value.theirs.notes == "birthday"
        row = raw(shop, "SELECT name, covers, notes, table_no FROM reservations_reservation "
                        "WHERE id = 3")[0]
        assert tuple(row) == ("Alan Turing", 5, "birthday", 7)
        # Saving over what the conflict showed works, and a status change is one more CAS.
        again = repo.update_booking(3, info.value.theirs.version, BookingDraft(
            customer_name="Alan T.", party_size=5, start_at=mine.start_at, table_no=7))
        with pytest.raises(Conflict):
            other.set_booking_status(3, saved.version, BookingStatus.SEATED)
        seated = other.set_booking_status(3, again.version, BookingStatus.SEATED)
        assert seated.status is BookingStatus.SEATED
        assert raw(shop, "SELECT state FROM reservations_reservation WHERE id = 3")[0][0] == "S"
    finally:
        other.close()


def test_a_new_booking_lands_in_the_shop_s_table(shop: Restaurant,
                                                 repo: MappedShopRepository) -> None:
    made = repo.create_booking(BookingDraft(customer_name="Grace Hopper", party_size=4,
                                            start_at=shop.day + timedelta(hours=20),
                                            phone="+39 055 4242"))
    row = raw(shop, "SELECT name, covers, phone, state FROM reservations_reservation "
                    "WHERE id = :id", id=made.id)[0]
    assert tuple(row) == ("Grace Hopper", 4, "+39 055 4242", "C")
    assert made.status is BookingStatus.CONFIRMED and made.version > 0


def test_a_table_without_a_version_column_is_read_only(shop: Restaurant,
                                                       repo: MappedShopRepository) -> None:
    products = walk(repo.list_products, ProductQuery(sort=ProductSort.PRICE), limit=2)
    assert [(p.name, p.price_cents) for p in products] == [
        ("Tiramisù", 725), ("Ribollita", 950), ("Pappardelle al ragù", 1400), ("Bistecca", 4800)]
    low = repo.list_products(ProductQuery(low_stock_only=True)).rows
    assert {p.name for p in low} == {"Pappardelle al ragù", "Bistecca"}
    assert repo.product_categories() == ("dolci", "primi", "secondi")
    reason = repo.read_only_reason("products")
    assert reason is not None and "menu_item has no version column" in reason
    assert repo.read_only_reason("bookings") is None
    p = products[0]
    with pytest.raises(ValidationFailed) as info:
        repo.update_product(p.id, p.version, ProductDraft(name="x", category="dolci",
                                                          price_cents=100, stock=1))
    assert "no version column" in info.value.errors["version"]
    with pytest.raises(ValidationFailed):
        repo.restock_product(p.id, 5)
    assert raw(shop, "SELECT portions_left FROM menu_item WHERE id = :id", id=p.id)[0][0] == 20


def test_orders_with_lines_and_an_integer_version(shop: Restaurant,
                                                  repo: MappedShopRepository) -> None:
    orders = repo.list_orders(OrderQuery()).rows
    assert [(o.id, o.customer_name, o.total_cents, o.item_count, o.status) for o in orders] == [
        (2, "Alan Turing", 4800, 1, OrderStatus.COMPLETED),
        (1, "Ada Lovelace", 3300, 4, OrderStatus.PENDING)]
    detail = repo.get_order(1)
    assert [(i.product_name, i.quantity, i.unit_price_cents) for i in detail.items] == [
        ("Ribollita", 2, 950), ("Tiramisù", 2, 700)]
    paid = repo.set_order_status(1, detail.order.version, OrderStatus.PAID)
    assert paid.order.status is OrderStatus.PAID and paid.order.version == 2
    with pytest.raises(Conflict):
        repo.set_order_status(1, 1, OrderStatus.CANCELLED)
    assert tuple(raw(shop, "SELECT state, revision FROM orders_order WHERE id = 1")[0]) == \
        ("paid", 2)


def test_db_check_says_what_fits_and_suggests_indexes(shop: Restaurant, tmp_path: Path) -> None:
    import tomllib

    profile = parse_profile(tomllib.loads(profile_text(shop.url)))
    out, err = io.StringIO(), io.StringIO()
    assert db_check_main(profile, out, err) == 0, err.getvalue() + out.getvalue()
    text = out.getvalue()
    assert "ok       bookings: reservations_reservation, 60 rows, read and write" in text
    assert "products: menu_item, 4 rows, read-only (no version column)" in text
    # The bookings' time column has an index; the orders' created column has none.
    assert "no index starts with reservations_reservation" not in text
    assert "orders: no index starts with orders_order.created" in text
    assert "CREATE INDEX" in text and "the map fits" in text
    indexes = sa.inspect(make_engine(shop.url)).get_indexes("orders_order")
    assert indexes == []  # suggested, never created

    engine = make_engine(shop.url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO reservations_reservation (id, time, name, covers, "
                             "phone, state, updated_at) VALUES (900, :t, 'Walk-in', 2, '', "
                             "'W', :t)"), {"t": shop.day.replace(tzinfo=None)})
    engine.dispose()
    broken = profile_text(shop.url).replace('party_size = "covers"', 'party_size = "guests"')
    broken = broken.replace('table = "orders_line"', 'table = "order_lines"')
    out, err = io.StringIO(), io.StringIO()
    assert db_check_main(parse_profile(tomllib.loads(broken)), out, err) == 1
    assert "missing  bookings.party_size: column reservations_reservation.guests not found" \
        in out.getvalue()
    assert "missing  order_lines: table order_lines not found" in out.getvalue()
    out = io.StringIO()
    assert db_check_main(profile, out, io.StringIO()) == 0
    assert "the code 'W' (1 rows) is not in status_values" in out.getvalue()


def test_today_counts_the_shop_s_own_rows(shop: Restaurant, repo: MappedShopRepository) -> None:
    from datetime import UTC

    rows = raw(shop, "SELECT covers, state, time FROM reservations_reservation")
    figures = repo.today(now=shop.day + timedelta(hours=12), tz=UTC)
    kept = [r for r in rows if r.state != "X"]
    assert figures.day == shop.day.date()
    assert figures.bookings == len(kept)
    assert figures.covers == sum(r.covers for r in kept if r.state != "N")
    assert sum(figures.bookings_per_hour) == len(kept)
    hours = [datetime.fromisoformat(str(r.time)).hour for r in kept]
    assert figures.bookings_per_hour[11] == hours.count(11) > 0
    assert figures.low_stock == 2  # Pappardelle (3 left) and Bistecca (2): at most 5
    yesterday = repo.today(now=shop.day - timedelta(hours=2), tz=UTC)
    assert yesterday.orders == 2 and yesterday.revenue_cents == 4800  # only "done" is revenue


def test_the_floor_reads_the_shop_s_own_table_of_tables(shop: Restaurant) -> None:
    """Without [database.map.tables] the floor has no tables; with it, the shop's rows."""
    plain = make_repository(db_url=shop.url, db_map=shop.shop_map)
    try:
        assert not plain.floor().has_tables
    finally:
        plain.close()
    engine = make_engine(shop.url)
    room = sa.Table("room_table", sa.MetaData(), sa.Column("num", sa.Integer, primary_key=True),
                    sa.Column("label", sa.String(20)), sa.Column("covers", sa.Integer),
                    sa.Column("zone", sa.String(40)))
    try:
        room.create(engine)
        with engine.begin() as conn:
            conn.execute(room.insert(), [{"num": 2, "label": "Booth 2", "covers": 6,
                                          "zone": "Booths"},
                                         {"num": 1, "label": "Bar 1", "covers": 2,
                                          "zone": "Bar"}])
    finally:
        engine.dispose()
    text = profile_text(shop.url) + (
        '\n[database.map.tables]\ntable = "room_table"\n'
        'columns = { number = "num", name = "label", seats = "covers", area = "zone" }\n')
    import tomllib

    profile = parse_profile(tomllib.loads(text))
    assert profile.database is not None and profile.database.map is not None
    mapped = make_repository(db_url=shop.url, db_map=profile.database.map)
    try:
        plan = mapped.floor()
        assert [(t.number, t.name, t.seats, t.area) for t in plan.tables] == [
            (1, "Bar 1", 2, "Bar"), (2, "Booth 2", 6, "Booths")]
        assert plan.covers_per_slot is None  # the map says nothing of limits
    finally:
        mapped.close()
    out, err = io.StringIO(), io.StringIO()
    assert db_check_main(profile, out, err) == 0, err.getvalue()
    assert "tables: room_table, 2 rows, read (the Floor's tables)" in out.getvalue()
