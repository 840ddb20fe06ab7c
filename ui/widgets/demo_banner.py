"""The banner that says the console is on the demo shop and offers to add the user's own."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from ui.plain_text import plain_label


class DemoBanner(QFrame):
    """Shown above the pages while the console runs on the embedded demo shop. With
    ``broken`` (path, fault) the user's own profile could not be opened: the banner says
    which file and why, and offers to fix it in Settings."""

    sig_add_shop = pyqtSignal()
    """Emitted when the user asks to add their own shop."""
    sig_fix_profile = pyqtSignal(str)
    """Emitted with the path of the broken profile when the user asks to fix it."""

    def __init__(self, first_run: bool, parent: QWidget | None = None, *,
                 broken: tuple[str, str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("problem", broken is not None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        if broken is not None:
            fault = broken[1]
            words = (f"Your shop's profile could not be opened, so this is the built-in demo "
                     f"shop. {fault[:1].upper()}{fault[1:]}")
        elif first_run:
            words = ("Welcome to Backroom. No shop is set up yet, so this is the built-in demo "
                     "shop: its bookings, orders and charts are live from a small real back end "
                     "on this computer.")
        else:
            words = ("You are looking at the built-in demo shop: live data from a small real "
                     "back end on this computer.")
        self.label = plain_label(words)  # a file name and a parser's words
        self.label.setWordWrap(True)
        self.add_button = QPushButton("Add your shop…")
        self.add_button.setProperty("primary", True)
        self.add_button.clicked.connect(self.sig_add_shop)
        self.fix_button = QPushButton("Fix it in Settings…")
        self.fix_button.setProperty("primary", True)
        if broken is not None:
            self.fix_button.clicked.connect(lambda: self.sig_fix_profile.emit(broken[0]))
            self.add_button.setVisible(False)
        else:
            self.fix_button.setVisible(False)
        close = QPushButton("Hide")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.add_button)
        layout.addWidget(self.fix_button)
        layout.addWidget(close)
