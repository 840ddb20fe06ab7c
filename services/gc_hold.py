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
    global _holders, _resume, _since
    with _lock:
        if _holders == 0:
            _resume, _since = gc.isenabled(), time.monotonic()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _resume and time.monotonic() - _since > MAX_HOLD_S:
                _since = time.monotonic()
                gc.collect()
            if _holders == 0 and _resume:
                gc.enable()
