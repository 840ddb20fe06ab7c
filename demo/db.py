"""The demo shop's SQLite database: schema, engine with WAL and write locking, index switch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection

BOOKING_STATUSES = ("confirmed", "seated", "cancelled", "no_show")
ORDER_STATUSES = ("pending", "paid", "preparing", "ready", "completed", "cancelled", "refunded")
BOOKING_TIME_INDEX = "ix_bookings_start_at"

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("phone", Text),
    Column("email", Text),
    Column("created_at", DateTime),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True),
    Column("customer_name", Text, nullable=False),
    Column("phone", Text),
    Column("party_size", Integer, nullable=False),
    Column("start_at", DateTime, nullable=False),
    Column("table_no", Integer, nullable=True),
    Column("status", Text, nullable=False),
    Column("notes", Text, nullable=False, server_default=text("''"), default=""),
    Column("version", Integer, nullable=False, server_default=text("1"), default=1),
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    CheckConstraint(
        "status IN ('confirmed', 'seated', 'cancelled', 'no_show')", name="ck_bookings_status"
    ),
    Index(BOOKING_TIME_INDEX, "start_at"),
    Index("ix_bookings_customer_name", "customer_name"),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(40), unique=True),
    Column("name", Text),
    Column("category", Text),
    Column("price_cents", Integer),
    Column("stock", Integer),
    Column("low_stock_threshold", Integer, server_default=text("5"), default=5),
    Column("active", Boolean),
    Column("version", Integer, server_default=text("1"), default=1),
    Column("updated_at", DateTime),
    Index("ix_products_category", "category"),
    Index("ix_products_name", "name"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, nullable=True),
    Column("customer_name", Text),
    Column("placed_at", DateTime),
    Column("status", Text),
    Column("total_cents", Integer),
    Column("version", Integer, server_default=text("1"), default=1),
    Column("updated_at", DateTime),
    CheckConstraint(
        "status IN ('pending', 'paid', 'preparing', 'ready', 'completed', 'cancelled', "
        "'refunded')",
        name="ck_orders_status",
    ),
    Index("ix_orders_placed_at", "placed_at"),
    Index("ix_orders_status", "status"),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id")),
    Column("product_id", Integer, ForeignKey("products.id")),
    Column("quantity", Integer),
    Column("unit_price_cents", Integer),
    Index("ix_order_items_order_id", "order_id"),
    Index("ix_order_items_product_id", "product_id"),
)

# The room: the tables a booking's table_no names, and the floor's hours, slots and limit.
dining_tables = Table(
    "dining_tables",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("area", Text, nullable=False, server_default=text("''"), default=""),
    CheckConstraint("seats > 0", name="ck_dining_tables_seats"),
)

floor_settings = Table(
    "floor_settings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("opens_at", String(5), nullable=False),
    Column("closes_at", String(5), nullable=False),
    Column("slot_minutes", Integer, nullable=False),
    Column("covers_per_slot", Integer, nullable=True),
    Column("turn_minutes", Integer, nullable=False),
    Column("large_party_turn_minutes", Integer, nullable=False),
)

# Who changed what: a row per changed field, as Backroom's schema keeps it (0004_change_log).
change_log = Table(
    "change_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entity", String(20), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("version", Integer, nullable=True),
    Column("field", String(40), nullable=False),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Column("changed_by", Text, nullable=False, server_default=text("''"), default=""),
    Column("changed_at", DateTime, nullable=False),
    CheckConstraint("entity IN ('bookings', 'orders', 'products')",
                    name="ck_change_log_entity"),
    Index("ix_change_log_record", "entity", "record_id", "id"),
)

# The waitlist: parties waiting for a table; a row stays once seated or taken off.
waitlist = Table(
    "waitlist",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("phone", Text),
    Column("covers", Integer, nullable=False),
    Column("quoted_minutes", Integer, nullable=False),
    Column("added_at", DateTime, nullable=False),
    Column("state", String(10), nullable=False, server_default=text("'waiting'")),
    Column("seated_at", DateTime),
    Column("removed_at", DateTime),
    Column("booking_id", Integer, ForeignKey("bookings.id"), nullable=True),
    CheckConstraint("state IN ('waiting', 'seated', 'removed')", name="ck_waitlist_state"),
    CheckConstraint("covers > 0", name="ck_waitlist_covers"),
    Index("ix_waitlist_state_added_at", "state", "added_at"),
)

# Tables the demo adds for its own work (the console never needs them).
messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("booking_id", Integer, nullable=True),
    Column("order_id", Integer, nullable=True),
    Column("recipient", Text),
    Column("subject", Text),
    Column("body", Text),
    Column("signature", Text),
    Column("created_at", DateTime),
)

stock_counts = Table(
    "stock_counts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Integer, nullable=False),
    Column("counted_at", DateTime),
    Column("stock", Integer),
    Column("sold_7d", Integer),
    Column("days_of_cover", Integer, nullable=True),
    Index("ix_stock_counts_product_id", "product_id"),
)

demo_meta = Table(
    "demo_meta",
    metadata,
    Column("key", String(60), primary_key=True),
    Column("value", Text),
)


def utcnow() -> datetime:
    """Now as a naive UTC datetime (how the schema stores times)."""
    return datetime.now(UTC).replace(tzinfo=None)


def make_engine(path: Path) -> Engine:
    """An engine on the SQLite file at ``path``: WAL, foreign keys, busy timeout.

    Transactions begin with a plain ``BEGIN``; a connection opened with the execution option
    ``write=True`` begins ``BEGIN IMMEDIATE`` so read-check-write sequences (version checks)
    are atomic and writers queue on the busy timeout instead of failing with "locked".
    """
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 15.0},
        pool_size=12,
        max_overflow=24,
        pool_timeout=15.0,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own is deferred-only).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()
        dbapi_conn.create_function("br_fold", 1, _fold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def _discard_on_error(conn: Connection) -> Iterator[None]:
    """After an error, close the connection instead of pooling it. A statement left half
    read by the error (its result still held by the traceback) keeps SQLite's read snapshot
    open past ROLLBACK, and the next request served on that connection would read data as
    it was before later commits: a booking saved a moment ago would look unsaved."""
    try:
        yield
    except BaseException:
        conn.invalidate()
        raise


def _fold(value: object) -> str | None:
    """Case-fold for search (SQLite's own LIKE folds ASCII letters only)."""
    if value is None:
        return None
    return str(value).casefold()


class Database:
    """The engine plus the two kinds of transaction the shop uses."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine = make_engine(path)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (one consistent snapshot under WAL)."""
        with self.engine.connect() as conn, _discard_on_error(conn), conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction holding SQLite's write lock from the start; commits on success."""
        with self.engine.connect() as conn, _discard_on_error(conn):
            conn.execution_options(write=True)
            with conn.begin():
                yield conn

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def ping(self) -> float:
        """Seconds one ``SELECT 1`` round trip takes; raises when the database is unusable."""
        start = time.perf_counter()
        with self.engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM demo_meta")).scalar()
            conn.rollback()
        return time.perf_counter() - start

    def has_booking_time_index(self) -> bool:
        with self.read() as conn:
            row = conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :n"),
                {"n": BOOKING_TIME_INDEX},
            ).first()
        return row is not None

    def set_booking_time_index(self, on: bool) -> bool:
        """Really create or drop ``ix_bookings_start_at``; True when something changed."""
        had = self.has_booking_time_index()
        if had == on:
            return False
        with self.write() as conn:
            if on:
                conn.exec_driver_sql(
                    f"CREATE INDEX IF NOT EXISTS {BOOKING_TIME_INDEX} ON bookings (start_at)"
                )
            else:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {BOOKING_TIME_INDEX}")
        return True

    def get_meta(self, key: str) -> str | None:
        with self.read() as conn:
            row = conn.execute(
                demo_meta.select().where(demo_meta.c.key == key)
            ).first()
        return None if row is None else str(row.value)

    def dispose(self) -> None:
        self.engine.dispose()
