"""Automatic garbage collection held off while a poll builds, then drops, very many objects."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Holds that overlap for longer than this (several big pages parsed back to back) end with
#: one full collection, so cycles made meanwhile never wait longer.
MAX_HOLD_S = 30.0

_lock = threading.Lock()
_holders = 0
_resume = False
_since = 0.0
_deferred = threading.local()  # holds_until_folded's: active, count


@contextmanager
def gc_held() -> Iterator[None]:
    """CPython's automatic collections off for the block, back on when the last block (of
    any thread) ends, unless they were off before the first began.

    A scrape of 100,000 samples makes some 300,000 tuples and ``Reading`` objects that live
    a few seconds; each 25 % growth of the heap starts a full collection of all of it
    (100-200 ms holding the GIL, the GUI frozen), about nine per scrape. Freed by their
    reference counts when the block drops them, they never need a collection. Hold only
    CPU-bound work whose garbage has no cycles, never a network wait: cycles made meanwhile
    (by any thread) wait for the collection after the block."""
    _hold()
    try:
        yield
    finally:
        if getattr(_deferred, "active", False):
            _deferred.count += 1
        else:
            _release()


@contextmanager
def holds_until_folded() -> Iterator[None]:
    """Holds this thread's :func:`gc_held` blocks take inside this block end with it, not
    with theirs: the poller folds a collector's 100,000 readings into 1,001 and drops the
    rest before collections resume (else the first collection after the collector's block
    scans them all, 20-50 ms)."""
    _deferred.active, _deferred.count = True, 0
    try:
        yield
    finally:
        count, _deferred.active, _deferred.count = _deferred.count, False, 0
        for _ in range(count):
            _release()


def _hold() -> None:
    global _holders, _resume, _since
    with _lock:
        if _holders == 0:
            _resume, _since = gc.isenabled(), time.monotonic()
            gc.disable()
        _holders += 1


def _release() -> None:
    global _holders, _since
    with _lock:
        _holders -= 1
        if _resume and time.monotonic() - _since > MAX_HOLD_S:
            _since = time.monotonic()
            gc.collect()
        if _holders == 0 and _resume:
            gc.enable()
