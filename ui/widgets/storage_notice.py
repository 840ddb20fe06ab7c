"""The notice above the pages when the console cannot keep its files: history off and why."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class StorageNotice(QFrame):
    """Says, in the window, what is wrong with the console's own files (history, alert log)
    and what to do; hidden while nothing is. Hiding it lasts until the words change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storageNotice")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # paths and SQLite's own words
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
        self.label.setText(text)
        self.setVisible(bool(text))
