"""Who changed what in the demo shop: the change log's writes, reads and history endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from flask import Flask, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.engine import Connection

from demo.context import ShopContext
from demo.db import bookings, change_log, orders, products, utcnow
from demo.web import iso, not_found

USER_HEADER = "X-Backroom-User"
MAX_USER = 120
#: The fields whose changes are logged, per entity (the contract's names).
FIELDS: dict[str, tuple[str, ...]] = {
    "bookings": ("customer_name", "phone", "party_size", "start_at", "table_no", "status",
                 "notes"),
    "products": ("name", "category", "price_cents", "stock", "low_stock_threshold", "active"),
    "orders": ("status",),
}
TABLES = {"bookings": bookings, "products": products, "orders": orders}
READ_LIMIT = 500


def user() -> str:
    """Who the request says it is (``X-Backroom-User``, UTF-8 percent-encoded); "" if none."""
    raw = request.headers.get(USER_HEADER, "")
    return " ".join(unquote(raw, errors="replace").split())[:MAX_USER]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:2000]


def logged(conn: Connection, entity: str, record_id: int, before: dict[str, Any],
           after: dict[str, Any]) -> None:
    """A change_log row per logged field that differs between the two JSON records."""
    now = utcnow()
    rows = [{"entity": entity, "record_id": record_id, "version": after.get("version"),
             "field": name, "old_value": _text(before.get(name)),
             "new_value": _text(after.get(name)), "changed_by": user(), "changed_at": now}
            for name in FIELDS[entity] if _text(before.get(name)) != _text(after.get(name))]
    if rows:
        conn.execute(change_log.insert(), rows)


def created(conn: Connection, entity: str, record_id: int, summary: str) -> None:
    conn.execute(change_log.insert().values(
        entity=entity, record_id=record_id, version=1, field="created", old_value=None,
        new_value=summary[:2000], changed_by=user(), changed_at=utcnow()))


def saved_by(conn: Connection, entity: str, record_id: int) -> Callable[[], dict[str, Any] | None]:
    """Who changed the record last and when, asked only when a 412 needs it."""

    def ask() -> dict[str, Any] | None:
        c = change_log.c
        row = conn.execute(select(c.changed_by, c.changed_at)
                           .where(c.entity == entity, c.record_id == record_id)
                           .order_by(c.id.desc()).limit(1)).first()
        return None if row is None else {"user": row.changed_by, "at": iso(row.changed_at)}

    return ask


def register(app: Flask, ctx: ShopContext) -> None:
    def history(entity: str, record_id: int) -> Response:
        table, c = TABLES[entity], change_log.c
        with ctx.db.read() as conn:
            if conn.execute(select(table.c.id).where(table.c.id == record_id)).first() is None:
                raise not_found(f"{entity[:-1]} {record_id}")
            rows = conn.execute(select(change_log)
                                .where(c.entity == entity, c.record_id == record_id)
                                .order_by(c.id.desc()).limit(READ_LIMIT)).all()
        return jsonify({"items": [{"at": iso(r.changed_at), "user": r.changed_by,
                                   "field": r.field, "from": r.old_value, "to": r.new_value,
                                   "version": r.version} for r in rows]})

    for entity in TABLES:
        app.add_url_rule(f"/api/{entity}/<int:record_id>/history", f"{entity}_history",
                         lambda record_id, entity=entity: history(entity, record_id),
                         methods=["GET"])
