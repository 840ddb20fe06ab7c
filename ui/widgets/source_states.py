"""Status-bar chips: each source's state (up, down, stale); a failing one's error in words."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ui.plain_text import escaped, isolated, set_plain_tooltip
from ui.theme import state_colour

FAILING = frozenset({"down", "stale", "error"})
#: How much of a failing source's error the chip shows (all of it on hover).
ERROR_CHARS = 70


def _clip(error: str) -> str:
    line = error.strip().splitlines()[0] if error.strip() else ""
    return line if len(line) <= ERROR_CHARS else line[:ERROR_CHARS - 1].rstrip() + "…"


class SourceStates(QWidget):
    """One small coloured label per source; rebuilt only when the set of sources changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(10)
        self._chips: dict[str, QLabel] = {}
        #: What each chip shows (state, error, colour): a chip is set again only when it
        #: changes, not 200 rich-text labels parsed and laid out again every second.
        self._shown: dict[str, tuple[str, str, str]] = {}

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
            colour = state_colour(state)
            if self._shown.get(name) == (state, error, colour):
                continue
            self._shown[name] = (state, error, colour)
            # A source that fails says why where it is seen, not only on hover: the charts
            # wait for it under "Waiting for the first readings" with nothing else to read.
            why = f" — {escaped(isolated(_clip(error)))}" if error and state in FAILING else ""
            chip.setText(f"<span style='color:{colour}'>●</span> "
                         f"{escaped(name)}: {escaped(state)}{why}")
            set_plain_tooltip(chip, error or f"{name} is {state}")
            chip.setProperty("state", state)

    def state_of(self, name: str) -> str | None:
        chip = self._chips.get(name)
        return None if chip is None else str(chip.property("state"))
