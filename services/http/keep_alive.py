"""Plain http:// GETs on the stdlib's keep-alive connections, pooled per host: fetch's fast path."""

from __future__ import annotations

import http.client
import socket
import threading
import zlib
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import requests.cookies
import requests.models
import urllib3.exceptions
from urllib3.response import ContentDecoder, DeflateDecoder, GzipDecoder, MultiDecoder
from urllib3.util.wait import wait_for_read

from services.http.plain import PlainConnection
from services.http.watchdog import CutOff, WatchedAdapter

#: Answers that requests follows: the call is made again through requests, and so is every
#: later call to that URL (what it does with redirects is its own: methods, auth, limits).
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: URLs whose request line is kept (a probe's ``{today}`` makes a new one each day).
MAX_TARGETS = 4096
#: The content codings urllib3 decodes for requests (and so the ones it asks for).
DECODED = frozenset({"gzip", "x-gzip", "deflate"})

Host = tuple[str, int]


class Target:
    """Where a URL's GET goes: host, port and the request line's path, as requests sends it."""

    __slots__ = ("host", "path", "port")

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host = host
        self.port = port
        self.path = path


def _target(url: str) -> Target | None:
    """The URL's target when it is plain http:// with no credentials in it, else None."""
    prepared = requests.models.PreparedRequest()
    try:
        prepared.prepare_url(url, None)  # the same quoting, IDNA and default path as requests
        parts = urlsplit(prepared.url or "")
        port = parts.port or 80
    except (requests.RequestException, ValueError):
        return None  # requests says what is wrong with it
    if parts.scheme != "http" or "@" in parts.netloc or not parts.hostname:
        return None
    return Target(parts.hostname, port, prepared.path_url)


class PlainBody:
    """What fetch's body reader sees of a plain answer: urllib3's ``read1`` (decoded, at most
    ``amt`` bytes) and its errors, and the connection whose socket the deadline bounds."""

    def __init__(self, response: http.client.HTTPResponse,
                 connection: PlainConnection) -> None:
        self._response = response
        self.connection = connection
        self._coding = response.getheader("Content-Encoding", "").lower()
        self._decoder = _decoder(self._coding)
        self._pending = b""
        self._read = 0
        self._ended = False

    def read1(self, amt: int, decode_content: bool = True) -> bytes:
        while not self._pending and not self._ended:
            data = self._from_socket(amt)
            if not data:
                self._ended = True
                if self._decoder is not None:
                    self._pending = self._decode(self._decoder, None)
            elif self._decoder is None:
                self._pending = data
            else:
                self._pending = self._decode(self._decoder, data)
        chunk, self._pending = self._pending[:amt], self._pending[amt:]
        return chunk

    def _from_socket(self, amt: int) -> bytes:
        try:
            data = self._response.read1(amt)
        except TimeoutError as err:
            raise urllib3.exceptions.ReadTimeoutError(None, None, "Read timed out.") from err  # type: ignore[arg-type]
        except (http.client.HTTPException, OSError) as err:
            raise urllib3.exceptions.ProtocolError(f"Connection broken: {err!r}", err) from err
        self._read += len(data)
        left = self._response.length
        if not data and left:  # the stdlib ends a short body quietly; urllib3 does not
            short = urllib3.exceptions.IncompleteRead(self._read, left)
            raise urllib3.exceptions.ProtocolError(f"Connection broken: {short!r}", short)
        return data

    def _decode(self, decoder: ContentDecoder, data: bytes | None) -> bytes:
        """``data`` decoded (None: what the decoder still holds at the end)."""
        try:
            return decoder.flush() if data is None else decoder.decompress(data)
        except (OSError, zlib.error) as err:
            raise urllib3.exceptions.DecodeError(
                f"Received response with content-encoding: {self._coding}, but failed to "
                "decode it.", err) from err

    @property
    def complete(self) -> bool:
        """Whether the whole answer was read, so its connection can serve the next call."""
        response = self._response
        return self._ended and not self._pending and (response.isclosed() or response.length == 0)


def _decoder(coding: str) -> ContentDecoder | None:
    if coding in ("gzip", "x-gzip"):
        return GzipDecoder()
    if coding == "deflate":
        return DeflateDecoder()
    if "," in coding and any(part.strip() in DECODED for part in coding.split(",")):
        return MultiDecoder(coding)
    return None


class PlainAnswer:
    """A plain answer's status and head, and its body to read."""

    __slots__ = ("body", "response", "status")

    def __init__(self, response: http.client.HTTPResponse, body: PlainBody) -> None:
        self.response = response
        self.status = response.status
        self.body = body

    def header(self, name: str, default: str = "") -> str:
        return self.response.getheader(name, default)


class _CookieAnswer:
    """What requests' cookie extraction reads of an answer."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self._original_response = response


class KeepAlive:
    """Idle keep-alive connections per host (at most ``per_host`` each), and what is known of
    URLs and hosts: a URL that redirects, or a host that sets cookies, goes through requests
    from then on."""

    def __init__(self, per_host: int = 10) -> None:
        self.per_host = per_host
        self._lock = threading.Lock()
        self._idle: dict[Host, list[PlainConnection]] = {}
        self._targets: dict[str, Target | None] = {}
        self._through_requests: set[str | Host] = set()
        self._closed = False

    def target(self, session: requests.Session, url: str, auth: object,
               params: object) -> Target | None:
        """The plain target of this call, or None when requests is the one to make it."""
        if auth is not None or params or not _plain_session(session, url):
            return None
        try:
            target = self._targets[url]
        except KeyError:
            target = _target(url)
            with self._lock:
                if len(self._targets) >= MAX_TARGETS:
                    self._targets.clear()
                    self._through_requests.clear()
                self._targets[url] = target
        if target is None or url in self._through_requests or \
                (target.host, target.port) in self._through_requests:
            return None
        return target

    def get(self, session: requests.Session, url: str, target: Target,
            headers: Mapping[str, str] | None, timeout_s: float) -> PlainAnswer | None:
        """Send the GET and read the answer's head; None when the answer is a redirect (or
        sets cookies): requests makes the call again, and every later one like it. Raises
        requests' exception for what went wrong, as requests would."""
        lines = _header_lines(session.headers, headers)
        key = (target.host, target.port)
        for attempt in (0, 1):
            conn, reused = self._connection(key, timeout_s)
            try:
                response = conn.get(target.path, lines)
            except CutOff as err:
                conn.close()
                raise requests.exceptions.ReadTimeout(err) from err
            except TimeoutError as err:
                connected = conn.sock is not None
                conn.close()
                if not connected and not reused:
                    raise requests.exceptions.ConnectTimeout(err) from err
                raise requests.exceptions.ReadTimeout(err) from err
            except (http.client.HTTPException, OSError) as err:
                connected = conn.sock is not None
                conn.close()
                if not connected and not reused:
                    raise requests.exceptions.ConnectionError(_not_connected(conn, err)) from err
                if reused and attempt == 0 and isinstance(err, _CLOSED_BY_PEER):
                    continue  # the server closed an idle connection as we sent: once more
                raise requests.exceptions.ConnectionError(
                    urllib3.exceptions.ProtocolError("Connection aborted.", err)) from err
            break
        if response.getheader("Set-Cookie") is not None:
            requests.cookies.extract_cookies_to_jar(
                session.cookies, requests.Request("GET", url), _CookieAnswer(response))
            self._through_requests.add(key)
        if response.status in REDIRECTS and response.getheader("Location"):
            self._through_requests.add(url)
            response.close()
            conn.close()
            return None
        return PlainAnswer(response, PlainBody(response, conn))

    def done(self, answer: PlainAnswer) -> None:
        """Pool the answer's connection again when the answer was read to its end."""
        conn = answer.body.connection
        if not answer.body.complete or answer.response.will_close:
            answer.response.close()
            conn.close()
            return
        answer.response.close()  # the head of the line for the next request
        key = (conn.host, conn.port)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.per_host and not self._closed:
                idle.append(conn)
                return
        conn.close()

    def _connection(self, key: Host, timeout_s: float) -> tuple[PlainConnection, bool]:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None:
                return PlainConnection(key[0], key[1], timeout_s), False
            sock = conn.sock
            if sock is None or wait_for_read(sock, timeout=0.0):  # closed by the server
                conn.close()
                continue
            sock.settimeout(timeout_s)
            return conn, True

    @property
    def idle(self) -> int:
        """Connections kept open for the next call, over all hosts."""
        with self._lock:
            return sum(len(conns) for conns in self._idle.values())

    def close(self) -> None:
        """Close the idle connections, and each one in use when its call ends."""
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()


def _header_lines(session: Mapping[str, str | bytes],
                  call: Mapping[str, str] | None) -> dict[str, str | bytes]:
    """The headers sent: the session's, those of the call in their place whatever their
    case, none set to None (as requests merges them; a new CaseInsensitiveDict a call cost
    more than the rest of this path's header work)."""
    lines = {k: v for k, v in session.items() if v is not None}
    if call:
        replaced = {k.lower() for k in call}
        lines = {k: v for k, v in lines.items() if k.lower() not in replaced}
        lines.update((k, v) for k, v in call.items() if v is not None)
    return lines


_CLOSED_BY_PEER = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _plain_session(session: requests.Session, url: str) -> bool:
    """Whether requests would add nothing of the session's own to a plain GET: no proxy,
    netrc, session-wide auth, client certificate or hook, and our adapter for the URL."""
    return (not session.trust_env and not session.proxies and session.auth is None
            and session.cert is None and not any(session.hooks.values())
            and isinstance(session.get_adapter(url), WatchedAdapter))


def _not_connected(conn: PlainConnection, err: BaseException) -> Exception:
    """urllib3's error for a connection that could not be made (what requests' reads)."""
    made = cast(Any, conn)
    if isinstance(err, socket.gaierror):
        return urllib3.exceptions.NameResolutionError(conn.host, made, err)
    return urllib3.exceptions.NewConnectionError(
        made, f"Failed to establish a new connection: {err}")
