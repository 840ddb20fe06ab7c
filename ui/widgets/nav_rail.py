"""The left navigation rail: one icon and label per page, Ctrl+1..9 in the order shown."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from ui.shortcuts import PAGE_SLOTS, page_keys


class NavRail(QListWidget):
    """A list of pages; emits the page key when the user picks one."""

    sig_page_chosen = pyqtSignal(str)
    """Emitted with the key of the page the user chose (e.g. 'bookings')."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navRail")
        self.setIconSize(QSize(18, 18))
        self.setFixedWidth(168)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.currentItemChanged.connect(self._on_current)

    def add_page(self, key: str, title: str, icon: QIcon) -> None:
        item = QListWidgetItem(icon, title)
        item.setData(Qt.ItemDataRole.UserRole, key)
        self.addItem(item)
        self._name_shortcuts()

    def _name_shortcuts(self) -> None:
        """Each shown page's tooltip names its Ctrl+N: its place in the rail as shown now."""
        shown = [self.item(i) for i in range(self.count()) if not self.item(i).isHidden()]
        for position, item in enumerate(shown, start=1):
            item.setToolTip(f"{item.text()} ({page_keys(position)})" if position <= PAGE_SLOTS
                            else item.text())

    def keys(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def visible_keys(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())
                if not self.item(i).isHidden()]

    def set_visible_keys(self, keys: set[str]) -> None:
        for i in range(self.count()):
            item = self.item(i)
            item.setHidden(item.data(Qt.ItemDataRole.UserRole) not in keys)
        self._name_shortcuts()

    def select(self, key: str) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.setCurrentRow(i)
                return

    def current_key(self) -> str | None:
        item = self.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _on_current(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.sig_page_chosen.emit(current.data(Qt.ItemDataRole.UserRole))
