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
        self.state = state
        self._dot.setStyleSheet(f"color: {state_colour(state)}; font-size: 16px;")
        set_plain_text(self._words, words)
        set_plain_tooltip(self, words)

    def text(self) -> str:
        return self._words.text()
