"""The shop-wide reads of the contract: today's figures and the floor (tables and rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from backroom_connect_core.contract import FLOOR_DEFAULTS, Mapping
from backroom_connect_core.values import Refusal, iso

if TYPE_CHECKING:
    from backroom_connect_core.store import Cond, Store


# --------------------------------------------------------------------------- the floor


def floor_plan(store: Store, mappings: dict[str, Mapping]) -> dict[str, Any]:
    """The room (the mapped tables) and its rules (the settings' floor, else defaults)."""
    m = mappings.get("tables")
    if m is None:
        raise Refusal(404, {"error": "this shop maps no tables (BACKROOM_CONNECT has no "
                                     "'tables')"})
    tables = [{"number": r["number"], "name": str(r.get("name") or r["number"]),
               "seats": r["seats"], "area": r.get("area") or ""}
              for r in store.rows(m, [], ("number", False), None)]
    return {**FLOOR_DEFAULTS, **m.options, "tables": tables}


# --------------------------------------------------------------------------- today


def today_figures(store: Store, mappings: dict[str, Mapping]) -> dict[str, Any]:
    now = datetime.now(UTC)
    start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    week_ago = start - timedelta(days=7)
    out: dict[str, Any] = {"date": start.date().isoformat(), "generated_at": iso(now),
                           "bookings": 0, "covers": 0, "orders": 0, "revenue_cents": 0,
                           "low_stock_count": 0}
    for name, field_name, counted in (("bookings", "start_at", "bookings"),
                                      ("orders", "placed_at", "orders")):
        m = mappings.get(name)
        today_rows = _day_rows(store, m, field_name, start) if m else []
        last_week = _day_rows(store, m, field_name, week_ago) if m else []
        if m is not None and name == "bookings":
            live = [r for r in today_rows if m.status_of(r.get("status")) != "cancelled"]
            out["bookings"] = len(live)
            out["covers"] = sum(r.get("party_size") or 0 for r in live
                                if m.status_of(r.get("status")) != "no_show")
        elif m is not None:
            out["orders"] = len(today_rows)
            paid = {"paid", "preparing", "ready", "completed"}
            out["revenue_cents"] = sum(r.get("total_cents") or 0 for r in today_rows
                                       if m.status_of(r.get("status")) in paid)
        out[f"{counted}_per_hour"] = _per_hour(today_rows, field_name, start)
        out[f"{counted}_per_hour_last_week"] = _per_hour(last_week, field_name, week_ago)
    products = mappings.get("products")
    if products is not None and products.has("stock") and products.has("low_stock_threshold"):
        where: list[Cond] = [("le_field", "stock", "low_stock_threshold")]
        if products.has("active"):
            where.append(("eq", "active", True))
        out["low_stock_count"] = store.count(products, where)
    return out


def _day_rows(store: Store, m: Mapping, name: str, start: datetime) -> list[dict[str, Any]]:
    return store.rows(m, [("ge", name, start), ("lt", name, start + timedelta(days=1))],
                      (name, False), None)


def _per_hour(rows: list[dict[str, Any]], name: str, start: datetime) -> list[int]:
    counts = [0] * 24
    for r in rows:
        value = r.get(name)
        if isinstance(value, datetime):
            aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
            hour = int((aware - start) // timedelta(hours=1))
            if 0 <= hour < 24:
                counts[hour] += 1
    return counts
