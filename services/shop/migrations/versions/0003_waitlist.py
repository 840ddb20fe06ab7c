"""The waitlist: parties waiting for a table (name, phone, covers, quoted wait, added at)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003_waitlist"
down_revision = "0002"
branch_labels = None
depends_on = None

Stamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # The demo shop makes its tables itself and is stamped at the baseline: a table that is
    # already there is left as it is.
    if "waitlist" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "waitlist",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("covers", sa.Integer, nullable=False),
        sa.Column("quoted_minutes", sa.Integer, nullable=False),
        sa.Column("added_at", Stamp, nullable=False),
        sa.Column("state", sa.String(10), nullable=False, server_default=sa.text("'waiting'")),
        sa.Column("seated_at", Stamp),
        sa.Column("removed_at", Stamp),
        sa.Column("booking_id", sa.Integer, sa.ForeignKey("bookings.id"), nullable=True),
        sa.CheckConstraint("state IN ('waiting', 'seated', 'removed')",
                           name="ck_waitlist_state"),
        sa.CheckConstraint("covers > 0", name="ck_waitlist_covers"),
    )
    op.create_index("ix_waitlist_state_added_at", "waitlist", ["state", "added_at"])


def downgrade() -> None:
    op.drop_index("ix_waitlist_state_added_at", table_name="waitlist")
    op.drop_table("waitlist")
