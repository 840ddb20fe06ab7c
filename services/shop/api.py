"""The shop repository over the shop's REST API (docs/api.md): bearer token, ETag/If-Match."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from console.changes import Entity, SavedBy, clean_user, last_saved
from console.floor import FloorPlan
from console.guests import GuestHistory, guest_history
from console.redaction import mask_url
from console.shop import (
    BackendUnavailable,
    Booking,
    BookingDraft,
    BookingQuery,
    BookingSort,
    BookingStatus,
    Conflict,
    NotFound,
    Order,
    OrderDetail,
    OrderQuery,
    OrderSort,
    OrderStatus,
    Page,
    Product,
    ProductDraft,
    ProductQuery,
    ProductSort,
    RowCount,
    ShopError,
    Unsupported,
    ValidationFailed,
    iso_z,
    utc_now,
)
from console.shop_access import FULL_ACCESS, ShopAccess
from console.shop_rules import check_booking, check_product, check_restock, check_search
from services.http.watchdog import cut_off, deadline_in
from services.shop import upcoming
from services.shop.api_json import (
    access_from_json,
    booking_body,
    booking_from_json,
    categories_from_json,
    floor_from_json,
    guest_from_json,
    json_object,
    order_detail_from_json,
    order_from_json,
    page_from_json,
    product_from_json,
    saved_by_from_json,
    total_from_json,
)
from services.shop.api_reports import ApiReports
from services.shop.api_texts import connection_reason, first_line, still_answering
from services.shop.api_waitlist import ApiWaitlist
from services.shop.guests import history_by_search
from services.shop.repository import PAGE_LIMIT_MAX

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0
MAX_ANSWER_BYTES = 32 * 1024 * 1024
BUSY_RETRIES = 2
BUSY_WAIT_MAX_S = 1.0
# The API's query parameter names where they differ from the console's field names.
_FIELD_NAMES = {"q": "search"}
#: The request header that names the console's user (docs/api.md).
USER_HEADER = "X-Backroom-User"


def etag(version: int) -> str:
    return f'W/"{version}"'


class ApiShopRepository(ApiReports, ApiWaitlist):
    """:class:`~services.shop.repository.ShopRepository` over HTTP.

    ``session`` is passed in (the composition root owns it: pooling, proxies, retries);
    every request carries the bearer token, a (connect, read) timeout and ``verify`` (True,
    False or a CA bundle path). Saves send ``If-Match`` with the version read; a 412 answer
    becomes :class:`~console.shop.Conflict` with the server's current record.
    """

    kind = "api"
    can_seek = False

    def __init__(self, base_url: str, token: str, *, session: requests.Session | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S, verify: bool | str = True,
                 clock: Callable[[], datetime] = utc_now, user: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        #: Who the console's changes are made as: sent as X-Backroom-User on every call.
        self.user = clean_user(user)
        self.location = mask_url(self.base_url)
        self._token = token
        self._own_session = session is None
        self._session = session or _own_session()
        self._timeout = (min(3.05, timeout), timeout)
        self._verify = verify
        self._clock = clock
        self._access: ShopAccess | None = None

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    # ------------------------------------------------------------------ HTTP

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None, *,
              body_json: Mapping[str, Any] | None, headers: dict[str, str]
              ) -> tuple[requests.Response, bytes]:
        """One request whose whole answer, body included, arrives within the timeout."""
        from services.errors import SourceTimeout
        from services.http.client import read_body

        total = self._timeout[1]
        deadline = time.perf_counter() + total
        # requests bounds each socket read only; with a watched session (our own, or one from
        # new_session) connect and the response head end at the deadline too
        with deadline_in(total):
            resp = self._session.request(method, url, params=params, json=body_json,
                                         headers=headers, timeout=self._timeout,
                                         verify=self._verify, stream=True)
        try:
            data, truncated = read_body(resp, MAX_ANSWER_BYTES, deadline, url, total)
        except SourceTimeout as exc:
            raise BackendUnavailable(still_answering(total)) from exc
        finally:
            resp.close()
        if truncated:
            raise BackendUnavailable(f"the shop's answer was larger than "
                                     f"{MAX_ANSWER_BYTES // (1024 * 1024)} MiB (is this the "
                                     "shop's API?)")
        return resp, bytes(data)

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              body: Mapping[str, Any] | None = None, version: int | None = None,
              on_conflict: Callable[[dict[str, Any]], ShopError] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if self.user:  # UTF-8, percent-encoded: a header carries Latin-1 only
            headers[USER_HEADER] = quote(self.user, safe="")
        if version is not None:
            headers["If-Match"] = etag(version)
        url = f"{self.base_url}{path}"
        try:
            for attempt in range(BUSY_RETRIES + 1):
                resp, answer = self._send(method, url, params, body_json=body,
                                          headers=headers)
                # 503 means the request was not processed (e.g. "database busy, try
                # again"): retrying is safe for any method, a few times, briefly.
                if resp.status_code != 503 or attempt == BUSY_RETRIES:
                    break
                time.sleep(_retry_after(resp))
        except requests.exceptions.SSLError as exc:
            raise BackendUnavailable(f"the TLS certificate check failed ({first_line(exc)}); "
                                     "add the shop's CA bundle to the profile") from exc
        except requests.exceptions.Timeout as exc:
            if cut_off(exc) == "headers":  # the head was still coming in at the deadline
                raise BackendUnavailable(still_answering(self._timeout[1])) from exc
            raise BackendUnavailable(f"no answer within {self._timeout[1]:g} s") from exc
        except requests.exceptions.ConnectionError as exc:
            raise BackendUnavailable(connection_reason(exc)) from exc
        except requests.exceptions.RequestException as exc:
            raise BackendUnavailable(first_line(exc)) from exc
        try:
            data = json.loads(answer) if answer else {}
        except (ValueError, RecursionError):
            data = None
        status = resp.status_code
        if 200 <= status < 300:
            if data is None:
                raise BackendUnavailable(f"{method} {path} answered {status} but not JSON "
                                         "(is this the shop's API?)")
            return data
        error = data.get("error", "") if isinstance(data, dict) else ""
        error = error if isinstance(error, str) else ""
        if status == 412 and on_conflict is not None and isinstance(data, dict) \
                and isinstance(data.get("current"), dict):
            conflict = on_conflict(data["current"])
            if isinstance(conflict, Conflict):
                conflict.saved_by = saved_by_from_json(data.get("saved_by"))
            raise conflict
        if status == 422 and isinstance(data, dict) and isinstance(data.get("errors"), dict):
            raise ValidationFailed({_FIELD_NAMES.get(k, k): str(v)
                                    for k, v in data["errors"].items()})
        if status == 409:
            listed = data.get("allowed") if isinstance(data, dict) else None
            allowed = ", ".join(str(a) for a in listed) if isinstance(listed, list) else ""
            raise ValidationFailed({"status": f"{error} (allowed now: {allowed or 'none'})"})
        if status == 404:
            raise NotFound(error or f"{path} not found")
        if status == 501:  # the shop cannot do this at all (e.g. it keeps no history)
            raise Unsupported(error or f"the shop cannot answer {method} {path}")
        if status == 401:
            raise BackendUnavailable("the shop refused the API token (401); check the token "
                                     "in Settings")
        if status == 403:
            raise BackendUnavailable("the API token may not do this (403)")
        detail = f": {error}" if error else ""
        raise BackendUnavailable(f"{method} {path} answered HTTP {status}{detail}")

    def _list(self, path: str, params: dict[str, Any], after: str | None, limit: int,
              parse: Callable[[dict[str, Any]], T]) -> Page[T]:
        if not 1 <= limit <= PAGE_LIMIT_MAX:
            raise ValidationFailed({"limit": f"limit must be 1 to {PAGE_LIMIT_MAX}"})
        params = {**params, "limit": limit}
        if after:
            params["cursor"] = after
        return page_from_json(self._call("GET", path, params=params), parse)

    def _count(self, path: str, params: dict[str, Any]) -> RowCount:
        return total_from_json(self._call("GET", path, params={**params, "limit": 1}))

    def _walk(self, path: str, params: dict[str, Any], position: int) -> str | None:
        """The cursor after row ``position - 1``: the API pages forward only, so walk."""
        cursor: str | None = None
        seen = 0
        while seen < position:
            take = min(PAGE_LIMIT_MAX, position - seen)
            page = page_from_json(self._call(
                "GET", path, params={**params, "limit": take,
                                     **({"cursor": cursor} if cursor else {})}), json_object)
            seen += len(page.rows)
            if page.next_cursor is None:
                return cursor if seen < position else None
            if not page.rows or page.next_cursor == cursor:
                raise BackendUnavailable("the shop's list paging does not move on (an empty "
                                         "page or the same cursor again)")
            cursor = page.next_cursor
        return cursor

    # ------------------------------------------------------------------ discovery

    def access(self) -> ShopAccess:
        """What the shop shares, from ``GET /api/discovery`` (asked once); a back end without
        discovery (404) is taken to share everything, as the contract's first version did."""
        if self._access is None:
            try:
                self._access = access_from_json(self._call("GET", "/api/discovery"))
            except NotFound:
                self._access = FULL_ACCESS
        return self._access

    # ------------------------------------------------------------------ bookings

    @staticmethod
    def _booking_params(query: BookingQuery) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if query.start_from is not None:
            params["from"] = iso_z(query.start_from)
        if query.start_to is not None:
            params["to"] = iso_z(query.start_to)
        if query.statuses:
            params["status"] = ",".join(sorted(s.value for s in query.statuses))
        q = check_search(query.search)
        if q:
            params["q"] = q
        sort = BookingSort(query.sort)
        if sort is not BookingSort.UPCOMING_FIRST:  # that one is two plain lists (upcoming.py)
            params["sort"] = f"-{sort.value}" if query.descending else sort.value
        return params

    def list_bookings(self, query: BookingQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Booking]:
        if query.sort is BookingSort.UPCOMING_FIRST:
            return upcoming.page(query, after, limit,
                                 lambda q, a, n: self.list_bookings(q, after=a, limit=n))
        return self._list("/api/bookings", self._booking_params(query), after, limit,
                          booking_from_json)

    def count_bookings(self, query: BookingQuery, *, exact: bool = False) -> RowCount:
        return self._count("/api/bookings", self._booking_params(query))

    def seek_bookings(self, query: BookingQuery, position: int) -> str | None:
        if query.sort is BookingSort.UPCOMING_FIRST:
            return upcoming.seek(query, position,
                                 lambda q: self.count_bookings(q, exact=True).value,
                                 self.seek_bookings)
        return self._walk("/api/bookings", self._booking_params(query), position)

    def get_booking(self, booking_id: int) -> Booking:
        return booking_from_json(self._call("GET", f"/api/bookings/{int(booking_id)}"))

    def create_booking(self, draft: BookingDraft) -> Booking:
        check_booking(draft, now=self._clock())
        return booking_from_json(self._call("POST", "/api/bookings",
                                            body=booking_body(draft)))

    def seat_walk_in(self, draft: BookingDraft) -> Booking:
        check_booking(draft, now=self._clock(), walk_in=True)
        body = {k: v for k, v in booking_body(draft).items() if k != "start_at"}
        return booking_from_json(self._call("POST", "/api/bookings",
                                            body={**body, "walk_in": True}))

    def floor(self) -> FloorPlan:
        """``GET /api/floor``; a shop without it (404) keeps no tables."""
        try:
            return floor_from_json(self._call("GET", "/api/floor"))
        except NotFound:
            return FloorPlan()

    def update_booking(self, booking_id: int, version: int, draft: BookingDraft) -> Booking:
        # Read the stored start only when the rule needs it: for a draft starting in the past.
        check_booking(draft, now=self._clock(), stored_start=lambda: self._stored_booking(
            booking_id, version, draft).start_at)
        data = self._call("PATCH", f"/api/bookings/{int(booking_id)}",
                          body=booking_body(draft), version=version,
                          on_conflict=lambda cur: Conflict(draft, booking_from_json(cur)))
        return booking_from_json(data)

    def _stored_booking(self, booking_id: int, version: int, mine: BookingDraft) -> Booking:
        """The booking as stored, read before an edit that needs it (as the SQL adapters read
        theirs); a :class:`~console.shop.Conflict` when someone else saved it since
        ``version``."""
        stored = self.get_booking(booking_id)
        if stored.version != version:
            raise Conflict(mine, stored, self._last_saved(Entity.BOOKINGS, booking_id))
        return stored

    def _last_saved(self, entity: Entity, record_id: int) -> SavedBy | None:
        """Who saved the record last, from its history (None where the shop keeps none)."""
        try:
            return last_saved(self.history(entity, record_id))
        except ShopError:  # no history, or none readable: the conflict stands unnamed
            return None

    def set_booking_status(self, booking_id: int, version: int,
                           status: BookingStatus) -> Booking:
        status = BookingStatus(status)

        def conflict(cur: dict[str, Any]) -> ShopError:
            return Conflict(status, booking_from_json(cur))

        if status is BookingStatus.CANCELLED:
            data = self._call("POST", f"/api/bookings/{int(booking_id)}/cancel", body={},
                              version=version, on_conflict=conflict)
        else:
            data = self._call("PATCH", f"/api/bookings/{int(booking_id)}",
                              body={"status": status.value}, version=version,
                              on_conflict=conflict)
        return booking_from_json(data)

    # ------------------------------------------------------------------ products

    @staticmethod
    def _product_params(query: ProductQuery) -> dict[str, Any]:
        params: dict[str, Any] = {}
        q = check_search(query.search)
        if q:
            params["q"] = q
        if query.category:
            params["category"] = query.category
        if query.low_stock_only:
            params["low_stock"] = "true"
        if query.low_stock_only or not query.include_inactive:
            params["active"] = "true"
        sort = ProductSort(query.sort)
        if sort is ProductSort.SKU and query.descending:
            raise ValidationFailed({"sort": "the shop API sorts SKUs A to Z only"})
        params["sort"] = f"-{sort.value}" if query.descending else sort.value
        return params

    def list_products(self, query: ProductQuery, *, after: str | None = None,
                      limit: int = 100) -> Page[Product]:
        return self._list("/api/products", self._product_params(query), after, limit,
                          product_from_json)

    def count_products(self, query: ProductQuery, *, exact: bool = False) -> RowCount:
        return self._count("/api/products", self._product_params(query))

    def seek_products(self, query: ProductQuery, position: int) -> str | None:
        return self._walk("/api/products", self._product_params(query), position)

    def get_product(self, product_id: int) -> Product:
        return product_from_json(self._call("GET", f"/api/products/{int(product_id)}"))

    def update_product(self, product_id: int, version: int, draft: ProductDraft) -> Product:
        check_product(draft)
        body = {"name": draft.name.strip(), "category": draft.category.strip(),
                "price_cents": draft.price_cents, "stock": draft.stock,
                "low_stock_threshold": draft.low_stock_threshold, "active": draft.active}
        data = self._call("PATCH", f"/api/products/{int(product_id)}", body=body,
                          version=version,
                          on_conflict=lambda cur: Conflict(draft, product_from_json(cur)))
        return product_from_json(data)

    def restock_product(self, product_id: int, quantity: int) -> Product:
        check_restock(quantity)
        return product_from_json(self._call("POST", f"/api/products/{int(product_id)}/restock",
                                            body={"quantity": quantity}))

    def product_categories(self) -> tuple[str, ...]:
        return categories_from_json(self._call("GET", "/api/products/categories"))

    # ------------------------------------------------------------------ orders

    @staticmethod
    def _order_params(query: OrderQuery) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if query.placed_from is not None:
            params["from"] = iso_z(query.placed_from)
        if query.placed_to is not None:
            params["to"] = iso_z(query.placed_to)
        if query.statuses:
            params["status"] = ",".join(sorted(s.value for s in query.statuses))
        q = check_search(query.search)
        if q:
            params["q"] = q
        sort = OrderSort(query.sort).value
        params["sort"] = f"-{sort}" if query.descending else sort
        return params

    def list_orders(self, query: OrderQuery, *, after: str | None = None,
                    limit: int = 100) -> Page[Order]:
        return self._list("/api/orders", self._order_params(query), after, limit,
                          order_from_json)

    def count_orders(self, query: OrderQuery, *, exact: bool = False) -> RowCount:
        return self._count("/api/orders", self._order_params(query))

    def seek_orders(self, query: OrderQuery, position: int) -> str | None:
        return self._walk("/api/orders", self._order_params(query), position)

    def get_order(self, order_id: int) -> OrderDetail:
        return order_detail_from_json(self._call("GET", f"/api/orders/{int(order_id)}"))

    def set_order_status(self, order_id: int, version: int,
                         status: OrderStatus) -> OrderDetail:
        status = OrderStatus(status)
        data = self._call("PATCH", f"/api/orders/{int(order_id)}", body={"status": status.value},
                          version=version,
                          on_conflict=lambda cur: Conflict(status, order_detail_from_json(cur)))
        return order_detail_from_json(data)

    # ------------------------------------------------------------------ today

    def guest_history(self, booking: Booking, *, now: datetime | None = None) -> GuestHistory:
        """``GET /api/bookings/<id>/guest``; a shop without it is searched by name and phone."""
        now = now or self._clock()
        try:
            data = self._call("GET", f"/api/bookings/{int(booking.id)}/guest")
        except NotFound:
            self.get_booking(booking.id)  # NotFound again: the booking itself is gone
            return history_by_search(booking, lambda q, n: self.list_bookings(q, limit=n), now)
        matched_by, others = guest_from_json(data)
        return guest_history(booking, others, matched_by=matched_by, now=now)



def _own_session() -> requests.Session:
    """The console's HTTP session (services/http/client.py): its connections honour
    ``deadline_in``, and it reads the environment's proxy settings once, not per request."""
    from services.http.client import new_session

    return new_session(pool_size=4)


def _retry_after(resp: requests.Response) -> float:
    """Seconds to wait before retrying a 503: its Retry-After, at most a second."""
    try:
        wait = float(resp.headers.get("Retry-After", "0.2"))
    except ValueError:
        wait = 0.2
    return max(0.05, min(BUSY_WAIT_MAX_S, wait))
