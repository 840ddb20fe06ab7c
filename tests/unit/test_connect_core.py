"""The connectors' core: a shop's mapping mistakes are named, ETags and versions read right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from backroom_connect_core import MappingError, parse_config
from backroom_connect_core.reports import offset_stretches
from backroom_connect_core.values import (
    Refusal,
    cursor_total,
    decode_cursor,
    encode_cursor,
    next_version,
    parse_if_match,
    version_number,
)
from hypothesis import given, settings
from hypothesis import strategies as st

TOKEN = "0123456789abcdef-token"


def bookings(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "model": "reservations.Reservation",
        "fields": {"start_at": "time", "guest_name": "name", "party_size": "covers",
                   "status": "state"},
        "status_values": {"confirmed": "C", "cancelled": "X"}, "version": "updated_at"}
    spec.update(changes)
    return {"token": TOKEN, "bookings": spec}


def test_the_issues_mapping_is_read_with_its_own_key_names() -> None:
    config = bookings()
    config["bookings"]["fields"].update({"table": "table_no", "phone": "phone"})
    m = parse_config(config)["bookings"]
    assert m.columns["customer_name"] == "name"
    assert m.columns["table_no"] == "table_no"
    assert m.writable
    described = m.describe()
    assert described["statuses"] == ["confirmed", "cancelled"]
    assert "notes" not in described["fields"]


@pytest.mark.parametrize(("config", "named"), [
    ({"token": "short", "bookings": {}}, "token"),
    ({**bookings(), "bookngs": {}}, "bookngs"),
    (bookings(fields={"start_at": "time", "guest_name": "name", "party_size": "covers",
                      "status": "state", "colour": "c"}), "colour"),
    (bookings(fields={"start_at": "time", "guest_name": "name", "status": "state"}),
     "party_size"),
    (bookings(status_values={"confirmed": "C", "arrived": "A"}), "arrived"),
    (bookings(status_values={}), "status_values"),
    (bookings(version=""), "version"),
])
def test_a_mapping_mistake_names_the_key(config: dict[str, Any], named: str) -> None:
    with pytest.raises(MappingError, match=named):
        parse_config(config)


WAITLIST = {"model": "reservations.WaitingParty",
            "fields": {"guest_name": "guest", "party_size": "people", "quoted": "quoted",
                       "added_at": "joined", "state": "state"},
            "status_values": {"waiting": "W", "seated": "S", "removed": "G"}}


@pytest.mark.parametrize(("spec", "named"), [
    ({**WAITLIST, "status_values": {}}, "status_values"),
    ({**WAITLIST, "status_values": {"waiting": "W", "left": "L"}}, "left"),
    ({**WAITLIST, "fields": {"guest_name": "guest", "party_size": "people",
                             "added_at": "joined", "state": "state"}}, "quoted_minutes"),
])
def test_a_waitlist_mapping_mistake_names_the_key(spec: dict[str, Any], named: str) -> None:
    with pytest.raises(MappingError, match=named):
        parse_config({**bookings(), "waitlist": spec})


def test_a_party_changes_by_its_state_and_is_no_entity_of_discovery() -> None:
    from backroom_connect_core.handler import discovery

    mappings = parse_config({**bookings(), "waitlist": WAITLIST, "order_lines": {
        "model": "kitchen.TicketLine",
        "fields": {"order": "ticket", "quantity": "qty", "price_cents": "price_pence"}}})
    party = mappings["waitlist"]
    assert party.columns["version"] == party.columns["state"] == "state"  # seat compares it
    assert mappings["order_lines"].columns["unit_price_cents"] == "price_pence"
    found = discovery(mappings, "test")
    assert found["waitlist"] is True
    assert set(found["entities"]) == {"bookings"}
    with pytest.raises(MappingError, match="order"):
        parse_config({**bookings(), "order_lines": {"model": "x", "fields": {"qty": "q"}}})


def test_without_a_version_the_entity_is_read_only_and_says_why() -> None:
    config = bookings()
    del config["bookings"]["version"]
    m = parse_config(config)["bookings"]
    assert not m.writable
    assert "read-only" in m.describe()["read_only_reason"]
    assert m.describe()["editable"] == []


@pytest.mark.parametrize(("header", "version"), [('W/"3"', 3), ('"3"', 3), ("3", 3),
                                                 ("*", "*")])
def test_if_match_forms_the_contract_accepts(header: str, version: Any) -> None:
    assert parse_if_match(header, required=True) == version


@pytest.mark.parametrize("header", ['"1.5"', "9" * 40, "٣", "W/3x"])
def test_if_match_naming_no_version_is_412(header: str) -> None:
    with pytest.raises(Refusal) as caught:
        parse_if_match(header, required=True)
    assert caught.value.status == 412


def test_a_missing_if_match_is_428() -> None:
    with pytest.raises(Refusal) as caught:
        parse_if_match(None, required=True)
    assert caught.value.status == 428
    assert parse_if_match(None, required=False) is None


def test_a_timestamp_version_moves_on_every_save_even_within_a_microsecond() -> None:
    future = datetime.now(UTC) + timedelta(hours=1)  # a clock that was ahead
    after = next_version(future)
    assert after > future
    assert version_number(after) > version_number(future)
    naive = datetime(2026, 1, 1, 12, 0)
    assert next_version(naive).tzinfo is None
    assert next_version(7) == 8


def test_cursors_round_trip_times_and_refuse_another_sort() -> None:
    at = datetime(2026, 11, 25, 19, 30, tzinfo=UTC)
    cursor = encode_cursor("start_at", at, 12)
    assert decode_cursor(cursor, "start_at") == (at, 12)
    with pytest.raises(Refusal) as caught:
        decode_cursor(cursor, "-start_at")
    assert caught.value.status == 422
    with pytest.raises(Refusal):
        decode_cursor("not-a-cursor!", "start_at")


def test_the_first_pages_count_rides_in_the_cursor() -> None:
    cursor = encode_cursor("name", "Ana", 3, 120_000)
    assert decode_cursor(cursor, "name") == ("Ana", 3)
    assert cursor_total(cursor) == 120_000
    assert cursor_total(encode_cursor("name", "Ana", 3)) is None


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe",
                             "Asia/Kolkata", "Pacific/Chatham", "UTC"]),
       start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
       days=st.integers(1, 366), probes=st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_a_time_moved_by_its_stretchs_offset_falls_on_its_day_in_the_zone(
        zone: str, start: datetime, days: int, probes: list[float]) -> None:
    # what a database without zone tables is given for the day report (MariaDB as
    # installed): the day of each time must be the zone's own, summer time and all
    where = ZoneInfo(zone)
    lo = start.replace(tzinfo=UTC)
    hi = lo + timedelta(days=days)
    stretches = offset_stretches(where, lo, hi)
    assert stretches[-1][0] == hi
    assert all(a[0] < b[0] for a, b in pairwise(stretches))
    edges = [lo] + [until for until, _ in stretches]
    for t in [lo + (hi - lo) * p for p in probes] + [u - timedelta(seconds=1)
                                                    for u in edges[1:]] + edges[1:-1]:
        if t >= hi:
            continue
        offset = next(off for until, off in stretches if t < until)
        assert (t + offset).date() == t.astimezone(where).date(), (t, stretches)


def test_london_changes_its_offset_twice_a_year_and_kolkata_never() -> None:
    year = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    assert offset_stretches(ZoneInfo("Europe/London"), *year) == [
        (datetime(2027, 3, 28, 1, tzinfo=UTC), timedelta(0)),
        (datetime(2027, 10, 31, 1, tzinfo=UTC), timedelta(hours=1)),
        (year[1], timedelta(0))]
    assert offset_stretches(ZoneInfo("Asia/Kolkata"), *year) == [
        (year[1], timedelta(hours=5, minutes=30))]


def test_the_change_log_reads_no_value_and_an_empty_one_as_the_same() -> None:
    from backroom_connect_core.changes import change_log

    config = bookings()
    config["bookings"]["fields"]["phone"] = "phone"
    m = parse_config(config)["bookings"]
    before = {"id": 7, "customer_name": "Ana Lima", "phone": "", "party_size": 2}
    rows = change_log(m, before, {"customer_name": "Ana Lima", "phone": None, "party_size": 3},
                      version=2, user="Zoë Ng")
    assert [(r["field"], r["from"], r["to"]) for r in rows] == [("party_size", "2", "3")]
    cleared = change_log(m, {**before, "phone": "+44 7700 900001"}, {"phone": None}, 3, "Ben")
    assert [(r["field"], r["from"], r["to"]) for r in cleared] == [
        ("phone", "+44 7700 900001", None)]
