"""Plain http:// on one socket: the GET sent as bytes, its answer read by http.client's response."""

from __future__ import annotations

import email.parser
import http.client
import re
import socket
import time
from collections.abc import Mapping

from services.http.watchdog import watched
from services.http.wire import Hop, TimedResponse, current_wire

#: A header line the email package would read as ``name: value`` and nothing more: a token
#: for a name, no folded line, no carriage return but the line's end, no "From " line.
_PLAIN = re.compile(rb"[!-9;-~]+:[^\r\n]*\r?\n")


def parse_head(lines: list[bytes]) -> http.client.HTTPMessage:
    """The header lines of an answer (as ``http.client`` reads them, the blank line last) as
    its ``HTTPMessage``: what ``http.client.parse_headers`` makes of them.

    Each plain line is split at its first colon, the value stripped as the email package's
    compat32 policy strips it; a head with any other line (folded, without a colon, with a
    stray carriage return) goes through the email package as ``http.client`` sends it. At
    200 answers a second the email package cost 30-100 us an answer, a tenth of a probe.
    """
    message = http.client.HTTPMessage()
    for line in lines:
        if line in (b"\r\n", b"\n", b""):
            break
        if _PLAIN.fullmatch(line) is None:
            text = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)
        name, value = line.decode("iso-8859-1").split(":", 1)
        message[name] = value.lstrip(" \t").rstrip("\r\n")
    return message


class PlainResponse(TimedResponse):
    """http.client's response of the plain keep-alive path (services/http/keep_alive.py): the
    same ``begin()``, its header lines read by :func:`parse_head`. Its tests compare every
    field ``begin()`` sets with the stdlib's own on the same bytes."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:  # an interim 100 Continue and its headers are skipped
            version, status, reason = self._read_status()  # type: ignore[attr-defined]
            if status != http.client.CONTINUE:
                break
            http.client._read_headers(self.fp)  # type: ignore[attr-defined]
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = parse_head(http.client._read_headers(self.fp))  # type: ignore[attr-defined]
        coding = self.headers.get("transfer-encoding")
        self.chunked = bool(coding) and coding.lower() == "chunked"
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()  # type: ignore[attr-defined]
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            if self.length is not None and self.length < 0:
                self.length = None
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or \
                100 <= status < 200 or self._method == "HEAD":  # type: ignore[attr-defined]
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # the body ends when the server closes


#: What a header name or value may not hold here (it would split the request); http.client
#: allows a folded value, this refuses any line break.
_UNSAFE = re.compile(r"[\r\n\0]")
#: What http.client refuses in a request's path: control characters and spaces.
_UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f]")


class PlainConnection:
    """One keep-alive connection for plain http:// GETs (services/http/keep_alive.py).

    What ``http.client.HTTPConnection`` does for a GET, without its request state machine:
    the request line and headers as one ``sendall``, then :class:`PlainResponse`. Connect and
    head are under the whole call's deadline (services/http/watchdog.py); each request is a
    hop on the wire, from its connect or first byte sent (services/http/wire.py).
    """

    __slots__ = ("host", "port", "sock", "timeout")

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def _connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
        self.sock = sock

    def get(self, path: str, headers: Mapping[str, str | bytes]) -> PlainResponse:
        """Send ``GET path`` with ``headers`` (Host and, unless given, Accept-Encoding:
        identity added as http.client adds them) and read the answer's head."""
        request = request_bytes(self.host, self.port, path, headers)
        wire = current_wire()
        hop = None
        if wire is not None:
            hop = Hop(None)
            wire.hops.append(hop)
        if self.sock is None:
            if hop is not None:
                hop.start = time.perf_counter()  # a new connection's hop starts at connect
            watched(self, self._connect, failed="connect", done="connect")
        sock = self.sock
        assert sock is not None
        if hop is not None and hop.start is None:
            hop.start = time.perf_counter()
        sock.sendall(request)
        response = PlainResponse(sock, method="GET")
        # cut before the status line, nothing came ("response"); cut among the header lines,
        # the shut socket reads as their end, which must not pass for an answer ("headers")
        watched(self, response.begin, failed="response", done="headers")
        return response

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


def request_bytes(host: str, port: int, path: str, headers: Mapping[str, str | bytes]) -> bytes:
    """The request's bytes as http.client writes them; ValueError for a header that would
    split it, as http.client raises."""
    if ":" in host:
        host = f"[{host}]"
    names = {name.lower() for name in headers}
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}" if port == 80 else f"Host: {host}:{port}"]
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: identity")
    for name, value in headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if _UNSAFE.search(name) or ":" in name or not name or _UNSAFE.search(text):
            raise ValueError(f"Invalid header {name!r}")
        lines.append(f"{name}: {text}")
    if _UNSAFE_PATH.search(path):
        raise http.client.InvalidURL(f"URL can't contain control characters. {path!r}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
