"""Bookings upcoming first (soonest at the top), then past (most recent first), on any route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from console.shop import Booking, BookingQuery, BookingSort, Page, ValidationFailed

ListPage = Callable[[BookingQuery, str | None, int], Page[Booking]]
CountRows = Callable[[BookingQuery], int]
Seek = Callable[[BookingQuery, int], str | None]

#: A cursor of this list: which part it is in, then that part's own cursor.
UPCOMING, PAST = "u:", "p:"


def parts(query: BookingQuery) -> tuple[BookingQuery, BookingQuery]:
    """The two plain lists this one is made of: [upcoming_from, ...) ascending and
    [..., upcoming_from) descending, each within the query's own window."""
    split = query.upcoming_from or datetime.now(UTC)
    start_from = split if query.start_from is None else max(split, query.start_from)
    start_to = split if query.start_to is None else min(split, query.start_to)
    upcoming = replace(query, sort=BookingSort.START_AT, descending=False,
                       start_from=start_from, upcoming_from=None)
    past = replace(query, sort=BookingSort.START_AT, descending=True,
                   start_to=start_to, upcoming_from=None)
    return upcoming, past


def page(query: BookingQuery, after: str | None, limit: int, list_page: ListPage
         ) -> Page[Booking]:
    """One page: upcoming rows until they run out, then past rows."""
    upcoming, past = parts(query)
    part, inner = _split_cursor(after)
    rows: tuple[Booking, ...] = ()
    if part == UPCOMING:
        first = list_page(upcoming, inner, limit)
        if first.next_cursor is not None:
            return Page(first.rows, UPCOMING + first.next_cursor)
        rows, inner = first.rows, None
        if len(rows) >= limit:  # the upcoming part ended on this page's last row
            peek = list_page(past, None, 1)
            return Page(rows, PAST if peek.rows else None)
    rest = list_page(past, inner, limit - len(rows))
    return Page(rows + rest.rows, None if rest.next_cursor is None else PAST + rest.next_cursor)


def seek(query: BookingQuery, position: int, count: CountRows, seek_part: Seek) -> str | None:
    """The cursor after the first ``position`` rows."""
    if position <= 0:
        return None
    upcoming, past = parts(query)
    ahead = count(upcoming)
    if position < ahead:
        inner = seek_part(upcoming, position)
        return None if inner is None else UPCOMING + inner
    if position == ahead:
        return PAST
    inner = seek_part(past, position - ahead)
    return None if inner is None else PAST + inner


def _split_cursor(cursor: str | None) -> tuple[str, str | None]:
    if not cursor:
        return UPCOMING, None
    part, inner = cursor[:2], cursor[2:]
    if part not in (UPCOMING, PAST):
        raise ValidationFailed({"cursor": "Not a cursor of this list; start again from the "
                                          "first page."})
    return part, inner or None
