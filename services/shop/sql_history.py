"""Our schema's change log: a row per changed field, written in the change's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, inspect, select
from sqlalchemy.engine import Connection

from console.changes import Change, Entity, SavedBy, as_text, clean_user, field_changes
from console.shop import Booking, Conflict, OrderDetail, Unsupported, naive_utc, utc
from services.shop.schema import bookings, change_log, orders, products
from services.shop.sql_paging import SqlListing

#: The fields whose changes are recorded, per entity.
LOGGED_FIELDS: dict[str, tuple[str, ...]] = {
    Entity.BOOKINGS: ("customer_name", "phone", "party_size", "start_at", "table_no", "status",
                      "notes"),
    Entity.PRODUCTS: ("name", "category", "price_cents", "stock", "low_stock_threshold",
                      "active"),
    Entity.ORDERS: ("status",),
}
#: How many changes of one record are read back (the newest).
READ_LIMIT = 500


def has_change_log(conn: Connection) -> bool:
    """Whether the database is at revision 0004_change_log or later (``db init`` upgrades it)."""
    return inspect(conn).has_table(change_log.name)


def row_values(conn: Connection, table: Table, row_id: int) -> dict[str, Any]:
    """The logged fields of one row as stored ({} when it is gone)."""
    row = conn.execute(select(table).where(table.c.id == row_id)).first()
    return dict(row._mapping) if row is not None else {}


def record(conn: Connection, entity: str, row_id: int, before: dict[str, Any],
           after: dict[str, Any], *, user: str, at: datetime) -> None:
    """One change_log row per logged field that differs between ``before`` and ``after``."""
    rows = [{"entity": str(entity), "record_id": row_id, "version": after.get("version"),
             "field": name, "old_value": old, "new_value": new,
             "changed_by": clean_user(user), "changed_at": naive_utc(at)}
            for name, old, new in field_changes(before, after, LOGGED_FIELDS[entity])]
    if rows:
        conn.execute(change_log.insert(), rows)


def record_created(conn: Connection, entity: str, row_id: int, summary: str, *, user: str,
                   at: datetime, version: int = 1) -> None:
    conn.execute(change_log.insert().values(
        entity=str(entity), record_id=row_id, version=version, field="created",
        old_value=None, new_value=as_text(summary), changed_by=clean_user(user),
        changed_at=naive_utc(at)))


def read(conn: Connection, entity: str, row_id: int) -> tuple[Change, ...]:
    """The record's changes, newest first."""
    c = change_log.c
    rows = conn.execute(select(change_log).where(c.entity == str(entity), c.record_id == row_id)
                        .order_by(c.id.desc()).limit(READ_LIMIT)).all()
    return tuple(Change(at=utc(r.changed_at), user=r.changed_by or "", field=r.field,
                        old=r.old_value, new=r.new_value, version=r.version) for r in rows)


def saved_by(conn: Connection, entity: str, row_id: int) -> SavedBy | None:
    """Who made the record's latest change, and when (None when nothing is logged)."""
    c = change_log.c
    row = conn.execute(select(c.changed_by, c.changed_at)
                       .where(c.entity == str(entity), c.record_id == row_id)
                       .order_by(c.id.desc()).limit(1)).first()
    return None if row is None else SavedBy(row.changed_by or "", utc(row.changed_at))


def theirs_id(theirs: Any) -> int:
    """The id of a conflict's stored record (an order comes with its lines)."""
    return int(theirs.order.id if isinstance(theirs, OrderDetail) else theirs.id)


class LoggedChanges(SqlListing):
    """The SQL listing with our schema's change log: what the repository on it builds on."""

    _has_log: bool | None = None

    def _logs(self, conn: Connection) -> bool:
        if self._has_log is None:
            self._has_log = has_change_log(conn)
        return self._has_log

    def _conflict(self, conn: Connection, entity: Entity, mine: Any, theirs: Any) -> Conflict:
        """Someone saved first: named from the change log where it has them."""
        who = saved_by(conn, entity, theirs_id(theirs)) if self._logs(conn) else None
        return Conflict(mine, theirs, who)

    def _log_created(self, conn: Connection, booking: Booking, what: str) -> None:
        if self._logs(conn):
            record_created(
                conn, Entity.BOOKINGS, booking.id,
                f"{what}: {booking.customer_name}, {booking.party_size}", user=self.user,
                at=self._clock())

    def history(self, entity: Entity, record_id: int) -> tuple[Change, ...]:
        """Who changed what of one booking, order or product, newest first."""
        with self._uow() as uow:
            if not self._logs(uow.conn):
                raise Unsupported("no history: this database has no change log yet (run "
                                  "'backroom db init' to upgrade it)")
            return read(uow.conn, Entity(entity), record_id)

    def _log_update(self, conn: Connection, entity: Entity, row_id: int,
                    before: dict[str, Any]) -> None:
        table = {Entity.BOOKINGS: bookings, Entity.PRODUCTS: products,
                 Entity.ORDERS: orders}[entity]
        record(conn, entity, row_id, before, row_values(conn, table, row_id), user=self.user,
               at=self._clock())

