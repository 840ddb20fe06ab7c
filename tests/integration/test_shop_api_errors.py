"""The API adapter against a scripted HTTP server: error words, 503 retries, timeouts, TLS."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from console.shop import (
    BackendUnavailable,
    BookingDraft,
    BookingQuery,
    Conflict,
    NotFound,
    ValidationFailed,
)
from services.shop.api import ApiShopRepository


class Script:
    """What the server answers next: a list of (status, body, headers, delay)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any, dict[str, str], float]] = []
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.stop = threading.Event()


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.seen_request()
            status, body, headers, delay = (script.answers.pop(0) if script.answers
                                            else (200, {"items": [], "next_cursor": None}, {},
                                                  0.0))
            if delay:
                script.stop.wait(delay)
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def seen_request(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            script.seen.append((self.command, self.path, dict(self.headers)))

        do_GET = do_PATCH = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, name="scripted-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        script.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_bearer_token_and_query_parameters(server: tuple[str, Script]) -> None:
    url, script = server
    repo = ApiShopRepository(url, "s3cret")
    repo.list_bookings(BookingQuery(search="O'Brien 100%"), limit=10)
    method, path, headers = script.seen[0]
    assert method == "GET" and headers["Authorization"] == "Bearer s3cret"
    assert "q=O%27Brien+100%25" in path and "limit=10" in path and "sort=start_at" in path


@pytest.mark.parametrize(("status", "body", "error", "words"), [
    (401, {"error": "missing or invalid bearer token"}, BackendUnavailable, "API token"),
    (404, {"error": "booking 9 not found"}, NotFound, "booking 9 not found"),
    (500, {"error": "internal error"}, BackendUnavailable, "HTTP 500: internal error"),
    (200, b"<html>a login page</html>", BackendUnavailable, "not JSON"),
    (422, {"errors": {"q": "at most 200 characters"}}, ValidationFailed, "search"),
    (409, {"error": "cannot", "allowed": ["paid"]}, ValidationFailed, "allowed now: paid"),
])
def test_answers_become_typed_errors(server: tuple[str, Script], status: int, body: Any,
                                     error: type[Exception], words: str) -> None:
    url, script = server
    script.answers.append((status, body, {}, 0.0))
    with pytest.raises(error) as caught:
        ApiShopRepository(url, "t").get_booking(9)
    text = str(caught.value) + " " + " ".join(getattr(caught.value, "errors", {}))
    assert words in text


def test_busy_503_is_retried_then_reported(server: tuple[str, Script]) -> None:
    url, script = server
    busy = (503, {"error": "the database is busy, try again"}, {"Retry-After": "0"}, 0.0)
    script.answers += [busy, busy]
    assert ApiShopRepository(url, "t").list_bookings(BookingQuery()).rows == ()
    assert len(script.seen) == 3
    script.seen.clear()
    script.answers += [busy, busy, busy]
    with pytest.raises(BackendUnavailable, match="503"):
        ApiShopRepository(url, "t").list_bookings(BookingQuery())
    assert len(script.seen) == 3


def test_a_slow_answer_times_out(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers.append((200, {"items": []}, {}, 3.0))
    with pytest.raises(BackendUnavailable, match=r"no answer within 0\.5 s"):
        ApiShopRepository(url, "t", timeout=0.5).list_bookings(BookingQuery())


def test_tls_to_a_plain_http_port_is_a_clear_error(server: tuple[str, Script]) -> None:
    url, _ = server
    with pytest.raises(BackendUnavailable):
        ApiShopRepository(url.replace("http://", "https://"), "t", timeout=2).get_booking(1)


@pytest.mark.parametrize("body", [
    {"id": 1, "version": 1},  # fields missing
    {"id": "1", "version": 1, "customer_name": "A", "party_size": 2,
     "start_at": "2030-01-01T12:00:00Z", "status": "confirmed"},  # id as text
    {"id": 1, "version": 1, "customer_name": 5, "party_size": 2,
     "start_at": "2030-01-01T12:00:00Z", "status": "confirmed"},  # name as a number
    {"id": 1, "version": 1, "customer_name": "A", "party_size": 2, "start_at": 5,
     "status": "confirmed"},  # time as a number
    {"id": 1, "version": 1, "customer_name": "A", "party_size": 2,
     "start_at": "2030-01-01T12:00:00Z", "status": "booked"},  # unknown status
    [1, 2],
])
def test_answers_not_as_documented_are_refused(server: tuple[str, Script], body: Any) -> None:
    url, script = server
    script.answers.append((200, body, {}, 0.0))
    with pytest.raises(BackendUnavailable, match="not as documented"):
        ApiShopRepository(url, "t").get_booking(1)


def test_a_stale_conflict_answer_that_is_malformed_is_refused(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers.append((412, {"error": "version mismatch", "current": {"id": 1}}, {}, 0.0))
    draft = BookingDraft("A", 2, datetime(2031, 1, 1, 12, tzinfo=UTC))
    with pytest.raises(BackendUnavailable, match="not as documented"):
        ApiShopRepository(url, "t").update_booking(1, 1, draft)


def test_seek_stops_when_paging_does_not_move_on(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers += [(200, {"items": [], "next_cursor": "again"}, {}, 0.0)] * 3
    with pytest.raises(BackendUnavailable, match="does not move on"):
        ApiShopRepository(url, "t").seek_bookings(BookingQuery(), 500)
    assert len(script.seen) == 1


STORED = {"id": 7, "customer_name": "Ana Lima", "party_size": 2,
          "start_at": "2020-01-01T19:00:00Z", "status": "confirmed", "version": 3}


def test_an_edit_moved_into_the_past_is_refused_before_it_is_sent(
        server: tuple[str, Script]) -> None:
    """The same rule and words as the SQL adapters: the stored start is read, nothing sent."""
    url, script = server
    script.answers.append((200, STORED, {}, 0.0))
    draft = BookingDraft("Ana Lima", 2, datetime(2020, 1, 1, 18, tzinfo=UTC))
    with pytest.raises(ValidationFailed) as refused:
        ApiShopRepository(url, "t").update_booking(7, 3, draft)
    assert refused.value.errors == {"start_at": "Pick a time in the future."}
    assert [(method, path) for method, path, _ in script.seen] == [("GET", "/api/bookings/7")]


def test_an_edit_may_keep_a_start_that_has_passed(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers += [(200, STORED, {}, 0.0), (200, {**STORED, "version": 4}, {}, 0.0)]
    draft = BookingDraft("Ana Lima", 3, datetime(2020, 1, 1, 19, tzinfo=UTC))
    assert ApiShopRepository(url, "t").update_booking(7, 3, draft).version == 4
    assert [method for method, _, _ in script.seen] == ["GET", "PATCH"]


def test_an_edit_in_the_future_is_sent_without_reading_first(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers.append((200, {**STORED, "start_at": "2031-01-01T12:00:00Z", "version": 4},
                           {}, 0.0))
    draft = BookingDraft("Ana Lima", 2, datetime(2031, 1, 1, 12, tzinfo=UTC))
    assert ApiShopRepository(url, "t").update_booking(7, 3, draft).version == 4
    assert [method for method, _, _ in script.seen] == ["PATCH"]


def test_a_past_edit_of_a_booking_changed_since_is_a_conflict(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers.append((200, {**STORED, "version": 5}, {}, 0.0))
    draft = BookingDraft("Ana Lima", 2, datetime(2020, 1, 1, 18, tzinfo=UTC))
    with pytest.raises(Conflict) as caught:
        ApiShopRepository(url, "t").update_booking(7, 3, draft)
    assert caught.value.mine == draft and caught.value.theirs.version == 5
    # Nothing written: the booking read, then its history for who saved it (none here).
    assert [(method, path) for method, path, _ in script.seen] == [
        ("GET", "/api/bookings/7"), ("GET", "/api/bookings/7/history")]
    assert caught.value.saved_by is None
