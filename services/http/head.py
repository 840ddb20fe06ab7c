"""A response head read as http.client reads it, its plain header lines without the email parser."""

from __future__ import annotations

import email.parser
import http.client
import re

from services.http.wire import TimedResponse

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
