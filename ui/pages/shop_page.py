"""The base of every shop page: a title, a notice, F5 to refresh and Ctrl+F to search."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeyEvent, QKeySequence
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QLayout, QVBoxLayout, QWidget

from ui.context import AppContext
from ui.pages.shop_texts import error_text
from ui.pages.shop_widgets import Notice


class ShopPage(QWidget):
    """A manager page on the shop repository: a title, a notice, F5 and Ctrl+F.

    The main window sends F5 to :meth:`refresh` and Ctrl+F to :meth:`focus_search`; a page
    shown on its own handles the same keys itself.
    """

    title = ""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("page")
        self.outer = QVBoxLayout(self)
        # The layout does not force the page's own minimum size on it: a page shown as a
        # window of its own (tests, screenshots) keeps a steady size as panels come and go.
        self.outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.outer.setContentsMargins(16, 12, 16, 12)
        self.outer.setSpacing(8)
        head = QHBoxLayout()
        self.heading = QLabel(self.title)
        self.heading.setObjectName("pageTitle")
        head.addWidget(self.heading)
        head.addStretch(1)
        self.head = head
        self.outer.addLayout(head)
        self.notice = Notice(self)
        self.outer.addWidget(self.notice)

    @property
    def shop(self) -> Any:
        return self.ctx.shop

    def location(self) -> str:
        shop = self.ctx.shop
        return str(getattr(shop, "location", "the shop")) if shop is not None else ""

    def refresh(self) -> None:  # pragma: no cover - every page overrides it
        raise NotImplementedError

    def focus_search(self) -> None:
        """Ctrl+F: pages with a search box focus it."""

    def show_failure(self, exc: BaseException) -> None:
        self.notice.show_text(error_text(exc, self.location()))

    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        if event is not None and event.key() == Qt.Key.Key_F5:
            self.refresh()
            return
        if event is not None and event.matches(QKeySequence.StandardKey.Find):
            self.focus_search()
            return
        super().keyPressEvent(event)
