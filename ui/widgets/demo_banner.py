"""The banner that says the console is on the demo shop and offers to add the user's own."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class DemoBanner(QFrame):
    """Shown above the pages while the console runs on the embedded demo shop."""

    sig_add_shop = pyqtSignal()
    """Emitted when the user asks to add their own shop."""

    def __init__(self, first_run: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        words = ("Welcome to Backroom. No shop is set up yet, so this is the built-in demo shop: "
                 "its bookings, orders and charts are live from a small real back end on this "
                 "computer." if first_run else
                 "You are looking at the built-in demo shop: live data from a small real back "
                 "end on this computer.")
        self.label = QLabel(words)
        self.label.setWordWrap(True)
        self.add_button = QPushButton("Add your shop…")
        self.add_button.setProperty("primary", True)
        self.add_button.clicked.connect(self.sig_add_shop)
        close = QPushButton("Hide")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.add_button)
        layout.addWidget(close)
