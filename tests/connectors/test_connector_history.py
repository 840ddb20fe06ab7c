"""Who changed what over the connectors: Django's admin log as the History; Flask says none."""

from __future__ import annotations

import pytest

from console.changes import Entity
from console.shop import NotFound, OrderQuery, Unsupported
from tests.connectors.conftest import Shop


def test_the_shops_own_log_is_the_history_or_the_shop_says_it_keeps_none(shop: Shop) -> None:
    repo = shop.repo()
    try:
        if shop.name.startswith("django"):
            # The seed wrote what Django's admin writes: chef.anna added the first
            # reservation, then changed its covers and notes.
            first = repo.get_booking(1)
            history = repo.history(Entity.BOOKINGS, first.id)
            assert [(c.user, c.field) for c in history] in (
                [("chef.anna", "party_size"), ("chef.anna", "notes"),
                 ("chef.anna", "created")],
                [("chef.anna", "created"), ("chef.anna", "party_size"),
                 ("chef.anna", "notes")])  # same second: either order
            assert all(c.old is None for c in history)  # the admin keeps no old values
            assert repo.history(Entity.BOOKINGS, 2) == ()
            order = repo.list_orders(OrderQuery(), limit=1).rows[0]
            assert repo.history(Entity.ORDERS, order.id) == ()
        else:
            with pytest.raises(Unsupported, match="no history"):
                repo.history(Entity.BOOKINGS, repo.get_booking(1).id)
        with pytest.raises(NotFound):
            repo.history(Entity.BOOKINGS, 10**9)
    finally:
        repo.close()
