"""Past days: bookings, covers, orders and sales per day and product category, for a date range."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TypeVar

from console.shop import REVENUE_STATUSES, BookingStatus, OrderStatus, ValidationFailed, utc

#: The longest range one report covers (a year, a leap day included).
MAX_DAYS = 366
#: Covers of these bookings are the ones the room served or expected.
BOOKED = frozenset({BookingStatus.CONFIRMED, BookingStatus.SEATED})


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One day's bookings and covers by status, orders and their money by status, and the
    lines of the orders that count as revenue by product category (integer cents)."""

    day: date
    bookings: Mapping[BookingStatus, int] = field(default_factory=dict)
    covers: Mapping[BookingStatus, int] = field(default_factory=dict)
    orders: Mapping[OrderStatus, int] = field(default_factory=dict)
    order_cents: Mapping[OrderStatus, int] = field(default_factory=dict)
    category_cents: Mapping[str, int] = field(default_factory=dict)

    @property
    def booking_count(self) -> int:
        return sum(self.bookings.values())

    @property
    def booked_covers(self) -> int:
        """Covers of bookings confirmed or seated (no-shows and cancels left out)."""
        return sum(n for s, n in self.covers.items() if s in BOOKED)

    @property
    def order_count(self) -> int:
        return sum(self.orders.values())

    @property
    def revenue_cents(self) -> int:
        return sum(c for s, c in self.order_cents.items() if s in REVENUE_STATUSES)


@dataclass(frozen=True, slots=True)
class PastDays:
    """Every day from ``first`` to ``last`` (both included), a row each, empty days too."""

    first: date
    last: date
    days: tuple[DayFigures, ...]
    zone: str = ""
    """Whose days these are, for the page ('UTC' from the demo API; '' for the console's)."""

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories sold in the range, the biggest first."""
        totals = self.category_totals
        return tuple(sorted(totals, key=lambda c: (-totals[c], c)))

    @property
    def category_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for d in self.days:
            for c, cents in d.category_cents.items():
                totals[c] = totals.get(c, 0) + cents
        return totals

    def total(self) -> DayFigures:
        """The whole range as one row (its ``day`` is ``first``)."""
        return DayFigures(self.first, _sum(d.bookings for d in self.days),
                          _sum(d.covers for d in self.days), _sum(d.orders for d in self.days),
                          _sum(d.order_cents for d in self.days), self.category_totals)


def check_range(first: date, last: date) -> None:
    """Raise :class:`ValidationFailed` unless ``first..last`` is a range a report may cover."""
    if last < first:
        raise ValidationFailed({"range": "The last day comes before the first."})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed({"range": f"Pick at most {MAX_DAYS} days."})


def day_window(first: date, last: date, tz: tzinfo | None) -> tuple[datetime, datetime]:
    """[start of ``first``, end of ``last``) in ``tz`` (the console's zone for None), UTC."""
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    if tz is None:
        return utc(start.astimezone()), utc(end.astimezone())
    return utc(start.replace(tzinfo=tz)), utc(end.replace(tzinfo=tz))


def tally(first: date, last: date, tz: tzinfo | None, *,
          bookings: Iterable[tuple[datetime, str, int]],
          orders: Iterable[tuple[datetime, str, int]],
          lines: Iterable[tuple[datetime, str, int]], zone: str = "") -> PastDays:
    """Count rows into days: ``bookings`` (start, status, party size), ``orders`` (placed,
    status, total cents) and ``lines`` of revenue orders (placed, category, line cents).
    Times are aware (or naive UTC); a day is a day in ``tz``."""
    check_range(first, last)
    n = (last - first).days + 1
    b_count: list[dict[BookingStatus, int]] = [{} for _ in range(n)]
    covers: list[dict[BookingStatus, int]] = [{} for _ in range(n)]
    o_count: list[dict[OrderStatus, int]] = [{} for _ in range(n)]
    o_cents: list[dict[OrderStatus, int]] = [{} for _ in range(n)]
    cat: list[dict[str, int]] = [{} for _ in range(n)]

    def index(t: datetime) -> int | None:
        i = (utc(t).astimezone(tz).date() - first).days
        return i if 0 <= i < n else None

    for t, status, party in bookings:
        if (i := index(t)) is not None:
            s = BookingStatus(status)
            b_count[i][s] = b_count[i].get(s, 0) + 1
            covers[i][s] = covers[i].get(s, 0) + int(party)
    for t, status, cents in orders:
        if (i := index(t)) is not None:
            o = OrderStatus(status)
            o_count[i][o] = o_count[i].get(o, 0) + 1
            o_cents[i][o] = o_cents[i].get(o, 0) + int(cents)
    for t, category, cents in lines:
        if (i := index(t)) is not None:
            name = category or "Uncategorised"
            cat[i][name] = cat[i].get(name, 0) + int(cents)
    days = tuple(DayFigures(first + timedelta(days=i), b_count[i], covers[i], o_count[i],
                            o_cents[i], cat[i]) for i in range(n))
    return PastDays(first, last, days, zone)


def csv_rows(report: PastDays) -> list[list[object]]:
    """The report as rows for a CSV file: a header, a row a day, then the total row.

    Money in the shop's units with two decimals (spreadsheets sum them as numbers)."""
    cats = report.categories
    head: list[object] = [
        "day", "bookings", *(f"bookings {s.value}" for s in BookingStatus), "covers booked",
        *(f"covers {s.value}" for s in BookingStatus), "orders",
        *(f"orders {s.value}" for s in OrderStatus), "revenue",
        *(f"sales {c}" for c in cats)]
    rows: list[list[object]] = [head]
    for label, d in [*((d.day.isoformat(), d) for d in report.days), ("total", report.total())]:
        rows.append([
            label, d.booking_count, *(d.bookings.get(s, 0) for s in BookingStatus),
            d.booked_covers, *(d.covers.get(s, 0) for s in BookingStatus), d.order_count,
            *(d.orders.get(s, 0) for s in OrderStatus), _amount(d.revenue_cents),
            *(_amount(d.category_cents.get(c, 0)) for c in cats)])
    return rows


def _amount(cents: int) -> str:
    return f"{cents / 100:.2f}"


K = TypeVar("K")


def _sum(maps: Iterable[Mapping[K, int]]) -> dict[K, int]:
    out: dict[K, int] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0) + v
    return out
