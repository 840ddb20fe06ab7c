"""The shop API's JSON, read and written: each answer becomes a record or BackendUnavailable."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, ParamSpec, TypeVar

from console.changes import Change, SavedBy
from console.floor import DiningTable, FloorPlan
from console.past_days import DayFigures, PastDays
from console.shop import (
    BackendUnavailable,
    Booking,
    BookingDraft,
    BookingStatus,
    Order,
    OrderDetail,
    OrderItem,
    OrderStatus,
    Page,
    Product,
    RowCount,
    TodayFigures,
    iso_z,
    parse_iso,
)
from console.shop_access import EntityAccess, ShopAccess

T = TypeVar("T")

_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)

P = ParamSpec("P")
R = TypeVar("R")


def documented(fn: Callable[P, R]) -> Callable[P, R]:
    """Whatever the shop answered, a mapping function gives a record or BackendUnavailable."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except _MALFORMED as exc:
            what = str(exc)[:120] if not isinstance(exc, RecursionError) else "nested too deep"
            raise BackendUnavailable(f"the shop's answer is not as documented ({type(exc).__name__}"
                                     f": {what}); is this the shop API of docs/api.md?") from exc

    return wrapper


def json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} is not an integer: {value!r:.40}")
    return value


def _req_int(d: dict[str, Any], name: str) -> int:
    return _int(d[name], name)


def _opt_int(d: dict[str, Any], name: str, default: int | None = 0) -> Any:
    value = d.get(name)
    return default if value is None else _int(value, name)


def _req_str(d: dict[str, Any], name: str) -> str:
    value = d[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} is not text: {value!r:.40}")
    return value


def _opt_str(d: dict[str, Any], name: str) -> str:
    value = d.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{name} is not text: {value!r:.40}")
    return value


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"{name} is not an ISO time: {value!r:.40}")
    return parse_iso(value)


def _opt_time(value: Any) -> datetime | None:
    return _time(value, "time") if value else None


def _ints(values: Any) -> tuple[int, ...]:
    if not isinstance(values, list):
        raise TypeError("expected a list of integers")
    return tuple(_int(v, "count") for v in values)


def booking_body(draft: BookingDraft) -> dict[str, Any]:
    return {"customer_name": draft.customer_name.strip(), "party_size": draft.party_size,
            "start_at": iso_z(draft.start_at), "phone": draft.phone.strip() or None,
            "table_no": draft.table_no, "notes": draft.notes}


@documented
def access_from_json(data: Any) -> ShopAccess:
    entities = json_object(json_object(data)["entities"])

    def entity(name: str) -> EntityAccess | None:
        found = entities.get(name)
        if found is None:
            return None
        d = json_object(found)
        fields = frozenset(str(f) for f in d.get("fields") or ())
        editable = d.get("editable")
        return EntityAccess(fields=fields, writable=bool(d.get("writable")),
                            editable=None if editable is None
                            else frozenset(str(f) for f in editable),
                            why_read_only=_opt_str(d, "read_only_reason"))

    return ShopAccess(bookings=entity("bookings"), products=entity("products"),
                      orders=entity("orders"), today=bool(json_object(data).get("today", True)))


@documented
def booking_from_json(data: Any) -> Booking:
    d = json_object(data)
    return Booking(id=_req_int(d, "id"), customer_name=_req_str(d, "customer_name"),
                   party_size=_req_int(d, "party_size"),
                   start_at=_time(d["start_at"], "start_at"),
                   status=BookingStatus(d["status"]), version=_req_int(d, "version"),
                   phone=_opt_str(d, "phone"), table_no=_opt_int(d, "table_no", None),
                   notes=_opt_str(d, "notes"), customer_id=_opt_int(d, "customer_id", None),
                   created_at=_opt_time(d.get("created_at")),
                   updated_at=_opt_time(d.get("updated_at")))


@documented
def product_from_json(data: Any) -> Product:
    d = json_object(data)
    return Product(id=_req_int(d, "id"), sku=_opt_str(d, "sku"), name=_opt_str(d, "name"),
                   category=_opt_str(d, "category"), price_cents=_opt_int(d, "price_cents"),
                   stock=_opt_int(d, "stock"),
                   low_stock_threshold=_opt_int(d, "low_stock_threshold"),
                   active=bool(d.get("active")), version=_req_int(d, "version"),
                   updated_at=_opt_time(d.get("updated_at")))


@documented
def order_from_json(data: Any) -> Order:
    d = json_object(data)
    return Order(id=_req_int(d, "id"), customer_name=_opt_str(d, "customer_name"),
                 placed_at=_time(d["placed_at"], "placed_at"),
                 status=OrderStatus(d["status"]), total_cents=_opt_int(d, "total_cents"),
                 version=_req_int(d, "version"), item_count=_opt_int(d, "item_count"),
                 customer_id=_opt_int(d, "customer_id", None),
                 updated_at=_opt_time(d.get("updated_at")))


@documented
def order_detail_from_json(data: Any) -> OrderDetail:
    d = json_object(data)
    lines = d.get("items") or []
    if not isinstance(lines, list):
        raise TypeError("items is not a list")
    items = tuple(OrderItem(id=_req_int(i, "id"), product_id=_req_int(i, "product_id"),
                            product_name=_opt_str(i, "name"), sku=_opt_str(i, "sku"),
                            quantity=_req_int(i, "quantity"),
                            unit_price_cents=_req_int(i, "unit_price_cents"))
                  for i in map(json_object, lines))
    return OrderDetail(order_from_json(d), items)


@documented
def page_from_json(data: Any, parse: Callable[[Any], T]) -> Page[T]:
    d = json_object(data)
    items = d["items"]
    if not isinstance(items, list):
        raise TypeError("items is not a list")
    cursor = d.get("next_cursor") or None
    if cursor is not None and not isinstance(cursor, str):
        raise TypeError("next_cursor is not text")
    return Page(tuple(parse(item) for item in items), cursor)


@documented
def total_from_json(data: Any) -> RowCount:
    """``estimated_total``, exact when the shop says it counted (``total_is_exact``)."""
    d = json_object(data)
    return RowCount(_opt_int(d, "estimated_total"), exact=d.get("total_is_exact") is True)


@documented
def categories_from_json(data: Any) -> tuple[str, ...]:
    items = json_object(data).get("items") or []
    if not isinstance(items, list):
        raise TypeError("items is not a list")
    return tuple(c for c in items if isinstance(c, str) and c)


@documented
def today_from_json(data: Any) -> TodayFigures:
    d = json_object(data)
    return TodayFigures(
        day=date.fromisoformat(_req_str(d, "date")), bookings=_req_int(d, "bookings"),
        covers=_req_int(d, "covers"), orders=_req_int(d, "orders"),
        revenue_cents=_req_int(d, "revenue_cents"), low_stock=_req_int(d, "low_stock_count"),
        bookings_per_hour=_ints(d["bookings_per_hour"]),
        bookings_per_hour_last_week=_ints(d["bookings_per_hour_last_week"]),
        orders_per_hour=_ints(d["orders_per_hour"]),
        orders_per_hour_last_week=_ints(d["orders_per_hour_last_week"]))


def _counts(value: Any, name: str, keys: Callable[[str], Any]) -> dict[Any, int]:
    """A JSON object of integers by key; keys ``keys`` cannot read (a status this console
    does not know) are left out rather than refusing the whole answer."""
    out: dict[Any, int] = {}
    for key, n in json_object(value).items():
        try:
            k = keys(key)
        except ValueError:
            continue
        out[k] = _int(n, f"{name}.{key}")
    return out


@documented
def past_days_from_json(data: Any) -> PastDays:
    d = json_object(data)
    days = []
    for raw in d["days"]:
        day = json_object(raw)
        days.append(DayFigures(
            day=date.fromisoformat(_req_str(day, "day")),
            bookings=_counts(day["bookings"], "bookings", BookingStatus),
            covers=_counts(day["covers"], "covers", BookingStatus),
            orders=_counts(day["orders"], "orders", OrderStatus),
            order_cents=_counts(day["order_cents"], "order_cents", OrderStatus),
            category_cents=_counts(day["category_cents"], "category_cents", str)))
    return PastDays(date.fromisoformat(_req_str(d, "from")), date.fromisoformat(_req_str(d, "to")),
                    tuple(days), _opt_str(d, "timezone"))


@documented
def guest_from_json(data: Any) -> tuple[str, list[Booking]]:
    """``GET /api/bookings/<id>/guest``: what the guest was matched on, their other bookings."""
    d = json_object(data)
    return _req_str(d, "matched_by"), [booking_from_json(b) for b in d["bookings"]]


def _clock(value: Any, name: str) -> time:
    """'HH:MM' as the floor's opening hours are written."""
    text = _req_str({name: value}, name)
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


@documented
def floor_from_json(data: Any) -> FloorPlan:
    d = json_object(data)
    tables = tuple(DiningTable(number=_req_int(t, "number"), name=_opt_str(t, "name")
                               or str(t["number"]), seats=_req_int(t, "seats"),
                               area=_opt_str(t, "area"))
                   for t in (json_object(x) for x in d.get("tables") or ()))
    limit = d.get("covers_per_slot")
    return FloorPlan(tables=tables, opens_at=_clock(d["opens_at"], "opens_at"),
                     closes_at=_clock(d["closes_at"], "closes_at"),
                     slot_minutes=_req_int(d, "slot_minutes"),
                     covers_per_slot=None if limit is None else _int(limit, "covers_per_slot"),
                     turn_minutes=_req_int(d, "turn_minutes"),
                     large_party_turn_minutes=_opt_int(d, "large_party_turn_minutes",
                                                       _req_int(d, "turn_minutes")))


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


@documented
def changes_from_json(data: Any) -> tuple[Change, ...]:
    """``GET /api/<entity>/<id>/history``: its items, newest first as sent."""
    items = json_object(data)["items"]
    if not isinstance(items, list):
        raise TypeError("items is not a list")
    out = []
    for raw in items:
        d = json_object(raw)
        out.append(Change(at=_time(d.get("at"), "at"), user=_opt_str(d, "user"),
                          field=_req_str(d, "field"), old=_text_or_none(d.get("from")),
                          new=_text_or_none(d.get("to")),
                          version=_opt_int(d, "version", None)))
    return tuple(out)


def saved_by_from_json(data: Any) -> SavedBy | None:
    """A 412 answer's ``saved_by`` (who saved first, when), or None when it has none."""
    if not isinstance(data, dict) or not isinstance(data.get("user"), str):
        return None
    try:
        at = _opt_time(data.get("at"))
    except _MALFORMED:
        at = None
    return SavedBy(data["user"], at)
