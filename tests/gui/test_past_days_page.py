"""The Past days page as a manager uses it: a range's bookings, covers, orders, sales; CSV."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.past_days import tally
from console.shop import (
    REVENUE_STATUSES,
    BookingStatus,
    OrderQuery,
    OrderStatus,
    ValidationFailed,
)
from tests.support.shops import Backend
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.pages.past_days import PastDaysPage

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot: Any, ctx: AppContext) -> PastDaysPage:
    widget = PastDaysPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1400, 800)
    widget.show()
    qtbot.waitUntil(lambda: widget.report is not None, timeout=10_000)
    return widget


def show_range(qtbot: Any, page: PastDaysPage, first: date, last: date) -> Any:
    with qtbot.waitSignal(page.sig_loaded, timeout=20_000) as loaded:
        page.set_range(first, last)
    return loaded.args[0]


def cells(page: PastDaysPage, row: int) -> list[str]:
    m = page.days_model
    return [m.data(m.index(row, c)) for c in range(m.columnCount())]


def test_a_range_of_days_counts_bookings_and_covers_by_status(
        qtbot: Any, page: PastDaysPage, backend: Backend, tmp_path: Path) -> None:
    day = backend.fresh_day()
    nxt = day + timedelta(days=1)
    backend.add_booking(day, "Ann", hour=12, party=2)
    backend.add_booking(day, "Bea", hour=19, party=4)
    seated = backend.add_booking(day, "Cal", hour=20, party=3)
    backend.repo.set_booking_status(seated.id, seated.version, BookingStatus.SEATED)
    gone = backend.add_booking(day, "Dee", hour=21, party=5)
    backend.repo.set_booking_status(gone.id, gone.version, BookingStatus.NO_SHOW)
    off = backend.add_booking(nxt, "Eve", hour=13, party=6)
    backend.repo.set_booking_status(off.id, off.version, BookingStatus.CANCELLED)

    report = show_range(qtbot, page, day, nxt)
    assert [d.day for d in report.days] == [day, nxt]
    assert page.days_model.rowCount() == 2
    first = cells(page, 0)
    assert first[0] == day.strftime("%a %d %b %Y")
    assert first[1:6] == ["4", "9", "1", "1 (5)", "0"]  # bookings, covers, seated, no-shows
    assert cells(page, 1)[1:6] == ["1", "0", "0", "0", "1 (6)"]
    assert page.summary.text().startswith(
        f"{day.strftime('%a %d %b')} to {nxt.strftime('%a %d %b %Y')}: 5 bookings, 9 covers "
        "booked, 1 no-shows (5 covers), 1 cancelled; ")

    path = tmp_path / "days.csv"
    page.export_csv(path)
    assert page.notice.text() == f"Saved 2 days and their total to {path}."
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["day"] for r in rows] == [day.isoformat(), nxt.isoformat(), "total"]
    assert rows[0]["bookings"] == "4" and rows[0]["covers booked"] == "9"
    assert rows[0]["covers no_show"] == "5" and rows[1]["bookings cancelled"] == "1"
    assert rows[2]["bookings"] == "5" and rows[2]["covers cancelled"] == "6"


def test_orders_revenue_and_categories_agree_with_the_orders_themselves(
        qtbot: Any, page: PastDaysPage, backend: Backend, tmp_path: Path) -> None:
    """Today's orders as the report counts them, against the orders read one by one."""
    repo = backend.repo
    paid_id = backend.add_order("Paying Pat")
    backend.add_order("Pending Pam")
    paid = repo.get_order(paid_id).order
    repo.set_order_status(paid.id, paid.version, OrderStatus.PAID)
    today = datetime.now(UTC).astimezone().date()
    report = show_range(qtbot, page, today, today)

    start = datetime.combine(today, datetime.min.time()).astimezone()
    orders, cursor = [], None
    while True:
        got = repo.list_orders(OrderQuery(placed_from=start, placed_to=start + timedelta(days=1)),
                               after=cursor, limit=200)
        orders.extend(got.rows)
        if got.next_cursor is None:
            break
        cursor = got.next_cursor
    by_category: dict[str, int] = {}
    for order in orders:
        if order.status in REVENUE_STATUSES:
            for item in repo.get_order(order.id).items:
                category = repo.get_product(item.product_id).category or "Uncategorised"
                by_category[category] = by_category.get(category, 0) + item.line_cents
    t = report.days[0]
    assert t.order_count == len(orders) >= 2
    assert t.orders.get(OrderStatus.PAID, 0) == sum(o.status is OrderStatus.PAID for o in orders)
    assert t.revenue_cents == sum(o.total_cents for o in orders if o.status in REVENUE_STATUSES)
    assert dict(t.category_cents) == by_category
    top = report.categories[0]
    assert page.category_model.data(page.category_model.index(0, 0)) == top
    if backend.name == "sqlite":
        page.set_last_days(7)
        qtbot.waitUntil(lambda: page.report is not None and page.report.first != today,
                        timeout=10_000)
        save_shot(page, "past-days.png")


def test_a_range_backwards_or_over_a_year_is_refused_with_a_sentence(
        qtbot: Any, page: PastDaysPage) -> None:
    today = date.today()
    page.set_range(today, today - timedelta(days=1))
    assert page.notice.text() == "The last day comes before the first."
    page.set_range(today - timedelta(days=400), today)
    assert page.notice.text() == "Pick at most 366 days."


def test_days_are_the_local_days_of_the_zone_asked() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Berlin")
    late = datetime(2030, 6, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 June in Berlin
    report = tally(date(2030, 6, 1), date(2030, 6, 2), tz,
                   bookings=[(late, "confirmed", 2)], orders=[], lines=[])
    assert [d.booking_count for d in report.days] == [0, 1]
    with pytest.raises(ValidationFailed):
        tally(date(2030, 6, 2), date(2030, 6, 1), tz, bookings=[], orders=[], lines=[])
