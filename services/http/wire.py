"""Time on the wire of one HTTP call: each hop from its first byte sent to its last byte read."""

from __future__ import annotations

import http.client
import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()


class Hop:
    """One request and its answer: ``start`` when its connect or first byte sent began,
    ``end`` when the last bytes of its answer came off the socket."""

    __slots__ = ("end", "start")

    def __init__(self, start: float | None) -> None:
        self.start = start
        self.end: float | None = None


class WireTime:
    """The hops of one call (a redirect makes more than one), stamped by the connections."""

    __slots__ = ("connect_at", "hops")

    def __init__(self) -> None:
        self.hops: list[Hop] = []
        self.connect_at: float | None = None  # an HTTPS connect comes before its request

    def elapsed(self) -> float | None:
        """Seconds on the wire over all hops; None when a hop went unstamped (a connection
        class of a SOCKS proxy, say), so the caller falls back to its own clock."""
        if not self.hops:
            return None
        total = 0.0
        for hop in self.hops:
            if hop.start is None or hop.end is None:
                return None
            total += hop.end - hop.start
        return total


@contextmanager
def timed_on_wire() -> Iterator[WireTime]:
    """Stamp the calls this thread makes through a :class:`TimedConnection`."""
    previous: WireTime | None = getattr(_local, "wire", None)
    wire = _local.wire = WireTime()
    try:
        yield wire
    finally:
        _local.wire = previous


def current_wire() -> WireTime | None:
    """The hops this thread's call is stamping (:func:`timed_on_wire`), if any."""
    return getattr(_local, "wire", None)


class _TimedRaw(io.RawIOBase):
    """A socket's raw reader that stamps the hop each time bytes arrive."""

    def __init__(self, raw: Any, hop: Hop) -> None:
        super().__init__()
        self._raw = raw
        self._hop = hop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        n: int | None = self._raw.readinto(buffer)
        if n:
            self._hop.end = time.perf_counter()
        return n

    def fileno(self) -> int:
        return int(self._raw.fileno())

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _TimedSocket:
    """What http.client's response sees of the socket: reads through :class:`_TimedRaw`."""

    def __init__(self, sock: Any, hop: Hop) -> None:
        self._sock = sock
        self._hop = hop

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode != "rb":
            return self._sock.makefile(mode, *args, **kwargs)
        return io.BufferedReader(_TimedRaw(self._sock.makefile("rb", buffering=0), self._hop))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class TimedResponse(http.client.HTTPResponse):
    """http.client's response, its reads stamped on the hop of the request it answers."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        wire = current_wire()
        # (a proxy's answer to CONNECT comes while connecting, before the request is put)
        if wire is not None and wire.hops and wire.connect_at is None:
            sock = _TimedSocket(sock, wire.hops[-1])
        super().__init__(sock, *args, **kwargs)


class TimedConnection(http.client.HTTPConnection):
    """A mixin for urllib3's connections: each request under :func:`timed_on_wire` is a hop
    starting at its connect (a new connection) or else at its first byte sent."""

    response_class = TimedResponse

    def connect(self) -> None:
        wire = current_wire()
        if wire is not None:
            hop = wire.hops[-1] if wire.hops else None
            if hop is not None and hop.end is None:  # plain HTTP connects on the first send
                if hop.start is None:
                    hop.start = time.perf_counter()
            elif wire.connect_at is None:  # HTTPS connects before the request is put
                wire.connect_at = time.perf_counter()
        super().connect()

    def putrequest(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        wire = current_wire()
        if wire is not None:
            wire.hops.append(Hop(wire.connect_at))
            wire.connect_at = None
        super().putrequest(method, url, *args, **kwargs)

    def send(self, data: Any) -> None:
        wire = current_wire()
        if wire is not None and wire.hops and wire.hops[-1].start is None:
            wire.hops[-1].start = time.perf_counter()
        super().send(data)
