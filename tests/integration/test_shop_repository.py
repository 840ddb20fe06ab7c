"""The shop repository contract, the same tests through SQLite, PostgreSQL and the REST API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from console.shop import (
    BackendUnavailable,
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    Conflict,
    NotFound,
    OrderQuery,
    OrderStatus,
    ProductDraft,
    ProductQuery,
    ProductSort,
    Side,
    ValidationFailed,
    merge_drafts,
)
from console.shop_rules import allowed_order_transitions
from tests.support.shops import Backend, backend_params, open_backend


@pytest.fixture(scope="module", params=backend_params())
def backend(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The same tests against SQLite, PostgreSQL and the demo shop's REST API."""
    yield from open_backend(request, tmp_path_factory)


def day_query(b: Backend, day, **kw) -> BookingQuery:  # type: ignore[no-untyped-def]
    start, end = b.window(day)
    return BookingQuery(start_from=start, start_to=end, **kw)


def walk(list_page, query, limit: int = 7) -> list:  # type: ignore[no-untyped-def]
    rows, cursor = [], None
    for _ in range(10_000):
        page = list_page(query, after=cursor, limit=limit)
        rows += page.rows
        cursor = page.next_cursor
        if cursor is None:
            return rows
    raise AssertionError("paging never ended")


# --------------------------------------------------------------------------- bookings


def test_keyset_pages_cover_the_list_once_in_order(backend: Backend) -> None:
    day = backend.fresh_day()
    made = [backend.add_booking(day, f"Guest {i:02d}", hour=12 + i % 8) for i in range(17)]
    q = day_query(backend, day)
    rows = walk(backend.repo.list_bookings, q, limit=5)
    assert sorted(r.id for r in rows) == sorted(b.id for b in made)
    keys = [(r.start_at, r.id) for r in rows]
    assert keys == sorted(keys)
    by_name = walk(backend.repo.list_bookings,
                   day_query(backend, day, sort=BookingSort.CUSTOMER_NAME, descending=True),
                   limit=4)
    assert [r.customer_name for r in by_name] == sorted((b.customer_name for b in made),
                                                        reverse=True)
    assert backend.repo.count_bookings(q).value == 17


def test_seek_lands_where_walking_does(backend: Backend) -> None:
    q = BookingQuery()
    walked = walk(backend.repo.list_bookings, q, limit=50)[:130]
    cursor = backend.repo.seek_bookings(q, 100)
    page = backend.repo.list_bookings(q, after=cursor, limit=30)
    assert [r.id for r in page.rows] == [r.id for r in walked[100:130]]
    assert backend.repo.seek_bookings(q, 0) is None


@pytest.mark.parametrize("window", [1000, 2])
def test_a_seek_among_ties_lands_where_walking_does(backend: Backend, window: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from services.shop import sql_paging

    # PostgreSQL finds where the ties of the position's value start from the values just
    # before it; with more ties than that window, from a count of the rows before.
    monkeypatch.setattr(sql_paging, "SEEK_WINDOW", window)
    for q in (BookingQuery(), BookingQuery(descending=True)):
        walked = walk(backend.repo.list_bookings, q, limit=50)[:100]
        assert len({r.start_at for r in walked}) < len(walked) - 10  # many ties
        for position in range(0, 90, 1 if window == 2 else 7):
            cursor = backend.repo.seek_bookings(q, position)
            page = backend.repo.list_bookings(q, after=cursor, limit=3)
            assert [r.id for r in page.rows] == [r.id for r in walked[position:position + 3]], \
                (q.descending, position)


def test_a_search_lists_upcoming_soonest_first_then_past_most_recent_first(
        backend: Backend) -> None:
    days = sorted(backend.fresh_day() for _ in range(5))
    made = [backend.add_booking(day, f"Ottoline Quist {n}", hour=12 + n)
            for n, day in enumerate(days)]
    split = backend.at(days[2], 11)  # "now": the first two are past, the last three upcoming
    q = BookingQuery(search="ottoline quist", sort=BookingSort.UPCOMING_FIRST,
                     upcoming_from=split)
    expected = [made[2].id, made[3].id, made[4].id, made[1].id, made[0].id]
    for limit in (1, 2, 3, 5, 50):
        assert [r.id for r in walk(backend.repo.list_bookings, q, limit=limit)] == expected
    assert backend.repo.count_bookings(q).value == 5
    for position in range(5):
        cursor = backend.repo.seek_bookings(q, position)
        rest = walk(lambda query, after, limit, c=cursor: backend.repo.list_bookings(
            query, after=after or c, limit=limit), q, limit=2)
        assert [r.id for r in rest] == expected[position:], position


def test_a_small_count_is_exact_on_every_route(backend: Backend) -> None:
    # "about 300 products" read as a guess where the shop had counted every one
    assert backend.repo.count_products(ProductQuery()).exact
    day = backend.fresh_day()
    backend.add_booking(day, "Counted Once")
    count = backend.repo.count_bookings(day_query(backend, day))
    assert count.exact and count.value == 1


def test_filters_by_status_and_window(backend: Backend) -> None:
    day = backend.fresh_day()
    a = backend.add_booking(day, "Status A", hour=12)
    b = backend.add_booking(day, "Status B", hour=13)
    backend.add_booking(day + timedelta(days=1), "Next day", hour=12)
    backend.repo.set_booking_status(b.id, b.version, BookingStatus.CANCELLED)
    q = day_query(backend, day, statuses=frozenset({BookingStatus.CONFIRMED}))
    assert [r.id for r in backend.repo.list_bookings(q).rows] == [a.id]
    assert backend.repo.count_bookings(q).value == 1
    both = day_query(backend, day)
    assert {r.id for r in backend.repo.list_bookings(both).rows} == {a.id, b.id}
    two = day_query(backend, day, statuses=frozenset(BookingStatus))
    assert backend.repo.count_bookings(two).value == 2
    statuses = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})
    orders = walk(backend.repo.list_orders, OrderQuery(statuses=statuses), limit=100)
    assert backend.repo.count_orders(OrderQuery(statuses=statuses)).value == len(orders)


HOSTILE = {
    "pct": "Percy 100% Sure",
    "under": "Under_Score",
    "plain_under": "UnderXScore",
    "quote": "Dana O'Hara",
    "dquote": 'The "Boss" Table',
    "backslash": "Back\\slash Bob",
    "sql": "Robert'); DROP TABLE bookings;--",
    "unicode": "Zoë Łukasiewicz-Müller",
    "cjk": "山田 太郎",
    "long": "Wolfeschlegelsteinhausenbergerdorff " * 3,
}


@pytest.mark.parametrize(("needle", "expect"), [
    ("%", {"pct"}),
    ("100%", {"pct"}),
    ("_", {"under"}),
    ("r_s", {"under"}),
    ("'", {"quote", "sql"}),
    ('"boss"', {"dquote"}),
    ("\\", {"backslash"}),
    ("k\\s", {"backslash"}),
    ("drop table", {"sql"}),
    ("'); DROP", {"sql"}),
    ("zoë", {"unicode"}),
    ("ZOË ŁUKASIEWICZ", {"unicode"}),
    ("müller", {"unicode"}),
    ("山田", {"cjk"}),
    ("steinhausenbergerdorff wolfe", {"long"}),
    ("x" * 200, set()),
    ("' OR '1'='1", set()),
    ("%%", set()),
])
def test_hostile_search_finds_what_it_should_and_nothing_more(
        backend: Backend, needle: str, expect: set[str]) -> None:
    if not hasattr(backend, "hostile_day"):
        day = backend.fresh_day()
        backend.hostile_day = day  # type: ignore[attr-defined]
        backend.hostile_ids = {  # type: ignore[attr-defined]
            key: backend.add_booking(day, name.strip()[:120], hour=12 + i % 9).id
            for i, (key, name) in enumerate(HOSTILE.items())}
    ids = backend.hostile_ids  # type: ignore[attr-defined]
    q = day_query(backend, backend.hostile_day, search=needle)  # type: ignore[attr-defined]
    found = {r.id for r in backend.repo.list_bookings(q, limit=50).rows}
    assert found == {ids[k] for k in expect}
    assert backend.repo.count_bookings(q).value == len(expect)


def test_search_longer_than_200_is_refused(backend: Backend) -> None:
    with pytest.raises(ValidationFailed) as caught:
        backend.repo.list_bookings(BookingQuery(search="y" * 201))
    assert "search" in caught.value.errors


def test_create_read_update_bumps_version(backend: Backend) -> None:
    day = backend.fresh_day()
    made = backend.add_booking(day, "Ana Lima", hour=19, party=4, phone="+44 7700 900123",
                               notes="window seat")
    assert made.status is BookingStatus.CONFIRMED and made.version == 1
    got = backend.repo.get_booking(made.id)
    assert got.customer_name == "Ana Lima" and got.party_size == 4
    assert got.start_at == backend.at(day, 19)
    changed = backend.repo.update_booking(made.id, made.version, BookingDraft(
        customer_name="Ana Lima", party_size=6, start_at=made.start_at, phone=made.phone,
        notes="window seat, cake"))
    assert changed.version == 2 and changed.party_size == 6
    assert backend.repo.get_booking(made.id).notes == "window seat, cake"


def test_validation_errors_name_the_field(backend: Backend) -> None:
    day = backend.fresh_day()
    with pytest.raises(ValidationFailed) as too_big:
        backend.add_booking(day, "Big Party", party=25)
    assert "party_size" in too_big.value.errors
    with pytest.raises(ValidationFailed) as past:
        backend.repo.create_booking(BookingDraft(
            customer_name="Late", party_size=2,
            start_at=datetime.now(UTC).replace(hour=12, minute=0) - timedelta(days=2)))
    assert "start_at" in past.value.errors
    with pytest.raises(ValidationFailed) as blank:
        backend.add_booking(day, "   ")
    assert "customer_name" in blank.value.errors


def test_an_edit_moving_a_booking_into_the_past_is_refused_in_the_same_words(
        backend: Backend) -> None:
    made = backend.add_booking(backend.fresh_day(), "Time Traveller", hour=12)
    past = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(
        days=2)
    with pytest.raises(ValidationFailed) as refused:
        backend.repo.update_booking(made.id, made.version, BookingDraft(
            made.customer_name, made.party_size, past))
    assert refused.value.errors == {"start_at": "Pick a time in the future."}
    assert backend.repo.get_booking(made.id).version == made.version


def test_status_moves_follow_the_rules(backend: Backend) -> None:
    day = backend.fresh_day()
    b = backend.add_booking(day, "Seat Me")
    seated = backend.repo.set_booking_status(b.id, b.version, BookingStatus.SEATED)
    assert seated.status is BookingStatus.SEATED and seated.version == b.version + 1
    with pytest.raises(ValidationFailed) as caught:
        backend.repo.set_booking_status(seated.id, seated.version, BookingStatus.CANCELLED)
    assert "status" in caught.value.errors
    undone = backend.repo.set_booking_status(seated.id, seated.version,
                                             BookingStatus.CONFIRMED)
    cancelled = backend.repo.set_booking_status(undone.id, undone.version,
                                                BookingStatus.CANCELLED)
    assert cancelled.status is BookingStatus.CANCELLED


def test_stale_edit_is_a_conflict_with_both_versions(backend: Backend) -> None:
    day = backend.fresh_day()
    b = backend.add_booking(day, "Two Editors", party=2, notes="")
    alice, bob = backend.repo, backend.other_client()
    a_read, b_read = alice.get_booking(b.id), bob.get_booking(b.id)
    alice.update_booking(a_read.id, a_read.version, BookingDraft(
        customer_name=a_read.customer_name, party_size=2, start_at=a_read.start_at,
        notes="allergy: nuts"))
    bob_draft = BookingDraft(customer_name=b_read.customer_name, party_size=5,
                             start_at=b_read.start_at, notes="")
    with pytest.raises(Conflict) as caught:
        bob.update_booking(b_read.id, b_read.version, bob_draft)
    assert caught.value.mine == bob_draft
    theirs = caught.value.theirs
    assert theirs.notes == "allergy: nuts" and theirs.version == a_read.version + 1
    # Bob merges field by field: his party size, Alice's notes; saved on her version.
    merged = merge_drafts(bob_draft, theirs.draft(), {"party_size": Side.MINE})
    final = bob.update_booking(b.id, theirs.version, merged)
    assert (final.party_size, final.notes) == (5, "allergy: nuts")
    with pytest.raises(Conflict):
        bob.set_booking_status(b.id, b_read.version, BookingStatus.SEATED)


def test_two_clients_editing_one_booking_lose_no_update(backend: Backend) -> None:
    """Read-modify-write with retry on Conflict from two clients at once: every increment
    lands (nothing is silently overwritten)."""
    day = backend.fresh_day()
    b = backend.add_booking(day, "Counter", notes="0")
    clients = [backend.repo, backend.other_client()]
    per_client = 6
    errors: list[BaseException] = []
    conflicts = [0, 0]

    def bump(i: int) -> None:
        repo = clients[i]
        try:
            for _ in range(per_client):
                for _attempt in range(100):
                    cur = repo.get_booking(b.id)
                    draft = BookingDraft(customer_name=cur.customer_name,
                                         party_size=cur.party_size, start_at=cur.start_at,
                                         notes=str(int(cur.notes) + 1))
                    try:
                        repo.update_booking(cur.id, cur.version, draft)
                        break
                    except Conflict:
                        conflicts[i] += 1
                else:
                    raise AssertionError("never saved")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(i,), name=f"editor-{i}") for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    final = backend.repo.get_booking(b.id)
    assert final.notes == str(2 * per_client)
    assert final.version == 1 + 2 * per_client


def test_missing_booking_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.repo.get_booking(987_654_321)


def test_unreachable_back_end_says_so(backend: Backend) -> None:
    dead = backend.dead_client()
    try:
        with pytest.raises(BackendUnavailable) as caught:
            dead.list_bookings(BookingQuery())
        assert caught.value.message
    finally:
        dead.close()


# --------------------------------------------------------------------------- products


def test_products_search_category_low_stock_and_sort(backend: Backend) -> None:
    repo = backend.repo
    everything = walk(repo.list_products, ProductQuery(), limit=50)
    assert everything and [p.name for p in everything] == sorted(p.name for p in everything)
    category = everything[0].category
    in_cat = walk(repo.list_products, ProductQuery(category=category), limit=50)
    assert in_cat and all(p.category == category for p in in_cat)
    assert category in repo.product_categories()
    low = walk(repo.list_products, ProductQuery(low_stock_only=True), limit=50)
    assert all(p.is_low_stock for p in low)
    assert {p.id for p in low} == {p.id for p in everything if p.is_low_stock}
    probe = everything[3]
    found = repo.list_products(ProductQuery(search=probe.sku.lower())).rows
    assert probe.id in {p.id for p in found}
    by_stock = walk(repo.list_products, ProductQuery(sort=ProductSort.STOCK, descending=True),
                    limit=20)
    assert [p.stock for p in by_stock] == sorted((p.stock for p in everything), reverse=True)


def test_product_edit_restock_and_conflict(backend: Backend) -> None:
    repo, other = backend.repo, backend.other_client()
    product = walk(repo.list_products, ProductQuery(), limit=50)[5]
    draft = product.draft()
    changed = repo.update_product(product.id, product.version, ProductDraft(
        name=draft.name, category=draft.category, price_cents=draft.price_cents + 50,
        stock=draft.stock, low_stock_threshold=draft.low_stock_threshold, active=True))
    assert changed.price_cents == product.price_cents + 50
    assert changed.version == product.version + 1
    restocked = other.restock_product(product.id, 7)
    assert restocked.stock == changed.stock + 7
    with pytest.raises(Conflict) as caught:
        repo.update_product(changed.id, changed.version, changed.draft())
    assert caught.value.theirs.stock == restocked.stock
    with pytest.raises(ValidationFailed) as bad:
        repo.update_product(restocked.id, restocked.version, ProductDraft(
            name="x", category="y", price_cents=-1, stock=-2))
    assert {"price_cents", "stock"} <= set(bad.value.errors)
    with pytest.raises(ValidationFailed):
        repo.restock_product(product.id, 0)


# --------------------------------------------------------------------------- orders


def test_orders_filter_detail_and_allowed_moves(backend: Backend) -> None:
    repo = backend.repo
    orders = walk(repo.list_orders, OrderQuery(), limit=100)
    placed = [o.placed_at for o in orders]
    assert placed == sorted(placed, reverse=True)
    paid = walk(repo.list_orders, OrderQuery(statuses=frozenset({OrderStatus.PAID,
                                                                 OrderStatus.COMPLETED})))
    assert paid and all(o.status in (OrderStatus.PAID, OrderStatus.COMPLETED) for o in paid)
    completed = next(o for o in orders if o.status is OrderStatus.COMPLETED)
    detail = repo.get_order(completed.id)
    assert detail.items and sum(i.line_cents for i in detail.items) == completed.total_cents
    assert sum(i.quantity for i in detail.items) == completed.item_count
    with pytest.raises(ValidationFailed):
        repo.set_order_status(completed.id, completed.version, OrderStatus.PREPARING)
    assert allowed_order_transitions(OrderStatus.COMPLETED) == (OrderStatus.REFUNDED,)
    refunded = repo.set_order_status(completed.id, completed.version, OrderStatus.REFUNDED)
    assert refunded.order.status is OrderStatus.REFUNDED
    with pytest.raises(Conflict) as caught:
        backend.other_client().set_order_status(completed.id, completed.version,
                                                OrderStatus.REFUNDED)
    assert caught.value.theirs.order.status is OrderStatus.REFUNDED


def test_order_search_and_window(backend: Backend) -> None:
    repo = backend.repo
    some = repo.list_orders(OrderQuery(), limit=20).rows
    target = some[7]
    first = target.customer_name.split()[0]
    hits = walk(repo.list_orders, OrderQuery(search=first.upper()), limit=100)
    assert target.id in {o.id for o in hits}
    assert all(first.casefold() in o.customer_name.casefold() for o in hits)
    lo = target.placed_at - timedelta(seconds=1)
    window = walk(repo.list_orders, OrderQuery(placed_from=lo, placed_to=lo + timedelta(
        seconds=2)))
    assert target.id in {o.id for o in window}


# --------------------------------------------------------------------------- today


def test_today_figures_add_up(backend: Backend) -> None:
    figures = backend.repo.today()
    assert len(figures.bookings_per_hour) == 24
    assert sum(figures.bookings_per_hour) == figures.bookings
    assert sum(figures.orders_per_hour) == figures.orders
    assert figures.covers >= 0 and figures.revenue_cents >= 0
    low = walk(backend.repo.list_products, ProductQuery(low_stock_only=True), limit=100)
    assert figures.low_stock == len(low)
