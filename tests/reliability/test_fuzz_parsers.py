"""Fuzzed outside input: whatever a server answers, a collector gives readings or a typed error.

Prometheus text pages and profiles are fuzzed in tests/unit (test_prom_parse, test_profile);
this covers the JSON and key/value answers: the RabbitMQ management API, the Prometheus
server API (PromQL), Redis INFO, memcached stats, the HTTP probe (the diagnose health check),
the shop API's /health document and the shop API adapter's list, detail and error bodies.
Answers come through a requests transport without a socket (tests/reliability/support.py),
so the real client code runs thousands of times a second.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from console.domain import CollectorReport
from console.store import MetricStore
from services.errors import CollectorError
from tests.reliability.support import DEEP_JSON, DEEP_OBJECT, Answer, canned_session

FUZZ = settings(max_examples=1500, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEWER = settings(FUZZ, max_examples=300)

# -- strategies -----------------------------------------------------------------------------------

HUGE_INT = 10**400  # valid JSON; float() of it overflows
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.just(HUGE_INT), st.just(-HUGE_INT),
    st.floats(), st.text(max_size=12),
    st.sampled_from(["", "0", "1.5", "-3", "NaN", "+Inf", "-Inf", "1e999", "abc", "5,6",
                     "a=b", "\udcff", "ok", "success", "vector", "scalar", "matrix"]),
)
json_any = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
#: Answers that are not JSON at all, or JSON that blows the parser's stack.
NOT_JSON = [b"", b"<html>502 Bad Gateway</html>", b"\xff\xfe\x00garbage", DEEP_JSON,
            DEEP_OBJECT, b"null", b"1e999999"]


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


def body_of(value: Any) -> st.SearchStrategy[bytes]:
    return st.one_of(st.just(value).map(dumps), st.sampled_from(NOT_JSON), st.binary(max_size=64))


statuses = st.sampled_from([200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 412,
                            422, 429, 500, 502, 503, 0, 999])
headers = st.sampled_from([{}, {"Content-Type": "application/json"},
                           {"Content-Type": "text/html; charset=latin-1"},
                           {"Content-Encoding": "gzip"}, {"Content-Encoding": "deflate"},
                           {"Retry-After": "abc"}])


def check_report(report: CollectorReport) -> None:
    """A report the rest of the console can take: typed readings the store accepts."""
    assert isinstance(report, CollectorReport)
    for reading in report.readings:
        assert isinstance(reading.series, str) and "/" in reading.series
        assert isinstance(reading.value, float), reading
        assert isinstance(reading.ts, float)
    assert isinstance(report.detail, str)
    assert report.server_version is None or isinstance(report.server_version, str)
    for key, value in report.facts:
        assert isinstance(key, str) and isinstance(value, str)
    with warnings.catch_warnings():
        # The store keeps float32: a figure near or past 3.4e38 becomes inf, without a warning
        warnings.simplefilter("error")
        MetricStore().append(report.readings)


def collect_or_typed_error(collect: Callable[[], CollectorReport]) -> None:
    try:
        report = collect()
    except CollectorError as err:
        assert str(err), "a typed error says what happened"
        return
    check_report(report)


# -- RabbitMQ management API ---------------------------------------------------------------------

rate_details = st.one_of(json_any, st.fixed_dictionaries({}, optional={"rate": scalars}))
rabbit_queue = st.one_of(
    json_any,
    st.fixed_dictionaries({}, optional={
        "name": scalars, "messages": scalars, "messages_ready": scalars,
        "messages_unacknowledged": scalars, "consumers": scalars,
        "message_stats": st.one_of(json_any, st.fixed_dictionaries({}, optional={
            "publish_details": rate_details, "deliver_get_details": rate_details})),
    }),
)
rabbit_body = st.one_of(body_of(None), st.lists(rabbit_queue, max_size=4).map(dumps),
                        rabbit_queue.map(dumps))


@FUZZ
@given(status=statuses, body=rabbit_body, named=st.booleans(), head=headers)
@example(status=200, body=dumps([{"name": "q", "messages": HUGE_INT}]), named=False, head={})
@example(status=200, body=dumps(["not a queue"]), named=False, head={})
@example(status=200, body=dumps({"messages": "many"}), named=True, head={})
@example(status=200, body=DEEP_JSON, named=False, head={})
def test_rabbitmq_management_json(status: int, body: bytes, named: bool,
                                  head: dict[str, str]) -> None:
    from services.collectors.rabbitmq import RabbitMQCollector

    session = canned_session(lambda request: (status, head, body))
    collector = RabbitMQCollector("broker", api_url="http://mq.invalid:15672", amqp_url=None,
                                  session=session, queues=("emails", "celery") if named else (),
                                  user="monitor", password="pw", timeout_s=1)
    collect_or_typed_error(collector.collect)


# -- Prometheus server API (PromQL) --------------------------------------------------------------

prom_value = st.one_of(st.tuples(scalars, scalars).map(list), st.lists(scalars, max_size=3),
                       json_any)
prom_item = st.one_of(json_any, st.fixed_dictionaries({}, optional={
    "metric": st.one_of(st.dictionaries(st.sampled_from(["queue", "__name__", "le", "x"]),
                                        scalars, max_size=3), json_any),
    "value": prom_value, "values": st.one_of(st.lists(prom_value, max_size=3), json_any)}))
prom_data = st.one_of(json_any, st.fixed_dictionaries({}, optional={
    "resultType": st.one_of(st.sampled_from(["vector", "scalar", "matrix", "string"]), scalars),
    "result": st.one_of(st.lists(prom_item, max_size=3), prom_value, json_any),
    "version": scalars}))
prom_payload = st.one_of(json_any, st.fixed_dictionaries({}, optional={
    "status": st.one_of(st.just("success"), scalars), "data": prom_data,
    "error": scalars, "errorType": scalars}))
prom_body = st.one_of(prom_payload.map(dumps), st.sampled_from(NOT_JSON))


def _prom_server(session: requests.Session) -> Any:
    from services.collectors.prometheus_server import PrometheusServerCollector

    return PrometheusServerCollector("fleet", "http://prom.invalid:9090", session, timeout_s=2)


@FUZZ
@given(status=statuses, body=prom_body)
@example(status=200, body=dumps({"status": "success", "data": {"resultType": "vector",
                                                               "result": ["x"]}}))
@example(status=200, body=dumps({"status": "success", "data": {"resultType": "vector",
                                                               "result": [{"value": 5}]}}))
@example(status=200, body=dumps({"status": "success", "data": {"resultType": "vector",
                                                               "result": [{"metric": "m"}]}}))
@example(status=400, body=dumps(["error"]))
def test_promql_instant_query_json(status: int, body: bytes) -> None:
    collector = _prom_server(canned_session(lambda request: (status, {}, body)))
    try:
        series = collector.query("up")
    except CollectorError as err:
        assert str(err)
        return
    for labels, value in series:
        assert isinstance(value, float)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())


@FUZZ
@given(status=statuses, body=prom_body)
@example(status=200, body=dumps({"status": "success", "data": {
    "resultType": "matrix", "result": [{"metric": {}, "values": [[1, "2"], [3]]}]}}))
@example(status=200, body=dumps({"status": "success", "data": {
    "resultType": "matrix", "result": [{"metric": {}, "values": [["x", "2"]]}]}}))
def test_promql_range_query_json(status: int, body: bytes) -> None:
    from console import metrics

    collector = _prom_server(canned_session(lambda request: (status, {}, body)))
    try:
        readings = collector.range_readings(metrics.REQUEST_RATE, 0.0, 60.0, 15.0)
    except CollectorError as err:
        assert str(err)
        return
    for reading in readings:
        assert isinstance(reading.ts, float) and isinstance(reading.value, float)
    MetricStore().append(readings)


@FEWER
@given(build=prom_body, answers=st.lists(st.tuples(statuses, prom_body), min_size=1,
                                         max_size=4))
def test_promql_collect_json(build: bytes, answers: list[tuple[int, bytes]]) -> None:
    turn = iter(range(10_000))

    def answer(request: requests.PreparedRequest) -> Answer:
        if "buildinfo" in (request.url or ""):
            return 200, {}, build
        status, body = answers[next(turn) % len(answers)]
        return status, {}, body

    collect_or_typed_error(_prom_server(canned_session(answer)).collect)


# -- Redis INFO and memcached stats --------------------------------------------------------------

REDIS_KEYS = ["keyspace_hits", "keyspace_misses", "evicted_keys", "used_memory",
              "connected_clients", "redis_version", "used_memory_human", "maxmemory",
              "maxmemory_policy", "module", "db0", "cmdstat_host"]
info_value = st.one_of(st.text(max_size=12),
                       st.sampled_from(["12", "1.5", "nan", "inf", "-inf", "1e999", "abc",
                                        "1,2,3", "a=1,b=x", "keys=1,expires=0", "", "=",
                                        ",", "9" * 400]))
info_line = st.one_of(st.tuples(st.sampled_from(REDIS_KEYS), info_value).map(":".join),
                      st.text(max_size=20))
info_text = st.lists(info_line, max_size=12).map("\r\n".join)


class FakeRedis:
    """Answers INFO the way redis-py would after parsing the server's text (or fails as the
    parse would)."""

    def __init__(self, info: Callable[[], Any]) -> None:
        self._info = info

    def info(self) -> Any:
        return self._info()

    def close(self) -> None:
        """Nothing to release."""


@FUZZ
@given(text=info_text)
@example(text="keyspace_hits:abc\r\nkeyspace_misses:1")
@example(text="keyspace_hits:1,2\r\nused_memory:a=b")
@example(text="keyspace_hits:" + "9" * 400)
@example(text="keyspace_hits:1e999\r\nkeyspace_misses:1e999")
def test_redis_info_text(text: str) -> None:
    from redis._parsers.helpers import parse_info

    from services.collectors.redis_source import RedisCollector

    collector = RedisCollector("cache", FakeRedis(lambda: parse_info(text)),  # type: ignore[arg-type]
                               url="redis://x")
    collect_or_typed_error(collector.collect)
    collect_or_typed_error(collector.collect)  # the second poll takes the rate path


@FUZZ
@given(info=st.one_of(json_any, st.dictionaries(st.sampled_from(REDIS_KEYS), json_any,
                                                 max_size=8)))
@example(info={"keyspace_hits": [1], "keyspace_misses": {"a": 1}})
@example(info={"keyspace_hits": HUGE_INT})
def test_redis_info_fields_of_any_type(info: Any) -> None:
    from services.collectors.redis_source import RedisCollector

    collector = RedisCollector("cache", FakeRedis(lambda: info),  # type: ignore[arg-type]
                               url="redis://x")
    collect_or_typed_error(collector.collect)
    collect_or_typed_error(collector.collect)


MEMCACHED_KEYS = [b"get_hits", b"get_misses", b"evictions", b"bytes", b"curr_connections",
                  b"limit_maxbytes", b"version", "get_hits", "version"]
stat_value = st.one_of(st.integers(), st.floats(), st.binary(max_size=8), st.text(max_size=8),
                       st.sampled_from([b"inf", b"nan", b"1e999", "inf", "nan", b"\xff"]))


class FakeMemcache:
    def __init__(self, stats: dict[Any, Any]) -> None:
        self._stats = stats

    def stats(self) -> dict[Any, Any]:
        return self._stats

    def close(self) -> None:
        """Nothing to release."""


@FUZZ
@given(stats=st.dictionaries(st.sampled_from(MEMCACHED_KEYS), stat_value, max_size=8))
@example(stats={b"get_hits": 1, b"limit_maxbytes": b"inf"})
@example(stats={b"get_hits": 1, b"version": b"\xff"})
def test_memcached_stats(stats: dict[Any, Any]) -> None:
    from services.collectors.memcached import MemcachedCollector

    collector = MemcachedCollector("cache", FakeMemcache(stats), address="127.0.0.1:11211")
    collect_or_typed_error(collector.collect)


# -- the HTTP probe (the diagnose health check) and the shop's /health document ------------------

@FUZZ
@given(status=statuses, body=st.one_of(st.binary(max_size=256), st.sampled_from(NOT_JSON)),
       head=headers, expect=st.sampled_from([(), (200,), (200, 204)]))
def test_http_probe_any_answer(status: int, body: bytes, head: dict[str, str],
                               expect: tuple[int, ...]) -> None:
    from services.collectors.http_probe import HttpProbe

    session = canned_session(lambda request: (status, head, body))
    probe = HttpProbe("health", "http://shop.invalid/health", session, expect_status=expect)
    collect_or_typed_error(probe.collect)


health_doc = st.one_of(json_any, st.fixed_dictionaries({}, optional={
    "status": scalars, "version": json_any, "database": json_any, "cache": json_any}))


@FUZZ
@given(health_status=statuses,
       health=st.one_of(health_doc.map(dumps),
                        st.sampled_from([b for b in NOT_JSON
                                         if b not in (DEEP_JSON, DEEP_OBJECT)])),
       stats_status=statuses)
def test_shop_health_document(health_status: int, health: bytes, stats_status: int) -> None:
    """The "Test connection" of the shop API reads its /health JSON: any answer gives a
    typed outcome, never a Python error."""
    from console.profile import Backend
    from services.diagnostics import connection_check as connection_test
    from services.http import client as _http

    def answer(request: requests.PreparedRequest) -> Answer:
        if (request.url or "").endswith("/health"):
            return health_status, {}, health
        return stats_status, {}, b"{}"

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_http, "new_session", lambda pool_size=10: canned_session(answer))
        try:
            result = connection_test._check_backend(Backend("http://shop.invalid"),
                                                    lambda ref: "tok")
        except CollectorError as err:
            assert str(err)
            return
    assert isinstance(result.detail, str) and result.detail


def test_shop_health_document_nested_too_deep() -> None:
    from console.profile import Backend
    from services.diagnostics import connection_check as connection_test
    from services.http import client as _http

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_http, "new_session",
                      lambda pool_size=10: canned_session(lambda request: (200, {}, DEEP_JSON)))
        result = connection_test._check_backend(Backend("http://shop.invalid"),
                                                lambda ref: "tok")
    assert result.outcome is connection_test.Outcome.WRONG_SERVER


# -- the shop API adapter ------------------------------------------------------------------------

TIME = st.one_of(st.sampled_from(["2026-03-01T19:00:00Z", "2026-03-01T19:00:00+02:00",
                                  "2026-03-01", "yesterday", "", "2026-13-45T99:00:00Z"]),
                 scalars)
booking = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(1, 10**6), scalars), "version": st.one_of(st.integers(1, 9),
                                                                           scalars)},
    optional={"customer_name": scalars, "party_size": scalars, "start_at": TIME,
              "status": st.one_of(st.sampled_from(["booked", "seated", "cancelled"]), scalars),
              "phone": scalars, "table_no": scalars, "notes": scalars, "customer_id": scalars,
              "created_at": TIME, "updated_at": TIME, "sku": scalars, "name": scalars,
              "category": scalars, "price_cents": scalars, "stock": scalars,
              "low_stock_threshold": scalars, "active": scalars, "placed_at": TIME,
              "total_cents": scalars, "item_count": scalars,
              "items": st.one_of(json_any, st.lists(st.fixed_dictionaries({}, optional={
                  "id": scalars, "product_id": scalars, "quantity": scalars,
                  "unit_price_cents": scalars, "name": scalars}), max_size=2))})
record = st.one_of(booking, json_any)
shop_payload = st.one_of(
    record,
    st.fixed_dictionaries({}, optional={
        "items": st.one_of(st.lists(record, max_size=3), json_any),
        "next_cursor": scalars, "estimated_total": scalars}),
    st.fixed_dictionaries({}, optional={
        "error": scalars, "errors": st.one_of(st.dictionaries(st.text(max_size=8), json_any),
                                              json_any),
        "allowed": json_any, "current": record}),
    st.fixed_dictionaries({"date": TIME}, optional=dict.fromkeys(
        ("bookings", "covers", "orders", "revenue_cents", "low_stock_count"), scalars) | {
        key: st.one_of(st.lists(scalars, max_size=3), json_any)
        for key in ("bookings_per_hour", "bookings_per_hour_last_week", "orders_per_hour",
                    "orders_per_hour_last_week")}),
)
shop_body = st.one_of(shop_payload.map(dumps), st.sampled_from(NOT_JSON))


def _shop_calls() -> dict[str, Callable[[Any], Any]]:
    from datetime import UTC, datetime, timedelta

    from console.shop import (
        BookingDraft,
        BookingQuery,
        BookingStatus,
        OrderQuery,
        OrderStatus,
        ProductDraft,
        ProductQuery,
    )

    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    draft = BookingDraft(customer_name="Ada", party_size=2, start_at=soon)
    product = ProductDraft(name="Tea", category="drinks", price_cents=250, stock=3,
                           low_stock_threshold=1, active=True)
    return {
        "list_bookings": lambda repo: repo.list_bookings(BookingQuery(), limit=10),
        "count_bookings": lambda repo: repo.count_bookings(BookingQuery()),
        "seek_bookings": lambda repo: repo.seek_bookings(BookingQuery(), 3),
        "get_booking": lambda repo: repo.get_booking(1),
        "create_booking": lambda repo: repo.create_booking(draft),
        "update_booking": lambda repo: repo.update_booking(1, 1, draft),
        "cancel_booking": lambda repo: repo.set_booking_status(1, 1, BookingStatus.CANCELLED),
        "list_products": lambda repo: repo.list_products(ProductQuery(), limit=10),
        "get_product": lambda repo: repo.get_product(1),
        "update_product": lambda repo: repo.update_product(1, 1, product),
        "restock": lambda repo: repo.restock_product(1, 5),
        "categories": lambda repo: repo.product_categories(),
        "list_orders": lambda repo: repo.list_orders(OrderQuery(), limit=10),
        "get_order": lambda repo: repo.get_order(1),
        "set_order_status": lambda repo: repo.set_order_status(1, 1, OrderStatus.PAID),
        "today": lambda repo: repo.today(),
    }


SHOP_CALLS = _shop_calls()


def _well_typed(value: Any) -> None:
    """Records handed to the UI hold what their fields say (an int is an int, text is text)."""
    from dataclasses import fields, is_dataclass
    from datetime import datetime

    if isinstance(value, tuple | list):
        for item in value:
            _well_typed(item)
        return
    if not is_dataclass(value):
        return
    for f in fields(value):
        got = getattr(value, f.name)
        if f.name in ("id", "version", "party_size", "price_cents", "stock", "quantity",
                      "total_cents", "item_count", "unit_price_cents", "low_stock_threshold",
                      "product_id"):
            assert isinstance(got, int), (f.name, got)
        elif f.name in ("customer_name", "name", "phone", "notes", "sku", "category",
                        "product_name"):
            assert isinstance(got, str), (f.name, got)
        elif f.name in ("start_at", "placed_at"):
            assert isinstance(got, datetime), (f.name, got)
        _well_typed(got)


class TooManyRequests(Exception):
    """The adapter kept asking (a paging loop that never ends)."""


def _capped(status: int, body: bytes, cap: int = 50) -> requests.Session:
    sent = iter(range(cap + 1))

    def answer(request: requests.PreparedRequest) -> Answer:
        if next(sent) >= cap:
            raise TooManyRequests(f"more than {cap} requests for one call")
        return status, {}, body

    return canned_session(answer)


@FUZZ
@given(call=st.sampled_from(sorted(SHOP_CALLS)), status=statuses, body=shop_body)
def test_shop_api_adapter_any_answer(call: str, status: int, body: bytes) -> None:
    from console.shop import ShopError
    from services.shop.api import ApiShopRepository

    repo = ApiShopRepository("http://shop.invalid", "tok", session=_capped(status, body))
    try:
        with pytest.MonkeyPatch.context() as patch:  # a 503 is retried: not after 0.2 s here
            patch.setattr("services.shop.api._retry_after", lambda response: 0.0)
            result = SHOP_CALLS[call](repo)
    except ShopError as err:
        assert str(err)
        return
    _well_typed(getattr(result, "rows", result))


# Answers that escaped services/shop/api.py as plain Python errors (or looped forever) until
# 073025c; kept as regressions.
SHOP_BUGS = [
    ("get_booking", 200, dumps({"id": 1, "version": 1})),  # KeyError escapes
    ("list_bookings", 200, dumps({"items": [{"id": 1, "version": 1, "customer_name": "A",
                                             "party_size": 2, "start_at": 5,
                                             "status": "booked"}]})),  # AttributeError
    ("count_bookings", 200, dumps([1, 2])),  # AttributeError: list has no .get
    ("list_bookings", 200, DEEP_JSON),  # RecursionError
    ("update_booking", 412, dumps({"current": {"id": 1}})),  # KeyError in the conflict
    ("set_order_status", 409, dumps({"error": "no", "allowed": 5})),  # TypeError
]


@pytest.mark.parametrize(("call", "status", "body"), SHOP_BUGS,
                         ids=[f"{c}-{s}-{i}" for i, (c, s, _) in enumerate(SHOP_BUGS)])
def test_shop_api_known_bad_answers_are_typed(call: str, status: int, body: bytes) -> None:
    from console.shop import ShopError
    from services.shop.api import ApiShopRepository

    repo = ApiShopRepository("http://shop.invalid", "tok", session=_capped(status, body))
    with pytest.raises(ShopError):
        SHOP_CALLS[call](repo)


def test_shop_api_seek_stops_on_empty_pages() -> None:
    from console.shop import BookingQuery, ShopError
    from services.shop.api import ApiShopRepository

    body = dumps({"items": [], "next_cursor": "same-again"})
    repo = ApiShopRepository("http://shop.invalid", "tok", session=_capped(200, body))
    with contextlib.suppress(ShopError):  # refusing the answer is as good as stopping
        repo.seek_bookings(BookingQuery(), 3)


def test_fuzz_transport_runs_the_real_client_code() -> None:
    """The canned transport is a faithful stand-in: fetch reads, caps and times its body."""
    from services.http.client import fetch

    session = canned_session(lambda request: (200, {"Content-Type": "text/plain"}, b"x" * 5000))
    got = fetch(session, "http://a.invalid/", timeout_s=1, max_bytes=1024)
    assert got.status == 200 and got.truncated and len(got.body) == 1024
    assert math.isfinite(got.elapsed_s)
