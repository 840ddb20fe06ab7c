"""The shop's business data as the console sees it: bookings, products, orders, their errors."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from console.changes import SavedBy
from console.shop_status import BookingStatus, OrderStatus

T = TypeVar("T")


# --------------------------------------------------------------------------- statuses


# Orders whose money counts as revenue (taken and not given back).
REVENUE_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.PREPARING, OrderStatus.READY,
                              OrderStatus.COMPLETED})


# --------------------------------------------------------------------------- errors


class ShopError(Exception):
    """Something the shop's back end refused or could not do; the message is for a person."""


class ValidationFailed(ShopError):
    """The data was refused; ``errors`` maps a field name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        text = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
        super().__init__(f"Please correct: {text}" if text else "The data was refused")


class Conflict(ShopError):
    """Someone else saved first: ``mine`` is what we tried to save, ``theirs`` what is stored.

    ``theirs`` is the current record (with its new version) or None when it was deleted.
    """

    def __init__(self, mine: Any, theirs: Any, saved_by: SavedBy | None = None) -> None:
        self.mine = mine
        self.theirs = theirs
        #: Who saved first and when, where the back end says (else None).
        self.saved_by = saved_by
        super().__init__("Someone else changed this record after you opened it")


class NotFound(ShopError):
    """The record does not exist (any more)."""


class Unsupported(ShopError):
    """This route to the shop cannot do this (the message says why and what would)."""


class BackendUnavailable(ShopError):
    """The API or database could not be reached or answered with an error of its own."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


# --------------------------------------------------------------------------- records


def utc_now() -> datetime:
    """Now, as an aware UTC datetime: the adapters' clock unless they are given another."""
    return datetime.now(UTC)


def utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def naive_utc(dt: datetime) -> datetime:
    """``dt`` as the naive UTC datetime the database stores."""
    return utc(dt).replace(tzinfo=None)


def iso_z(dt: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, as the REST API speaks it."""
    return utc(dt).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse the API's ISO 8601 timestamps ('Z' or an offset; naive means UTC)."""
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


@dataclass(frozen=True, slots=True)
class BookingDraft:
    """The fields of a booking a person edits; what create and update send."""

    customer_name: str
    party_size: int
    start_at: datetime
    phone: str = ""
    table_no: int | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Booking:
    """A table booking; ``start_at`` is an aware UTC datetime."""

    id: int
    customer_name: str
    party_size: int
    start_at: datetime
    status: BookingStatus
    version: int
    phone: str = ""
    table_no: int | None = None
    notes: str = ""
    customer_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def draft(self) -> BookingDraft:
        return BookingDraft(customer_name=self.customer_name, party_size=self.party_size,
                            start_at=self.start_at, phone=self.phone, table_no=self.table_no,
                            notes=self.notes)


@dataclass(frozen=True, slots=True)
class ProductDraft:
    """The fields of a product a person edits."""

    name: str
    category: str
    price_cents: int
    stock: int
    low_stock_threshold: int = 5
    active: bool = True


@dataclass(frozen=True, slots=True)
class Product:
    """Something the shop sells; prices are integer cents."""

    id: int
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int
    low_stock_threshold: int
    active: bool
    version: int
    updated_at: datetime | None = None

    @property
    def is_low_stock(self) -> bool:
        """Active and at or under its threshold: time to reorder."""
        return self.active and self.stock <= self.low_stock_threshold

    def draft(self) -> ProductDraft:
        return ProductDraft(name=self.name, category=self.category,
                            price_cents=self.price_cents, stock=self.stock,
                            low_stock_threshold=self.low_stock_threshold, active=self.active)


@dataclass(frozen=True, slots=True)
class Order:
    """One order; ``total_cents`` as stored, ``placed_at`` an aware UTC datetime."""

    id: int
    customer_name: str
    placed_at: datetime
    status: OrderStatus
    total_cents: int
    version: int
    item_count: int = 0
    customer_id: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of an order."""

    id: int
    product_id: int
    product_name: str
    sku: str
    quantity: int
    unit_price_cents: int

    @property
    def line_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """An order with its lines."""

    order: Order
    items: tuple[OrderItem, ...]


# --------------------------------------------------------------------------- queries


class BookingSort(StrEnum):
    """Orders a booking list can be sorted by (each then by id)."""

    START_AT = "start_at"
    CUSTOMER_NAME = "customer_name"
    #: What a search wants: bookings from ``BookingQuery.upcoming_from`` on, soonest first,
    #: then the earlier ones, most recent first (``descending`` is ignored).
    UPCOMING_FIRST = "upcoming_first"


class OrderSort(StrEnum):
    """Orders an order list can be sorted by (each then by id)."""

    PLACED_AT = "placed_at"
    TOTAL = "total_cents"


class ProductSort(StrEnum):
    """Orders a product list can be sorted by (each then by id)."""

    NAME = "name"
    SKU = "sku"
    STOCK = "stock"
    PRICE = "price_cents"


@dataclass(frozen=True, slots=True)
class BookingQuery:
    """Which bookings to list: a start window [start_from, start_to), search, statuses, order."""

    start_from: datetime | None = None
    start_to: datetime | None = None
    search: str = ""
    statuses: frozenset[BookingStatus] = frozenset()
    sort: BookingSort = BookingSort.START_AT
    descending: bool = False
    #: Where "upcoming" starts for :attr:`BookingSort.UPCOMING_FIRST` (aware UTC); fixed when
    #: the search is made, so that its pages agree with each other.
    upcoming_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """Which orders to list: a placed window [placed_from, placed_to), search, statuses."""

    placed_from: datetime | None = None
    placed_to: datetime | None = None
    search: str = ""
    statuses: frozenset[OrderStatus] = frozenset()
    sort: OrderSort = OrderSort.PLACED_AT
    descending: bool = True


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """Which products to list: search in name and SKU, one category, low stock only."""

    search: str = ""
    category: str = ""
    low_stock_only: bool = False
    include_inactive: bool = True
    sort: ProductSort = ProductSort.NAME
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paged list; ``next_cursor`` is opaque, None on the last page."""

    rows: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class RowCount:
    """How many rows a query gives; ``exact`` False when it is the planner's estimate."""

    value: int
    exact: bool = True


@dataclass(frozen=True, slots=True)
class TodayFigures:
    """Today's business and the same weekday a week ago, hour by hour (24 buckets).

    ``bookings`` and ``covers`` count bookings starting today that are not cancelled (covers
    leave no-shows out); ``orders`` counts every order placed today and ``revenue_cents``
    those in :data:`REVENUE_STATUSES`; ``low_stock`` is active products at or under their
    threshold.
    """

    day: date
    bookings: int
    covers: int
    orders: int
    revenue_cents: int
    low_stock: int
    bookings_per_hour: tuple[int, ...]
    bookings_per_hour_last_week: tuple[int, ...]
    orders_per_hour: tuple[int, ...]
    orders_per_hour_last_week: tuple[int, ...]


def hour_buckets(start: datetime, times: list[datetime], hours: int = 24) -> tuple[int, ...]:
    """Count ``times`` per hour since ``start``; times outside the ``hours`` are left out."""
    start = utc(start)
    counts = [0] * hours
    for t in times:
        i = int((utc(t) - start) // timedelta(hours=1))
        if 0 <= i < hours:
            counts[i] += 1
    return tuple(counts)


# --------------------------------------------------------------------------- merging


D = TypeVar("D", BookingDraft, ProductDraft)


class Side(StrEnum):
    MINE = "mine"
    THEIRS = "theirs"


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One editable field where my draft and the stored record differ."""

    name: str
    base: Any
    mine: Any
    theirs: Any

    @property
    def changed_by_me(self) -> bool:
        return self.mine != self.base

    @property
    def changed_by_them(self) -> bool:
        return self.theirs != self.base

    @property
    def suggested(self) -> Side:
        """Keep my value where only I changed it, theirs where only they did (or both)."""
        if self.changed_by_them and not self.changed_by_me:
            return Side.THEIRS
        return Side.MINE


def diff_drafts(base: D | None, mine: D, theirs: D) -> list[FieldDiff]:
    """The fields where ``mine`` and ``theirs`` disagree (``base`` is what I started from)."""
    out = []
    for f in dataclasses.fields(mine):
        m, t = getattr(mine, f.name), getattr(theirs, f.name)
        if m != t:
            b = getattr(base, f.name) if base is not None else t
            out.append(FieldDiff(f.name, b, m, t))
    return out


def merge_drafts(mine: D, theirs: D, choices: Mapping[str, Side]) -> D:
    """Field by field: ``theirs`` with my value wherever ``choices`` says MINE."""
    values = {f.name: (getattr(mine, f.name) if choices.get(f.name) == Side.MINE
                       else getattr(theirs, f.name))
              for f in dataclasses.fields(theirs)}
    return type(theirs)(**values)


# --------------------------------------------------------------------------- formatting


def format_cents(cents: int, currency: str = "€") -> str:
    """12345 -> '€123.45' with a thin grouping comma; negative with a leading minus."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{currency}{whole:,}.{frac:02d}"


def parse_money(text: str) -> int:
    """'12.5', '€12.50', '1,234.00' -> cents; raises ValueError on anything else."""
    cleaned = text.strip().lstrip("€$£").replace(",", "").strip()
    if not re.fullmatch(r"-?\d+(\.\d{0,2})?", cleaned):
        raise ValueError(f"not an amount: {text!r}")
    whole, _, frac = cleaned.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((frac + "00")[:2]))
