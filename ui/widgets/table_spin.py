"""The booking panel's table field: a number underneath, the table's name ("T1") on show."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt6.QtGui import QValidator
from PyQt6.QtWidgets import QSizePolicy, QSpinBox, QWidget

from console.floor import DiningTable

NONE_TEXT = "none"


def table_text(table: DiningTable) -> str:
    """'T1 (2 seats, Terrace)': a table as the room calls it (the walk-in's words too)."""
    where = f", {table.area}" if table.area else ""
    return f"{table.name} ({table.seats} seats{where})"


class TableSpin(QSpinBox):
    """A table number that reads as the table's name where the shop has tables.

    Its value is the table's ``number`` (what a booking's ``table_no`` holds); the arrows step
    through the shop's tables in the room's order, and typing a name ("t1") picks it. Without
    tables (a shop that keeps none) it is a plain number, 0 reading "none".
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 999)
        self.setSpecialValueText(NONE_TEXT)
        # "D13 (6 seats, Dining room)" is wider than any number the spin box sizes for
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.tables: dict[int, DiningTable] = {}
        self._order: list[int] = []
        self._by_name: dict[str, int] = {}

    def set_tables(self, tables: Iterable[DiningTable]) -> None:
        """The shop's tables (none: plain numbers); the value shown is redrawn by name."""
        listed = list(tables)
        self.tables = {t.number: t for t in listed}
        self._order = [0, *(t.number for t in listed)]
        self._by_name = {t.name.casefold(): t.number for t in listed}
        self.setSuffix(self.suffix())  # redraws the text for the value held

    def table(self) -> DiningTable | None:
        return self.tables.get(self.value())

    # -- QSpinBox --------------------------------------------------------------------------

    def textFromValue(self, v: int) -> str:
        if v == 0:
            return NONE_TEXT
        table = self.tables.get(v)
        if table is not None:
            return table_text(table)
        return f"{v} (no such table)" if self.tables else str(v)

    def valueFromText(self, text: str | None) -> int:
        value = self._parse(text or "")
        return value if value is not None else self.value()

    def validate(self, text: str | None, pos: int) -> tuple[QValidator.State, str, int]:
        typed = text or ""
        if not self.tables:
            return super().validate(typed, pos)
        if self._parse(typed) is not None:
            return QValidator.State.Acceptable, typed, pos
        key = typed.strip().casefold()
        if not key or any(name.startswith(key) for name in self._by_name):
            return QValidator.State.Intermediate, typed, pos
        return QValidator.State.Invalid, typed, pos

    def stepBy(self, steps: int) -> None:
        if not self.tables:
            super().stepBy(steps)
            return
        at = self._order.index(self.value()) if self.value() in self._order else 0
        self.setValue(self._order[max(0, min(len(self._order) - 1, at + steps))])

    def _parse(self, text: str) -> int | None:
        key = text.split(" (", 1)[0].strip()
        if not key or key.casefold() == NONE_TEXT:
            return 0
        if key.casefold() in self._by_name:
            return self._by_name[key.casefold()]
        if key.isdigit() and (not self.tables or int(key) in self.tables):
            return int(key)
        return None
