"""The restaurant floor: tables, hours, slots, covers limits, and a day laid out on them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

from console.shop import Booking, BookingQuery, BookingStatus, Page, utc

#: Bookings that hold a table and count as covers (a cancelled or no-show booking holds none).
HOLDING = frozenset({BookingStatus.CONFIRMED, BookingStatus.SEATED})
#: From this party size on a booking holds its table for the plan's longer turn.
LARGE_PARTY = 6


@dataclass(frozen=True, slots=True)
class DiningTable:
    """One table of the room: ``number`` is what a booking's ``table_no`` names."""

    number: int
    name: str
    seats: int
    area: str = ""


@dataclass(frozen=True, slots=True)
class FloorPlan:
    """The room and its rules: tables, opening hours (shop-local), slots and covers per slot.

    ``covers_per_slot`` None means the shop sets no limit. A plan without tables is what a
    shop that keeps none gives (a mapped schema, a connector without them).
    """

    tables: tuple[DiningTable, ...] = ()
    opens_at: time = time(11, 0)
    closes_at: time = time(23, 0)
    slot_minutes: int = 30
    covers_per_slot: int | None = None
    turn_minutes: int = 90
    large_party_turn_minutes: int = 120
    _by_number: dict[int, DiningTable] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A 200-table floor looks its tables up by number for every booking.
        object.__setattr__(self, "_by_number", {t.number: t for t in self.tables})

    @property
    def has_tables(self) -> bool:
        return bool(self.tables)

    @property
    def seats(self) -> int:
        return sum(t.seats for t in self.tables)

    def table(self, number: int | None) -> DiningTable | None:
        return self._by_number.get(number) if number is not None else None

    def expected_minutes(self, party_size: int) -> int:
        """How long a party holds its table: the turn time, longer for a large party."""
        return (self.large_party_turn_minutes if party_size >= LARGE_PARTY
                else self.turn_minutes)

    def service(self, day: date, tz: tzinfo) -> tuple[datetime, datetime]:
        """Opening and closing on ``day`` as aware datetimes in ``tz`` (closing after
        midnight when it is earlier than opening)."""
        start = datetime.combine(day, self.opens_at, tzinfo=tz)
        end = datetime.combine(day, self.closes_at, tzinfo=tz)
        if end <= start:
            end += timedelta(days=1)
        return start, end

    def slots(self, day: date, tz: tzinfo) -> list[datetime]:
        """The start of every slot of ``day``'s service."""
        start, end = self.service(day, tz)
        step = timedelta(minutes=max(5, self.slot_minutes))
        out = []
        t = start
        while t < end:
            out.append(t)
            t += step
        return out


@dataclass(frozen=True, slots=True)
class SlotCovers:
    """Covers arriving in one slot against the limit ('5/10'); ``over`` past the limit."""

    start: datetime
    covers: int
    limit: int | None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.covers > self.limit

    @property
    def text(self) -> str:
        return f"{self.covers}/{self.limit}" if self.limit is not None else str(self.covers)


def covers_per_slot(plan: FloorPlan, bookings: Iterable[Booking], day: date,
                    tz: tzinfo) -> list[SlotCovers]:
    """Covers of the bookings that hold a table, by the slot they start in (Tock's '5/10').

    A booking before the first slot counts in the first, one after the last in the last."""
    slots = plan.slots(day, tz)
    if not slots:
        return []
    step = timedelta(minutes=max(5, plan.slot_minutes))
    counts = [0] * len(slots)
    first = utc(slots[0])
    for b in bookings:
        if b.status not in HOLDING:
            continue
        i = int((b.start_at - first) // step)  # a Booking's start is aware already
        if -1 <= i <= len(slots):  # a little outside the hours: the nearest slot
            counts[min(max(i, 0), len(slots) - 1)] += b.party_size
    return [SlotCovers(s, c, plan.covers_per_slot) for s, c in zip(slots, counts, strict=True)]


@dataclass(frozen=True, slots=True)
class Seating:
    """One booking on the floor: when it holds its table and what is wrong with it."""

    booking: Booking
    start: datetime
    end: datetime
    double_booked: bool = False
    too_small: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        out = []
        if self.double_booked:
            out.append("double-booked")
        if self.too_small:
            out.append("party larger than the table")
        return tuple(out)


@dataclass(frozen=True, slots=True)
class FloorDay:
    """A day on the floor: each table's seatings, the ones without a table, and the slots."""

    plan: FloorPlan
    seatings: dict[int, tuple[Seating, ...]]
    unassigned: tuple[Seating, ...]
    slots: tuple[SlotCovers, ...]
    start: datetime
    end: datetime
    problems: int = field(default=0)

    def free_at(self, moment: datetime) -> list[DiningTable]:
        """The tables no holding booking occupies at ``moment``."""
        m = utc(moment)
        return [t for t in self.plan.tables
                if not any(s.booking.status in HOLDING and utc(s.start) <= m < utc(s.end)
                           for s in self.seatings.get(t.number, ()))]

    def free_between(self, lo: datetime, hi: datetime) -> list[DiningTable]:
        """The tables no holding booking occupies at any time in [lo, hi)."""
        a, b = utc(lo), utc(hi)
        return [t for t in self.plan.tables
                if not any(s.booking.status in HOLDING and utc(s.start) < b and a < utc(s.end)
                           for s in self.seatings.get(t.number, ()))]


def lay_out(plan: FloorPlan, bookings: Iterable[Booking], day: date, tz: tzinfo) -> FloorDay:
    """Place ``day``'s bookings on their tables; flag double bookings and parties too big.

    Cancelled bookings are left off the floor; no-shows stay (greyed by the page) but hold
    nothing, so they clash with no one.
    """
    rows = [b for b in bookings if b.status is not BookingStatus.CANCELLED]
    by_table: dict[int, list[Seating]] = defaultdict(list)
    unassigned: list[Seating] = []
    for b in rows:
        start = utc(b.start_at)
        seat = Seating(b, start, start + timedelta(minutes=plan.expected_minutes(b.party_size)))
        table = plan.table(b.table_no)
        if table is None:
            unassigned.append(seat)
        else:
            by_table[table.number].append(seat)
    seatings: dict[int, tuple[Seating, ...]] = {}
    problems = 0
    for number, seats in by_table.items():
        seats.sort(key=lambda s: (s.start, s.booking.id))
        table = plan.table(number)
        assert table is not None
        # Sorted by start, a booking can only clash with those starting before it ends.
        holding = [s for s in seats if s.booking.status in HOLDING]
        clashing: set[int] = set()
        for i, s in enumerate(holding):
            for o in holding[i + 1:]:
                if o.start >= s.end:
                    break
                clashing.update((s.booking.id, o.booking.id))
        flagged = []
        for s in seats:
            clash = s.booking.id in clashing
            small = s.booking.party_size > table.seats
            if clash or small:
                problems += 1
            flagged.append(Seating(s.booking, s.start, s.end, double_booked=clash,
                                   too_small=small) if clash or small else s)
        seatings[number] = tuple(flagged)
    start, end = plan.service(day, tz)
    last = max((s.end for seats in seatings.values() for s in seats), default=end)
    last = max([last, *(s.end for s in unassigned)])
    first = min([start, *(s.start for seats in seatings.values() for s in seats),
                 *(s.start for s in unassigned)])
    return FloorDay(plan, seatings, tuple(sorted(unassigned, key=lambda s: s.start)),
                    tuple(covers_per_slot(plan, rows, day, tz)), utc(first),
                    max(utc(last), utc(end)), problems)


def outside_hours(plan: FloorPlan, moment: datetime) -> str | None:
    """Why ``moment`` (aware, in the shop's zone) is outside the service, in words, or None
    when the shop is open then (a service past midnight counts for the night after it)."""
    tz = moment.tzinfo
    assert tz is not None, "an aware time"
    for day in (moment.date() - timedelta(days=1), moment.date()):
        start, end = plan.service(day, tz)
        if start <= moment < end:
            return None
    start, _end = plan.service(moment.date(), tz)
    if moment < start:
        return f"Before opening (the shop opens at {plan.opens_at:%H:%M})"
    return f"After closing (the shop closes at {plan.closes_at:%H:%M})"


def best_table(day: FloorDay, party_size: int, start: datetime) -> DiningTable | None:
    """The smallest table free for a party of ``party_size`` from ``start`` for its turn."""
    end = start + timedelta(minutes=day.plan.expected_minutes(party_size))
    fits = [t for t in day.free_between(start, end) if t.seats >= party_size]
    return min(fits, key=lambda t: (t.seats, t.number), default=None)


class FloorSource(Protocol):
    """What reading a day's floor needs of a shop repository."""

    def floor(self) -> FloorPlan: ...

    def list_bookings(self, query: BookingQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Booking]: ...


#: Bookings read per page for a day's floor (the most the repositories give at once).
DAY_PAGE = 200


def read_day(shop: FloorSource, day: date, tz: tzinfo) -> FloorDay:
    """``day``'s plan and every booking starting that local day, keyset page by page, laid
    out (blocking: call it off the GUI thread)."""
    plan = shop.floor()
    start = datetime.combine(day, time(0), tzinfo=tz)
    query = BookingQuery(start_from=start, start_to=datetime.combine(
        day + timedelta(days=1), time(0), tzinfo=tz))
    rows: list[Booking] = []
    after: str | None = None
    while True:
        page = shop.list_bookings(query, after=after, limit=DAY_PAGE)
        rows += page.rows
        after = page.next_cursor
        if after is None:
            return lay_out(plan, rows, day, tz)
