"""HTTP helpers shared by the collectors: one bounded GET, and requests' errors made typed."""

from __future__ import annotations

import logging
import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import requests.adapters
import urllib3

from console.own_cost import count_request
from console.redaction import mask_url, redact
from services.errors import (
    AuthFailed,
    BadResponse,
    CollectorError,
    SourceTimeout,
    SourceUnreachable,
    TlsError,
)
from services.http.keep_alive import KeepAlive, PlainAnswer
from services.http.watchdog import WatchedAdapter, cut_off, deadline_in
from services.http.wire import timed_on_wire

log = logging.getLogger(__name__)

MIB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Fetched:
    """An HTTP answer read (up to a size cap) within a deadline."""

    status: int
    #: The body as read, not copied into ``bytes``: a 5 MB page's copy is one C call holding
    #: the GIL while the GUI thread waits for it.
    body: bytes | bytearray
    elapsed_s: float
    truncated: bool
    content_type: str


class ConsoleSession(requests.Session):
    """requests' session that reads the environment once, when it is made, instead of on
    every request: a quarter of a local request's time (0.40 -> 0.29 ms, bench_probes).

    The CA bundle named by ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` is kept and used where
    a request asks for the default verification, as requests does; where the environment
    also sets a proxy or there is a netrc file, the per-request lookup stays on (``no_proxy``
    and netrc entries are matched per host)."""

    def __init__(self, per_host: int = 10) -> None:
        super().__init__()
        #: Plain http:// GETs of fetch, on the stdlib's keep-alive connections (None: all
        #: through requests).
        self.keep_alive: KeepAlive | None = KeepAlive(per_host)
        self.environment_ca_bundle = (os.environ.get("REQUESTS_CA_BUNDLE")
                                      or os.environ.get("CURL_CA_BUNDLE") or None)
        self.trust_env = _per_host_environment()

    def merge_environment_settings(self, url: str | bytes | None, proxies: Any, stream: Any,
                                   verify: Any, cert: Any) -> Any:
        if self.environment_ca_bundle and (verify is True or verify is None):
            verify = self.environment_ca_bundle
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def close(self) -> None:
        super().close()
        if self.keep_alive is not None:
            self.keep_alive.close()


def _per_host_environment() -> bool:
    """Whether the environment has settings that requests matches per request: proxies (the
    variables, or the system's settings on macOS and Windows) or a netrc file."""
    if urllib.request.getproxies():
        return True
    netrc = [os.environ["NETRC"]] if os.environ.get("NETRC") else ["~/.netrc", "~/_netrc"]
    return any(os.path.exists(os.path.expanduser(path)) for path in netrc)


def new_session(pool_size: int = 10) -> requests.Session:
    """A pooled session (keep-alive) for all HTTP collectors of one profile. Its connections
    honour the whole-call deadline that :func:`fetch` sets (services/http/watchdog.py)."""
    session = ConsoleSession(pool_size)
    adapter = WatchedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "Backroom"
    return session


def verify_option(verify_tls: bool, ca_bundle: str | None) -> bool | str:
    """requests' ``verify``: a CA bundle path when given, else on/off. Turning verification
    off is the profile's explicit choice: it is logged once instead of warned per request."""
    if ca_bundle:
        return ca_bundle
    if not verify_tls:
        log.warning("TLS certificate verification is off for a source (verify_tls = false)")
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    return verify_tls


def fetch(session: requests.Session, url: str, *, timeout_s: float, verify: bool | str = True,
          headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None,
          max_bytes: int = MIB, params: dict[str, str] | None = None,
          refuse_larger: bool = False) -> Fetched:
    """GET ``url`` and read at most ``max_bytes`` of the body, all within ``timeout_s``:
    connect and response head by the watchdog of a :func:`new_session` session (also against a
    server that drips its header lines), the body by our own deadline (also against a server
    that drips it a byte at a time). With ``refuse_larger`` an answer
    whose Content-Length is over ``max_bytes`` is not read at all (``truncated``, empty).
    Latency is the time on the wire, summed over redirects: from a request's connect (a new
    connection) or first byte sent to the last byte of its answer read off the socket
    (services/http/wire.py); requests' and urllib3's own work before and after is client
    time, not the server's, and left out. Through a connection that is not stamped (a SOCKS
    proxy's) it is requests' ``elapsed`` to the head plus the time to read the body.

    A plain http:// GET of a :func:`new_session` session with no auth, params, proxy or
    cookies goes on the stdlib's keep-alive connections (services/http/keep_alive.py): a
    quarter of the CPU of the same call through requests; a redirect goes back to requests."""
    start = time.perf_counter()
    deadline = start + timeout_s
    read = 0
    body: bytes | bytearray
    keep_alive: KeepAlive | None = getattr(session, "keep_alive", None)
    try:
        with timed_on_wire() as wire:
            target = keep_alive.target(session, url, auth, params) if keep_alive else None
            answer: PlainAnswer | None = None
            if keep_alive is not None and target is not None:
                with deadline_in(timeout_s):
                    answer = keep_alive.get(session, url, target, headers, timeout_s)
            header: Callable[[str, str], str | None]
            if answer is not None:
                status, header, raw = answer.status, answer.header, answer.body
            else:
                # requests bounds each socket read only: the watchdog bounds connect and head
                with deadline_in(timeout_s):
                    response = session.get(url, timeout=(timeout_s, timeout_s), stream=True,
                                           verify=verify, headers=headers, auth=auth,
                                           params=params)
                status, header, raw = response.status_code, response.headers.get, None
            head_at = time.perf_counter()
            try:
                if refuse_larger and _declared_length(header) > max_bytes:
                    body, truncated = b"", True
                else:
                    if answer is None:
                        data, truncated = _read_body(response, max_bytes, deadline, url,
                                                     timeout_s)
                    else:
                        data, truncated = _read_raw(raw, max_bytes, deadline, url, timeout_s)
                    read = len(data)
                    body = b"" if truncated and refuse_larger else data
                elapsed = wire.elapsed()
                if elapsed is None and answer is not None:  # a hop made again on a new connection
                    elapsed = time.perf_counter() - start
                elif elapsed is None:
                    elapsed = sum((r.elapsed.total_seconds()
                                   for r in (*response.history, response)), 0.0) + (
                        time.perf_counter() - head_at)
            finally:
                if answer is not None and keep_alive is not None:
                    keep_alive.done(answer)
                else:
                    response.close()
    except requests.RequestException as err:
        raise translate(err, url, timeout_s) from err
    finally:
        count_request(read)  # the console's own cost (console/own_cost.py), failed calls too
    return Fetched(status=status, body=body, elapsed_s=elapsed, truncated=truncated,
                   content_type=header("Content-Type", "") or "")


def _declared_length(header: Any) -> int:
    try:
        return int(header("Content-Length", "-1"))
    except (TypeError, ValueError):
        return -1


def _read_body(response: requests.Response, max_bytes: int, deadline: float, url: str,
               timeout_s: float) -> tuple[bytes | bytearray, bool]:
    """Up to ``max_bytes`` of the body, and whether there was more, within ``deadline``."""
    if getattr(response.raw, "read1", None) is None:  # urllib3 < 2.3: whole chunks, the
        chunks: list[bytes] = []                       # deadline checked between them
        size = 0
        for chunk in response.iter_content(CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size >= max_bytes:
                return b"".join(chunks)[:max_bytes], True
            if time.perf_counter() > deadline:
                raise still_sending(url, timeout_s)
        return b"".join(chunks), False
    return _read_raw(response.raw, max_bytes, deadline, url, timeout_s)


def _read_raw(raw: Any, max_bytes: int, deadline: float, url: str,
              timeout_s: float) -> tuple[bytes | bytearray, bool]:
    """Up to ``max_bytes`` of an answer's body (urllib3's, or a plain answer's as
    services/http/keep_alive.py reads it), and whether there was more. ``read1`` returns
    what has arrived instead of waiting for a whole chunk, and each wait on the socket is
    cut to what is left of the deadline, so a dripping answer ends on time."""
    read1 = raw.read1
    body = bytearray()
    while len(body) < max_bytes:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise still_sending(url, timeout_s)
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(remaining)  # set afresh for the next request
        try:
            chunk = read1(min(CHUNK, max_bytes - len(body)), decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as err:
            raise still_sending(url, timeout_s) from err
        except urllib3.exceptions.SSLError as err:
            raise requests.exceptions.SSLError(err) from err
        except urllib3.exceptions.DecodeError as err:
            raise requests.exceptions.ContentDecodingError(err) from err
        except urllib3.exceptions.HTTPError as err:  # the connection broke off mid-answer
            raise requests.exceptions.ChunkedEncodingError(err) from err
        if not chunk:
            return body, False
        body += chunk
    return body, True


read_body = _read_body
"""Public name of the deadline-bounded body read, for other HTTP clients of the console."""


def still_sending(url: str, timeout_s: float) -> SourceTimeout:
    """The error of an answer (head or body) not complete within the whole call's timeout."""
    return SourceTimeout(f"{mask_url(url)} was still sending after {timeout_s:g} s; "
                         "the server is overloaded or the page is huge")


def translate(err: requests.RequestException, url: str, timeout_s: float) -> CollectorError:
    """A requests failure as a typed collector error saying what happened and what to try."""
    where = mask_url(url)
    phase = cut_off(err)
    if phase == "headers":  # the watchdog ended a head still coming in at the deadline
        return still_sending(url, timeout_s)
    if phase == "connect":
        return SourceTimeout(f"{where} did not complete the connection within {timeout_s:g} s; "
                             "check the host is up and no firewall drops the traffic")
    if isinstance(err, requests.exceptions.SSLError):
        return TlsError(f"TLS handshake with {where} failed ({_reason(err)}); check the "
                        "server's certificate, or set ca_bundle (or verify_tls = false)")
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return SourceTimeout(f"{where} did not accept a connection within {timeout_s:g} s; "
                             "check the host is up and no firewall drops the traffic")
    if isinstance(err, requests.exceptions.Timeout):  # also cut off before the status line
        return SourceTimeout(f"{where} accepted the connection but did not answer within "
                             f"{timeout_s:g} s; the server may be overloaded or stuck")
    if isinstance(err, requests.exceptions.ConnectionError):
        return SourceUnreachable(f"cannot connect to {where} ({_reason(err)}); check the URL "
                                 "and that the server is running")
    if isinstance(err, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema |
                  requests.exceptions.InvalidSchema):
        return BadResponse(f"{where} is not a usable URL ({_reason(err)})")
    return CollectorError(f"request to {where} failed ({_reason(err)})")


def check_status(fetched: Fetched, url: str, what: str) -> None:
    """Raise a typed error for answers that are not 2xx."""
    where = mask_url(url)
    if fetched.status in (401, 403):
        raise AuthFailed(f"{where} refused our credentials (HTTP {fetched.status}); "
                         "check the user and password/token in the profile")
    if fetched.status == 404:
        raise BadResponse(f"no {what} at {where} (HTTP 404); check the path")
    if not 200 <= fetched.status < 300:
        raise BadResponse(f"{where} answered HTTP {fetched.status} instead of {what}")


def server_said(text: Any, auth: tuple[str, str] | None = None, limit: int = 200) -> str:
    """Text a server sent back, fit for an error message: one line, at most ``limit``
    characters, our own password and any Authorization/Basic/Bearer credential masked (an
    error page or a debugging proxy may echo the request, headers and all)."""
    one_line = " ".join(str(text)[:8 * limit].split())
    return redact(one_line, [auth[1]] if auth and auth[1] else [])[:limit]


def _reason(err: Any) -> str:
    """The innermost readable reason of a requests/urllib3 error, without the URL noise."""
    text = str(err)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    if "Failed to resolve " in text:  # past urllib3's name for the connection object
        text = text[text.index("Failed to resolve "):]
    text = text.strip("()'\" ")
    if text.startswith("Failed to resolve ") and text.count("(") > text.count(")"):
        text += ")"
    if "] " in text and text.startswith(("NewConnectionError", "<urllib3")):
        text = text.split("] ", 1)[1]
    return mask_url(text[:200])
