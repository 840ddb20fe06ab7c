"""What a paged table is made of: its columns, and the three calls that fetch its rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from console.shop import Page, RowCount
from ui.worker import TaskState

R = TypeVar("R")
Q = TypeVar("Q")


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """One column: its title, how a row shows in it, and whether the server can sort by it."""

    title: str
    text: Callable[[R], str]
    sort: str | None = None
    numeric: bool = False
    state: Callable[[R], str | None] | None = None
    tooltip: Callable[[R], str] | None = None
    export: Callable[[R], Any] | None = None
    width: int = 0
    descending_only_ok: bool = True
    """False when the server sorts this column one way only (ascending)."""


class ListSource(Generic[R, Q]):
    """The three calls a paged list needs from the repository, bound to one entity."""

    def __init__(self, page: Callable[[Q, str | None, int], Page[R]],
                 count: Callable[[Q, bool], RowCount],
                 seek: Callable[[Q, int], str | None], can_seek: bool,
                 row_id: Callable[[R], int]) -> None:
        self.page = page
        self.count = count
        self.seek = seek
        self.can_seek = can_seek
        self.row_id = row_id


def read_pages(source: ListSource[R, Q], query: Q, size: int, k: int,
               walk_from: tuple[int, str | None] | None,
               state: TaskState) -> list[tuple[int, str | None, Page[R]]]:
    """Page ``k`` of ``query`` with where it starts: read by walking from a page whose start
    is known (``walk_from``, with every page on the way), or after one seek when None."""
    if walk_from is None:
        start = source.seek(query, k * size)
        return [(k, start, source.page(query, start, size))]
    got: list[tuple[int, str | None, Page[R]]] = []
    j, start = walk_from
    while j <= k:
        state.check()
        page = source.page(query, start, size)
        got.append((j, start, page))
        if page.next_cursor is None:
            break
        j, start = j + 1, page.next_cursor
    return got
