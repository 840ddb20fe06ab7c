"""A deadline for a whole HTTP call: one watchdog thread shuts the socket of a late call down."""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import requests
import requests.adapters
import urllib3.poolmanager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.response import HTTPResponse

from services.http.wire import TimedConnection

T = TypeVar("T")

THREAD_NAME = "backroom-http-watchdog"
#: The thread ends after this long with nothing to watch: a console polling at 1 Hz keeps one
#: thread, an idle one keeps none.
IDLE_EXIT_S = 3.0
#: While a new connection has no socket yet (name lookup, TCP connect, both bounded by the
#: connect timeout) the watchdog looks again this often, so the TLS handshake that follows
#: cannot outlast the deadline either.
RETRY_S = 0.02
#: Released entries are dropped from the heap's top at once; ones buried under a longer
#: deadline are swept out when they are this many and at least half of the heap.
_SWEEP_AT = 64


class CutOff(ReadTimeoutError):
    """The watchdog shut the socket down: the call's deadline passed during ``phase``
    ("connect"; "response": before the status line; "headers": among the header lines).
    A read timeout to urllib3 and requests, so it is neither retried nor mistaken for a
    refused connection."""

    def __init__(self, phase: str) -> None:
        # No pool at the connection's level (urllib3 itself passes None when unpickling).
        message = f"deadline of the whole call passed during the {phase}"
        super().__init__(None, None, message)  # type: ignore[arg-type]
        self.phase = phase

    def __str__(self) -> str:
        return self._message

    def __reduce__(self) -> Any:
        return self.__class__, (self.phase,)


class Watch:
    """One registered call: what to cut (anything with a ``sock``), and whether it was cut."""

    __slots__ = ("cut", "live", "queued", "target")

    def __init__(self, target: object) -> None:
        self.target: object | None = target
        self.live = True
        self.queued = True
        self.cut = False


class Watchdog:
    """A heap of (deadline, call); a lazily started named daemon thread shuts down the socket
    of a call still registered at its deadline, and ends itself when idle.

    Shutting the socket down (not closing it) is what wakes a thread blocked in ``recv`` on
    it: the read sees end of file and the call fails at once. Registering, releasing and
    cutting happen under one lock, so a call released in time is never touched afterwards,
    even when its connection is back in the pool serving another request.
    """

    def __init__(self, name: str = THREAD_NAME, idle_exit_s: float = IDLE_EXIT_S) -> None:
        self.name = name
        self.idle_exit_s = idle_exit_s
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._released_in_heap = 0
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        # When the thread will look at the heap next (monotonic): a call due no earlier need
        # not wake it. Waking it on every call cost a thread switch per request (~0.1 ms).
        self._wake_at = float("-inf")

    @property
    def thread(self) -> threading.Thread | None:
        """The watchdog thread while it runs."""
        with self._cond:
            return self._thread

    def watch(self, target: object, deadline: float | None) -> Watch:
        """Cut ``target.sock`` at ``deadline`` (``time.monotonic()``) unless released first;
        with no deadline, only :meth:`cut` cuts it."""
        entry = Watch(target)
        if deadline is None:
            entry.queued = False
            return entry
        with self._cond:
            item = (deadline, next(self._seq), entry)
            heapq.heappush(self._heap, item)
            if self._thread is None:
                self._wake_at = float("-inf")  # it looks as soon as it runs
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            elif deadline < self._wake_at:  # earlier than what the thread sleeps towards
                self._cond.notify()
        return entry

    def release(self, entry: Watch) -> bool:
        """Stop watching; True when the deadline had passed and the socket was cut."""
        with self._cond:
            entry.live = False
            entry.target = None  # do not keep the connection alive from the heap
            if entry.queued:
                self._released_in_heap += 1
                self._drop_released()
            return entry.cut

    def cut(self, entry: Watch) -> None:
        """Cut ``entry`` now, as its deadline would (a no-op once it is released). A call
        still connecting has no socket yet: it ends when the connect does (bounded by the
        connect timeout), as :class:`CutOff`."""
        with self._cond:
            if not entry.live:
                return
            entry.cut = True
            sock = getattr(entry.target, "sock", None)
            if sock is not None:
                _shutdown(sock)

    def _drop_released(self) -> None:
        heap = self._heap
        while heap and not heap[0][2].live:
            heapq.heappop(heap)[2].queued = False
            self._released_in_heap -= 1
        if self._released_in_heap >= _SWEEP_AT and 2 * self._released_in_heap >= len(heap):
            for _, _, entry in heap:
                entry.queued = entry.live
            heap[:] = [item for item in heap if item[2].live]
            heapq.heapify(heap)
            self._released_in_heap = 0

    def _run(self) -> None:
        idle_until: float | None = None
        with self._cond:
            while True:
                self._drop_released()
                now = time.monotonic()
                if not self._heap:
                    if idle_until is None:
                        idle_until = now + self.idle_exit_s
                    if now >= idle_until:
                        self._thread = None  # the next watch() starts a new thread
                        return
                    self._wake_at = idle_until
                    self._cond.wait(idle_until - now)
                    self._wake_at = float("-inf")
                    continue
                idle_until = None
                deadline, _, entry = self._heap[0]
                if deadline > now:
                    self._wake_at = deadline
                    self._cond.wait(deadline - now)
                    self._wake_at = float("-inf")
                    continue
                heapq.heappop(self._heap)
                entry.cut = True
                sock = getattr(entry.target, "sock", None)
                if sock is None:  # not connected yet: cut the socket once there is one
                    heapq.heappush(self._heap, (now + RETRY_S, next(self._seq), entry))
                else:
                    entry.queued = False
                    _shutdown(sock)


def _shutdown(sock: object) -> None:
    raw = sock
    for _ in range(3):  # TLS in TLS (an HTTPS proxy) wraps the socket in urllib3's SSLTransport
        if isinstance(raw, socket.socket):
            break
        raw = getattr(raw, "socket", None)
    if isinstance(raw, socket.socket):
        # socket.socket's own shutdown, also for an SSLSocket: SSLSocket.shutdown would drop
        # the TLS object under the reading thread's feet; a shut descriptor just ends its read.
        with suppress(OSError):  # already closed by its owner: nothing left to cut
            socket.socket.shutdown(raw, socket.SHUT_RDWR)


WATCHDOG = Watchdog()

_local = threading.local()


class Cancel:
    """A stop button for the calls made under it (:func:`cancelled_by`): :meth:`cut` ends
    those in flight at once, as their deadline would, and any made afterwards. How a
    stopping poller ends its calls to hosts that never answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: set[Watch] = set()
        self._cut = False

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            entries = list(self._entries)
        for entry in entries:
            WATCHDOG.cut(entry)

    def _add(self, entry: Watch) -> bool:
        with self._lock:
            if self._cut:
                return False
            self._entries.add(entry)
            return True

    def _discard(self, entry: Watch) -> None:
        with self._lock:
            self._entries.discard(entry)


@contextmanager
def cancelled_by(cancel: Cancel) -> Iterator[None]:
    """Calls made by this thread through a :class:`WatchedAdapter` end when ``cancel`` is cut."""
    previous: Cancel | None = getattr(_local, "cancel", None)
    _local.cancel = cancel
    try:
        yield
    finally:
        _local.cancel = previous


@contextmanager
def deadline_in(seconds: float) -> Iterator[None]:
    """Calls made by this thread through a :class:`WatchedAdapter` end within ``seconds``
    (connect and response head; the body is the caller's to bound, e.g. ``read_body``)."""
    previous: float | None = getattr(_local, "deadline", None)
    deadline = time.monotonic() + seconds
    _local.deadline = deadline if previous is None else min(previous, deadline)
    try:
        yield
    finally:
        _local.deadline = previous


def watched(conn: object, step: Callable[[], T], *, failed: str, done: str) -> T:
    """``step()`` under the watchdog; cut off, it raises :class:`CutOff` for phase ``failed``
    when the step then failed, ``done`` when it returned all the same."""
    deadline: float | None = getattr(_local, "deadline", None)
    cancel: Cancel | None = getattr(_local, "cancel", None)
    if deadline is None and cancel is None:
        return step()
    entry = WATCHDOG.watch(conn, deadline)
    if cancel is not None and not cancel._add(entry):
        WATCHDOG.release(entry)
        raise CutOff(failed)  # cancelled before it began
    try:
        result = step()
    except Exception as err:
        if WATCHDOG.release(entry):
            raise CutOff(failed) from err
        raise
    except BaseException:  # interrupted: stop watching, leave the interrupt as it is
        WATCHDOG.release(entry)
        raise
    finally:
        if cancel is not None:
            cancel._discard(entry)
    if WATCHDOG.release(entry):
        raise CutOff(done)
    return result


def _connect(conn: object, connect: Callable[[], None]) -> None:
    watched(conn, connect, failed="connect", done="connect")


def _head(conn: object, getresponse: Callable[[], HTTPResponse]) -> HTTPResponse:
    # Cut before the status line, the read fails ("response": no answer at all); cut among
    # the header lines, the shut socket reads as their end and http.client returns a response
    # with the headers so far and an empty body, which must not pass for an answer
    # ("headers": the server was still sending).
    return watched(conn, getresponse, failed="response", done="headers")


class WatchedHTTPConnection(TimedConnection, HTTPConnection):
    """urllib3's connection, its connect and response head watched (new and reused ones), its
    time on the wire stamped (services/http/wire.py)."""

    def connect(self) -> None:
        _connect(self, super().connect)

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]  # as urllib3's own
        return _head(self, super().getresponse)


class WatchedHTTPSConnection(TimedConnection, HTTPSConnection):
    """The same for HTTPS (the TLS handshake is part of connect)."""

    def connect(self) -> None:
        _connect(self, super().connect)

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]  # as urllib3's own
        return _head(self, super().getresponse)


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


_WATCHED_POOLS: dict[str, type[HTTPConnectionPool]] = {
    "http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connections honour :func:`deadline_in`."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # An HTTP(S) proxy's pools get our connections; a SOCKS proxy keeps its own classes.
        if manager.pool_classes_by_scheme == urllib3.poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


def cut_off(err: BaseException) -> str | None:
    """The phase ("connect", "response", "headers") when ``err`` is requests' wrapping of a call the
    watchdog cut off, else None."""
    cause: object = err.args[0] if isinstance(err, requests.RequestException) and err.args \
        else err
    if isinstance(cause, MaxRetryError):  # a session whose adapter retries wraps it once more
        cause = cause.reason
    return cause.phase if isinstance(cause, CutOff) else None
