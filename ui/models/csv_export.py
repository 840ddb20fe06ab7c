"""Rows written to a CSV file (every page of a paged list, or a report's rows), its cells safe
from spreadsheet formulas."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from ui.models.list_source import Column, ListSource
from ui.worker import TaskState

R = TypeVar("R")
Q = TypeVar("Q")


def write_csv(path: Path, source: ListSource[R, Q], query: Q, columns: Sequence[Column[R]],
              total: int, state: TaskState) -> int:
    """Walk every page of ``query`` into ``path`` (via a ``.part`` file); the rows written.

    Runs on a worker: ``total`` (the count, 0 when unknown) gives the progress."""
    written = 0
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.title for c in columns])
        cursor: str | None = None
        while True:
            state.check()
            page = source.page(query, cursor, 200)
            for obj in page.rows:
                writer.writerow([_csv_value(c, obj) for c in columns])
            written += len(page.rows)
            if total:
                state.progress(min(1.0, written / total), f"{written:,} rows")
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    tmp.replace(path)
    return written


def write_rows(path: Path, rows: Sequence[Sequence[Any]]) -> int:
    """Write ``rows`` (a header first) into ``path`` via a ``.part`` file; the rows after the
    header. Cells are made safe as :func:`write_csv`'s are."""
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
    tmp.replace(path)
    return max(0, len(rows) - 1)


def _csv_value(col: Column[Any], obj: Any) -> Any:
    return safe_cell(col.export(obj) if col.export is not None else col.text(obj))


def safe_cell(value: Any) -> Any:
    """Spreadsheets run cells starting with = + - @ as formulas: quote them as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
