"""The profile's `[database.map.*]`: how a shop's own tables hold bookings, products, orders."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.shop_status import BookingStatus, OrderStatus

#: The entities a profile can map, and the fields each knows (Backroom's words on the left of
#: ``columns``). ``id`` and the fields in REQUIRED must be mapped; the rest may be left out and
#: are then hidden or greyed in the console.
FIELDS: dict[str, tuple[str, ...]] = {
    "bookings": ("id", "start_at", "guest_name", "party_size", "phone", "table", "notes",
                 "status", "created_at"),
    "products": ("id", "name", "sku", "category", "price_cents", "price", "stock",
                 "low_stock_threshold", "active"),
    "orders": ("id", "placed_at", "customer_name", "status", "total_cents", "total"),
    "order_lines": ("id", "order_id", "product_id", "quantity", "unit_price_cents",
                    "unit_price"),
    # The room, for the Floor (read only; a booking's ``table`` names a table's number).
    "tables": ("number", "name", "seats", "area"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "bookings": ("id", "start_at", "guest_name", "party_size"),
    "products": ("id", "name"),
    "orders": ("id", "placed_at"),
    "order_lines": ("id", "order_id", "product_id", "quantity"),
    "tables": ("number", "seats"),
}
STATUS_VALUES: dict[str, tuple[str, ...]] = {
    "bookings": tuple(s.value for s in BookingStatus),
    "orders": tuple(s.value for s in OrderStatus),
}
#: Two ways of one amount: cents as an integer, or a decimal amount in the currency's unit.
ALTERNATIVES = (("price_cents", "price"), ("total_cents", "total"),
                ("unit_price_cents", "unit_price"))
# A table or column name as SQL databases spell them; "schema.table" for a table.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


@dataclass(frozen=True, slots=True)
class EntityMap:
    """One entity on one of the shop's tables: which column holds which field."""

    entity: str
    table: str
    columns: tuple[tuple[str, str], ...]
    version: str | None = None
    status_values: tuple[tuple[str, str], ...] = ()

    def column(self, field: str) -> str | None:
        """The shop's column for ``field``, None when it is not mapped."""
        return dict(self.columns).get(field)

    def has(self, field: str) -> bool:
        return field in dict(self.columns)

    @property
    def schema(self) -> str | None:
        return self.table.rpartition(".")[0] or None

    @property
    def table_name(self) -> str:
        return self.table.rpartition(".")[2]

    @property
    def writable(self) -> bool:
        """Edits need a version column to compare-and-set on; without one, read-only."""
        return self.version is not None

    def code_for(self, status: str) -> str:
        """The shop's code for one of Backroom's status values (itself when not mapped)."""
        return dict(self.status_values).get(status, status)

    def status_for(self, code: object) -> str | None:
        """Backroom's status value for the shop's code, None for a code the map lacks."""
        text = "" if code is None else str(code)
        for status, shop_code in self.status_values or tuple(
                (s, s) for s in STATUS_VALUES.get(self.entity, ())):
            if shop_code == text:
                return status
        return None


@dataclass(frozen=True, slots=True)
class ShopMap:
    """Every mapped entity of one shop; an entity left out is not shown."""

    bookings: EntityMap | None = None
    products: EntityMap | None = None
    orders: EntityMap | None = None
    order_lines: EntityMap | None = None
    tables: EntityMap | None = None

    def entities(self) -> tuple[EntityMap, ...]:
        return tuple(m for m in (self.bookings, self.products, self.orders, self.order_lines,
                                 self.tables) if m is not None)


READ_ONLY_REASON = ("The shop's table {table} has no version column in the profile, so the "
                    "console only reads it (map one as version = \"updated_at\" to edit).")


def read_only_reason(entity: EntityMap | None) -> str | None:
    """The words the console shows where it cannot edit ``entity``, None when it can."""
    if entity is None or entity.writable:
        return None
    return READ_ONLY_REASON.format(table=entity.table)


def parse_shop_map(data: Any, path: str, problem: Callable[[str, str], None]) -> ShopMap | None:
    """Validate ``[database.map]``; every problem goes to ``problem(path, message)``."""
    if data is None:
        return None
    if not isinstance(data, dict):
        problem(path, "expected a table with bookings, products, orders, order_lines or "
                      "tables")
        return None
    found: dict[str, EntityMap] = {}
    for key, value in data.items():
        where = f"{path}.{key}"
        if key not in FIELDS:
            problem(where, f"unknown entity (expected one of {', '.join(FIELDS)})")
            continue
        entity = _parse_entity(key, value, where, problem)
        if entity is not None:
            found[key] = entity
    if "order_lines" in found and "orders" not in found:
        problem(f"{path}.order_lines", "order lines need [database.map.orders] too")
    return ShopMap(**found)


def _parse_entity(entity: str, data: Any, path: str,
                  problem: Callable[[str, str], None]) -> EntityMap | None:
    if not isinstance(data, dict):
        problem(path, "expected a table (table, columns, version, status_values)")
        return None
    allowed = {"table", "columns", "version"} | ({"status_values"} if entity in STATUS_VALUES
                                                   else set())
    for key in data:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            problem(f"{path}.{key}", f"unknown field (expected one of {expected})")
    table = data.get("table")
    if not isinstance(table, str) or not all(_NAME.match(p) for p in table.split(".")) \
            or table.count(".") > 1:
        problem(f"{path}.table", "required: the table's name (letters, digits, _; "
                "schema.table allowed)")
        table = ""
    columns = _names(data.get("columns"), f"{path}.columns", FIELDS[entity], problem)
    if columns is not None:
        for field in REQUIRED[entity]:
            if field not in columns:
                problem(f"{path}.columns.{field}", "required")
        for cents, amount in ALTERNATIVES:
            if cents in columns and amount in columns:
                problem(f"{path}.columns.{amount}", f"map {cents} or {amount}, not both")
    version = data.get("version")
    if version is not None and (not isinstance(version, str) or not _NAME.match(version)):
        problem(f"{path}.version", "expected a column name (an integer or a timestamp column)")
        version = None
    statuses = _status_values(entity, data.get("status_values"), f"{path}.status_values",
                              problem)
    if not table or columns is None:
        return None
    return EntityMap(entity, table, tuple(columns.items()), version, statuses)


def _names(data: Any, path: str, fields: tuple[str, ...],
           problem: Callable[[str, str], None]) -> dict[str, str] | None:
    if not isinstance(data, dict):
        problem(path, "required: a table of field = \"column\"")
        return None
    out: dict[str, str] = {}
    for field, column in data.items():
        if field not in fields:
            problem(f"{path}.{field}", f"unknown field (expected one of {', '.join(fields)})")
        elif not isinstance(column, str) or not _NAME.match(column):
            problem(f"{path}.{field}", "expected a column name (letters, digits, _)")
        else:
            out[field] = column
    return out


def _status_values(entity: str, data: Any, path: str,
                   problem: Callable[[str, str], None]) -> tuple[tuple[str, str], ...]:
    if data is None:
        return ()
    if not isinstance(data, dict):
        problem(path, "expected a table of status = \"the shop's code\"")
        return ()
    known = STATUS_VALUES[entity]
    out: list[tuple[str, str]] = []
    for status, code in data.items():
        if status not in known:
            problem(f"{path}.{status}", f"unknown status (expected one of {', '.join(known)})")
        elif isinstance(code, bool) or not isinstance(code, str | int):
            problem(f"{path}.{status}", "expected the shop's code (a string or a number)")
        else:
            out.append((status, str(code)))
    codes = [c for _, c in out]
    if len(set(codes)) != len(codes):
        problem(path, "two statuses have the same code")
    return tuple(out)


def shop_map_to_data(shop_map: ShopMap) -> dict[str, Any]:
    """The TOML data of a map (what :func:`parse_shop_map` reads back)."""
    out: dict[str, Any] = {}
    for m in shop_map.entities():
        entry: dict[str, Any] = {"table": m.table}
        if m.version:
            entry["version"] = m.version
        entry["columns"] = dict(m.columns)
        if m.status_values:
            entry["status_values"] = dict(m.status_values)
        out[m.entity] = entry
    return out


def version_words(version: int, updated_at: datetime | None) -> str:
    """"version 7" for a person; "" when there is no version (a read-only mapped table: 0) or
    the version is the last-changed time itself (a shop's ``updated_at`` column as version,
    carried as microseconds since 1970: a number that says nothing to a person)."""
    if version == 0:
        return ""
    if updated_at is not None:
        since = updated_at.astimezone(UTC).replace(tzinfo=None) - datetime(1970, 1, 1)
        if since // timedelta(microseconds=1) == version:
            return ""
    return f"version {version}"
