"""A row of the shop as the contract's resource, and a value sent for a field checked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backroom_connect_core.contract import BOOL, INT, STATUS, TEXT, TIME, Mapping
from backroom_connect_core.store import Answer
from backroom_connect_core.values import MAX_INT, etag, iso, parse_time, version_number

# What a body field may hold: (low, high) for integers, (min, max) length for text, nullable.
RULES: dict[str, tuple[int, int, bool]] = {
    "customer_name": (1, 120, False), "phone": (0, 40, True), "party_size": (1, 20, False),
    "table_no": (1, 1000, True), "notes": (0, 1000, True), "name": (1, 120, False),
    "category": (1, 60, False), "price_cents": (0, MAX_INT, False),
    "stock": (0, MAX_INT, False), "low_stock_threshold": (0, MAX_INT, False),
}


def one(m: Mapping, row: dict[str, Any], status: int = 200) -> Answer:
    out = resource(m, row)
    return Answer(status, out, {"ETag": etag(out["version"])})


def resource(m: Mapping, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"]}
    for name, kind in m.entity.fields.items():
        value = row.get(name) if m.has(name) else None
        if kind == TIME:
            value = iso(value)
        elif kind == STATUS:
            value = m.status_of(value)
        elif kind == BOOL:
            value = None if value is None else bool(value)
        out[name] = value
    if m.entity.name == "products":
        stock, threshold = out.get("stock"), out.get("low_stock_threshold")
        out["low_stock"] = stock is not None and threshold is not None and stock <= threshold
        if out["active"] is None:
            out["active"] = True
    if m.entity.name == "orders" and out["item_count"] is None:
        out["item_count"] = 0
    out["version"] = version_number(row.get("version")) if m.writable else 0
    if out.get("updated_at") is None and isinstance(row.get("version"), datetime):
        out["updated_at"] = iso(row["version"])  # a timestamp version says when, too
    return out


def check_field(m: Mapping, name: str, value: Any, errors: dict[str, str]) -> Any:
    kind = m.entity.fields[name]
    lo, hi, nullable = RULES.get(name, (0, MAX_INT, True))
    if value is None:
        if not nullable:
            errors[name] = "is required"
        return None
    if kind == TEXT:
        if not isinstance(value, str):
            errors[name] = "must be a string"
            return None
        value = value.strip()
        if not lo <= len(value) <= hi:
            errors[name] = "must not be empty" if not value else f"at most {hi} characters"
        return value
    if kind == INT:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            errors[name] = f"must be an integer from {lo} to {hi}"
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            errors[name] = "must be true or false"
        return value
    if kind == TIME:
        try:
            return parse_time(value)
        except ValueError as exc:
            errors[name] = str(exc)
            return None
    if value not in m.entity.statuses:
        errors[name] = f"must be one of {', '.join(m.entity.statuses)}"
    elif value not in m.status_values:
        errors[name] = f"this shop has no {value} status (its connector does not map it)"
    return value

