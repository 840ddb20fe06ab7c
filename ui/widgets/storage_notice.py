"""The notice above the pages when the console cannot keep its files: history off and why."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from ui.plain_text import plain_label, set_plain_text


class StorageNotice(QFrame):
    """Says, in the window, what is wrong with the console's own files (history, alert log)
    and what to do; hidden while nothing is. Hiding it lasts until the words change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storageNotice")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        self.label = plain_label()  # paths and SQLite's own words
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("Hide")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.setVisible(False)

    def set_problems(self, problems: Sequence[str]) -> None:
        """Show these problems (one a line), or hide when there are none."""
        text = "\n".join(problems)
        if text == self.label.text():
            return
        set_plain_text(self.label, text)
        self.setVisible(bool(text))
