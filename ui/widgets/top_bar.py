"""The top bar: the shop's name, the profile switcher, the Manager/Support switch, the light."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QWidget,
)

from ui.plain_text import plain_label
from ui.widgets.status_light import StatusLight


class TopBar(QFrame):
    """Shop name on the left; profile, view switch and overall status on the right."""

    sig_view_changed = pyqtSignal(str)
    """Emitted with 'manager' or 'support' when the user switches view."""
    sig_profile_chosen = pyqtSignal(str)
    """Emitted with the path of the profile the user picked in the switcher."""

    def __init__(self, shop_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("topBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        self.shop_name = plain_label(shop_name)
        self.shop_name.setObjectName("shopName")
        self.profiles = QComboBox()
        self.profiles.setToolTip("Switch to another shop's profile")
        self.profiles.setMinimumWidth(180)
        self.profiles.activated.connect(self._on_profile)
        self.manager_button = QPushButton("Manager")
        self.support_button = QPushButton("Support")
        self._views = QButtonGroup(self)
        for button, view in ((self.manager_button, "manager"), (self.support_button, "support")):
            button.setCheckable(True)
            button.setProperty("view", view)
            self._views.addButton(button)
        self._views.buttonClicked.connect(lambda b: self.sig_view_changed.emit(b.property("view")))
        self.light = StatusLight()
        layout.addWidget(self.shop_name)
        layout.addSpacing(12)
        layout.addWidget(self.profiles)
        layout.addStretch(1)
        layout.addWidget(self.light)
        layout.addSpacing(16)
        layout.addWidget(self.manager_button)
        layout.addWidget(self.support_button)

    def set_profiles(self, entries: list[tuple[str, str]], current: str,
                     current_label: str = "") -> None:
        """``entries``: (shop name, profile path, or '' for the demo shop); ``current`` is the
        path of the open profile ('' for the demo). A profile opened from elsewhere (with
        ``--profile``) is listed too, under ``current_label``, so the switcher always shows
        the shop that is open."""
        self.profiles.blockSignals(True)
        self.profiles.clear()
        for label, path in entries:
            self.profiles.addItem(label, path)
        index = self.profiles.findData(current)
        if index < 0:
            self.profiles.addItem(current_label or current, current)
            index = self.profiles.count() - 1
        self.profiles.setCurrentIndex(index)
        self.profiles.blockSignals(False)

    def set_view(self, view: str) -> None:
        (self.manager_button if view == "manager" else self.support_button).setChecked(True)

    def _on_profile(self, index: int) -> None:
        self.sig_profile_chosen.emit(self.profiles.itemData(index) or "")
