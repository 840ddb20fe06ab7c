"""The day report (docs/api.md, Past days): per day, bookings and covers, orders and sales."""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from backroom_connect_core.contract import Mapping
from backroom_connect_core.store import Store
from backroom_connect_core.values import EARLIEST, LATEST, invalid

MAX_DAYS = 366
REVENUE_STATUSES = ("paid", "preparing", "ready", "completed")
UNCATEGORISED = "Uncategorised"


def _range(query: AnyMapping[str, str]) -> tuple[date, date]:
    errors: dict[str, str] = {}
    got: dict[str, date] = {}
    for name in ("from", "to"):
        raw = query.get(name) or ""
        try:
            day = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            day = None
        if day is None or not EARLIEST <= day <= LATEST:
            errors[name] = "must be a date YYYY-MM-DD"
        else:
            got[name] = day
    if not errors:
        first, last = got["from"], got["to"]
        if last < first:
            errors["to"] = "must not be before from"
        elif (last - first).days + 1 > MAX_DAYS:
            errors["to"] = f"at most {MAX_DAYS} days from 'from'"
    if errors:
        raise invalid(errors)
    return got["from"], got["to"]


def offset_stretches(zone: ZoneInfo, lo: datetime, hi: datetime
                     ) -> list[tuple[datetime, timedelta]]:
    """``[lo, hi)`` cut where ``zone``'s offset from UTC changes (summer time: twice a year):
    each stretch's end (UTC) and the offset it keeps, so that a time's day there is the
    date of the time moved by its stretch's offset, with no zone tables in the database."""

    def offset(t: datetime) -> timedelta:
        return t.astimezone(zone).utcoffset() or timedelta(0)

    end = hi.astimezone(UTC)
    t = lo.astimezone(UTC)
    current = offset(t)
    out: list[tuple[datetime, timedelta]] = []
    while t < end:
        step = min(t + timedelta(days=1), end)  # no zone changes twice in a day
        if offset(step) != current:
            a, b = t, step  # the change lies in (a, b]: halve it to a second
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                a, b = (mid, b) if offset(mid) == current else (a, mid)
            step = a.replace(microsecond=0) + timedelta(seconds=1)  # changes are on a second
            if step >= end:
                break
            out.append((step, current))
            current = offset(step)
        t = step
    out.append((end, current))
    return out


def _day(value: Any) -> str:
    """A grouped day as the database gives it (a date, or text on SQLite) in ISO."""
    return value.isoformat()[:10] if isinstance(value, date | datetime) else str(value)[:10]


def day_report(store: Store, mappings: dict[str, Mapping],
               query: AnyMapping[str, str]) -> dict[str, Any]:
    """Every day of ``from..to`` (empty days too), counted and summed by the database."""
    first, last = _range(query)
    zone_name = store.timezone()
    zone = ZoneInfo(zone_name)
    lo = datetime(first.year, first.month, first.day, tzinfo=zone)
    end = last + timedelta(days=1)
    hi = datetime(end.year, end.month, end.day, tzinfo=zone)
    days: dict[str, dict[str, Any]] = {}
    for i in range((last - first).days + 1):
        name = (first + timedelta(days=i)).isoformat()
        days[name] = {"day": name, "bookings": {}, "covers": {}, "orders": {},
                     "order_cents": {}, "category_cents": {}}
    for name, when, summed, counts, sums in (
            ("bookings", "start_at", "party_size", "bookings", "covers"),
            ("orders", "placed_at", "total_cents", "orders", "order_cents")):
        m = mappings.get(name)
        if m is None or not m.has(when) or not m.has("status"):
            continue
        for grouped, stored, n, total in store.day_totals(
                m, when, summed if m.has(summed) else None, lo, hi):
            status = m.status_of(stored)
            entry = days.get(_day(grouped))
            if status is None or entry is None:  # a status the shop does not map
                continue
            entry[counts][status] = entry[counts].get(status, 0) + int(n)
            entry[sums][status] = entry[sums].get(status, 0) + int(total or 0)
    lines, orders = mappings.get("order_lines"), mappings.get("orders")
    if lines is not None and orders is not None and orders.has("placed_at") \
            and orders.has("status"):
        paid = [orders.status_values[s] for s in REVENUE_STATUSES if s in orders.status_values]
        products = mappings.get("products")
        if products is not None and not products.has("category"):
            products = None
        for grouped, category, cents in store.line_totals(lines, orders, products, lo, hi,
                                                          paid):
            entry = days.get(_day(grouped))
            if entry is not None:
                sold = entry["category_cents"]
                key = str(category or UNCATEGORISED)
                sold[key] = sold.get(key, 0) + int(cents or 0)
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": zone_name,
            "days": list(days.values())}
