"""The floor's rules: a day laid out on its tables, clashes and parties too big, covers per slot."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from console.floor import (
    DiningTable,
    FloorPlan,
    best_table,
    covers_per_slot,
    lay_out,
    outside_hours,
)
from console.shop import Booking, BookingDraft, BookingStatus
from console.shop_rules import validate_booking

DAY = date(2026, 12, 7)
PLAN = FloorPlan(tables=(DiningTable(1, "D1", 2, "Dining room"),
                         DiningTable(2, "D2", 4, "Dining room"),
                         DiningTable(3, "T1", 6, "Terrace")),
                 opens_at=time(17, 0), closes_at=time(23, 0), slot_minutes=30,
                 covers_per_slot=6, turn_minutes=90, large_party_turn_minutes=120)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def booking(i: int, party: int, start: datetime, table: int | None,
            status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
    return Booking(id=i, customer_name=f"Guest {i}", party_size=party, start_at=start,
                   status=status, version=1, table_no=table)


def test_a_clash_on_one_table_flags_both_and_a_party_too_big_is_flagged() -> None:
    day = lay_out(PLAN, [booking(1, 2, at(19), 2), booking(2, 3, at(20), 2),
                         booking(3, 4, at(19), 1), booking(4, 2, at(19), 3)], DAY, UTC)
    on_two = day.seatings[2]
    assert [s.double_booked for s in on_two] == [True, True]
    (big,) = day.seatings[1]
    assert big.too_small and not big.double_booked
    assert big.flags == ("party larger than the table",)
    assert day.seatings[3][0].flags == ()
    assert day.problems == 3


def test_cancelled_leave_the_floor_and_no_shows_clash_with_no_one() -> None:
    day = lay_out(PLAN, [booking(1, 2, at(19), 2, BookingStatus.NO_SHOW),
                         booking(2, 2, at(19, 30), 2),
                         booking(3, 2, at(19), 2, BookingStatus.CANCELLED)], DAY, UTC)
    assert [s.booking.id for s in day.seatings[2]] == [1, 2]
    assert day.problems == 0


def test_a_large_party_holds_its_table_longer_and_unknown_tables_are_unassigned() -> None:
    day = lay_out(PLAN, [booking(1, 6, at(18), 3), booking(2, 2, at(18), 9)], DAY, UTC)
    assert day.seatings[3][0].end - day.seatings[3][0].start == timedelta(minutes=120)
    assert [s.booking.id for s in day.unassigned] == [2]


def test_covers_per_slot_against_the_limit() -> None:
    slots = covers_per_slot(PLAN, [booking(1, 4, at(19), 1), booking(2, 3, at(19, 10), 2),
                                   booking(3, 2, at(19, 30), 3),
                                   booking(4, 8, at(19), 3, BookingStatus.CANCELLED)], DAY, UTC)
    by_time = {s.start.strftime("%H:%M"): s for s in slots}
    assert len(slots) == 12 and by_time["17:00"].text == "0/6"
    assert by_time["19:00"].text == "7/6" and by_time["19:00"].over
    assert by_time["19:30"].text == "2/6" and not by_time["19:30"].over


def test_free_tables_and_the_best_table_for_a_walk_in() -> None:
    day = lay_out(PLAN, [booking(1, 2, at(19), 2)], DAY, UTC)
    assert [t.number for t in day.free_at(at(19, 30))] == [1, 3]
    assert best_table(day, 2, at(19, 30)).number == 1  # type: ignore[union-attr]
    assert best_table(day, 4, at(19, 30)).number == 3  # type: ignore[union-attr]
    assert best_table(day, 7, at(19, 30)) is None


def test_a_walk_in_starts_now_where_a_booking_must_start_later() -> None:
    now = at(19)
    draft = BookingDraft(customer_name="Walk-in", party_size=2, start_at=now, table_no=1)
    assert validate_booking(draft, now=now) == {"start_at": "Pick a time in the future."}
    assert validate_booking(draft, now=now, walk_in=True) == {}
    nameless = BookingDraft(customer_name=" ", party_size=2, start_at=now, table_no=1)
    assert set(validate_booking(nameless, now=now, walk_in=True)) == {"customer_name"}


def test_outside_hours_knows_a_service_past_midnight_belongs_to_the_night_before() -> None:
    from zoneinfo import ZoneInfo

    late = FloorPlan(opens_at=time(17, 0), closes_at=time(1, 0))
    berlin = ZoneInfo("Europe/Berlin")

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2027, 3, 12, hour, minute, tzinfo=berlin)

    assert outside_hours(late, at(0, 30)) is None  # last night's service, still on
    assert outside_hours(late, at(1, 0)) == "Before opening (the shop opens at 17:00)"
    assert outside_hours(late, at(16, 59)) == "Before opening (the shop opens at 17:00)"
    assert outside_hours(late, at(17, 0)) is None
    assert outside_hours(late, at(23, 59)) is None
    lunch = FloorPlan(opens_at=time(11, 0), closes_at=time(15, 0))
    assert outside_hours(lunch, at(15, 0)) == "After closing (the shop closes at 15:00)"
    assert outside_hours(lunch, at(10, 0)) == "Before opening (the shop opens at 11:00)"
