"""The pages of a paged list held in memory: the latest used few, and where each page starts."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

R = TypeVar("R")


class PageCache(Generic[R]):
    """At most ``max_pages`` pages of ``page_size`` rows (the least recently shown go first),
    and the keyset cursor each known page starts at (kept when its rows are evicted, so a
    page read again needs no seek)."""

    def __init__(self, page_size: int, max_pages: int) -> None:
        self.page_size = page_size
        self.max_pages = max_pages
        self._pages: OrderedDict[int, tuple[R, ...]] = OrderedDict()
        self._cursors: dict[int, str | None] = {0: None}

    def __len__(self) -> int:
        return len(self._pages)

    def __contains__(self, k: int) -> bool:
        return k in self._pages

    def page(self, k: int) -> tuple[R, ...] | None:
        return self._pages.get(k)

    def shown(self, k: int) -> None:
        """Page ``k`` was just painted: the last to be evicted."""
        self._pages.move_to_end(k)

    def row(self, row: int) -> R | None:
        """The object at ``row``, or None while its page is not here."""
        k, at = divmod(row, self.page_size)
        page = self._pages.get(k)
        if page is None or at >= len(page):
            return None
        return page[at]

    def store(self, k: int, start: str | None, rows: tuple[R, ...],
              next_cursor: str | None) -> None:
        """Keep page ``k`` (which starts at ``start``) and learn where the next one starts."""
        self._cursors[k] = start
        if next_cursor is not None:
            self._cursors[k + 1] = next_cursor
        self._pages[k] = rows
        self._pages.move_to_end(k)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def start_of(self, k: int, can_seek: bool) -> tuple[int, str | None] | None:
        """Where to read page ``k`` from: (a page whose start is known, its cursor) to walk
        from (``k`` itself when its start is known; the nearest page before it when that is
        close, or always when the back end cannot seek), or None: seek to it."""
        base = max(j for j in self._cursors if j <= k)
        if base == k or not can_seek or k - base <= 2:
            return base, self._cursors[base]
        return None

    def find(self, matches: Callable[[R], bool]) -> int | None:
        """The row number of a loaded object that ``matches``."""
        for k, page in self._pages.items():
            for i, obj in enumerate(page):
                if matches(obj):
                    return k * self.page_size + i
        return None

    def replace(self, row: int, obj: R) -> None:
        """Put ``obj`` at ``row`` (a loaded row, as :meth:`find` gave it)."""
        k, at = divmod(row, self.page_size)
        page = self._pages[k]
        self._pages[k] = (*page[:at], obj, *page[at + 1:])

    def known_rows(self) -> int:
        """Rows that certainly exist: the end of the furthest loaded page (+1 if it has more)."""
        known = 0
        for k, page in self._pages.items():
            if not page:
                continue
            more = 1 if (k + 1) in self._cursors else 0
            known = max(known, k * self.page_size + len(page) + more)
        return known

    def drop_from(self, rows: int) -> None:
        """Forget the pages at or past row ``rows`` (the list is shorter than thought)."""
        for k in [k for k in self._pages if k * self.page_size >= rows]:
            del self._pages[k]

    def held(self, rows: Iterable[int]) -> dict[int, tuple[str | None, tuple[R, ...]]]:
        """For the loaded pages holding ``rows``: each page's start cursor and its rows."""
        pages = {r // self.page_size for r in rows if r >= 0}
        return {k: (self._cursors[k], self._pages[k]) for k in sorted(pages)
                if k in self._pages and k in self._cursors}
