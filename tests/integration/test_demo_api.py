"""The demo shop's REST contract (docs/api.md) over real HTTP: paging, filters, errors, ETags."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from demo import DemoShop

pytestmark = pytest.mark.integration

TIMEOUT = 10


class Api:
    """A bearer-token session against one shop, with a timeout on every call."""

    def __init__(self, shop: DemoShop) -> None:
        self.base = shop.base_url
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {shop.token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.s.get(self.base + path, params=params, timeout=TIMEOUT)

    def post(self, path: str, body: Any = None, **headers: str) -> requests.Response:
        return self.s.post(self.base + path, json=body, headers=headers, timeout=TIMEOUT)

    def patch(self, path: str, body: Any, **headers: str) -> requests.Response:
        return self.s.patch(self.base + path, json=body, headers=headers, timeout=TIMEOUT)

    def walk(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, following next_cursor (bounded)."""
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(1000):
            page_params = dict(params, cursor=cursor) if cursor else params
            r = self.get(path, **page_params)
            assert r.status_code == 200, r.text
            body = r.json()
            items += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("paging did not end")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoShop]:
    path = tmp_path_factory.mktemp("demo-api") / "shop.sqlite3"
    with DemoShop(path, traffic=False, seed_scale=0.1, workers=1) as running:
        yield running


@pytest.fixture
def api(shop: DemoShop) -> Iterator[Api]:
    client = Api(shop)
    yield client
    client.s.close()


def sql(shop: DemoShop, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """Ask the shop's SQLite file directly (an independent check of what the API says)."""
    with sqlite3.connect(shop.db_path) as conn:
        return conn.execute(query, args).fetchall()


def future_slot(days: int = 3, hour: int = 19) -> str:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


def new_booking(api: Api, **fields: Any) -> requests.Response:
    body = {"customer_name": "Test Guest", "party_size": 2, "start_at": future_slot()}
    body.update(fields)
    r = api.post("/api/bookings", body)
    assert r.status_code == 201, r.text
    return r


# -- paging ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sort", ["start_at", "-start_at", "customer_name", "-customer_name"])
def test_cursor_walks_every_booking_once_in_order(api: Api, shop: DemoShop, sort: str) -> None:
    items = api.walk("/api/bookings", sort=sort, limit=97)
    ids = [b["id"] for b in items]
    assert len(ids) == len(set(ids)), "a row came back twice"
    assert set(ids) == {r[0] for r in sql(shop, "SELECT id FROM bookings")}
    key = sort.lstrip("-")
    keys = [(b[key], b["id"]) for b in items]
    assert keys == sorted(keys, reverse=sort.startswith("-"))


def test_estimated_total_and_filtered_paging_agree(api: Api, shop: DemoShop) -> None:
    first = api.get("/api/bookings", status="cancelled,no_show", limit=10).json()
    expected = sql(shop, "SELECT count(*) FROM bookings WHERE status IN ('cancelled','no_show')")
    assert first["estimated_total"] == expected[0][0] > 10
    walked = api.walk("/api/bookings", status="cancelled,no_show", limit=10)
    assert len(walked) == first["estimated_total"]
    assert {b["status"] for b in walked} == {"cancelled", "no_show"}


def test_rows_added_while_paging_cause_no_duplicates(api: Api) -> None:
    page = api.get("/api/bookings", sort="-start_at", limit=25).json()
    seen = [b["id"] for b in page["items"]]
    # A booking sorting at the very top (already passed) and one further down the list.
    new_booking(api, start_at=future_slot(days=29, hour=22))
    new_booking(api, start_at=future_slot(days=1, hour=12))
    cursor = page["next_cursor"]
    while cursor:
        body = api.get("/api/bookings", sort="-start_at", limit=25, cursor=cursor).json()
        seen += [b["id"] for b in body["items"]]
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen))


def test_product_and_order_lists_page_without_gaps(api: Api, shop: DemoShop) -> None:
    products = api.walk("/api/products", limit=7, sort="-stock")
    assert len(products) == sql(shop, "SELECT count(*) FROM products")[0][0]
    stocks = [p["stock"] for p in products]
    assert stocks == sorted(stocks, reverse=True)
    orders = api.walk("/api/orders", limit=200)
    assert len({o["id"] for o in orders}) == sql(shop, "SELECT count(*) FROM orders")[0][0]
    placed = [o["placed_at"] for o in orders]
    assert placed == sorted(placed, reverse=True)


# -- filters and search ----------------------------------------------------------------------

def test_date_filter_returns_only_that_day(api: Api, shop: DemoShop) -> None:
    day = (datetime.now(UTC).date() - timedelta(days=7)).isoformat()
    items = api.walk("/api/bookings", date=day)
    assert items and all(b["start_at"].startswith(day) for b in items)
    assert len(items) == sql(shop, "SELECT count(*) FROM bookings WHERE date(start_at) = ?",
                             day)[0][0]


def test_from_to_window_is_half_open(api: Api) -> None:
    start = future_slot(days=2, hour=19)
    mine = new_booking(api, start_at=start).json()
    inside = api.walk("/api/bookings", **{"from": start, "to": future_slot(days=2, hour=20)})
    assert mine["id"] in {b["id"] for b in inside}
    outside = api.walk("/api/bookings", **{"from": future_slot(days=2, hour=18), "to": start})
    assert mine["id"] not in {b["id"] for b in outside}


def test_search_finds_by_name_or_phone_case_insensitively(api: Api) -> None:
    made = new_booking(api, customer_name="Zoë Ångström-Test", phone="+44 7700 912345").json()
    for q in ("zOË ång", "ÅNGSTRÖM", "912345"):
        found = api.walk("/api/bookings", q=q)
        assert made["id"] in {b["id"] for b in found}, q
    orders = api.walk("/api/orders", q="smith")
    assert all("smith" in o["customer_name"].casefold() for o in orders)


HOSTILE = ["%", "_", "%_%", "\\", "' OR 1=1 --", '"; DROP TABLE bookings; --', "a'b\"c",
           "x" * 200, "😀", "名前", "  padded  "]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_search_is_literal_and_harmless(api: Api, shop: DemoShop, q: str) -> None:
    before = sql(shop, "SELECT count(*) FROM bookings")[0][0]
    r = api.get("/api/bookings", q=q, limit=200)
    assert r.status_code == 200, r.text
    needle = q.strip().casefold()
    for b in r.json()["items"]:
        assert needle in b["customer_name"].casefold() or needle in (b["phone"] or "").casefold()
    assert sql(shop, "SELECT count(*) FROM bookings")[0][0] == before


def test_like_wildcards_match_only_themselves(api: Api) -> None:
    odd = new_booking(api, customer_name="Ana_Test 100% O'Hara").json()
    plain = new_booking(api, customer_name="AnaXTest 1000 OHara").json()
    for q in ("a_t", "100%", "o'h"):
        ids = {b["id"] for b in api.walk("/api/bookings", q=q)}
        assert odd["id"] in ids and plain["id"] not in ids, q


@pytest.mark.parametrize("q", ["x" * 201, "\x00", "a\nb"])
def test_unsearchable_text_is_rejected_by_field(api: Api, q: str) -> None:
    r = api.get("/api/bookings", q=q)
    assert r.status_code == 422 and "q" in r.json()["errors"]


def test_product_filters(api: Api) -> None:
    low = api.walk("/api/products", low_stock="true")
    assert low and all(p["stock"] <= p["low_stock_threshold"] and p["low_stock"] for p in low)
    categories = api.get("/api/products/categories").json()["items"]
    assert categories == sorted(categories) and "Drinks" in categories
    drinks = api.walk("/api/products", category="Drinks")
    assert drinks and {p["category"] for p in drinks} == {"Drinks"}
    sku = drinks[0]["sku"]
    assert [p["sku"] for p in api.walk("/api/products", q=sku.lower())] == [sku]


# -- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"party_size": 0}, "party_size"),
    ({"party_size": 21}, "party_size"),
    ({"party_size": "4"}, "party_size"),
    ({"customer_name": ""}, "customer_name"),
    ({"customer_name": "   "}, "customer_name"),
    ({"customer_name": "x" * 121}, "customer_name"),
    ({"start_at": "2001-01-01T19:00:00Z"}, "start_at"),
    ({"start_at": "tomorrow at seven"}, "start_at"),
    ({"start_at": future_slot(hour=3)}, "start_at"),
    ({"start_at": future_slot(hour=23)}, "start_at"),
    ({"customer_id": 99_999_999}, "customer_id"),
    ({"table_no": 99}, "table_no"),
])
def test_invalid_booking_is_422_naming_the_field(api: Api, body: dict[str, Any],
                                                 field: str) -> None:
    full = {"customer_name": "Valid Name", "party_size": 2, "start_at": future_slot()} | body
    r = api.post("/api/bookings", full)
    assert r.status_code == 422, r.text
    assert list(r.json()["errors"]) == [field]


def test_every_bad_field_is_named_at_once(api: Api) -> None:
    r = api.post("/api/bookings", {"party_size": 0})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"party_size", "customer_name", "start_at"}


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "ten"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"date": "2026-13-01"}, "date"),
    ({"status": "eaten"}, "status"), ({"sort": "price"}, "sort"),
    ({"from": "yesterday"}, "from"),
])
def test_bad_list_parameters_are_422(api: Api, params: dict[str, Any], field: str) -> None:
    r = api.get("/api/bookings", **params)
    assert r.status_code == 422 and field in r.json()["errors"], r.text


def test_cursor_of_another_sort_is_rejected(api: Api) -> None:
    cursor = api.get("/api/bookings", limit=5).json()["next_cursor"]
    r = api.get("/api/bookings", sort="customer_name", cursor=cursor)
    assert r.status_code == 422 and "cursor" in r.json()["errors"]


def test_non_object_body_is_400(api: Api) -> None:
    r = api.s.post(api.base + "/api/bookings", data="[1, 2]", timeout=TIMEOUT,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()


def test_product_validation(api: Api) -> None:
    product = api.get("/api/products/1")
    etag = product.headers["ETag"]
    for body, field in (({"price_cents": -1}, "price_cents"), ({"stock": -5}, "stock"),
                        ({"name": ""}, "name"), ({"active": "yes"}, "active")):
        r = api.patch("/api/products/1", body, **{"If-Match": etag})
        assert r.status_code == 422 and list(r.json()["errors"]) == [field], r.text
    r = api.post("/api/products/1/restock", {"quantity": 0})
    assert r.status_code == 422 and "quantity" in r.json()["errors"]


# -- create, read, versions ------------------------------------------------------------------

def test_create_then_read_with_etag(api: Api) -> None:
    r = new_booking(api, customer_name="  Ana Lima ", party_size=4, notes="window")
    made = r.json()
    assert r.headers["ETag"] == 'W/"1"' and r.headers["Location"] == f"/api/bookings/{made['id']}"
    assert made["customer_name"] == "Ana Lima" and made["status"] == "confirmed"
    assert made["start_at"].endswith("Z") and made["version"] == 1
    got = api.get(f"/api/bookings/{made['id']}")
    assert got.json() == made and got.headers["ETag"] == 'W/"1"'
    assert api.get("/api/bookings/99999999").status_code == 404


def test_stale_update_is_412_with_the_current_version(api: Api) -> None:
    made = new_booking(api).json()
    path = f"/api/bookings/{made['id']}"
    first = api.patch(path, {"notes": "mine"}, **{"If-Match": 'W/"1"'})
    assert first.status_code == 200 and first.json()["version"] == 2
    assert first.headers["ETag"] == 'W/"2"'
    stale = api.patch(path, {"notes": "theirs"}, **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    body = stale.json()
    assert body["current"]["version"] == 2 and body["current"]["notes"] == "mine"
    assert stale.headers["ETag"] == 'W/"2"'
    assert api.get(path).json()["notes"] == "mine"  # nothing changed
    assert api.patch(path, {"notes": "ok"}, **{"If-Match": '"2"'}).status_code == 200
    assert api.patch(path, {"notes": "any"}, **{"If-Match": "*"}).json()["version"] == 4


def test_patch_without_if_match_is_428(api: Api) -> None:
    made = new_booking(api).json()
    assert api.patch(f"/api/bookings/{made['id']}", {"notes": "x"}).status_code == 428
    assert api.post(f"/api/bookings/{made['id']}/cancel").status_code == 428
    assert api.patch("/api/orders/1", {"status": "paid"}).status_code == 428
    assert api.patch("/api/products/1", {"stock": 5}).status_code == 428


def test_seat_no_show_cancel_transitions(api: Api) -> None:
    made = new_booking(api).json()
    path = f"/api/bookings/{made['id']}"
    seated = api.patch(path, {"status": "seated"}, **{"If-Match": 'W/"1"'}).json()
    assert seated["status"] == "seated"
    r = api.post(path + "/cancel", {}, **{"If-Match": 'W/"2"'})
    assert r.status_code == 409 and r.json()["allowed"] == ["confirmed"]
    api.patch(path, {"status": "confirmed"}, **{"If-Match": 'W/"2"'})
    cancelled = api.post(path + "/cancel", {"reason": "ill"}, **{"If-Match": 'W/"3"'})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and "ill" in cancelled.json()["notes"]
    again = api.post(path + "/cancel", {}, **{"If-Match": 'W/"4"'})
    assert again.status_code == 409 and again.json()["current"]["status"] == "cancelled"
    reopen = api.patch(path, {"status": "seated"}, **{"If-Match": 'W/"4"'})
    assert reopen.status_code == 409 and reopen.json()["allowed"] == []


def test_moving_a_booking_to_a_past_time_is_refused(api: Api) -> None:
    made = new_booking(api).json()
    past = (datetime.now(UTC) - timedelta(days=2)).date().isoformat() + "T19:00:00Z"
    r = api.patch(f"/api/bookings/{made['id']}", {"start_at": past}, **{"If-Match": 'W/"1"'})
    assert r.status_code == 422 and "start_at" in r.json()["errors"]


def test_order_lifecycle_takes_and_returns_stock(api: Api) -> None:
    product = api.get("/api/products", active="true", sort="-stock", limit=1).json()["items"][0]
    r = api.post("/api/orders", {"customer_name": "Tom Berg",
                                 "items": [{"product_id": product["id"], "quantity": 3}]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending" and order["item_count"] == 3
    assert order["total_cents"] == 3 * product["price_cents"]
    assert order["items"][0]["line_total_cents"] == order["total_cents"]
    after = api.get(f"/api/products/{product['id']}").json()
    assert after["stock"] == product["stock"] - 3
    path = f"/api/orders/{order['id']}"
    bad = api.patch(path, {"status": "completed"}, **{"If-Match": 'W/"1"'})
    assert bad.status_code == 409 and bad.json()["allowed"] == ["cancelled", "paid"]
    assert api.patch(path, {"status": "eaten"}, **{"If-Match": 'W/"1"'}).status_code == 422
    paid = api.patch(path, {"status": "paid"}, **{"If-Match": 'W/"1"'})
    assert paid.status_code == 200 and paid.json()["version"] == 2
    cancelled = api.patch(path, {"status": "cancelled"}, **{"If-Match": 'W/"2"'})
    assert cancelled.json()["status"] == "cancelled"
    assert api.get(f"/api/products/{product['id']}").json()["stock"] == product["stock"]


def test_order_beyond_stock_is_422_items(api: Api) -> None:
    product = api.get("/api/products", active="true", sort="stock", limit=1).json()["items"][0]
    r = api.post("/api/orders", {"customer_name": "Greedy",
                                 "items": [{"product_id": product["id"],
                                            "quantity": product["stock"] + 1}]})
    if product["stock"] + 1 > 100:
        pytest.skip("no product with little stock in this seed")
    assert r.status_code == 422 and product["sku"] in r.json()["errors"]["items"]
    r = api.post("/api/orders", {"customer_name": "x", "items": []})
    assert r.status_code == 422 and "items" in r.json()["errors"]


def test_restock_adds_and_checks_if_match_when_sent(api: Api) -> None:
    before = api.get("/api/products/2").json()
    r = api.post("/api/products/2/restock", {"quantity": 10})
    assert r.status_code == 200
    assert r.json()["stock"] == before["stock"] + 10
    assert r.json()["version"] == before["version"] + 1
    stale = api.post("/api/products/2/restock", {"quantity": 1},
                     **{"If-Match": f'W/"{before["version"]}"'})
    assert stale.status_code == 412 and stale.json()["current"]["stock"] == before["stock"] + 10


# -- auth, errors, health, metrics, reads ------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer"])
def test_api_needs_the_bearer_token(shop: DemoShop, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for path in ("/api/bookings", "/api/products/1", "/admin/scenario"):
        r = requests.get(shop.base_url + path, headers=headers, timeout=TIMEOUT)
        assert r.status_code == 401, path
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = requests.post(shop.base_url + "/api/bookings", json={}, headers=headers, timeout=TIMEOUT)
    assert r.status_code == 401


def test_unknown_paths_and_methods_answer_json(api: Api, shop: DemoShop) -> None:
    r = api.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]
    r = api.s.delete(shop.base_url + "/api/bookings", timeout=TIMEOUT)
    assert r.status_code == 405 and r.json()["error"]


def test_health_reports_database_cache_and_queue(shop: DemoShop) -> None:
    r = requests.get(shop.base_url + "/health", timeout=TIMEOUT)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok" and body["database"]["latency_ms"] >= 0
    assert body["cache"] | {"entries": 0} == {"status": "ok", "backend": "memory",
                                              "enabled": True, "entries": 0}
    assert body["queue"]["status"] == "ok" and body["queue"]["workers"] == 1
    assert body["queue"]["backend"] == "memory" and body["queue"]["name"] == "demo.jobs"


def metric_samples(shop: DemoShop) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(shop.metrics_url, timeout=TIMEOUT).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_metrics_parse_and_hold_every_documented_metric(api: Api, shop: DemoShop) -> None:
    new_booking(api)
    product = api.get("/api/products", active="true", sort="-stock", limit=1).json()["items"][0]
    api.post("/api/orders", {"customer_name": "M", "items": [{"product_id": product["id"],
                                                              "quantity": 1}]})
    api.get("/api/menu")
    api.get("/api/menu")
    names = {name for name, _ in metric_samples(shop)}
    for name in ("http_request_duration_seconds_bucket", "http_request_duration_seconds_count",
                 "http_requests_total", "cache_hits_total", "cache_misses_total",
                 "job_queue_depth", "job_queue_workers", "jobs_processed_total",
                 "job_duration_seconds_bucket", "job_queue_wait_seconds_bucket",
                 "db_query_duration_seconds_bucket", "shop_bookings_created_total",
                 "shop_bookings_cancelled_total", "shop_orders_created_total",
                 "demo_scenario_cache_enabled", "demo_scenario_booking_time_index"):
        assert name in names, name
    text = requests.get(shop.metrics_url, timeout=TIMEOUT).text
    assert "# TYPE jobs_failed_total counter" in text


def test_metrics_count_exactly_what_happened(api: Api, shop: DemoShop) -> None:
    key = ("http_requests_total", (("endpoint", "/api/bookings/<booking_id>"),
                                   ("method", "PATCH"), ("status", "412")))
    before = metric_samples(shop)
    made = new_booking(api).json()
    api.patch(f"/api/bookings/{made['id']}", {"notes": "a"}, **{"If-Match": 'W/"7"'})
    after = metric_samples(shop)
    assert after[("shop_bookings_created_total", ())] == \
        before[("shop_bookings_created_total", ())] + 1
    assert after[key] == before.get(key, 0) + 1


def test_menu_is_cached_and_counted(api: Api, shop: DemoShop) -> None:
    hits = ("cache_hits_total", (("cache", "menu"),))
    api.get("/api/menu")
    before = metric_samples(shop).get(hits, 0)
    menu = api.get("/api/menu").json()
    assert menu["cached"] is True and menu["categories"]
    assert metric_samples(shop)[hits] == before + 1
    item = menu["categories"][0]["items"][0]
    assert set(item) == {"id", "sku", "name", "price_cents", "in_stock", "sold_7d"}


def test_availability_changes_when_a_booking_is_made(api: Api) -> None:
    day = (datetime.now(UTC).date() + timedelta(days=4)).isoformat()
    first = api.get("/api/availability", date=day, party_size=2).json()
    assert len(first["slots"]) == 24 and first["slots"][0]["start_at"] == f"{day}T11:00:00Z"
    again = api.get("/api/availability", date=day, party_size=2).json()
    assert again["cached"] is True
    new_booking(api, start_at=f"{day}T15:00:00Z", party_size=20)
    after = api.get("/api/availability", date=day, party_size=2).json()
    assert after["cached"] is False  # the booking dropped that day from the cache
    by_time = {s["start_at"][11:16]: s for s in after["slots"]}
    before = {s["start_at"][11:16]: s for s in again["slots"]}
    # Held 15:00-17:00: every half hour of the 15:00 slot's window holds 20 more covers.
    assert by_time["15:00"]["seats_free"] == max(0, before["15:00"]["seats_free"] - 20)
    assert by_time["15:00"]["tables_free"] == max(0, before["15:00"]["tables_free"] - 1)
    # The 13:30 slot's window reaches 15:00.
    assert by_time["13:30"]["seats_free"] <= before["13:30"]["seats_free"]
    assert by_time["17:00"] == before["17:00"]  # the hold has ended by then


def test_availability_validation(api: Api) -> None:
    r = api.get("/api/availability", date="someday", party_size=30)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"date", "party_size"}


def test_stats_today_match_the_database(api: Api, shop: DemoShop) -> None:
    stats = api.get("/api/stats/today").json()
    today = stats["date"]
    rows = sql(shop, "SELECT count(*), coalesce(sum(CASE WHEN status != 'no_show' "
                     "THEN party_size END), 0) FROM bookings WHERE date(start_at) = ? "
                     "AND status != 'cancelled'", today)
    assert (stats["bookings"], stats["covers"]) == rows[0]
    assert stats["orders"] == sql(shop, "SELECT count(*) FROM orders WHERE date(placed_at) = ?",
                                  today)[0][0]
    assert sum(stats["bookings_per_hour"]) == stats["bookings"]
    assert sum(stats["orders_per_hour"]) == stats["orders"]
    assert len(stats["bookings_per_hour_last_week"]) == 24
    assert sum(stats["bookings_per_hour_last_week"]) > 0
    assert stats["low_stock_count"] == sql(
        shop, "SELECT count(*) FROM products WHERE active AND stock <= low_stock_threshold")[0][0]


def test_jobs_write_confirmation_messages(api: Api, shop: DemoShop) -> None:
    made = new_booking(api, customer_name="Message Reader").json()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = sql(shop, "SELECT subject, body FROM messages WHERE booking_id = ?", made["id"])
        if rows:
            break
        time.sleep(0.05)
    assert rows, "no confirmation message was written"
    assert "Message Reader" in rows[0][1] and "/manage/booking/" in rows[0][1]


def test_discovery_says_the_demo_shares_everything(api: Api, shop: DemoShop) -> None:
    from services.shop.api import ApiShopRepository

    found = api.get("/api/discovery").json()
    assert set(found["entities"]) == {"bookings", "products", "orders"}
    access = ApiShopRepository(shop.base_url, shop.token, timeout=10.0).access()
    assert access.bookings is not None and access.bookings.can_edit("notes")
    assert access.orders is not None and access.orders.can_edit("status")
    assert not access.orders.can_edit("total_cents")
    assert requests.get(f"{shop.base_url}/api/discovery", timeout=10).status_code == 401
