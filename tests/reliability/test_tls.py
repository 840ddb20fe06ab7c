"""TLS: self-signed, unknown-CA, expired and wrong-host certificates are refused by default
by every HTTPS client of the console; the shop's CA (``ca_bundle``) makes its good
certificate accepted, and never an expired or wrong-host one."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from console.shop import BackendUnavailable, BookingQuery
from services.errors import TlsError
from services.http.client import new_session
from tests.integration.local_servers import http_server, reply
from tests.reliability.support import Certs, make_certs

pytestmark = pytest.mark.integration

VECTOR = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}})
ROUTES = {
    "/": reply(body=b"ok"),
    "/metrics": reply(body=b"# TYPE shop_requests_total counter\nshop_requests_total 1\n"),
    "/api/queues/%2F": reply(body=b"[]", content_type="application/json"),
    "/api/v1/status/buildinfo": reply(body=json.dumps(
        {"status": "success", "data": {"version": "2.45.0"}}).encode(),
        content_type="application/json"),
    "/api/v1/query": reply(body=VECTOR.encode(), content_type="application/json"),
    "/api/bookings": reply(body=b'{"items": [], "next_cursor": null}',
                           content_type="application/json"),
}


def call_of(kind: str, base: str, session: requests.Session, ca: str | None) -> Callable[[], Any]:
    if kind == "http probe":
        from services.collectors.http_probe import HttpProbe

        return HttpProbe("web", base + "/", session, timeout_s=5, ca_bundle=ca).collect
    if kind == "prometheus":
        from services.collectors.prometheus import PrometheusCollector

        return PrometheusCollector("web", base + "/metrics", session, timeout_s=5,
                                   ca_bundle=ca).collect
    if kind == "rabbitmq api":
        from services.collectors.rabbitmq import RabbitMQCollector

        return RabbitMQCollector("mq", api_url=base, amqp_url=None, session=session,
                                 timeout_s=5, ca_bundle=ca).collect
    if kind == "prometheus-server":
        from services.collectors.prometheus_server import PrometheusServerCollector

        collector = PrometheusServerCollector("fleet", base, session, timeout_s=5, ca_bundle=ca)
        collector.queries = {"clients": "vector(1)"}  # one query is enough to see the TLS
        return collector.collect
    from services.shop.api import ApiShopRepository

    repo = ApiShopRepository(base, "tok", session=session, timeout=5, verify=ca or True)
    return lambda: repo.list_bookings(BookingQuery(), limit=5)


KINDS = ["http probe", "prometheus", "rabbitmq api", "prometheus-server", "shop api"]
REFUSED = (TlsError, BackendUnavailable)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with new_session() as made:
        yield made


WHICH = ["good", "self_signed", "untrusted", "expired", "wrong_host"]


@pytest.fixture(scope="module")
def sites(certs: Certs) -> Iterator[dict[str, str]]:
    """One HTTPS server per certificate, for the whole module."""
    with contextlib.ExitStack() as stack:
        yield {which: stack.enter_context(http_server(ROUTES, tls=getattr(certs, which)))
               for which in WHICH}


def refused(call: Callable[[], Any]) -> str:
    with pytest.raises(REFUSED) as caught:
        call()
    text = str(caught.value)
    if isinstance(caught.value, BackendUnavailable):
        assert "TLS" in text, text
    else:
        assert "TLS handshake" in text and "ca_bundle" in text, text
    return text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", ["self_signed", "untrusted", "expired", "wrong_host"])
def test_bad_certificates_are_refused_by_default(kind: str, which: str, sites: dict[str, str],
                                                 session: requests.Session) -> None:
    refused(call_of(kind, sites[which], session, None))


@pytest.mark.parametrize("kind", KINDS)
def test_the_shops_ca_makes_its_good_certificate_accepted(kind: str, certs: Certs,
                                                          sites: dict[str, str],
                                                          session: requests.Session) -> None:
    refused(call_of(kind, sites["good"], session, None))  # not without the CA
    call_of(kind, sites["good"], session, certs.ca)()  # answers, no error


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", ["expired", "wrong_host", "untrusted", "self_signed"])
def test_the_ca_does_not_excuse_a_bad_certificate(kind: str, which: str, certs: Certs,
                                                  sites: dict[str, str],
                                                  session: requests.Session) -> None:
    text = refused(call_of(kind, sites[which], session, certs.ca))
    reason = REASONS.get(which)
    if reason and kind != "shop api":  # the message says why, so a person knows what to fix
        assert reason in text.lower(), text


REASONS = {"expired": "expired", "wrong_host": "match"}


@pytest.mark.parametrize("which", ["expired", "wrong_host"])
def test_shop_api_says_why_a_certificate_was_refused(which: str, certs: Certs,
                                                     sites: dict[str, str],
                                                     session: requests.Session) -> None:
    text = refused(call_of("shop api", sites[which], session, certs.ca))
    assert REASONS[which] in text.lower(), text
