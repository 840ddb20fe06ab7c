"""The demo shop's API over real HTTP: hostile input gets a 4xx and a JSON error, never 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from demo import DemoShop
from tests.integration.test_demo_api import TIMEOUT

pytestmark = pytest.mark.integration

DEEP = 200_000


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoShop]:
    path = tmp_path_factory.mktemp("demo-hostile") / "shop.sqlite3"
    with DemoShop(path, traffic=False, seed_scale=0.1, workers=1) as running:
        yield running


@pytest.fixture(scope="module")
def session(shop: DemoShop) -> Iterator[requests.Session]:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {shop.token}"
    yield s
    s.close()


def send(shop: DemoShop, session: requests.Session, method: str, path: str,
         **kwargs: Any) -> requests.Response:
    return session.request(method, shop.base_url + path, timeout=TIMEOUT, **kwargs)


def assert_refused(response: requests.Response, *statuses: int) -> dict[str, Any]:
    """A 4xx (one of ``statuses`` when given) whose body is a JSON error for the caller."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.text[:300])
    body = response.json()
    assert body.get("error") or body.get("errors"), body
    return dict(body)


def tampered(shop: DemoShop, session: requests.Session, path: str, sort: str,
             **changes: Any) -> str:
    """A real next_cursor of ``path`` sorted by ``sort``, with fields replaced."""
    page = send(shop, session, "GET", path, params={"sort": sort, "limit": 2})
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data.update(changes)
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# -- numbers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("limit", ["١٢", "²", "٣", "9" * 5000, "99999999999999999999"])
def test_a_limit_in_anything_but_ascii_digits_is_refused(shop, session, limit: str) -> None:
    body = assert_refused(send(shop, session, "GET", "/api/bookings", params={"limit": limit}),
                          422)
    assert "limit" in body["errors"]


@pytest.mark.parametrize("party", ["١٢", "²", "9" * 5000])
def test_a_party_size_in_anything_but_ascii_digits_is_refused(shop, session,
                                                               party: str) -> None:
    response = send(shop, session, "GET", "/api/availability",
                    params={"date": "2030-06-01", "party_size": party})
    assert "party_size" in assert_refused(response, 422)["errors"]


@pytest.mark.parametrize("booking_id", ["١٢", "²", "9" * 30, "9" * 5000])
def test_an_id_in_the_path_that_is_no_row_id_is_not_found(shop, session,
                                                          booking_id: str) -> None:
    assert_refused(send(shop, session, "GET", f"/api/bookings/{booking_id}"), 404)
    assert_refused(send(shop, session, "GET", f"/api/products/{booking_id}"), 404)


@pytest.mark.parametrize("since", ["nan", "inf", "1e400", "١٢", "-5"])
def test_events_since_must_be_epoch_seconds(shop, session, since: str) -> None:
    response = send(shop, session, "GET", "/admin/events", params={"since": since})
    assert "since" in assert_refused(response, 422)["errors"]


# -- dates and times --------------------------------------------------------------------------

@pytest.mark.parametrize("day", ["9999-12-31", "0000-01-01", "0001-01-01"])
def test_a_date_out_of_range_is_refused(shop, session, day: str) -> None:
    assert_refused(send(shop, session, "GET", "/api/availability",
                        params={"date": day, "party_size": "2"}), 422)
    assert_refused(send(shop, session, "GET", "/api/bookings", params={"date": day}), 422)
    # The last day taken still answers, with its slots.
    response = send(shop, session, "GET", "/api/availability",
                    params={"date": "9998-12-31", "party_size": "2"})
    assert response.status_code == 200, response.text
    assert len(response.json()["slots"]) > 0


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00",
                                  "9999-12-31T23:00:00Z"])
def test_a_time_out_of_range_is_refused(shop, session, when: str) -> None:
    body = assert_refused(send(shop, session, "GET", "/api/bookings", params={"from": when}),
                          422)
    assert "from" in body["errors"]
    body = assert_refused(send(shop, session, "POST", "/api/bookings",
                               json={"customer_name": "Ana", "party_size": 2, "start_at": when}),
                          422)
    assert "start_at" in body["errors"]


# -- cursors ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "sort", "changes"), [
    ("/api/bookings", "start_at", {"i": 10**30}),
    ("/api/bookings", "start_at", {"i": 1.5}),
    ("/api/bookings", "start_at", {"i": True}),
    ("/api/orders", "-placed_at", {"i": -(10**30)}),
    ("/api/orders", "total_cents", {"k": 10**30}),
    ("/api/orders", "total_cents", {"k": 12.5}),
    ("/api/products", "name", {"i": 10**30}),
])
def test_a_cursor_with_a_huge_or_non_integer_number_is_refused(shop, session, path: str,
                                                               sort: str,
                                                               changes: dict[str, Any]) -> None:
    cursor = tampered(shop, session, path, sort, **changes)
    response = send(shop, session, "GET", path, params={"sort": sort, "cursor": cursor})
    assert "cursor" in assert_refused(response, 422)["errors"]


@pytest.mark.parametrize("cursor", [
    base64.urlsafe_b64encode(b"[" * 5000).decode(),
    base64.urlsafe_b64encode(b'{"s":' * 3000).decode(),
    "9" * 100_000,
])
def test_a_deeply_nested_or_huge_cursor_is_refused(shop, session, cursor: str) -> None:
    response = send(shop, session, "GET", "/api/bookings", params={"cursor": cursor})
    assert "cursor" in assert_refused(response, 422)["errors"]


# -- If-Match ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ['"' + "9" * 5000 + '"', '"\xb2"', 'W/"' + "9" * 40 + '"',
                                   '"1.5"', '"١٢"'])
def test_an_if_match_that_is_no_version_is_a_precondition_failure(shop, session,
                                                                  value: str) -> None:
    header = value.encode("utf-8") if not value.isascii() and "\xb2" not in value \
        else value.encode("latin-1")
    for method, path, body in (("PATCH", "/api/bookings/1", {"notes": "late arrival"}),
                               ("PATCH", "/api/products/1", {"price_cents": 450}),
                               ("POST", "/api/products/1/restock", {"quantity": 1}),
                               ("PATCH", "/api/orders/1", {"status": "preparing"})):
        response = send(shop, session, method, path, json=body, headers={"If-Match": header})
        assert_refused(response, 412)


# -- JSON bodies ------------------------------------------------------------------------------

@pytest.mark.parametrize(("opener", "depth"), [("[", DEEP), ('{"":', 150_000)])
def test_json_nested_200000_deep_is_refused(shop, session, opener: str, depth: int) -> None:
    """(Objects 150,000 deep: 200,000 would pass the 1 MB body cap, a 413 of its own.)"""
    closer = "]" if opener == "[" else "}"
    deep = opener * depth + "1" + closer * depth
    headers = {"Content-Type": "application/json"}
    for method, path in (("POST", "/api/bookings"), ("POST", "/api/orders"),
                         ("POST", "/admin/scenario")):
        assert_refused(send(shop, session, method, path, data=deep, headers=headers), 400)
    response = send(shop, session, "PATCH", "/api/bookings/1", data=deep,
                    headers={**headers, "If-Match": 'W/"1"'})
    assert_refused(response, 400)
    # The shop is none the worse: it goes on answering.
    assert send(shop, session, "GET", "/api/bookings", params={"limit": 1}).status_code == 200
