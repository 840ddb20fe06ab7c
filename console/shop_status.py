"""Where a booking or an order stands: the statuses a profile's map and the shop share."""

from __future__ import annotations

from enum import StrEnum


class BookingStatus(StrEnum):
    """Where a booking stands; stored and sent as these exact strings."""

    CONFIRMED = "confirmed"
    SEATED = "seated"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return _BOOKING_LABELS[self]


_BOOKING_LABELS = {
    BookingStatus.CONFIRMED: "Confirmed",
    BookingStatus.SEATED: "Seated",
    BookingStatus.CANCELLED: "Cancelled",
    BookingStatus.NO_SHOW: "No-show",
}


class OrderStatus(StrEnum):
    """Where an order stands; moves only along :data:`console.shop_rules.ORDER_TRANSITIONS`."""

    PENDING = "pending"
    PAID = "paid"
    PREPARING = "preparing"
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return self.value.capitalize()
