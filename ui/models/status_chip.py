"""A delegate that draws a cell as a small coloured status chip (colour = meaning only)."""

from __future__ import annotations

from PyQt6.QtCore import QModelIndex, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFontMetrics, QPainter
from PyQt6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ui.models.roles import STATE_ROLE
from ui.theme import WARN, state_colour

# Dark text on amber reads better than white; white on the green, red and grey.
_DARK_TEXT = "#1d232b"


def chip_text_colour(state: str) -> str:
    return _DARK_TEXT if state_colour(state) == WARN else "#ffffff"


class StatusChipDelegate(QStyledItemDelegate):
    """Paints the cell's text in a rounded chip coloured by the cell's ``STATE_ROLE``.

    Cells without a state are drawn as plain text, so one delegate can serve a column whose
    rows only sometimes need attention (a product's stock).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def paint(self, painter: QPainter | None, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        state = index.data(STATE_ROLE)
        if painter is None or not state:
            super().paint(painter, option, index)
            return
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        # Background and selection as any cell, then the chip on top.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        metrics = QFontMetrics(opt.font)
        width = max(metrics.horizontalAdvance(text) + 14, 26)
        height = min(opt.rect.height() - 6, metrics.height() + 4)
        alignment = int(index.data(Qt.ItemDataRole.TextAlignmentRole) or 0)
        right_aligned = bool(alignment & Qt.AlignmentFlag.AlignRight.value)
        x = opt.rect.right() - width - 6 if right_aligned else opt.rect.left() + 6
        rect = QRectF(x, opt.rect.top() + (opt.rect.height() - height) / 2, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(state_colour(str(state))))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(QColor(chip_text_colour(str(state))))
        painter.setFont(opt.font)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + 18, size.height())
