"""A child process that reads very large ``/metrics`` pages, so their parse never holds our GIL."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol, TypeVar

from console.own_cost import count_cpu_elsewhere
from services.http.client import MIB

#: A page this large is parsed in the child: 100,000 label sets are about 5 MB, and their
#: parse is 0.3 s or more of Python in one thread, which the GUI thread must share the GIL
#: with (every return from Qt into Python waits for it). Pages of ordinary size stay here.
BIG_PAGE_BYTES = MIB
#: How much lower the child's priority is than the console's (Unix nice).
CHILD_NICENESS = 10
#: How long a child that was told to stop may take before it is killed.
STOP_WAIT_S = 0.5


class Scrapes(Protocol):
    """What reads a page (the Prometheus page reader): picklable, with its state."""

    def scrape(self, text: str | bytes | bytearray, mono: float) -> object: ...


R = TypeVar("R", bound=Scrapes)


class ChildGone(RuntimeError):
    """The child died; a new one is started for the next page."""


class PageTimeout(ChildGone):
    """The child did not answer in time; it was ended."""


def _serve(conn: Connection) -> None:
    """In the child: read pages until the pipe closes. Each is the reader (with its state),
    the time of the scrape and the page's bytes; the answer is the scrape and the reader as
    the page left it (the label sets its series limit kept), or the reader's error. It runs
    at a lower priority: on a busy machine the console's GUI thread gets the CPU first."""
    if hasattr(os, "nice"):
        os.nice(CHILD_NICENESS)
    while True:
        try:
            reader, mono = conn.recv()
            body = conn.recv_bytes()
        except (EOFError, OSError):
            return
        cpu = time.process_time()
        try:
            answer: tuple[Any, ...] = ("ok", reader.scrape(body, mono), reader,
                                       time.process_time() - cpu)
        except Exception as exc:  # raised again in the parent, as it was
            answer = ("error", exc)
        del body
        conn.send(answer)


class PageProcess:
    """One child process per source, started at its first large page, ended by :meth:`close`.

    The page's bytes are written to a pipe as they are (no copy, and without the GIL) and
    the reduced scrape comes back: a thousand rows under a series limit, not the page's
    objects. One page at a time (the poller reads a source from one thread at a time).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: BaseProcess | None = None
        self._conn: Connection | None = None
        self._closed = False

    def _start(self) -> Connection:
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe(duplex=True)
        child = context.Process(target=_serve, args=(theirs,), name="metrics-page-reader",
                                daemon=True)
        child.start()
        theirs.close()
        self._child, self._conn = child, mine
        return mine

    def scrape(self, reader: R, body: bytes | bytearray, mono: float,
               timeout_s: float) -> tuple[object, R]:
        """``reader.scrape(body, mono)`` run in the child, and the reader it left; the
        reader's own errors (a bad page) are raised here as they were there. Raises
        :class:`ChildGone` when the child died, :class:`PageTimeout` when it took over
        ``timeout_s`` (it is ended; a new one starts with the next page), ``RuntimeError``
        once closed."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the source was stopped")
            conn = self._conn if self._conn is not None else self._start()
            try:
                conn.send((reader, mono))
                conn.send_bytes(body)
                if not conn.poll(timeout_s):
                    raise PageTimeout(f"the page reader took over {timeout_s:g} s")
                answer = conn.recv()
            except (EOFError, OSError, ChildGone) as exc:
                self._end()
                if isinstance(exc, ChildGone):
                    raise
                raise ChildGone(f"the page reader stopped ({exc or type(exc).__name__})"
                                ) from exc
        if answer[0] == "error":
            raise answer[1]
        count_cpu_elsewhere(answer[3])  # the console's own cost, in its child
        return answer[1], answer[2]

    @property
    def closed(self) -> bool:
        return self._closed

    def pids(self) -> tuple[int, ...]:
        """The child's process id, when it runs (for its memory in benchmarks)."""
        child = self._child
        return (child.pid,) if child is not None and child.pid is not None else ()

    def _end(self) -> None:
        child, conn = self._child, self._conn
        self._child = self._conn = None
        if conn is not None:
            conn.close()  # the child's recv() ends: it returns
        if child is not None:
            child.join(STOP_WAIT_S)
            if child.is_alive():
                child.kill()
                child.join(STOP_WAIT_S)

    def close(self) -> None:
        """End the child; a page it is reading is dropped."""
        self._closed = True
        if self._child is not None and self._lock.locked():
            self._child.kill()  # reading a page: do not wait for it (quitting stays quick)
        with self._lock:
            self._end()
