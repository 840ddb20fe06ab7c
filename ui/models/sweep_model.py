"""Table models of the Diagnostics page: the sweep's checks, and plain rows of database views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PyQt6.QtCore import QObject

from console.domain import Check, Status
from ui.models.list_table import ListColumn, ListTableModel

_STATUS_ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.OK: 2}


def _status(check: Check) -> str:
    return check.status.value


CHECK_COLUMNS: tuple[ListColumn[Check], ...] = (
    ListColumn("Status", lambda c: c.status.value.upper(), state=_status,
               sort_key=lambda c: _STATUS_ORDER[c.status]),
    ListColumn("Check", lambda c: c.name, state=_status, sort_key=lambda c: c.name.casefold()),
    ListColumn("Kind", lambda c: c.kind, state=_status),
    ListColumn("Figure", lambda c: "" if c.latency_ms is None else f"{c.latency_ms:,.1f} ms",
               state=_status, numeric=True,
               sort_key=lambda c: -1.0 if c.latency_ms is None else c.latency_ms),
    ListColumn("Detail", lambda c: c.detail, state=_status, tooltip=lambda c: c.detail),
)


class SweepTableModel(ListTableModel[Check]):
    """One row per check of a sweep: status chip, name, kind, figure (ms) and detail."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(CHECK_COLUMNS, parent)

    def set_checks(self, checks: Sequence[Check]) -> None:
        self.show_rows(checks)


@dataclass(frozen=True, slots=True)
class TextRow:
    """One row of a database view: its cells as shown, and its state word ('' for none)."""

    cells: tuple[str, ...]
    state: str = ""


class RowsTableModel(ListTableModel[TextRow]):
    """Read-only rows of text with an optional state per row (a database view's table).

    Numeric-looking columns are right-aligned and sort by number.
    """

    def __init__(self, columns: Sequence[str], parent: QObject | None = None) -> None:
        self._titles = tuple(columns)
        super().__init__(self._text_columns(set()), parent)

    def set_rows(self, rows: Sequence[Sequence[str]], states: Sequence[str] = ()) -> None:
        cells = [tuple(r) for r in rows]
        padded = tuple(states) + ("",) * (len(cells) - len(states))
        numeric = {j for j in range(len(self._titles))
                   if cells and all(_number(r[j]) is not None or not r[j] for r in cells)
                   and any(r[j] for r in cells)}
        self.show_rows([TextRow(r, s) for r, s in zip(cells, padded, strict=False)],
                         self._text_columns(numeric))

    def rows(self) -> tuple[tuple[str, ...], ...]:
        return tuple(r.cells for r in self.all_rows())

    def _text_columns(self, numeric: set[int]) -> list[ListColumn[TextRow]]:
        return [_text_column(title, j, j in numeric) for j, title in enumerate(self._titles)]


def _text_column(title: str, j: int, numeric: bool) -> ListColumn[TextRow]:
    def sort_key(row: TextRow) -> float | str:
        number = _number(row.cells[j]) if numeric else None
        return number if number is not None else row.cells[j].casefold()

    return ListColumn(title, lambda r: r.cells[j], sort_key=sort_key, numeric=numeric,
                      state=lambda r: r.state,
                      tooltip=lambda r: r.cells[j] if len(r.cells[j]) > 40 else None)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").removesuffix(" ms"))
    except ValueError:
        return None
