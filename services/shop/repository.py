"""The one interface the UI uses for bookings, products and orders, whichever adapter is behind."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Protocol, runtime_checkable

from console.changes import Change, Entity
from console.floor import FloorPlan
from console.guests import GuestHistory
from console.past_days import PastDays
from console.shop import (
    Booking,
    BookingDraft,
    BookingQuery,
    BookingStatus,
    Order,
    OrderDetail,
    OrderQuery,
    OrderStatus,
    Page,
    Product,
    ProductDraft,
    ProductQuery,
    RowCount,
    TodayFigures,
)
from console.waitlist import WaitingParty, Waitlist, WaitlistDraft

PAGE_LIMIT_MAX = 200


@runtime_checkable
class ShopRepository(Protocol):
    """Bookings, products and orders of one shop.

    Every method blocks (call it off the GUI thread) and raises only the errors of
    :mod:`console.shop`: ``ValidationFailed``, ``Conflict``, ``NotFound``,
    ``BackendUnavailable``. Lists are keyset-paged: pass a page's ``next_cursor`` as ``after``
    with the same query to get the next page. Updates carry the version the user read and
    raise ``Conflict`` when someone else saved first; nothing is overwritten silently.
    """

    kind: str
    """``"api"`` or ``"sql"``."""
    user: str
    """Who the console's changes are made as (the profile's user or the OS user)."""
    location: str
    """Where the data lives, for messages (a URL without its password)."""
    can_seek: bool
    """True when ``seek_*`` is cheap (SQL); the API adapter can only walk pages."""

    # bookings
    def list_bookings(self, query: BookingQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Booking]: ...
    def count_bookings(self, query: BookingQuery, *, exact: bool = False) -> RowCount:
        """How many rows the query gives; an estimate for big sets unless ``exact``."""
        ...
    def seek_bookings(self, query: BookingQuery, position: int) -> str | None: ...
    def get_booking(self, booking_id: int) -> Booking: ...
    def create_booking(self, draft: BookingDraft) -> Booking: ...
    def update_booking(self, booking_id: int, version: int, draft: BookingDraft) -> Booking: ...
    def set_booking_status(self, booking_id: int, version: int,
                           status: BookingStatus) -> Booking: ...
    def seat_walk_in(self, draft: BookingDraft) -> Booking:
        """A party without a booking, seated now: a booking created seated, starting now."""
        ...

    # the floor
    def floor(self) -> FloorPlan:
        """The tables, opening hours, slot length and covers limit; a plan without tables
        when the shop keeps none."""
        ...

    # the waitlist
    def waitlist(self, since: datetime) -> Waitlist:
        """The parties waiting now and those that left the list since ``since`` (the start
        of the shop's today, for the average wait); ``Unsupported`` where the shop keeps
        no waitlist (its own tables, a connector without one)."""
        ...
    def add_to_waitlist(self, draft: WaitlistDraft) -> WaitingParty: ...
    def seat_from_waitlist(self, party_id: int, table_no: int) -> tuple[WaitingParty, Booking]:
        """Seat a waiting party now at ``table_no``: the walk-in booking it becomes, with
        the party as it left the list; ``Conflict`` when someone seated or removed it first."""
        ...
    def remove_from_waitlist(self, party_id: int) -> WaitingParty: ...

    # products
    def list_products(self, query: ProductQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Product]: ...
    def count_products(self, query: ProductQuery, *, exact: bool = False) -> RowCount: ...
    def seek_products(self, query: ProductQuery, position: int) -> str | None: ...
    def get_product(self, product_id: int) -> Product: ...
    def update_product(self, product_id: int, version: int, draft: ProductDraft) -> Product: ...
    def restock_product(self, product_id: int, quantity: int) -> Product: ...
    def product_categories(self) -> tuple[str, ...]: ...

    # orders
    def list_orders(self, query: OrderQuery, *, after: str | None = None,
                    limit: int = 100) -> Page[Order]: ...
    def count_orders(self, query: OrderQuery, *, exact: bool = False) -> RowCount: ...
    def seek_orders(self, query: OrderQuery, position: int) -> str | None: ...
    def get_order(self, order_id: int) -> OrderDetail: ...
    def set_order_status(self, order_id: int, version: int,
                         status: OrderStatus) -> OrderDetail: ...

    # today
    def today(self, *, now: datetime | None = None, tz: tzinfo | None = None) -> TodayFigures:
        """Today's figures; ``tz`` is the shop's time zone (the API decides it itself)."""
        ...

    def guest_history(self, booking: Booking, *, now: datetime | None = None) -> GuestHistory:
        """What the shop knows of ``booking``'s guest from their other bookings (matched by
        phone or e-mail, else name)."""
        ...

    # who changed what
    def history(self, entity: Entity, record_id: int) -> tuple[Change, ...]:
        """Who changed which field of one booking, order or product, when, from what to what
        (newest first); ``Unsupported`` ("no history: ...") when the shop keeps none."""
        ...

    # past days
    def past_days(self, first: date, last: date, *, tz: tzinfo | None = None) -> PastDays:
        """Bookings, covers, orders and sales by category per day of ``first..last``;
        ``Unsupported`` on a route that cannot tell (the shop's own tables)."""
        ...

    def close(self) -> None: ...
