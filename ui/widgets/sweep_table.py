"""The sweep's checks as a table with status chips, and the advisor's findings as cards."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PyQt6.QtGui import QColor, QFont, QPainter
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain import Check, Finding, Severity
from ui.models.roles import SORT_ROLE, STATE_ROLE
from ui.models.sweep_model import SweepTableModel
from ui.plain_text import plain_label
from ui.theme import FAIL, OK, WARN, state_colour, tabular_font

_SEVERITY_COLOUR = {Severity.FAIL: FAIL, Severity.WARN: WARN, Severity.INFO: "#0072B2"}


class StatusChipDelegate(QStyledItemDelegate):
    """Draws a cell's text as a rounded chip in its state colour (ok, warn, fail)."""

    def paint(self, painter: QPainter | None, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if painter is None:
            return
        state = str(index.data(STATE_ROLE) or "")
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        if not text:  # no chip (a statement of the shop's own among Backroom's)
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(option.font)
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text) + 16
        height = min(option.rect.height() - 6, painter.fontMetrics().height() + 4)
        rect = QRectF(option.rect.left() + 6, option.rect.center().y() - height / 2 + 1,
                      width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(state_colour(state)))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(QColor("#1d232b") if state == "warn" else QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width() + 24, 64), hint.height() + 6)


class SweepTable(QTableView):
    """Every check of a sweep; sorted worst first, click a header to sort otherwise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checks_model = SweepTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.checks_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setItemDelegateForColumn(0, StatusChipDelegate(self))
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)  # type: ignore[union-attr]
        self.setFont(tabular_font(self.font()))
        header = self.horizontalHeader()
        assert header is not None
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

    def set_checks(self, checks: Sequence[Check]) -> None:
        self.checks_model.set_checks(checks)

    def row_texts(self) -> list[list[str]]:
        """What the table shows, in its current order (for tests and copy)."""
        model = self.proxy
        return [[str(model.index(r, c).data() or "") for c in range(model.columnCount())]
                for r in range(model.rowCount())]


class FindingCard(QFrame):
    """One finding: a severity bar, the title, the evidence and the advice."""

    def __init__(self, finding: Finding, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.finding = finding
        self.setObjectName("card")
        colour = _SEVERITY_COLOUR.get(finding.severity, OK)
        self.setStyleSheet(f"QFrame#card {{ border-left: 5px solid {colour}; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(3)
        self.title = plain_label(f"{finding.severity.value.upper()} · {finding.title}")
        self.title.setStyleSheet("font-weight: 600;")
        self.title.setWordWrap(True)
        self.evidence = plain_label(f"Evidence: {finding.evidence}")
        self.advice = plain_label(f"Advice: {finding.advice}")
        for label in (self.title, self.evidence, self.advice):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)


class FindingsList(QScrollArea):
    """The advisor's findings, most severe first; says so when there are none."""

    EMPTY = "No findings yet: run a sweep (Ctrl+Shift+D) to let the advisor look."
    NONE_FOUND = "No findings: nothing in this sweep needs action."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("page")
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(0, 0, 4, 0)
        self._layout.setSpacing(6)
        self.empty = QLabel(self.EMPTY)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self._layout.addWidget(self.empty)
        self._layout.addStretch(1)
        self.setWidget(body)
        self.cards: list[FindingCard] = []

    def set_findings(self, findings: Sequence[Finding] | None) -> None:
        for card in self.cards:
            self._layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        if findings is None:
            self.empty.setText(self.EMPTY)
        elif not findings:
            self.empty.setText(self.NONE_FOUND)
        self.empty.setVisible(not findings)
        order = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}
        for finding in sorted(findings or (), key=lambda f: order.get(f.severity, 3)):
            card = FindingCard(finding)
            self._layout.insertWidget(self._layout.count() - 1, card)
            self.cards.append(card)

    def titles(self) -> list[str]:
        return [card.finding.title for card in self.cards]
