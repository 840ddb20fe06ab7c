"""Believable shop data in bulk: customers, bookings, products, orders (``backroom db seed``)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, func, select, text
from sqlalchemy.engine import URL

from services.shop.db import init_db, make_engine
from services.shop.schema import bookings, customers, order_items, orders, products
from services.shop.sql_floor import SEED_PLAN, has_room, write_floor

Progress = Callable[[int, int, str], None]
"""progress(done, total, what): rows written so far of all the rows asked for."""

CHUNK = 50_000

FIRST = ("Ana", "Tom", "Zoë", "José", "Mia", "Liam", "Noah", "Emma", "Olivia", "Lucas",
         "Amara", "Chen", "Fatima", "Giulia", "Hannah", "Ivan", "Jonas", "Kenji", "Léa",
         "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera",
         "Wei", "Ximena", "Yusuf", "Zara", "Łukasz", "Søren", "Aoife", "Björn", "Chloé")
LAST = ("Lima", "Berg", "Müller", "García", "Smith", "O'Brien", "Nguyen", "Kowalski",
        "Rossi", "Dubois", "Jensen", "Tanaka", "Okafor", "Silva", "Novak", "Patel", "Cohen",
        "Andersson", "Murphy", "Schmidt", "Ferreira", "Yılmaz", "Ivanova", "Kim", "Haddad",
        "Costa", "Fischer", "Moreau", "Eriksen", "Walsh")
CATEGORIES: tuple[tuple[str, str, tuple[str, ...], tuple[int, int]], ...] = (
    ("Starters", "STA", ("Soup of the day", "Bruschetta", "Burrata", "Calamari", "Hummus",
                         "Gazpacho", "Croquetas", "Ceviche"), (450, 1200)),
    ("Mains", "MAI", ("Risotto", "Steak frites", "Sea bass", "Gnocchi", "Lamb shank",
                      "Mushroom pie", "Paella", "Ramen"), (1200, 3200)),
    ("Desserts", "DES", ("Tiramisu", "Crème brûlée", "Cheesecake", "Affogato", "Pavlova",
                         "Churros"), (500, 1100)),
    ("Drinks", "BEV", ("Elderflower pressé", "Lemonade", "Iced tea", "Sparkling water",
                       "Cola", "Ginger beer"), (250, 550)),
    ("Wine", "WIN", ("Rioja", "Sancerre", "Prosecco", "Malbec", "Grüner Veltliner",
                     "Chianti"), (650, 4500)),
    ("Coffee", "COF", ("Espresso", "Flat white", "Cappuccino", "Chai latte"), (220, 480)),
    ("Bakery", "BAK", ("Sourdough loaf", "Croissant", "Focaccia", "Cinnamon bun"), (180, 650)),
    ("Deli", "DEL", ("Olive oil 500 ml", "Chorizo", "Manchego", "Pesto jar", "Anchovies"),
     (450, 2200)),
)
VARIANTS = ("", "classic", "house", "large", "small", "vegan", "spicy", "organic", "special")


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What a seed run wrote and how long it took."""

    customers: int
    bookings: int
    products: int
    orders: int
    order_items: int
    seconds: float


def _ts(dt: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format, so keyset comparisons on text agree."""
    return dt.isoformat(" ", "microseconds")


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Writer:
    """Bulk inserts of plain tuples: executemany in big chunks (SQLite) or COPY (PostgreSQL)."""

    def __init__(self, conn: Connection, total: int, progress: Progress | None) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.total = max(1, total)
        self.done = 0
        self.progress = progress

    def write(self, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]],
              what: str) -> int:
        written = 0
        time_cols = [i for i, c in enumerate(columns)
                     if type(table.c[c].type).__name__ == "DateTime"]
        if self.dialect == "postgresql":
            raw = self.conn.connection.driver_connection
            assert raw is not None
            cols = ", ".join(columns)
            with raw.cursor() as cur:
                for chunk in _chunks(rows, CHUNK):
                    with cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row)
                    written += len(chunk)
                    self._tick(len(chunk), what)
            return written
        # PyMySQL's executemany folds an INSERT ... VALUES into multi-row statements itself.
        mark = "%s" if self.dialect in ("mysql", "mariadb") else "?"
        marks = ", ".join(mark for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        for chunk in _chunks(rows, CHUNK):
            params = chunk
            if mark == "?" and time_cols and any(isinstance(chunk[0][i], datetime)
                                                 for i in time_cols):
                params = [_format_times(row, time_cols) for row in chunk]
            self.conn.exec_driver_sql(sql, params)  # type: ignore[arg-type]
            written += len(chunk)
            self._tick(len(chunk), what)
        return written

    def _tick(self, n: int, what: str) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total, what)


def _format_times(row: tuple[Any, ...], cols: list[int]) -> tuple[Any, ...]:
    out = list(row)
    for i in cols:
        if isinstance(out[i], datetime):
            out[i] = _ts(out[i])
    return tuple(out)


def _next_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def seed(url: str | URL, *, bookings: int = 0, products: int = 0, orders: int = 0,
         progress: Progress | None = None, random_seed: int = 7, now: datetime | None = None,
         password: str | None = None) -> SeedResult:
    """Add believable rows to the shop database at ``url`` (schema made or upgraded first).

    Bookings spread over past and coming days at opening hours, products over categories,
    orders with one to four lines each. 1,000,000 bookings take seconds on SQLite.
    """
    import time

    started = time.perf_counter()
    init_db(url, password=password)
    engine = make_engine(url, password=password, timeout=600.0)
    rng = random.Random(random_seed)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    n_customers = min(200_000, max(50, bookings // 10)) if bookings else 0
    try:
        with _seeding(engine) as conn:
            writer = _Writer(conn, n_customers + bookings + products + orders, progress)
            if bookings and not has_room(conn):
                write_floor(conn, SEED_PLAN)
            customer_names = _seed_customers(writer, rng, n_customers, now)
            _seed_bookings(writer, rng, bookings, customer_names, now)
            product_prices = _seed_products(writer, rng, products, now)
            if orders and not product_prices:
                product_prices = _existing_products(conn) or _seed_products(
                    writer, rng, 24, now)
            n_items = _seed_orders(writer, rng, orders, product_prices, now)
        _after_seeding(engine)
    finally:
        engine.dispose()
    return SeedResult(n_customers, bookings, products, orders, n_items,
                      time.perf_counter() - started)


class _seeding:  # noqa: N801 - used like a function, as a context manager
    """One transaction with bulk-load settings: SQLite's sync off and a big page cache."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Connection:
        self.conn = self.engine.connect().execution_options(write=True)
        self._pragmas("PRAGMA synchronous=OFF", "PRAGMA cache_size=-200000",
                      "PRAGMA temp_store=MEMORY")
        self.conn.begin()
        return self.conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self.conn.commit()
            else:
                self.conn.rollback()
            self._pragmas("PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-2000")
        finally:
            self.conn.close()

    def _pragmas(self, *statements: str) -> None:
        """On the raw connection, outside any transaction (where SQLite wants them)."""
        if self.conn.dialect.name != "sqlite":
            return
        raw = self.conn.connection.driver_connection
        assert raw is not None
        for statement in statements:
            raw.execute(statement)


def _after_seeding(engine: Engine) -> None:
    """Planner statistics (and PostgreSQL's visibility map for index-only scans)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("customers", "bookings", "products", "orders", "order_items"):
                auto.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
                auto.exec_driver_sql(f"VACUUM ANALYZE {table}")
        elif conn.dialect.name in ("mysql", "mariadb"):
            conn.exec_driver_sql("ANALYZE TABLE customers, bookings, products, orders, "
                                 "order_items").all()
            conn.commit()
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def _seed_customers(writer: _Writer, rng: random.Random, n: int,
                    now: datetime) -> list[tuple[int, str, str]]:
    if n <= 0:
        return []
    start = _next_id(writer.conn, customers)
    people = []
    for i in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phone = f"+44 7700 {rng.randrange(900000, 999999)}"
        people.append((start + i, name, phone))
    rows = ((cid, name, phone, f"{name.split()[0].lower()}.{cid}@example.com",
             now - timedelta(days=rng.randrange(1, 900))) for cid, name, phone in people)
    writer.write(customers, ("id", "name", "phone", "email", "created_at"), rows, "customers")
    return people


def _seed_bookings(writer: _Writer, rng: random.Random, n: int,
                   people: list[tuple[int, str, str]], now: datetime) -> None:
    """Bookings over past and coming days, generated a chunk at a time with numpy."""
    if n <= 0:
        return
    span = max(14, min(3650, math.ceil(n / 150)))
    ahead = min(30, span // 3)
    # Half hours from 11:00 to 22:30, dinner weighted.
    weights = np.array([1, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 5, 6, 6, 5, 4, 3, 2, 1, 1],
                       dtype=float)
    weights /= weights.sum()
    sizes = np.array([2, 2, 2, 4, 3, 1, 5, 6, 8])
    notes = np.array(["", "", "", "", "window seat", "birthday", "high chair",
                      "allergy: nuts", "terrace if dry", "anniversary"], dtype=object)
    gen = np.random.default_rng(rng.randrange(2**32))
    today = np.datetime64(now.replace(hour=0, minute=0, second=0), "m")
    now64 = np.datetime64(now, "m")
    start_id = _next_id(writer.conn, bookings)
    first, last = np.array(FIRST, dtype=object), np.array(LAST, dtype=object)
    people_ids = np.array([p[0] for p in people] or [0])
    people_names = np.array([p[1] for p in people] or [""], dtype=object)
    people_phones = np.array([p[2] for p in people] or [""], dtype=object)

    def chunk(offset: int, k: int) -> list[tuple[Any, ...]]:
        minutes = (gen.integers(-(span - ahead), ahead + 1, k) * 1440 + 660
                   + gen.choice(24, k, p=weights) * 30)
        start = today + minutes.astype("timedelta64[m]")
        created = start - (gen.integers(1, 21, k) * 1440
                           + gen.integers(0, 600, k)).astype("timedelta64[m]")
        r = gen.random(k)
        past = start < now64
        status = np.where(past, np.where(r < 0.8, "seated",
                                         np.where(r < 0.87, "no_show", "cancelled")),
                          np.where(r < 0.9, "confirmed", "cancelled")).astype(object)
        known = (gen.random(k) < 0.6) & bool(people)
        pick = gen.integers(0, len(people_ids), k)
        names = np.where(known, people_names[pick],
                         first[gen.integers(0, len(FIRST), k)] + " "
                         + last[gen.integers(0, len(LAST), k)])
        phones = np.where(known, people_phones[pick],
                          "+44 7700 " + gen.integers(900000, 999999, k).astype(str)
                          .astype(object))
        customer = np.where(known, people_ids[pick], 0).tolist()
        table = np.where(status == "cancelled", 0, gen.integers(1, 31, k)).tolist()
        starts = [t.replace("T", " ") for t in
                  np.datetime_as_string(start.astype("datetime64[us]"), unit="us").tolist()]
        createds = [t.replace("T", " ") for t in
                    np.datetime_as_string(created.astype("datetime64[us]"), unit="us").tolist()]
        return list(zip(range(start_id + offset, start_id + offset + k),
                        [c or None for c in customer], names.tolist(), phones.tolist(),
                        sizes[gen.integers(0, len(sizes), k)].tolist(), starts,
                        [t or None for t in table], status.tolist(),
                        notes[gen.integers(0, len(notes), k)].tolist(), [1] * k,
                        createds, createds, strict=True))

    def rows() -> Iterator[tuple[Any, ...]]:
        for offset in range(0, n, CHUNK):
            yield from chunk(offset, min(CHUNK, n - offset))

    with _indexes_rebuilt(writer.conn, bookings, big=n >= 100_000):
        writer.write(bookings, ("id", "customer_id", "customer_name", "phone", "party_size",
                                "start_at", "table_no", "status", "notes", "version",
                                "created_at", "updated_at"), rows(), "bookings")


class _indexes_rebuilt:  # noqa: N801 - used like a function, as a context manager
    """Drop a table's indexes for a big load and build them again after (faster than
    keeping them up to date row by row)."""

    def __init__(self, conn: Connection, table: Table, *, big: bool) -> None:
        # Not on MySQL/MariaDB: DDL there commits the load's transaction half way, and
        # InnoDB buffers secondary-index changes itself.
        self.conn, self.table = conn, table
        self.big = big and conn.dialect.name not in ("mysql", "mariadb")

    def __enter__(self) -> None:
        if self.big:
            for index in self.table.indexes:
                self.conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.big and exc_type is None:
            for index in self.table.indexes:
                index.create(self.conn, checkfirst=True)


def _seed_products(writer: _Writer, rng: random.Random, n: int,
                   now: datetime) -> list[tuple[int, int]]:
    if n <= 0:
        return []
    start_id = _next_id(writer.conn, products)
    taken = set(writer.conn.execute(select(products.c.sku)).scalars().all())
    out: list[tuple[int, int]] = []
    rows = []
    serial = start_id
    for i in range(n):
        category, prefix, names, (lo, hi) = CATEGORIES[i % len(CATEGORIES)]
        while f"{prefix}-{serial:04d}" in taken:
            serial += 1
        sku = f"{prefix}-{serial:04d}"
        taken.add(sku)
        base = names[(i // len(CATEGORIES)) % len(names)]
        variant = VARIANTS[(i // (len(CATEGORIES) * len(names))) % len(VARIANTS)]
        suffix = "" if i < len(CATEGORIES) * len(names) * len(VARIANTS) else f" #{i}"
        name = f"{base} ({variant}){suffix}" if variant else f"{base}{suffix}"
        price = rng.randrange(lo, hi + 1, 10)
        threshold = rng.choice((3, 5, 5, 5, 10))
        stock = rng.choice((0, 1, 2, threshold, threshold + 1)) if rng.random() < 0.15 \
            else rng.randrange(threshold + 2, 200)
        pid = start_id + i
        rows.append((pid, sku, name, category, price, stock, threshold,
                     rng.random() > 0.04, 1, now - timedelta(days=rng.randrange(0, 60))))
        out.append((pid, price))
        serial += 1
    writer.write(products, ("id", "sku", "name", "category", "price_cents", "stock",
                            "low_stock_threshold", "active", "version", "updated_at"),
                 rows, "products")
    return out


def _existing_products(conn: Connection) -> list[tuple[int, int]]:
    rows = conn.execute(select(products.c.id, products.c.price_cents)
                        .where(products.c.active.is_(True))).all()
    return [(int(r[0]), int(r[1] or 0)) for r in rows]


def _seed_orders(writer: _Writer, rng: random.Random, n: int,
                 catalogue: list[tuple[int, int]], now: datetime) -> int:
    if n <= 0:
        return 0
    span = max(7, min(3650, math.ceil(n / 80)))
    order_start = _next_id(writer.conn, orders)
    item_start = _next_id(writer.conn, order_items)
    items: list[tuple[int, int, int, int, int]] = []
    order_rows: list[tuple[Any, ...]] = []
    item_id = item_start
    span_s = span * 86400
    for i in range(n):
        oid = order_start + i
        placed = now - timedelta(seconds=rng.randrange(0, span_s))
        if placed.hour < 8:
            placed += timedelta(hours=10)
            if placed > now:
                placed -= timedelta(days=1)
        age = now - placed
        r = rng.random()
        if age < timedelta(minutes=20):
            status = ("pending", "paid", "preparing")[int(r * 3)]
        elif age < timedelta(hours=2):
            status = "ready" if r < 0.3 else ("preparing" if r < 0.5 else "completed")
        else:
            status = ("completed" if r < 0.88 else "cancelled" if r < 0.95
                      else "refunded" if r < 0.98 else "paid")
        total = 0
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            pid, price = catalogue[rng.randrange(len(catalogue))]
            qty = rng.choice((1, 1, 1, 2, 2, 3))
            items.append((item_id, oid, pid, qty, price))
            item_id += 1
            total += qty * price
        order_rows.append((oid, None, f"{rng.choice(FIRST)} {rng.choice(LAST)}", placed,
                           status, total, 1, placed + timedelta(minutes=rng.randrange(0, 90))))
        if len(order_rows) >= CHUNK:
            writer.write(orders, _ORDER_COLS, order_rows, "orders")
            _write_items(writer, items)
            order_rows, items = [], []
    if order_rows:
        writer.write(orders, _ORDER_COLS, order_rows, "orders")
        _write_items(writer, items)
    return item_id - item_start


_ORDER_COLS = ("id", "customer_id", "customer_name", "placed_at", "status", "total_cents",
               "version", "updated_at")


def _write_items(writer: _Writer, items: list[tuple[int, int, int, int, int]]) -> None:
    # Items are not counted in the progress total (asked for in orders, not lines).
    saved, writer.progress = writer.progress, None
    done = writer.done
    try:
        writer.write(order_items, ("id", "order_id", "product_id", "quantity",
                                   "unit_price_cents"), items, "order items")
    finally:
        writer.progress, writer.done = saved, done


def table_counts(url: str | URL) -> dict[str, int]:
    """Rows per shop table (for the CLI's summary and tests)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                    for t in ("customers", "bookings", "products", "orders", "order_items")}
    finally:
        engine.dispose()
