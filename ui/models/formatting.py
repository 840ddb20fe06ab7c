"""How the shop's values read in tables and forms: local times, money, statuses as states."""

from __future__ import annotations

from datetime import datetime, tzinfo

from console.shop import BookingStatus, OrderStatus, Product, format_cents

BOOKING_STATES = {
    BookingStatus.CONFIRMED: "ok",
    BookingStatus.SEATED: "active",  # at a table now: told apart from confirmed at a glance
    BookingStatus.NO_SHOW: "fail",
    BookingStatus.CANCELLED: "stale",
}
ORDER_STATES = {
    OrderStatus.PENDING: "warn",
    OrderStatus.PAID: "ok",
    OrderStatus.PREPARING: "ok",
    OrderStatus.READY: "warn",
    OrderStatus.COMPLETED: "ok",
    OrderStatus.CANCELLED: "stale",
    OrderStatus.REFUNDED: "fail",
}

# What the button that moves an order to a status says.
ORDER_ACTIONS = {
    OrderStatus.PAID: "Mark paid",
    OrderStatus.PREPARING: "Start preparing",
    OrderStatus.READY: "Mark ready",
    OrderStatus.COMPLETED: "Complete",
    OrderStatus.CANCELLED: "Cancel order",
    OrderStatus.REFUNDED: "Refund",
}
BOOKING_ACTIONS = {
    BookingStatus.SEATED: "Seat",
    BookingStatus.NO_SHOW: "No-show",
    BookingStatus.CANCELLED: "Cancel booking",
    BookingStatus.CONFIRMED: "Back to confirmed",
}


def local(dt: datetime, tz: tzinfo | None = None) -> datetime:
    """An aware datetime in the console's local zone (or ``tz``)."""
    return dt.astimezone(tz)


def when_text(dt: datetime, tz: tzinfo | None = None) -> str:
    """'Wed 25 Nov 19:30' in local time ('Wed 25 Nov 2026 19:30' in another year)."""
    moment = local(dt, tz)
    if moment.year == datetime.now(moment.tzinfo).year:
        return moment.strftime("%a %d %b %H:%M")
    return moment.strftime("%a %d %b %Y %H:%M")


def short_when(dt: datetime, tz: tzinfo | None = None) -> str:
    """'25 Nov 12:41' in local time."""
    return local(dt, tz).strftime("%d %b %H:%M")


def money(cents: int) -> str:
    return format_cents(cents)


def stock_state(product: Product) -> str | None:
    """'fail' when an active product is out of stock, 'warn' at or under its threshold."""
    if not product.active:
        return None
    if product.stock <= 0:
        return "fail"
    if product.is_low_stock:
        return "warn"
    return None
