"""Who changed what over the connectors: the connector's own log, and Django's admin log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from html import escape
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from console.changes import Entity
from console.shop import BookingQuery, BookingSort, NotFound, OrderQuery
from services.bootstrap import Diagnostics, Local
from tests.connectors.conftest import Shop, flask_site
from tests.support.shots import save_shot
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.worker import TaskRunner


def test_the_shops_own_log_is_in_the_history_next_to_the_connectors(shop: Shop) -> None:
    repo = shop.repo()
    try:
        if shop.name.startswith("django"):
            # The seed wrote what Django's admin writes: chef.anna added the first
            # reservation, then changed its covers and notes. (Edits made through the
            # connector by other tests are in the history too, under their own user.)
            first = repo.get_booking(1)
            history = repo.history(Entity.BOOKINGS, first.id)
            assert [(c.user, c.field) for c in history if c.user == "chef.anna"] in (
                [("chef.anna", "party_size"), ("chef.anna", "notes"),
                 ("chef.anna", "created")],
                [("chef.anna", "created"), ("chef.anna", "party_size"),
                 ("chef.anna", "notes")])  # same second: either order
            # the admin keeps no old values
            assert all(c.old is None for c in history if c.user == "chef.anna")
            order = repo.list_orders(OrderQuery(), limit=1).rows[0]
            assert repo.history(Entity.ORDERS, order.id) == ()
        # a record nobody changed through the connector nor the admin: an empty history
        # (the Flask café has no admin; the connector's own log is its history)
        last = repo.list_bookings(BookingQuery(sort=BookingSort.START_AT, descending=True),
                                  limit=1).rows[0]
        assert repo.history(Entity.BOOKINGS, last.id) == ()
        with pytest.raises(NotFound):
            repo.history(Entity.BOOKINGS, 10**9)
    finally:
        repo.close()


def test_the_owner_reads_the_connectors_log_in_djangos_admin_and_cannot_edit_it(
        shop: Shop) -> None:
    """What a console user changed is listed in the site's own admin (Backroom connector >
    Recorded changes), the user's name shown as text, newest first; no line can be added,
    edited or deleted there; the "at" filter works on every database (MariaDB as installed
    has no zone tables)."""
    if not shop.name.startswith("django"):
        pytest.skip("the café has no admin")
    site = shop.base_url.removesuffix("/backroom")
    name = "Ana <img src=/dev/zero> " + shop.name
    repo = shop.repo(user=name)
    try:
        booking = repo.list_bookings(BookingQuery(sort=BookingSort.START_AT), limit=30).rows[29]
        repo.update_booking(booking.id, booking.version,
                            replace(booking.draft(), party_size=booking.party_size % 6 + 1))
    finally:
        repo.close()
    browser = requests.Session()
    login = f"{site}/admin/login/"
    browser.get(login, timeout=10).raise_for_status()
    signed_in = browser.post(login, timeout=10, headers={"Referer": login}, data={
        "username": "owner", "password": shop.admin_password, "next": "/admin/",
        "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
    assert signed_in.url.endswith("/admin/"), "signed in"
    assert "Recorded changes" in signed_in.text
    listing = f"{site}/admin/backroom_connect/recordedchange/"
    for query in ({"q": "dev/zero"}, {"q": "dev/zero", "at__gte": str(date.today()
                                                                        - timedelta(days=1))}):
        page = browser.get(listing, params=query, timeout=10)
        assert page.status_code == 200, page.text[:500]
        assert escape(name) in page.text and name not in page.text  # as text, not markup
        assert "party_size" in page.text
        # the record links to the reservation in the site's own admin
        assert f'href="/admin/reservations/reservation/{booking.id}/change/">{booking.id}<' \
            in page.text
    assert "recordedchange/add/" not in browser.get(listing, timeout=10).text
    assert browser.get(f"{listing}add/", timeout=10).status_code == 403
    first = browser.get(listing, params={"q": "dev/zero"}, timeout=10).text
    ident = first.split(f"{listing.removeprefix(site)}", 2)[1].split("/", 1)[0]
    row = browser.get(f"{listing}{ident}/change/", timeout=10)
    assert row.status_code == 200 and "Save" not in row.text  # read-only
    assert browser.post(f"{listing}{ident}/delete/", timeout=10, headers={"Referer": listing},
                        data={"post": "yes", "csrfmiddlewaretoken":
                              browser.cookies["csrftoken"]}).status_code == 403


@pytest.mark.gui
@pytest.mark.parametrize("site", ["django", "flask"])
def test_the_history_tab_over_a_connector(qtbot: Any, site: str, django_shop: Shop,
                                          cafe: Shop) -> None:
    """A change made from the console (its user Zoë Ng) is in the History with its values,
    newest first; Django's admin log (names only) below it; and the panel still edits."""
    running = django_shop if site == "django" else cafe
    repo = running.repo(user="Zoë Ng")
    before = repo.get_booking(1)
    repo.update_booking(before.id, before.version,
                        replace(before.draft(), party_size=before.party_size % 6 + 1))
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

        def cell(row: int, column: int) -> str:
            return str(box.model.data(box.model.index(row, column)))

        rows = [tuple(cell(r, c) for c in range(1, 5)) for r in range(box.model.rowCount())]
        assert rows[0] == ("Zoë Ng", "Party size", str(before.party_size),
                           str(before.party_size % 6 + 1))
        if site == "django":
            admin = [r for r in rows if r[0] == "chef.anna"]
            assert {r[1] for r in admin} == {"Created", "Party size", "Notes"}
            assert admin[-1][3] != "changed (the shop keeps no values)"  # Created says what
            assert ("chef.anna", "Notes", "", "changed (the shop keeps no values)") in admin
            page.panel_tabs.parentWidget().setSizes([700, 700])  # the panel dragged wider
            save_shot(page, "history-tab-django.png")
        page.panel_tabs.setCurrentIndex(0)
        assert page.form.name_edit.text() == first.customer_name
    finally:
        tasks.shutdown()
        repo.close()


@pytest.fixture(scope="module")
def cafe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with flask_site("sqlite", tmp_path_factory.mktemp("cafe-history")) as running:
        yield running
