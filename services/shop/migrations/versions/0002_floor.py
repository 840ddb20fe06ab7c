"""The floor: dining tables (number, name, seats, area) and the floor's settings (hours, slots)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The demo shop makes its tables itself and is stamped at the baseline: a table that is
    # already there is left as it is.
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "dining_tables" not in have:
        op.create_table(
            "dining_tables",
            sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("seats", sa.Integer, nullable=False),
            sa.Column("area", sa.Text, nullable=False, server_default=sa.text("''")),
            sa.CheckConstraint("seats > 0", name="ck_dining_tables_seats"),
        )
    if "floor_settings" not in have:
        op.create_table(
            "floor_settings",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("opens_at", sa.String(5), nullable=False),
            sa.Column("closes_at", sa.String(5), nullable=False),
            sa.Column("slot_minutes", sa.Integer, nullable=False),
            sa.Column("covers_per_slot", sa.Integer, nullable=True),
            sa.Column("turn_minutes", sa.Integer, nullable=False),
            sa.Column("large_party_turn_minutes", sa.Integer, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("floor_settings")
    op.drop_table("dining_tables")
