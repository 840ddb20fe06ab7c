"""console/shop.py and shop_rules.py: validation, status moves, merging, money and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.shop import (
    Booking,
    BookingDraft,
    BookingStatus,
    OrderStatus,
    ProductDraft,
    Side,
    ValidationFailed,
    diff_drafts,
    format_cents,
    hour_buckets,
    iso_z,
    merge_drafts,
    parse_iso,
    parse_money,
)
from console.shop_rules import (
    ORDER_TRANSITIONS,
    allowed_booking_transitions,
    allowed_order_transitions,
    check_booking,
    check_order_transition,
    check_product,
    check_restock,
    check_search,
    validate_booking,
    validate_product,
    validate_restock,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def draft(**kw: object) -> BookingDraft:
    base: dict[str, object] = {"customer_name": "Ana Lima", "party_size": 4,
                               "start_at": NOW + timedelta(hours=7)}
    base.update(kw)
    return BookingDraft(**base)  # type: ignore[arg-type]


def test_a_good_booking_has_no_errors() -> None:
    assert validate_booking(draft(), now=NOW) == {}


@pytest.mark.parametrize(("field", "value", "key"), [
    ("party_size", 0, "party_size"),
    ("party_size", 21, "party_size"),
    ("customer_name", "   ", "customer_name"),
    ("customer_name", "x" * 121, "customer_name"),
    ("start_at", NOW - timedelta(minutes=1), "start_at"),
    ("start_at", NOW, "start_at"),
    ("phone", "call me maybe", "phone"),
    ("table_no", 0, "table_no"),
    ("notes", "n" * 1001, "notes"),
])
def test_each_bad_field_gets_its_own_message(field: str, value: object, key: str) -> None:
    errors = validate_booking(draft(**{field: value}), now=NOW)
    assert set(errors) == {key}
    assert errors[key].endswith(".")


def test_an_edit_may_keep_a_past_start_but_not_move_to_one() -> None:
    past = NOW - timedelta(hours=2)
    assert validate_booking(draft(start_at=past), now=NOW, stored_start=lambda: past) == {}
    moved = validate_booking(draft(start_at=past - timedelta(hours=1)), now=NOW,
                             stored_start=lambda: past)
    assert moved["start_at"] == "Pick a time in the future."


def test_an_edit_reads_the_stored_start_only_for_a_start_in_the_past() -> None:
    def must_not_read() -> datetime:
        raise AssertionError("the stored start was read for a start in the future")

    assert validate_booking(draft(), now=NOW, stored_start=must_not_read) == {}


def test_an_adapter_refuses_what_a_form_would_show() -> None:
    bad = draft(party_size=0, start_at=NOW - timedelta(days=1))
    with pytest.raises(ValidationFailed) as refused:
        check_booking(bad, now=NOW)
    assert refused.value.errors == validate_booking(bad, now=NOW)
    check_booking(draft(), now=NOW)  # nothing to refuse
    with pytest.raises(ValidationFailed) as product:
        check_product(ProductDraft(name="", category="x", price_cents=1, stock=1))
    assert set(product.value.errors) == {"name"}
    with pytest.raises(ValidationFailed):
        check_restock(0)


def test_a_search_is_trimmed_and_at_most_200_characters() -> None:
    assert check_search("  Ana  ") == "Ana"
    assert check_search(" " + "y" * 200 + " ") == "y" * 200
    with pytest.raises(ValidationFailed) as long:
        check_search("y" * 201)
    assert long.value.errors == {"search": "Search at most 200 characters."}


def test_party_size_bounds_are_inclusive() -> None:
    assert validate_booking(draft(party_size=1), now=NOW) == {}
    assert validate_booking(draft(party_size=20), now=NOW) == {}


def test_product_rules() -> None:
    ok = ProductDraft(name="Espresso", category="Coffee", price_cents=0, stock=0)
    assert validate_product(ok) == {}
    bad = validate_product(ProductDraft(name="", category="", price_cents=-1, stock=-1,
                                        low_stock_threshold=-1))
    assert set(bad) == {"name", "category", "price_cents", "stock", "low_stock_threshold"}
    assert validate_restock(0) and validate_restock(100_001) and not validate_restock(5)


def test_order_moves_are_exactly_the_allowed_ones() -> None:
    assert allowed_order_transitions(OrderStatus.PENDING) == (OrderStatus.PAID,
                                                              OrderStatus.CANCELLED)
    assert allowed_order_transitions(OrderStatus.PAID) == (
        OrderStatus.PREPARING, OrderStatus.CANCELLED, OrderStatus.REFUNDED)
    assert allowed_order_transitions(OrderStatus.PREPARING) == (OrderStatus.READY,)
    assert allowed_order_transitions(OrderStatus.READY) == (OrderStatus.COMPLETED,)
    assert allowed_order_transitions(OrderStatus.COMPLETED) == (OrderStatus.REFUNDED,)
    assert allowed_order_transitions(OrderStatus.CANCELLED) == ()
    for current in OrderStatus:
        for new in OrderStatus:
            if new in ORDER_TRANSITIONS[current]:
                check_order_transition(current, new)
            else:
                with pytest.raises(ValidationFailed) as caught:
                    check_order_transition(current, new)
                assert "status" in caught.value.errors


def test_booking_moves() -> None:
    assert BookingStatus.SEATED in allowed_booking_transitions(BookingStatus.CONFIRMED)
    assert allowed_booking_transitions(BookingStatus.CANCELLED) == ()
    assert BookingStatus.SEATED in allowed_booking_transitions(BookingStatus.NO_SHOW)


def test_diff_suggests_keeping_whatever_only_one_side_changed() -> None:
    base = draft(notes="")
    mine = draft(party_size=6, notes="")
    theirs = draft(notes="allergy: nuts", phone="+44 1")
    diffs = {d.name: d for d in diff_drafts(base, mine, theirs)}
    assert set(diffs) == {"party_size", "notes", "phone"}
    assert diffs["party_size"].suggested is Side.MINE
    assert diffs["notes"].suggested is Side.THEIRS
    merged = merge_drafts(mine, theirs, {k: d.suggested for k, d in diffs.items()})
    assert (merged.party_size, merged.notes, merged.phone) == (6, "allergy: nuts", "+44 1")
    # Both changed one field: mine is suggested, and the user decides.
    both = {d.name: d for d in diff_drafts(base, draft(notes="a"), draft(notes="b"))}
    assert both["notes"].suggested is Side.MINE


def test_merge_defaults_to_theirs() -> None:
    mine, theirs = draft(party_size=3), draft(party_size=8)
    assert merge_drafts(mine, theirs, {}).party_size == 8
    assert merge_drafts(mine, theirs, {"party_size": Side.MINE}).party_size == 3


def test_booking_draft_round_trip() -> None:
    b = Booking(id=1, customer_name="A", party_size=2, start_at=NOW,
                status=BookingStatus.CONFIRMED, version=3, phone="1", table_no=4, notes="n")
    assert b.draft() == BookingDraft("A", 2, NOW, "1", 4, "n")


def test_times_in_and_out() -> None:
    assert iso_z(NOW) == "2026-11-25T12:00:00Z"
    assert parse_iso("2026-11-25T12:00:00Z") == NOW
    assert parse_iso("2026-11-25T13:00:00+01:00") == NOW
    assert parse_iso("2026-11-25T12:00:00") == NOW
    assert iso_z(NOW.astimezone(timezone(timedelta(hours=-5)))) == "2026-11-25T12:00:00Z"


def test_hour_buckets() -> None:
    start = NOW.replace(hour=0)
    times = [start + timedelta(hours=h, minutes=30) for h in (0, 11, 11, 23)]
    times.append(start + timedelta(days=1))  # outside
    counts = hour_buckets(start, times)
    assert len(counts) == 24 and counts[11] == 2 and counts[0] == counts[23] == 1
    assert sum(counts) == 4


@pytest.mark.parametrize(("cents", "text"), [(0, "€0.00"), (5, "€0.05"), (12345, "€123.45"),
                                             (123456789, "€1,234,567.89"), (-250, "-€2.50")])
def test_money_is_written_in_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_money_round_trips(cents: int) -> None:
    assert parse_money(format_cents(cents).replace("-€", "-")) == cents


@pytest.mark.parametrize("bad", ["", "abc", "1.234", "€", "1,2.3.4"])
def test_parse_money_refuses_nonsense(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_money(bad)
