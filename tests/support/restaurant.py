"""A restaurant's own schema, as its Django app would make it, on SQLite, PostgreSQL or MariaDB.

Not Backroom's schema: other table and column names, one-letter status codes, a timestamp as
the bookings' version, decimal prices, a menu table without any version (read-only), orders
with an integer version and their own order-line table. Test modules build fixtures with it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from console.profile import parse_profile
from console.shop_map import ShopMap
from tests.support.databases import throwaway_mariadb, throwaway_postgres

MAP_TOML = """
name = "Trattoria"
[database]
url = "{url}"

[database.map.bookings]
table = "reservations_reservation"
version = "updated_at"
[database.map.bookings.columns]
id = "id"
start_at = "time"
guest_name = "name"
party_size = "covers"
phone = "phone"
table = "table_no"
notes = "notes"
status = "state"
[database.map.bookings.status_values]
confirmed = "C"
seated = "S"
cancelled = "X"
no_show = "N"

[database.map.products]
table = "menu_item"
[database.map.products.columns]
id = "id"
name = "title"
category = "course"
price = "price"
stock = "portions_left"

[database.map.orders]
table = "orders_order"
version = "revision"
[database.map.orders.columns]
id = "id"
placed_at = "created"
customer_name = "customer"
status = "state"
total = "total"
[database.map.orders.status_values]
pending = "new"
paid = "paid"
preparing = "cooking"
ready = "ready"
completed = "done"
cancelled = "void"
refunded = "refunded"

[database.map.order_lines]
table = "orders_line"
[database.map.order_lines.columns]
id = "id"
order_id = "order_id"
product_id = "item_id"
quantity = "qty"
unit_price = "price"
"""

NAMES = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Édith Piaf", "Linus Pauling",
         "Marie Curie", "Nina Simone", "Zoë Quinn")
STATES = ("C", "C", "C", "S", "X", "N")


def restaurant_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The shop's own tables, declared as its app declares them (Django's naming)."""
    text = sa.String(200)
    return {
        "reservations_reservation": sa.Table(
            "reservations_reservation", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("time", sa.DateTime, nullable=False, index=True),
            sa.Column("name", text, nullable=False),
            sa.Column("covers", sa.SmallInteger, nullable=False),
            sa.Column("phone", sa.String(32), nullable=False, server_default=""),
            sa.Column("table_no", sa.Integer),
            sa.Column("notes", sa.Text),
            sa.Column("state", sa.String(1), nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False)),
        "menu_item": sa.Table(
            "menu_item", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("title", text, nullable=False),
            sa.Column("course", sa.String(40)),
            sa.Column("price", sa.Numeric(8, 2), nullable=False),
            sa.Column("portions_left", sa.Integer, nullable=False)),
        "orders_order": sa.Table(
            "orders_order", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("created", sa.DateTime, nullable=False),
            sa.Column("customer", text),
            sa.Column("state", sa.String(12), nullable=False),
            sa.Column("total", sa.Numeric(10, 2), nullable=False),
            sa.Column("revision", sa.Integer, nullable=False)),
        "orders_line": sa.Table(
            "orders_line", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("order_id", sa.Integer, sa.ForeignKey("orders_order.id"), nullable=False),
            sa.Column("item_id", sa.Integer, sa.ForeignKey("menu_item.id"), nullable=False),
            sa.Column("qty", sa.Integer, nullable=False),
            sa.Column("price", sa.Numeric(8, 2), nullable=False)),
    }


@dataclass
class Restaurant:
    """One throwaway restaurant database and the profile map of it."""

    url: str
    shop_map: ShopMap
    drop: Callable[[], None]
    day: datetime
    """Midnight UTC of the day the bookings are on."""


def fill(url: str, bookings: int = 60) -> datetime:
    """Make the tables and believable rows; returns the bookings' day (midnight UTC)."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    t = restaurant_tables(metadata)
    day = (datetime.now(UTC) + timedelta(days=30)).replace(hour=0, minute=0, second=0,
                                                           microsecond=0, tzinfo=None)
    stamp = datetime(2026, 1, 5, 9, 30)
    with engine.begin() as conn:
        metadata.create_all(conn)
        if bookings:
            conn.execute(t["reservations_reservation"].insert(), [
                {"id": i + 1, "time": day + timedelta(hours=11 + i % 11, minutes=15 * (i % 4)),
                 "name": f"{NAMES[i % len(NAMES)]} {i:03d}", "covers": 1 + i % 6,
                 "phone": f"+39 055 {1000 + i}", "table_no": 1 + i % 12,
                 "notes": "window" if i % 5 == 0 else None, "state": STATES[i % len(STATES)],
                 "updated_at": stamp} for i in range(bookings)])
        conn.execute(t["menu_item"].insert(), [
            {"id": i + 1, "title": title, "course": course, "price": Decimal(price),
             "portions_left": left}
            for i, (title, course, price, left) in enumerate([
                ("Ribollita", "primi", "9.50", 12), ("Pappardelle al ragù", "primi", "14.00", 3),
                ("Bistecca", "secondi", "48.00", 2), ("Tiramisù", "dolci", "7.25", 20)])])
        conn.execute(t["orders_order"].insert(), [
            {"id": 1, "created": day - timedelta(days=1, hours=-19), "customer": "Ada Lovelace",
             "state": "new", "total": Decimal("33.00"), "revision": 1},
            {"id": 2, "created": day - timedelta(days=1, hours=-20), "customer": "Alan Turing",
             "state": "done", "total": Decimal("48.00"), "revision": 4}])
        conn.execute(t["orders_line"].insert(), [
            {"id": 1, "order_id": 1, "item_id": 1, "qty": 2, "price": Decimal("9.50")},
            {"id": 2, "order_id": 1, "item_id": 4, "qty": 2, "price": Decimal("7.00")},
            {"id": 3, "order_id": 2, "item_id": 3, "qty": 1, "price": Decimal("48.00")}])
        if conn.dialect.name == "postgresql":
            for table in t:
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
    engine.dispose()
    return day.replace(tzinfo=UTC)


def shop_map_for(url: str) -> ShopMap:
    profile = parse_profile(tomllib.loads(MAP_TOML.format(url=url)))
    assert profile.database is not None and profile.database.map is not None
    return profile.database.map


def profile_text(url: str) -> str:
    return MAP_TOML.format(url=url)


def open_restaurant(kind: str, directory: Path) -> Restaurant:
    """A filled restaurant database on ``kind`` (sqlite, postgres or mariadb)."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / 'restaurant.sqlite3'}"
        return Restaurant(url, shop_map_for(url), lambda: None, fill(url))
    if kind == "postgres":
        url, drop = throwaway_postgres("br_resto")
    elif kind == "mariadb":
        url, drop = throwaway_mariadb("br_resto")
    else:
        raise ValueError(kind)
    return Restaurant(url, shop_map_for(url), drop, fill(url))
