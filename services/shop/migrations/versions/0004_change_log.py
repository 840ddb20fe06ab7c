"""Who changed what: one row per changed field of a booking, order or product."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

INDEXED_TEXT = sa.Text().with_variant(mysql.VARCHAR(255), "mysql", "mariadb")
STAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0004_change_log"
down_revision = "0003_waitlist"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The demo shop makes its tables itself: a table that is already there is left as it is.
    if "change_log" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text, nullable=True),
        sa.Column("new_value", sa.Text, nullable=True),
        sa.Column("changed_by", INDEXED_TEXT, nullable=False, server_default=sa.text("''")),
        sa.Column("changed_at", STAMP, nullable=False),
        sa.CheckConstraint("entity IN ('bookings', 'orders', 'products')",
                           name="ck_change_log_entity"),
    )
    op.create_index("ix_change_log_record", "change_log", ["entity", "record_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_change_log_record", table_name="change_log")
    op.drop_table("change_log")
