"""The waitlist, the day report and who changed what, over real Django and Flask connectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from console.changes import Entity
from console.shop import BookingStatus, Conflict, ValidationFailed
from console.waitlist import WaitlistDraft, WaitState
from tests.connectors.conftest import Shop

#: The test sites' own status letters, read back into the contract's names.
DJANGO_BOOKINGS = {"C": "confirmed", "S": "seated", "X": "cancelled", "N": "no_show"}
CAFE_BOOKINGS = {"booked": "confirmed", "in": "seated", "off": "cancelled", "noshow": "no_show"}
DJANGO_ORDERS = {"open": "pending", "paid": "paid", "cooking": "preparing", "pass": "ready",
                 "served": "completed", "void": "cancelled", "refund": "refunded"}
CAFE_SALES = {"paid": "paid", "done": "completed", "back": "refunded", "void": "cancelled"}


def midnight() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_party_waits_is_seated_and_becomes_a_walk_in(shop: Shop) -> None:
    host = shop.repo(user="Zoë Host")
    try:
        party = host.add_to_waitlist(WaitlistDraft(name="Nia Wait", covers=3,
                                                   quoted_minutes=20, phone="+44 7700 900555"))
        assert (party.state, party.covers, party.quoted_minutes) == (WaitState.WAITING, 3, 20)
        listed = host.waitlist(midnight())
        assert party.id in [p.id for p in listed.waiting]
        table = 5
        seated, booking = host.seat_from_waitlist(party.id, table)
        assert seated.state is WaitState.SEATED and seated.seated_at is not None
        assert seated.booking_id == booking.id
        assert (booking.status, booking.customer_name, booking.party_size, booking.table_no) == (
            BookingStatus.SEATED, "Nia Wait", 3, table)
        assert abs(booking.start_at - datetime.now(UTC)) < timedelta(minutes=1)
        if shop.name.startswith("django"):  # the café keeps no notes
            assert booking.notes == "From the waitlist: waited 0 min (quoted 20)."
        # A second host seats the same party: they are told it is seated, nothing is doubled.
        with pytest.raises(Conflict) as caught:
            shop.repo().seat_from_waitlist(party.id, table)
        assert caught.value.theirs.state is WaitState.SEATED
        after = host.waitlist(midnight())
        assert party.id not in [p.id for p in after.waiting]
        assert party.id in [p.id for p in after.seated_today]
        assert after.average_wait() is not None and after.average_wait() < timedelta(minutes=1)
        # Taken off the list: once.
        gone = host.add_to_waitlist(WaitlistDraft(name="Ola Leaves", covers=2,
                                                  quoted_minutes=10))
        removed = host.remove_from_waitlist(gone.id)
        assert removed.state is WaitState.REMOVED and removed.removed_at is not None
        with pytest.raises(Conflict):
            host.remove_from_waitlist(gone.id)
        with pytest.raises(ValidationFailed) as refused:
            host.add_to_waitlist(WaitlistDraft(name=" ", covers=2, quoted_minutes=10))
        assert "name" in refused.value.errors
        raw = requests.post(f"{shop.base_url}/api/waitlist", timeout=10, json={
            "name": 5, "covers": 0, "quoted_minutes": 500},
            headers={"Authorization": f"Bearer {shop.token}"})
        assert raw.status_code == 422
        assert set(raw.json()["errors"]) == {"name", "covers", "quoted_minutes"}
        if shop.name.startswith("django"):  # tables are mapped: a table the room lacks
            other = host.add_to_waitlist(WaitlistDraft(name="No Table", covers=2,
                                                       quoted_minutes=5))
            with pytest.raises(ValidationFailed) as no_table:
                host.seat_from_waitlist(other.id, 99)
            assert "table_no" in no_table.value.errors
            # the walk-in it became says who seated it, in the booking's history
            made = host.history(Entity.BOOKINGS, booking.id)
            assert [(c.user, c.field) for c in made] == [("Zoë Host", "created")]
    finally:
        host.close()


def test_six_hosts_seating_one_party_at_once_make_one_booking(shop: Shop) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from console.shop import BookingQuery

    repo = shop.repo()
    party = repo.add_to_waitlist(WaitlistDraft(name="Rush Hour", covers=2, quoted_minutes=5))
    headers = {"Authorization": f"Bearer {shop.token}"}

    def seat(table: int) -> int:
        return requests.post(f"{shop.base_url}/api/waitlist/{party.id}/seat", timeout=10,
                             json={"table_no": table}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = sorted(pool.map(seat, range(1, 7)))
    assert answers == [200] + [412] * 5
    today = BookingQuery(start_from=midnight(), start_to=midnight() + timedelta(days=1),
                         search="Rush Hour")
    assert repo.count_bookings(today).value == 1
    repo.close()


def test_a_shop_that_maps_no_waitlist_says_so_in_words(shop: Shop) -> None:
    if not shop.name.startswith("flask"):
        pytest.skip("the café's second blueprint is the one without a waitlist")
    bare = Shop(shop.name, shop.base_url.replace("/backroom", "/backroom-read-only"),
                shop.token)
    answer = requests.get(f"{bare.base_url}/api/waitlist", timeout=10,
                          headers={"Authorization": f"Bearer {shop.token}"})
    assert answer.status_code == 404
    found = requests.get(f"{bare.base_url}/api/discovery", timeout=10,
                         headers={"Authorization": f"Bearer {shop.token}"}).json()
    assert found["waitlist"] is False and "waitlist" not in found["entities"]
    from console.shop import Unsupported

    with pytest.raises(Unsupported, match="keeps no waitlist"):
        bare.repo().waitlist(datetime.now(UTC))


def _sql_truth(shop: Shop, first: date, last: date, till: bool = False,
               zone: str = "UTC", offset: timedelta = timedelta(0)
               ) -> dict[str, dict[str, dict[str, int]]]:
    """The day report computed here with plain SQL on the shop's own tables (``till``: the
    café's sales, which its read-only blueprint shares), in days of ``zone`` (a zone without
    summer time, ``offset`` from UTC: SQLite knows no zones, MariaDB only with its tables)."""
    engine = create_engine(shop.database)
    pg = engine.dialect.name == "postgresql"
    mysql = engine.dialect.name in ("mysql", "mariadb")
    lo = datetime(first.year, first.month, first.day) - offset
    hi = datetime(last.year, last.month, last.day) + timedelta(days=1) - offset
    minutes = int(offset.total_seconds() // 60)

    def day(col: str) -> str:
        if pg:
            return f"date({col} AT TIME ZONE '{zone}')"
        if mysql:  # the server's zone tables may be empty: the offset, as for SQLite
            return f"date({col} + INTERVAL {minutes} MINUTE)"
        return f"date({col}, '{minutes:+d} minutes')"

    out: dict[str, dict[str, dict[str, int]]] = {}

    def put(d: Any, part: str, key: str, n: Any) -> None:
        slot = out.setdefault(str(d)[:10], {}).setdefault(part, {})
        slot[key] = slot.get(key, 0) + int(n or 0)

    django = shop.name.startswith("django")
    table, when, state, covers = (("reservations_reservation", "time", "state", "covers")
                                  if django else ("table_bookings", "arrives", "state",
                                                  "people"))
    names = DJANGO_BOOKINGS if django else CAFE_BOOKINGS
    with engine.connect() as conn:
        for d, s, n, c in conn.execute(text(
                f"SELECT {day(when)}, {state}, count(*), sum({covers}) FROM {table} "
                f"WHERE {when} >= :lo AND {when} < :hi GROUP BY 1, 2"),
                {"lo": lo, "hi": hi}):
            put(d, "bookings", names[s], n)
            put(d, "covers", names[s], c)
        if django:
            for d, s, n, c in conn.execute(text(
                    f"SELECT {day('opened')}, stage, count(*), sum(bill_pence) FROM kitchen_ticket"
                    " WHERE opened >= :lo AND opened < :hi GROUP BY 1, 2"), {"lo": lo, "hi": hi}):
                put(d, "orders", DJANGO_ORDERS[s], n)
                put(d, "order_cents", DJANGO_ORDERS[s], c)
            for d, cat, c in conn.execute(text(
                    f"SELECT {day('t.opened')}, d.section, sum(l.qty * l.price_pence) "
                    "FROM kitchen_ticketline l JOIN kitchen_ticket t ON t.id = l.ticket_id "
                    "LEFT JOIN kitchen_dish d ON d.id = l.dish_id WHERE t.opened >= :lo "
                    "AND t.opened < :hi AND t.stage IN ('paid', 'cooking', 'pass', 'served') "
                    "GROUP BY 1, 2"), {"lo": lo, "hi": hi}):
                put(d, "category_cents", cat or "Uncategorised", c)
        if till:
            for d, s, n, c in conn.execute(text(
                    f"SELECT {day('rung_at')}, stage, count(*), sum(total) FROM sales"
                    " WHERE rung_at >= :lo AND rung_at < :hi GROUP BY 1, 2"),
                    {"lo": lo, "hi": hi}):
                put(d, "orders", CAFE_SALES[s], n)
                put(d, "order_cents", CAFE_SALES[s], c)
            for d, cat, c in conn.execute(text(
                    f"SELECT {day('s.rung_at')}, c.shelf, sum(l.n * l.each) FROM sale_lines l "
                    "JOIN sales s ON s.id = l.sale_id LEFT JOIN cakes c ON c.id = l.cake_id "
                    "WHERE s.rung_at >= :lo AND s.rung_at < :hi AND s.stage IN ('paid', "
                    "'done') GROUP BY 1, 2"), {"lo": lo, "hi": hi}):
                put(d, "category_cents", cat or "Uncategorised", c)
    engine.dispose()
    return out


@pytest.mark.parametrize("till", [False, True], ids=["shop", "till"])
def test_past_days_equal_the_shops_own_tables_summed_in_sql(shop: Shop, till: bool) -> None:
    if till and not shop.name.startswith("flask"):
        pytest.skip("the till is the café's (its read-only blueprint)")
    today = midnight().date()
    first, last = today - timedelta(days=4), today + timedelta(days=1)
    base = shop.base_url + ("-read-only" if till else "")
    report = Shop(shop.name, base, shop.token).repo().past_days(first, last)
    assert report.zone == "UTC"
    assert [d.day for d in report.days] == [first + timedelta(days=i) for i in range(6)]
    truth = _sql_truth(shop, first, last, till)
    for d in report.days:
        want = truth.get(d.day.isoformat(), {})
        got = {"bookings": {s.value: n for s, n in d.bookings.items()},
               "covers": {s.value: n for s, n in d.covers.items()},
               "orders": {s.value: n for s, n in d.orders.items()},
               "order_cents": {s.value: n for s, n in d.order_cents.items()},
               "category_cents": dict(d.category_cents)}
        assert {k: v for k, v in got.items() if v} == want, d.day
    assert report.days[0].booking_count == 0  # before the seed's past days: an empty day
    if shop.name.startswith("django") or till:
        past = report.days[1:4]
        assert all(d.order_count > 0 for d in past)
        assert all(d.booking_count > 0 for d in past) or till  # the café books ahead only
        assert all(d.category_cents.get("Uncategorised", 0) > 0 for d in past
                   if d.revenue_cents)
    if till:
        assert {"Tarts", "Sponges", "Uncategorised"} <= set(report.categories)
    if shop.name.startswith("django"):
        assert report.days[-1].booking_count == 40  # tomorrow's, by start_at
    bad = requests.get(f"{shop.base_url}/api/reports/days?from=2026-01-02&to=2026-01-01",
                       timeout=10, headers={"Authorization": f"Bearer {shop.token}"})
    assert bad.status_code == 422 and "to" in bad.json()["errors"]


@pytest.mark.parametrize("kind", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.integration),
    pytest.param("mariadb", marks=pytest.mark.integration)])
def test_past_days_are_the_django_sites_own_days(kind: str, tmp_path: Any) -> None:
    """A site in India (UTC+05:30, TIME_ZONE = "Asia/Kolkata"): a day runs from 18:30 UTC
    the day before, and the report's days are those, named in ``timezone``."""
    from zoneinfo import ZoneInfo

    from tests.connectors.conftest import django_site

    zone = "Asia/Kolkata"
    offset = timedelta(hours=5, minutes=30)
    with django_site(kind, tmp_path, zone=zone) as site:
        today = datetime.now(ZoneInfo(zone)).date()
        first, last = today - timedelta(days=4), today + timedelta(days=4)
        report = site.repo().past_days(first, last)
        assert report.zone == zone
        truth = _sql_truth(site, first, last, zone=zone, offset=offset)
        got: dict[str, dict[str, dict[str, int]]] = {}
        for d in report.days:
            parts = {"bookings": {s.value: n for s, n in d.bookings.items()},
                     "covers": {s.value: n for s, n in d.covers.items()},
                     "orders": {s.value: n for s, n in d.orders.items()},
                     "order_cents": {s.value: n for s, n in d.order_cents.items()},
                     "category_cents": dict(d.category_cents)}
            if any(parts.values()):
                got[d.day.isoformat()] = {k: v for k, v in parts.items() if v}
        assert got == truth
        # the seed's 40 a day at 11:00-21:45 UTC for three days: those from 18:30 UTC are the
        # next day there, so the last UTC day's late ones make a fourth day of their own
        tomorrow = midnight().date() + timedelta(days=1)  # the seed's first day, in UTC
        by_day = {d.day: d.booking_count for d in report.days}
        assert sum(n for day, n in by_day.items() if day >= tomorrow) == 120
        assert 0 < by_day[tomorrow + timedelta(days=3)] < 40


@pytest.mark.parametrize("kind", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.integration),
    pytest.param("mariadb", marks=pytest.mark.integration)])
def test_a_report_across_the_clocks_going_forward_counts_each_booking_on_its_day(
        kind: str, tmp_path: Any) -> None:
    """A site in London (TIME_ZONE = "Europe/London"); the clocks go forward at 01:00 UTC on
    28 March 2027. A booking at 23:30 UTC on the 27th is that evening's; one at 23:30 UTC
    on the 28th is 00:30 on the 29th there. One offset for the whole range puts one of them
    on the wrong day; MariaDB's CONVERT_TZ without its zone tables puts them on none."""
    from zoneinfo import ZoneInfo

    from console.shop import BookingDraft
    from tests.connectors.conftest import django_site

    zone = ZoneInfo("Europe/London")
    with django_site(kind, tmp_path, zone="Europe/London") as site:
        repo = site.repo()
        try:
            times = [datetime(2027, 3, 27, 23, 30, tzinfo=UTC),
                     datetime(2027, 3, 28, 0, 59, tzinfo=UTC),
                     datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
                     datetime(2027, 3, 28, 22, 59, tzinfo=UTC),
                     datetime(2027, 3, 28, 23, 30, tzinfo=UTC)]
            for n, when in enumerate(times, start=2):
                repo.create_booking(BookingDraft(f"Guest {n}", n, when))
            report = repo.past_days(date(2027, 3, 26), date(2027, 3, 30))
            assert report.zone == "Europe/London"
            covers = {d.day: sum(d.covers.values()) for d in report.days}
            want = dict.fromkeys(covers, 0)
            for n, when in enumerate(times, start=2):
                want[when.astimezone(zone).date()] += n
            assert want == {date(2027, 3, 26): 0, date(2027, 3, 27): 2,
                            date(2027, 3, 28): 3 + 4 + 5, date(2027, 3, 29): 6,
                            date(2027, 3, 30): 0}
            assert covers == want
        finally:
            repo.close()


def test_an_edit_from_the_console_is_in_the_history_with_who_and_what(shop: Shop) -> None:
    zoe, ben = shop.repo(user="Zoë Ng"), shop.repo(user="Ben")
    try:
        start = midnight() + timedelta(days=1)
        booking = zoe.list_bookings(_day(start), limit=12).rows[11]
        stale = ben.get_booking(booking.id)
        zoe.set_booking_status(booking.id, booking.version, BookingStatus.NO_SHOW)
        history = zoe.history(Entity.BOOKINGS, booking.id)
        newest = history[0]
        assert (newest.user, newest.field, newest.old, newest.new) == (
            "Zoë Ng", "status", "confirmed", "no_show")
        assert newest.at is not None and abs(newest.at - datetime.now(UTC)) < timedelta(
            minutes=1)
        # Ben saves over the version he read: the conflict names who saved first
        with pytest.raises(Conflict) as caught:
            ben.update_booking(stale.id, stale.version, stale.draft())
        assert caught.value.saved_by is not None
        assert caught.value.saved_by.user == "Zoë Ng"
        # the shop's own tables are untouched by the log: the booking row only changed status
        again = zoe.get_booking(booking.id)
        assert (again.customer_name, again.party_size) == (booking.customer_name,
                                                           booking.party_size)
    finally:
        zoe.close()
        ben.close()


def _day(start: datetime) -> Any:
    from console.shop import BookingQuery

    return BookingQuery(start_from=start, start_to=start + timedelta(days=1))
