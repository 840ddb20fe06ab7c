"""Baseline: customers, bookings, products, orders and order_items with their indexes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# MySQL/MariaDB: an index cannot cover TEXT whole, and DATETIME keeps no fractions unless told.
INDEXED_TEXT = sa.Text().with_variant(mysql.VARCHAR(255), "mysql", "mariadb")
STAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("created_at", STAMP),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("customer_name", INDEXED_TEXT, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("party_size", sa.Integer, nullable=False),
        sa.Column("start_at", STAMP, nullable=False),
        sa.Column("table_no", sa.Integer, nullable=True),
        sa.Column("status", INDEXED_TEXT, nullable=False),
        sa.Column("notes", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("created_at", STAMP),
        sa.Column("updated_at", STAMP),
        sa.CheckConstraint("status IN ('confirmed', 'seated', 'cancelled', 'no_show')",
                           name="ck_bookings_status"),
    )
    op.create_index("ix_bookings_start_at", "bookings", ["start_at"])
    op.create_index("ix_bookings_customer_name", "bookings", ["customer_name"])
    op.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(40), unique=True),
        sa.Column("name", INDEXED_TEXT),
        sa.Column("category", INDEXED_TEXT),
        sa.Column("price_cents", sa.Integer),
        sa.Column("stock", sa.Integer),
        sa.Column("low_stock_threshold", sa.Integer, server_default=sa.text("5")),
        sa.Column("active", sa.Boolean),
        sa.Column("version", sa.Integer, server_default=sa.text("1")),
        sa.Column("updated_at", STAMP),
    )
    op.create_index("ix_products_category", "products", ["category"])
    op.create_index("ix_products_name", "products", ["name"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, nullable=True),
        sa.Column("customer_name", sa.Text),
        sa.Column("placed_at", STAMP),
        sa.Column("status", INDEXED_TEXT),
        sa.Column("total_cents", sa.Integer),
        sa.Column("version", sa.Integer, server_default=sa.text("1")),
        sa.Column("updated_at", STAMP),
        sa.CheckConstraint("status IN ('pending', 'paid', 'preparing', 'ready', 'completed', "
                           "'cancelled', 'refunded')", name="ck_orders_status"),
    )
    op.create_index("ix_orders_placed_at", "orders", ["placed_at"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id")),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id")),
        sa.Column("quantity", sa.Integer),
        sa.Column("unit_price_cents", sa.Integer),
    )
    op.create_index("ix_order_items_order_id", "order_items", ["order_id"])
    op.create_index("ix_order_items_product_id", "order_items", ["product_id"])


def downgrade() -> None:
    for index, table in (("ix_order_items_product_id", "order_items"),
                         ("ix_order_items_order_id", "order_items")):
        op.drop_index(index, table_name=table)
    op.drop_table("order_items")
    op.drop_index("ix_orders_status", table_name="orders")
    op.drop_index("ix_orders_placed_at", table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_products_name", table_name="products")
    op.drop_index("ix_products_category", table_name="products")
    op.drop_table("products")
    op.drop_index("ix_bookings_customer_name", table_name="bookings")
    op.drop_index("ix_bookings_start_at", table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("customers")
