"""The shop's tables as SQLAlchemy Core metadata, the same tables the demo shop uses."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import mysql

#: Text that an index covers: MySQL/MariaDB cannot index TEXT without a prefix length (and a
#: prefix index cannot serve ORDER BY), so there it is VARCHAR(255).
IndexedText = Text().with_variant(mysql.VARCHAR(255), "mysql", "mariadb")
#: MySQL/MariaDB's DATETIME drops fractions of a second unless asked to keep them.
Stamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

BOOKING_STATUSES = ("confirmed", "seated", "cancelled", "no_show")
ORDER_STATUSES = ("pending", "paid", "preparing", "ready", "completed", "cancelled", "refunded")

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("phone", Text),
    Column("email", Text),
    Column("created_at", Stamp),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True),
    Column("customer_name", IndexedText, nullable=False),
    Column("phone", Text),
    Column("party_size", Integer, nullable=False),
    Column("start_at", Stamp, nullable=False),
    Column("table_no", Integer, nullable=True),
    Column("status", IndexedText, nullable=False),
    Column("notes", Text, nullable=False, server_default=text("''")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", Stamp),
    Column("updated_at", Stamp),
    CheckConstraint(
        "status IN ('confirmed', 'seated', 'cancelled', 'no_show')", name="ck_bookings_status"
    ),
    Index("ix_bookings_start_at", "start_at"),
    Index("ix_bookings_customer_name", "customer_name"),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(40), unique=True),
    Column("name", IndexedText),
    Column("category", IndexedText),
    Column("price_cents", Integer),
    Column("stock", Integer),
    Column("low_stock_threshold", Integer, server_default=text("5")),
    Column("active", Boolean),
    Column("version", Integer, server_default=text("1")),
    Column("updated_at", Stamp),
    Index("ix_products_category", "category"),
    Index("ix_products_name", "name"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, nullable=True),
    Column("customer_name", Text),
    Column("placed_at", Stamp),
    Column("status", IndexedText),
    Column("total_cents", Integer),
    Column("version", Integer, server_default=text("1")),
    Column("updated_at", Stamp),
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

dining_tables = Table(
    "dining_tables",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("area", Text, nullable=False, server_default=text("''")),
    CheckConstraint("seats > 0", name="ck_dining_tables_seats"),
)

# One row (id 1): opening hours as 'HH:MM' shop-local, slot length, the covers limit per slot
# (NULL: none) and how long a party holds its table.
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

# Who changed what (revision 0004_change_log): a row per changed field; "created" for a new record.
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
    Column("changed_by", IndexedText, nullable=False, server_default=text("''")),
    Column("changed_at", Stamp, nullable=False),
    CheckConstraint("entity IN ('bookings', 'orders', 'products')",
                    name="ck_change_log_entity"),
    Index("ix_change_log_record", "entity", "record_id", "id"),
)

# The waitlist (revision 0003_waitlist): parties waiting for a table; a row stays when the
# party is seated (with the booking it became) or taken off, for today's average wait.
waitlist = Table(
    "waitlist",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("phone", Text),
    Column("covers", Integer, nullable=False),
    Column("quoted_minutes", Integer, nullable=False),
    Column("added_at", Stamp, nullable=False),
    Column("state", String(10), nullable=False, server_default=text("'waiting'")),
    Column("seated_at", Stamp),
    Column("removed_at", Stamp),
    Column("booking_id", Integer, ForeignKey("bookings.id"), nullable=True),
    CheckConstraint("state IN ('waiting', 'seated', 'removed')", name="ck_waitlist_state"),
    CheckConstraint("covers > 0", name="ck_waitlist_covers"),
    Index("ix_waitlist_state_added_at", "state", "added_at"),
)

#: The baseline's tables (revision 0001): a database that has these is a shop.
SHOP_TABLES = ("customers", "bookings", "products", "orders", "order_items")
#: The floor's tables (revision 0002); a shop without them has no floor.
FLOOR_TABLES = ("dining_tables", "floor_settings")
#: The change log's table (revision 0004_change_log); a shop without it keeps no history.
HISTORY_TABLES = ("change_log",)
