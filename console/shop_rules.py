"""The shop's business rules: what a booking, product or restock may hold, which moves go."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from console.shop import (
    BookingDraft,
    BookingStatus,
    OrderStatus,
    ProductDraft,
    ValidationFailed,
    utc,
)

PARTY_SIZE_MIN = 1
PARTY_SIZE_MAX = 20
NAME_MAX = 120
PHONE_MAX = 40
NOTES_MAX = 1000
SKU_MAX = 64
CATEGORY_MAX = 60
TABLE_NO_MAX = 999
RESTOCK_MAX = 100_000
SEARCH_MAX = 200
_PHONE_CHARS = re.compile(r"^[0-9+()\-. /]*$")

# --------------------------------------------------------------------------- status moves

# As the shop API defines them: a confirmed booking can be seated, cancelled or marked a
# no-show; a seat can be undone; a late no-show can still be seated; cancelled is final, but
# for the few minutes of UNDO_CANCEL (see check_booking_transition).
BOOKING_TRANSITIONS: Mapping[BookingStatus, tuple[BookingStatus, ...]] = {
    BookingStatus.CONFIRMED: (BookingStatus.SEATED, BookingStatus.NO_SHOW,
                              BookingStatus.CANCELLED),
    BookingStatus.SEATED: (BookingStatus.CONFIRMED,),
    BookingStatus.NO_SHOW: (BookingStatus.CONFIRMED, BookingStatus.SEATED),
    BookingStatus.CANCELLED: (),
}

#: How long after a cancel the booking may be confirmed again (the console's Undo offers 10 s;
#: the rest is slack for a slow network and a second console's clock).
UNDO_CANCEL = timedelta(minutes=2)

ORDER_TRANSITIONS: Mapping[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.PENDING: (OrderStatus.PAID, OrderStatus.CANCELLED),
    OrderStatus.PAID: (OrderStatus.PREPARING, OrderStatus.CANCELLED, OrderStatus.REFUNDED),
    OrderStatus.PREPARING: (OrderStatus.READY,),
    OrderStatus.READY: (OrderStatus.COMPLETED,),
    OrderStatus.COMPLETED: (OrderStatus.REFUNDED,),
    OrderStatus.CANCELLED: (),
    OrderStatus.REFUNDED: (),
}


def allowed_order_transitions(status: OrderStatus) -> tuple[OrderStatus, ...]:
    """The statuses an order in ``status`` may move to, in the order a person would try them."""
    return ORDER_TRANSITIONS[OrderStatus(status)]


def allowed_booking_transitions(status: BookingStatus) -> tuple[BookingStatus, ...]:
    """The statuses a booking in ``status`` may move to."""
    return BOOKING_TRANSITIONS[BookingStatus(status)]


def check_order_transition(current: OrderStatus, new: OrderStatus) -> None:
    """Raise :class:`ValidationFailed` unless ``current -> new`` is allowed."""
    if OrderStatus(new) not in ORDER_TRANSITIONS[OrderStatus(current)]:
        allowed = ", ".join(s.value for s in ORDER_TRANSITIONS[OrderStatus(current)]) or "none"
        raise ValidationFailed({"status": f"An order that is {current.value} cannot become "
                                          f"{new.value} (allowed: {allowed})."})


def undoes_a_cancel(current: BookingStatus, new: BookingStatus,
                    changed_at: datetime | None, now: datetime) -> bool:
    """Whether ``current -> new`` is the undo of a cancel made within :data:`UNDO_CANCEL`."""
    return (BookingStatus(current) is BookingStatus.CANCELLED
            and BookingStatus(new) is BookingStatus.CONFIRMED and changed_at is not None
            and timedelta(0) <= utc(now) - utc(changed_at) <= UNDO_CANCEL)


def check_booking_transition(current: BookingStatus, new: BookingStatus, *,
                             changed_at: datetime | None = None,
                             now: datetime | None = None) -> None:
    """Raise :class:`ValidationFailed` unless ``current -> new`` is allowed.

    A cancelled booking last changed at ``changed_at`` may be confirmed again until
    :data:`UNDO_CANCEL` has passed (the undo of a cancel made by mistake).
    """
    if now is not None and undoes_a_cancel(current, new, changed_at, now):
        return
    if BookingStatus(new) not in BOOKING_TRANSITIONS[BookingStatus(current)]:
        if BookingStatus(current) is BookingStatus.CANCELLED:
            minutes = int(UNDO_CANCEL.total_seconds() // 60)
            raise ValidationFailed({"status": "A cancelled booking can be confirmed again "
                                              f"only within {minutes} minutes of the cancel."})
        raise ValidationFailed({"status": f"A booking that is {current.label.lower()} cannot "
                                          f"become {new.label.lower()}."})


# --------------------------------------------------------------------------- drafts
# A form asks validate_*() for what to say under its fields; an adapter calls check_*() and
# refuses the draft before it writes. Both run the one set of rules below.


def validate_booking(draft: BookingDraft, *, now: datetime,
                     stored_start: Callable[[], datetime] | None = None,
                     walk_in: bool = False) -> dict[str, str]:
    """What is wrong with ``draft``, field by field; empty when it may be saved.

    A new booking (``stored_start`` None) must start in the future; an edit must only when it
    moves the start time. ``stored_start`` reads the start as stored; it is called only for a
    draft that starts by ``now``, the one case where the answer depends on it. A walk-in
    (``walk_in``) starts when it is stored, so its start is not checked.
    """
    errors: dict[str, str] = {}
    name = draft.customer_name.strip()
    if not name:
        errors["customer_name"] = "Enter the guest's name."
    elif len(name) > NAME_MAX:
        errors["customer_name"] = f"At most {NAME_MAX} characters (this has {len(name)})."
    if not isinstance(draft.party_size, int) or not (
            PARTY_SIZE_MIN <= draft.party_size <= PARTY_SIZE_MAX):
        errors["party_size"] = (f"Party size must be {PARTY_SIZE_MIN} to {PARTY_SIZE_MAX}; "
                                "for larger groups call the restaurant.")
    # A walk-in is seated now: the adapter stores the shop's now, whatever the draft says.
    if not walk_in and utc(draft.start_at) <= utc(now) and (
            stored_start is None or utc(stored_start()) != utc(draft.start_at)):
        errors["start_at"] = "Pick a time in the future."
    phone = phone_error(draft.phone)
    if phone:
        errors["phone"] = phone
    if draft.table_no is not None and not (1 <= draft.table_no <= TABLE_NO_MAX):
        errors["table_no"] = f"Table number must be 1 to {TABLE_NO_MAX}, or empty."
    if len(draft.notes) > NOTES_MAX:
        errors["notes"] = f"At most {NOTES_MAX} characters."
    return errors


def phone_error(phone: str) -> str | None:
    """What is wrong with a guest's phone as typed (a booking's, a waiting party's), or None."""
    phone = phone.strip()
    if len(phone) > PHONE_MAX:
        return f"At most {PHONE_MAX} characters."
    if not _PHONE_CHARS.match(phone):
        return "Use digits, spaces and + ( ) - only."
    return None


def validate_product(draft: ProductDraft) -> dict[str, str]:
    """What is wrong with a product edit, field by field."""
    errors: dict[str, str] = {}
    if not draft.name.strip():
        errors["name"] = "Enter the product's name."
    elif len(draft.name.strip()) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    if not draft.category.strip():
        errors["category"] = "Enter a category."
    elif len(draft.category.strip()) > CATEGORY_MAX:
        errors["category"] = f"At most {CATEGORY_MAX} characters."
    if draft.price_cents < 0:
        errors["price_cents"] = "The price cannot be negative."
    if draft.stock < 0:
        errors["stock"] = "Stock cannot be negative."
    if draft.low_stock_threshold < 0:
        errors["low_stock_threshold"] = "The threshold cannot be negative."
    return errors


def validate_restock(quantity: int) -> dict[str, str]:
    """What is wrong with a restock quantity (1..100000)."""
    if not 1 <= quantity <= RESTOCK_MAX:
        return {"quantity": f"Restock by 1 to {RESTOCK_MAX:,}."}
    return {}


def check_booking(draft: BookingDraft, *, now: datetime,
                  stored_start: Callable[[], datetime] | None = None,
                  walk_in: bool = False) -> None:
    """Raise :class:`ValidationFailed` with what :func:`validate_booking` finds."""
    _refuse(validate_booking(draft, now=now, stored_start=stored_start, walk_in=walk_in))


def check_product(draft: ProductDraft) -> None:
    """Raise :class:`ValidationFailed` with what :func:`validate_product` finds."""
    _refuse(validate_product(draft))


def check_restock(quantity: int) -> None:
    """Raise :class:`ValidationFailed` with what :func:`validate_restock` finds."""
    _refuse(validate_restock(quantity))


def check_search(text: str) -> str:
    """The search words without their outer spaces; :class:`ValidationFailed` when too long."""
    text = text.strip()
    if len(text) > SEARCH_MAX:
        raise ValidationFailed({"search": f"Search at most {SEARCH_MAX} characters."})
    return text


def _refuse(errors: Mapping[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)
