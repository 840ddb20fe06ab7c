"""A sampled profile as an icicle flame graph painted with QPainter: search, click to zoom, back."""

from __future__ import annotations

import zlib

from PyQt6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QFont,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from console.flame import FlameTree, Frame
from console.flame_layout import Box, Matches, SearchIndex, hit, layout
from ui.plain_text import plain_label, plain_tooltip

ROW_HEIGHT = 18
#: Frames narrower than this many pixels are not painted (nor anything they called).
MIN_FRAME_PX = 1.0
#: Frames narrower than this get no text at all (an ellipsis alone says nothing).
MIN_TEXT_PX = 28.0
MATCH_COLOUR = QColor("#CC79A7")
DIM_COLOUR = QColor("#d9dde3")
ABOVE_ZOOM_COLOUR = QColor("#b8c4d2")
TEXT_COLOUR = QColor("#1d232b")


def frame_colour(name: str) -> QColor:
    """A warm colour that stays the same for one function name (flamegraph.pl's habit)."""
    code = zlib.crc32(name.encode("utf-8", "replace"))
    hue = 8 + code % 42                    # red to orange-yellow
    saturation = 150 + (code >> 8) % 80
    value = 215 + (code >> 16) % 40
    return QColor.fromHsv(hue, saturation, value)


def value_text(value: float, unit: str) -> str:
    if unit == "seconds":
        return f"{value:,.2f} s"
    if unit == "milliseconds":
        return f"{value:,.1f} ms"
    return f"{value:,.0f} samples"


class FlameGraph(QWidget):
    """The painted graph: the zoomed frame fills the width, its callers are rows above it."""

    sig_zoomed = pyqtSignal(object)
    """Emitted with the :class:`Frame` now filling the width (the root when zoomed out)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.tree: FlameTree | None = None
        self.zoom: Frame | None = None
        self.history: list[Frame] = []
        self.matches: Matches | None = None
        self.min_frame_px = MIN_FRAME_PX
        self._boxes: list[Box] = []
        self._layout_key: tuple[int, int, float] | None = None
        self._colours: dict[str, QColor] = {}
        self._texts: dict[int, str] = {}  # elided words by frame number
        self._depth = 1

    # -- state ---------------------------------------------------------------------------------
    def set_tree(self, tree: FlameTree | None) -> None:
        self.tree = tree
        self.zoom = tree.root if tree is not None else None
        self.history = []
        self.matches = None
        self._colours = {}
        self._invalidate()
        self.sig_zoomed.emit(self.zoom)

    def zoom_to(self, frame: Frame) -> None:
        """Make ``frame`` fill the width; the frame before it goes on the back history."""
        if frame == self.zoom or self.zoom is None:
            return
        self.history.append(self.zoom)
        self.zoom = frame
        self._invalidate()
        self.sig_zoomed.emit(frame)

    def back(self) -> bool:
        """Zoom out to where the graph was before the last zoom; False at the start."""
        if not self.history:
            return False
        self.zoom = self.history.pop()
        self._invalidate()
        self.sig_zoomed.emit(self.zoom)
        return True

    def reset_zoom(self) -> None:
        if self.tree is not None and self.zoom != self.tree.root:
            self.zoom_to(self.tree.root)

    def set_matches(self, matches: Matches | None) -> None:
        self.matches = matches if matches is not None and matches.text.strip() else None
        self.update()

    def _invalidate(self) -> None:
        self._layout_key = None
        self._fit_height()
        self.update()

    def _fit_height(self) -> None:
        """As tall as the deepest frame painted at this width (the scroll area scrolls)."""
        self._depth = self._max_depth()
        height = max(ROW_HEIGHT * 4, (self._depth + 1) * ROW_HEIGHT + 2)
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        if event is not None and event.size().width() != event.oldSize().width():
            self._fit_height()

    def _max_depth(self) -> int:
        if self.zoom is None:
            return 1
        return max((box.depth for box in self.boxes()), default=1)

    # -- layout and painting -------------------------------------------------------------------
    def boxes(self) -> list[Box]:
        """The boxes of the current zoom and width (computed once per zoom and width)."""
        if self.zoom is None:
            return []
        key = (self.zoom.index, max(1, self.width()), self.min_frame_px)
        if key != self._layout_key:
            self._boxes = layout(self.zoom, float(key[1]), self.min_frame_px)
            self._layout_key = key
            self._texts = {}
        return self._boxes

    def sizeHint(self) -> QSize:
        return QSize(600, (self._depth + 1) * ROW_HEIGHT + 2)

    def paintEvent(self, event: QPaintEvent | None) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.palette().base())
            self.paint_boxes(painter, event.rect() if event is not None else None)
        finally:
            painter.end()

    def paint_boxes(self, painter: QPainter, clip: QRect | None = None) -> int:
        """Paint the boxes of the layout in the rows ``clip`` touches (all without one);
        returns how many were painted. A box's elided words are kept with the layout."""
        boxes = self.boxes()
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        painter.setPen(TEXT_COLOUR)
        metrics = painter.fontMetrics()
        matched = self.matches.nodes if self.matches is not None else None
        texts = self._texts
        top, bottom = ((clip.top() // ROW_HEIGHT, clip.bottom() // ROW_HEIGHT)
                       if clip is not None else (0, 1 << 30))
        align = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        painted = 0
        for box in boxes:
            if not top <= box.depth <= bottom:
                continue
            painted += 1
            rect = QRectF(box.x, box.depth * ROW_HEIGHT, max(box.width - 1.0, 0.5),
                          ROW_HEIGHT - 1.0)
            if box.above_zoom:
                colour = ABOVE_ZOOM_COLOUR
            elif matched is not None:
                colour = MATCH_COLOUR if matched[box.frame.index] else DIM_COLOUR
            else:
                colour = self._colour(box.frame.name)
            painter.fillRect(rect, colour)
            if box.width >= MIN_TEXT_PX:
                # drawText with a rectangle paints the words as they are: a function name
                # from a file is never read as markup.
                text = texts.get(box.frame.index)
                if text is None:
                    text = texts[box.frame.index] = metrics.elidedText(
                        box.frame.label, Qt.TextElideMode.ElideRight, int(box.width - 6))
                painter.drawText(rect.adjusted(3, 0, -3, 0), align, text)
        return painted

    def _colour(self, name: str) -> QColor:
        colour = self._colours.get(name)
        if colour is None:
            colour = self._colours[name] = frame_colour(name)
        return colour

    # -- the mouse -----------------------------------------------------------------------------
    def frame_at(self, point: QPoint) -> Frame | None:
        return hit(self.boxes(), float(point.x()), point.y() // ROW_HEIGHT)

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if event is None:
            return
        if event.button() == Qt.MouseButton.BackButton:
            self.back()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        frame = self.frame_at(event.position().toPoint())
        if frame is not None:
            self.zoom_to(frame)

    def event(self, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            frame = self.frame_at(event.pos())
            if frame is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), plain_tooltip(self.describe(frame)), self)
            return True
        return super().event(event)

    def describe(self, frame: Frame) -> str:
        """A frame in words: function, file and line, its samples and share, own time."""
        tree = self.tree
        total = tree.total if tree is not None else frame.total
        unit = tree.unit if tree is not None else "samples"
        where = f"{frame.file}:{frame.line}" if frame.file else ""
        share = frame.total / total * 100 if total > 0 else 0.0
        lines = [frame.name]
        if where:
            lines.append(where)
        lines.append(f"{value_text(frame.total, unit)}, {share:.1f} % of all")
        if frame.own > 0:
            lines.append(f"in itself: {value_text(frame.own, unit)}")
        return "\n".join(lines)


class FlameView(QWidget):
    """The graph with a search field (matches highlighted, their share said), the path of
    the zoomed frame, and Back / Zoom out buttons."""

    sig_search_done = pyqtSignal(object)
    """Emitted with the :class:`Matches` of each search."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph = FlameGraph()
        self._index: SearchIndex | None = None
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search functions or files (highlights matches)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.search)
        self.match_label = plain_label()
        self.match_label.setObjectName("muted")
        self.back_button = QPushButton("Back")
        self.back_button.setToolTip("Zoom out to where you were before the last click")
        self.back_button.clicked.connect(self.graph.back)
        self.reset_button = QPushButton("Zoom out")
        self.reset_button.setToolTip("Show the whole profile")
        self.reset_button.clicked.connect(self.graph.reset_zoom)
        self.breadcrumb = plain_label()
        self.breadcrumb.setWordWrap(True)
        self.breadcrumb.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.match_label)
        bar.addWidget(self.back_button)
        bar.addWidget(self.reset_button)
        scroll = QScrollArea()
        scroll.setWidget(self.graph)
        scroll.setWidgetResizable(True)
        scroll.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout_ = QVBoxLayout(self)
        layout_.setContentsMargins(0, 0, 0, 0)
        layout_.addLayout(bar)
        layout_.addWidget(self.breadcrumb)
        layout_.addWidget(scroll, 1)
        self.graph.sig_zoomed.connect(self._on_zoomed)
        self._on_zoomed(None)

    def set_tree(self, tree: FlameTree | None) -> None:
        self._index = SearchIndex(tree) if tree is not None else None
        self.graph.set_tree(tree)
        self.search(self.search_edit.text())

    def search(self, text: str) -> Matches | None:
        """Highlight the frames matching ``text`` and say their share of the zoomed frame."""
        if self._index is None or not text.strip():
            self.graph.set_matches(None)
            self.match_label.setText("")
            return None
        matches = self._index.find(text, within=self.graph.zoom)
        self.graph.set_matches(matches)
        if matches.functions:
            where = "of all" if self.graph.zoom == self._index.tree.root else "of this zoom"
            noun = "function" if matches.functions == 1 else "functions"
            self.match_label.setText(f"{matches.functions:,} {noun} matching, "
                                     f"{matches.share * 100:.1f} % {where}")
        else:
            self.match_label.setText("no match")
        self.sig_search_done.emit(matches)
        return matches

    def _on_zoomed(self, frame: object) -> None:
        zoomed = isinstance(frame, Frame) and frame.parent is not None
        self.back_button.setEnabled(bool(self.graph.history))
        self.reset_button.setEnabled(zoomed)
        if isinstance(frame, Frame):
            path = " › ".join(f.label for f in frame.path())
            self.breadcrumb.setText(path if zoomed else
                                    "Click a frame to zoom into it; Back or the rows above "
                                    "zoom out.")
        else:
            self.breadcrumb.setText("")
        if self._index is not None and self.search_edit.text().strip():
            self.search(self.search_edit.text())
