"""A guest's history on any route that can search bookings: by name and by phone as typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from console.guests import (
    BY_NAME,
    BY_PHONE,
    HISTORY_LIMIT,
    GuestHistory,
    guest_history,
    is_same_guest,
    match_basis,
)
from console.shop import Booking, BookingQuery, BookingSort, Page
from console.shop_rules import SEARCH_MAX

ListPage = Callable[[BookingQuery, int], Page[Booking]]

SEARCHED = ("Only bookings under the same name or the same phone as typed were searched: "
            "this route has no guest history of its own.")


def history_by_search(booking: Booking, list_page: ListPage, now: datetime) -> GuestHistory:
    """The guest's other bookings found by the list's search (name, then phone as typed),
    matched by phone when the booking has one, else by name."""
    basis = match_basis(booking)
    found: dict[int, Booking] = {}
    words = [booking.customer_name.strip()[:SEARCH_MAX]]
    if basis == BY_PHONE:
        words.append(booking.phone.strip()[:SEARCH_MAX])
    for word in words:
        if not word:
            continue
        page = list_page(BookingQuery(search=word, sort=BookingSort.START_AT, descending=True),
                         HISTORY_LIMIT)
        for b in page.rows:
            if is_same_guest(booking, b, basis):
                found[b.id] = b
    return guest_history(booking, found.values(), matched_by=basis if basis == BY_PHONE
                         else BY_NAME, now=now, partial=SEARCHED)
