"""The console's API adapter over real Django and Flask shops that installed the connector."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from console.shop import (
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    Conflict,
    OrderQuery,
    ProductQuery,
    ValidationFailed,
)
from tests.connectors.conftest import Shop


def call(shop: Shop, method: str, path: str, *, token: str | None = None,
         **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or shop.token}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{shop.base_url}{path}", headers=headers, timeout=10,
                            **kwargs)


def tomorrow() -> BookingQuery:
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return BookingQuery(start_from=start + timedelta(days=1), start_to=start + timedelta(days=2))


def test_paging_walks_every_booking_once_in_time_order(shop: Shop) -> None:
    repo = shop.repo()
    query = tomorrow()
    total = repo.count_bookings(query).value
    seen: list[Any] = []
    after = None
    while True:
        page = repo.list_bookings(query, after=after, limit=7)
        seen += page.rows
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert total >= 20
    assert len(seen) == total
    assert len({b.id for b in seen}) == total
    keys = [(b.start_at, b.id) for b in seen]
    assert keys == sorted(keys)
    by_name = repo.list_bookings(BookingQuery(sort=BookingSort.CUSTOMER_NAME, descending=True),
                                 limit=200).rows
    names = [b.customer_name for b in by_name]
    assert names == sorted(names, reverse=True)


def test_search_is_literal_and_status_filters(shop: Shop) -> None:
    repo = shop.repo()
    first = repo.list_bookings(tomorrow(), limit=1).rows[0]
    repo.set_booking_status(first.id, first.version, BookingStatus.SEATED)
    # tomorrow's: walk-ins and parties seated from the waitlist by other tests are today's
    seated = repo.list_bookings(replace(tomorrow(), statuses=frozenset({BookingStatus.SEATED})),
                                limit=200).rows
    assert [b.id for b in seated] == [first.id]
    hits = repo.list_bookings(BookingQuery(search=first.customer_name.upper()), limit=50).rows
    assert first.id in [b.id for b in hits]
    assert repo.list_bookings(BookingQuery(search="%"), limit=50).rows == () or all(
        "%" in b.customer_name or "%" in b.phone
        for b in repo.list_bookings(BookingQuery(search="%"), limit=50).rows)
    assert repo.count_bookings(BookingQuery(search="nobody-is-called-this")).value == 0
    back = repo.get_booking(first.id)
    repo.set_booking_status(back.id, back.version, BookingStatus.CONFIRMED)


def test_two_clients_editing_one_booking_lose_no_write(shop: Shop) -> None:
    anna, ben = shop.repo(), shop.repo()
    booking = anna.list_bookings(tomorrow(), limit=3).rows[2]
    seen_by_anna = anna.get_booking(booking.id)
    seen_by_ben = ben.get_booking(booking.id)
    saved = anna.update_booking(seen_by_anna.id, seen_by_anna.version,
                                _with(seen_by_anna.draft(), party_size=7))
    assert saved.party_size == 7
    assert saved.version != seen_by_anna.version
    with pytest.raises(Conflict) as caught:
        ben.update_booking(seen_by_ben.id, seen_by_ben.version,
                           _with(seen_by_ben.draft(), customer_name="Ben's edit"))
    assert caught.value.theirs.party_size == 7
    assert caught.value.theirs.version == saved.version
    assert ben.get_booking(booking.id).customer_name == seen_by_anna.customer_name
    # Ben saves again over what he now sees: that is not a lost update, it is informed
    again = ben.update_booking(booking.id, caught.value.theirs.version,
                               _with(caught.value.theirs.draft(), customer_name="Ben's edit"))
    assert (again.customer_name, again.party_size) == ("Ben's edit", 7)


def _with(draft: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(draft, **changes)


def test_contract_errors_have_the_contract_shape(shop: Shop) -> None:
    repo = shop.repo()
    booking = repo.list_bookings(tomorrow(), limit=1).rows[0]
    path = f"/api/bookings/{booking.id}"
    assert call(shop, "GET", path, token="wrong-token-0123456789").status_code == 401
    answer = call(shop, "GET", path)
    assert answer.status_code == 200
    assert answer.headers["ETag"] == f'W/"{booking.version}"'
    no_match = call(shop, "PATCH", path, json={"party_size": 3})
    assert (no_match.status_code, set(no_match.json())) == (428, {"error"})
    bad = call(shop, "PATCH", path, json={"party_size": 0, "customer_name": " "},
               headers={"If-Match": answer.headers["ETag"]})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"party_size", "customer_name"}
    stale = call(shop, "PATCH", path, json={"party_size": 3}, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["current"]["id"] == booking.id
    cancelled = repo.set_booking_status(booking.id, booking.version, BookingStatus.CANCELLED)
    assert cancelled.status is BookingStatus.CANCELLED
    refused = call(shop, "PATCH", path, json={"status": "seated"},
                   headers={"If-Match": f'W/"{cancelled.version}"'})
    assert refused.status_code == 409
    assert refused.json()["allowed"] == []
    with pytest.raises(ValidationFailed):
        repo.set_booking_status(cancelled.id, cancelled.version, BookingStatus.SEATED)
    assert call(shop, "GET", "/api/bookings?limit=٣").status_code == 422
    assert call(shop, "GET", "/api/bookings?cursor=nonsense").json()["errors"]["cursor"]
    health = requests.get(f"{shop.base_url}/health", timeout=10)
    assert (health.status_code, health.json()["database"]["status"]) == (200, "ok")


def test_discovery_says_what_the_shop_maps(shop: Shop) -> None:
    found = call(shop, "GET", "/api/discovery").json()
    assert call(shop, "GET", "/").json() == found
    bookings = found["entities"]["bookings"]
    assert bookings["writable"] is True
    assert "party_size" in bookings["fields"]
    products = found["entities"]["products"]
    if shop.name.startswith("flask"):
        assert "notes" not in bookings["fields"]  # the café keeps no notes
        assert products["writable"] is False
        assert "orders" not in found["entities"]
        assert call(shop, "GET", "/api/orders").status_code == 404
        cake = call(shop, "GET", "/api/products?limit=1").json()["items"][0]
        refused = call(shop, "PATCH", f"/api/products/{cake['id']}", json={"stock": 1},
                       headers={"If-Match": "*"})
        assert refused.status_code == 405
        assert "read-only" in refused.json()["error"]
    else:
        assert "notes" in bookings["fields"]
        assert found["entities"]["orders"]["writable"] is False
        repo = shop.repo()
        orders = repo.list_orders(OrderQuery(), limit=10).rows
        assert len(orders) == 10
        assert [o.placed_at for o in orders] == sorted((o.placed_at for o in orders),
                                                       reverse=True)
        low = repo.list_products(ProductQuery(low_stock_only=True), limit=50).rows
        assert low and all(p.stock <= p.low_stock_threshold and p.active for p in low)
        dish = low[0]
        restocked = repo.restock_product(dish.id, 10)
        assert restocked.stock == dish.stock + 10
        assert restocked.version == dish.version + 1


def test_the_console_reads_what_the_shop_shares(shop: Shop) -> None:
    access = shop.repo().access()
    assert access.bookings is not None and access.products is not None
    assert access.bookings.can_edit("party_size")
    if shop.name.startswith("flask"):
        assert not access.bookings.shows("notes")
        assert "does not map" in access.bookings.why_not("notes")
        assert access.orders is None
        assert not access.products.writable
        assert "read-only" in access.products.why_not("stock")
    else:
        assert access.bookings.shows("notes")
        assert access.orders is not None and not access.orders.writable


def test_todays_figures_come_from_the_mapped_fields(shop: Shop) -> None:
    repo = shop.repo()
    figures = repo.today()
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert figures.day == start.date()
    assert len(figures.bookings_per_hour) == len(figures.orders_per_hour) == 24
    today = BookingQuery(start_from=start, start_to=start + timedelta(days=1))
    assert figures.bookings == repo.count_bookings(today).value  # the seed has none today
    if shop.name.startswith("flask"):
        assert figures.orders == 0  # the café shares no orders
        return
    placed_today = repo.list_orders(OrderQuery(placed_from=start,
                                               placed_to=start + timedelta(days=1)),
                                    limit=200).rows
    assert figures.orders == len(placed_today) > 0
    paid = {"paid", "preparing", "ready", "completed"}
    assert figures.revenue_cents == sum(o.total_cents for o in placed_today
                                        if o.status.value in paid)
    assert sum(figures.orders_per_hour) == len(placed_today)


def test_simultaneous_saves_of_one_version_let_exactly_one_through(shop: Shop) -> None:
    from concurrent.futures import ThreadPoolExecutor

    booking = shop.repo().list_bookings(tomorrow(), limit=8).rows[7]
    path = f"/api/bookings/{booking.id}"
    tag = call(shop, "GET", path).headers["ETag"]

    def save(size: int) -> tuple[int, int]:
        answer = call(shop, "PATCH", path, json={"party_size": size},
                      headers={"If-Match": tag})
        return size, answer.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(save, range(10, 16)))
    winners = [size for size, status in results if status == 200]
    assert len(winners) == 1, results
    assert sorted(status for _, status in results) == [200] + [412] * 5
    assert shop.repo().get_booking(booking.id).party_size == winners[0]


def test_the_floor_is_the_shops_mapped_tables_or_none(shop: Shop) -> None:
    plan = shop.repo().floor()
    if shop.name.startswith("flask"):  # the café keeps no tables: no floor, lists as before
        assert not plan.has_tables
        assert call(shop, "GET", "/api/floor").status_code == 404
        return
    assert [t.number for t in plan.tables] == list(range(1, 21))
    assert {t.area for t in plan.tables} == {"Window", "Bar"}
    assert plan.table(13).name == "B13"  # type: ignore[union-attr]
    assert (plan.covers_per_slot, plan.turn_minutes, plan.large_party_turn_minutes) == (
        20, 90, 120)
    assert call(shop, "GET", "/api/discovery").json()["floor"] is True


def test_a_walk_in_is_seated_now_through_the_connector(shop: Shop) -> None:
    repo = shop.repo()
    now = datetime.now(UTC)
    draft = BookingDraft(customer_name="Walk-in Ito", party_size=2, start_at=now, table_no=4)
    seated = repo.seat_walk_in(draft)
    assert seated.status is BookingStatus.SEATED
    assert abs(seated.start_at - now) < timedelta(minutes=1)
    with pytest.raises(ValidationFailed) as refused:  # without walk_in, now is the past
        repo.create_booking(draft)
    assert "start_at" in refused.value.errors
