"""The pages a paged table keeps: the latest used few, and where each starts."""

from __future__ import annotations

from ui.models.page_cache import PageCache


def test_the_least_recently_shown_page_goes_first() -> None:
    cache: PageCache[str] = PageCache(page_size=2, max_pages=2)
    cache.store(0, None, ("a", "b"), "c2")
    cache.store(1, "c2", ("c", "d"), "c4")
    cache.shown(0)
    cache.store(2, "c4", ("e",), None)
    assert 0 in cache and 1 not in cache and 2 in cache and len(cache) == 2
    assert cache.row(0) == "a" and cache.row(2) is None and cache.row(4) == "e"
    assert cache.row(5) is None
    # page 1's rows are gone, its start is not: no seek to read it again
    assert cache.start_of(1, can_seek=True) == (1, "c2")


def test_where_a_page_is_read_from() -> None:
    cache: PageCache[int] = PageCache(page_size=10, max_pages=5)
    assert cache.start_of(0, can_seek=True) == (0, None)
    assert cache.start_of(2, can_seek=True) == (0, None)  # close: walk
    assert cache.start_of(3, can_seek=True) is None  # far: seek
    assert cache.start_of(30, can_seek=False) == (0, None)  # no seek: always walk
    cache.store(0, None, tuple(range(10)), "c10")
    assert cache.start_of(3, can_seek=True) == (1, "c10")


def test_finding_replacing_and_forgetting_rows() -> None:
    cache: PageCache[int] = PageCache(page_size=3, max_pages=5)
    cache.store(0, None, (1, 2, 3), "x")
    cache.store(1, "x", (4, 5), None)
    assert cache.known_rows() == 5
    assert cache.find(lambda n: n == 5) == 4 and cache.find(lambda n: n == 9) is None
    cache.replace(4, 50)
    assert cache.row(4) == 50
    assert cache.held([0, 4, 99]) == {0: (None, (1, 2, 3)), 1: ("x", (4, 50))}
    cache.drop_from(3)
    assert 1 not in cache and cache.known_rows() == 4  # page 0 and "more after it"
