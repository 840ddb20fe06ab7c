"""Status-bar chips: each source's state (up, down, stale) with its error on hover."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ui.plain_text import escaped, set_plain_tooltip
from ui.theme import state_colour


class SourceStates(QWidget):
    """One small coloured label per source; rebuilt only when the set of sources changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(10)
        self._chips: dict[str, QLabel] = {}

    def update_states(self, states: Iterable[tuple[str, str, str]]) -> None:
        """``states``: (source name, state, error text) for every source."""
        for name, state, error in states:
            chip = self._chips.get(name)
            if chip is None:
                chip = QLabel()
                self._chips[name] = chip
                self._layout.addWidget(chip)
                # Rich for our coloured dot; the source's name and state are escaped.
                chip.setTextFormat(Qt.TextFormat.RichText)
            chip.setText(f"<span style='color:{state_colour(state)}'>●</span> "
                         f"{escaped(name)}: {escaped(state)}")
            set_plain_tooltip(chip, error or f"{name} is {state}")
            chip.setProperty("state", state)

    def state_of(self, name: str) -> str | None:
        chip = self._chips.get(name)
        return None if chip is None else str(chip.property("state"))
