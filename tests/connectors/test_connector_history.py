"""Who changed what over the connectors: Django's admin log as the History; Flask says none."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from console.changes import Entity
from console.shop import NotFound, OrderQuery, Unsupported
from services.bootstrap import Diagnostics, Local
from tests.connectors.conftest import Shop, flask_site
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.worker import TaskRunner


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


@pytest.mark.gui
@pytest.mark.parametrize("site", ["django", "flask"])
def test_the_history_tab_over_a_connector(qtbot: Any, site: str, django_shop: Shop,
                                          cafe: Shop) -> None:
    """Django: the admin's log, by name; Flask: "no history", and the panel still edits."""
    running = django_shop if site == "django" else cafe
    repo = running.repo()
    tasks = TaskRunner()
    page = BookingsPage(AppContext(services=SimpleNamespace(shop=repo, profile=None),
                                   tasks=tasks, diagnostics=Diagnostics(), local=Local()))
    qtbot.add_widget(page)
    page.resize(1400, 820)
    page.show()
    try:
        first = repo.get_booking(1)
        page.set_day(first.start_at.date())
        qtbot.waitUntil(lambda: page.model.count is not None and not page.model.loading,
                        timeout=15_000)
        page.panel_tabs.setCurrentWidget(page.history_box)
        row = page.model.find_row(first.id)
        assert row is not None
        page.table.selectRow(row)
        qtbot.waitUntil(lambda: page.history_box.changes is not None, timeout=15_000)
        box = page.history_box
        if site == "django":
            who = {str(box.model.data(box.model.index(r, 1)))
                   for r in range(box.model.rowCount())}
            fields = {str(box.model.data(box.model.index(r, 2)))
                      for r in range(box.model.rowCount())}
            assert who == {"chef.anna"} and fields == {"Created", "Party size", "Notes"}
            assert str(box.model.data(box.model.index(0, 4))) == \
                "changed (the shop keeps no values)"
            page.panel_tabs.parentWidget().setSizes([700, 700])  # the panel dragged wider
            save_shot(page, "history-tab-django.png")
        else:
            assert box.summary.text().startswith("No history: this shop keeps no record")
            assert box.model.rowCount() == 0
        page.panel_tabs.setCurrentIndex(0)
        assert page.form.name_edit.text() == first.customer_name
    finally:
        tasks.shutdown()
        repo.close()


@pytest.fixture(scope="module")
def cafe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with flask_site("sqlite", tmp_path_factory.mktemp("cafe-history")) as running:
        yield running
