"""The one overall status light with words ("All normal", "Cache hit rate low")."""

from __future__ import annotations

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ui.plain_text import plain_label, set_plain_text, set_plain_tooltip
from ui.theme import state_colour


class StatusLight(QWidget):
    """A coloured dot and a short sentence; colour from the state, words from the caller."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self._dot = QLabel("●")
        self._words = plain_label()
        layout.addWidget(self._dot)
        layout.addWidget(self._words)
        self.state = "unknown"
        self.set_state("unknown", "Waiting for the first readings")

    def set_state(self, state: str, words: str) -> None:
        """``state`` is ok, warn, fail, stale, unknown or pending: a rule breaching but not
        firing yet, shown as an amber ring with an amber outline round the words."""
        self.state = state
        colour = state_colour(state)
        pending = state == "pending"
        self._dot.setText("○" if pending else "●")
        self._dot.setStyleSheet(f"color: {colour}; font-size: 16px;")
        self._words.setStyleSheet(
            f"border: 1px solid {colour}; border-radius: 8px; padding: 0px 6px;"
            if pending else "")
        set_plain_text(self._words, words)
        set_plain_tooltip(self, words)

    def text(self) -> str:
        return self._words.text()
