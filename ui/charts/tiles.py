"""Status tiles across the top of the dashboard: a source's state, latest value and sparkline."""

from __future__ import annotations

import time

import numpy.typing as npt
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QMouseEvent, QResizeEvent
from PyQt6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.charts.sparkline import Sparkline
from ui.plain_text import escaped, plain_label, set_plain_tooltip
from ui.theme import STALE, state_colour, tabular_font

_WORDS = {"up": "up", "down": "down", "stale": "stale", "unknown": "waiting"}


def ago(seconds: float) -> str:
    """'12 s ago', '3 min ago', '2 h ago'."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"


class _OneLine(QLabel):
    """Plain text on one line, cut with an ellipsis to the width it is given; the whole
    text is its tooltip. Keeps its height while hidden, so a tile does not grow when a
    warning appears."""

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.full = ""

    def set_full(self, text: str) -> None:
        self.full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight,
                                                   max(self.width(), 0)))


class SourceTile(QFrame):
    """One source: name, state chip, big latest value with unit, what it is, sparkline.

    A down source's tile turns the alarm colour and shows its error on hover; a stale
    one greys out and says how old its last reading is.
    """

    sig_clicked = pyqtSignal(str)
    """Emitted with the source name when the tile is clicked."""

    def __init__(self, name: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.state = "unknown"
        self.error = ""
        self._shown: tuple[str, str, str] | None = None
        self._value_shown: tuple[str, str] | None = None
        self._alarm = ""
        self.setObjectName("card")
        self.setMinimumWidth(190)
        self.setMaximumWidth(520)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        head = QHBoxLayout()
        head.setSpacing(6)
        self.title = plain_label(name)
        self.title.setObjectName("cardTitle")
        self.chip = QLabel()
        self.chip.setTextFormat(Qt.TextFormat.RichText)  # our dot; the words are escaped
        self.chip.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.title, 1)
        head.addWidget(self.chip)
        self.value = QLabel("–")
        self.value.setObjectName("cardValue")
        font = tabular_font(self.value.font())
        font.setPointSizeF(17)
        font.setBold(True)
        self.value.setFont(font)
        self.caption = plain_label("waiting for the first reading")
        self.caption.setObjectName("cardTitle")
        self.spark = Sparkline(colour)
        self.warning = _OneLine()  # what an answering source says is wrong with it
        self.warning.setStyleSheet(f"color: {state_colour('warn')};")
        self.warning.hide()
        layout.addLayout(head)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        layout.addWidget(self.warning)
        layout.addWidget(self.spark)
        self.set_state("unknown")

    def set_state(self, state: str, error: str = "", last_ok_ts: float | None = None,
                  now: float | None = None) -> None:
        state = str(state).lower()
        words = _WORDS.get(state, state)
        if state == "stale" and last_ok_ts is not None:
            words = f"stale · {ago((now or time.time()) - last_ok_ts)}"
        key = (state, error, words)
        if key == self._shown:
            return  # nothing a user would see changed: no widget calls
        self._shown = key
        changed = (state, error) != (self.state, self.error)
        self.state, self.error = state, error
        colour = state_colour(state)
        self.chip.setText(f"<span style='color:{colour}'>●</span> {escaped(words)}")
        if state == "down":
            tip = f"{self.name} is down: {error}" if error else f"{self.name} is down"
        elif state == "stale":
            tip = f"{self.name}: no fresh reading" + (
                f" since {ago((now or time.time()) - last_ok_ts)}" if last_ok_ts else "")
        elif state == "up":
            tip = f"{self.name} is answering"
        else:
            tip = f"{self.name}: waiting for its first poll"
        set_plain_tooltip(self, tip)
        if changed:
            if state == "down":
                self.setStyleSheet(
                    f"QFrame#card {{ border: 2px solid {colour}; background: "
                    f"rgba(198, 40, 40, 0.10); }} QLabel#cardValue {{ color: {colour}; }}")
            elif state in ("stale", "unknown"):
                self.setStyleSheet(f"QLabel#cardValue {{ color: {STALE}; }}")
            else:
                self.setStyleSheet("")

    def set_warning(self, text: str) -> None:
        """Show (or, with "", hide) a warning line under the value, e.g. series folded."""
        full = f"⚠ {text}" if text else ""
        if full == self.warning.full:
            return
        self.warning.set_full(full)
        self.warning.setVisible(bool(text))

    def set_value(self, text: str, caption: str) -> None:
        if (text, caption) == self._value_shown:
            return
        self._value_shown = (text, caption)
        self.value.setText(text)
        self.caption.setText(caption)

    def set_alarm(self, colour: str) -> None:
        """Colour the caption (e.g. amber or red when requests fail); "" for the default."""
        if colour == self._alarm:
            return
        self._alarm = colour
        self.caption.setStyleSheet(f"color: {colour};" if colour else "")

    def set_spark(self, ts: npt.ArrayLike, values: npt.ArrayLike,
                  span: tuple[float, float] | None = None) -> None:
        self.spark.set_data(ts, values, span)

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            self.sig_clicked.emit(self.name)
        super().mouseReleaseEvent(event)


class TileRow(QScrollArea):
    """The row of tiles; scrolls sideways when there are more sources than room."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        inner = QWidget()
        inner.setObjectName("page")
        self._layout = QHBoxLayout(inner)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(10)
        self._layout.addStretch(1)  # spare room stays at the right, not between tiles
        self.setWidget(inner)
        self.tiles: dict[str, SourceTile] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def move_to_front(self, name: str) -> None:
        """Put a tile first (a source that just went down is not left off-screen)."""
        tile = self.tiles[name]
        self._layout.removeWidget(tile)
        self._layout.insertWidget(0, tile)
        self.horizontalScrollBar().setValue(0)

    def visible_span(self) -> tuple[int, int]:
        """The x range of the tile strip that shows in the viewport now."""
        left = self.horizontalScrollBar().value()
        return left, left + self.viewport().width()

    @staticmethod
    def in_view(tile: SourceTile, span: tuple[int, int]) -> bool:
        """True when some of the tile shows in ``span`` (see :meth:`visible_span`)."""
        x = tile.x()
        return x < span[1] and x + tile.width() > span[0]

    def tile(self, name: str, colour: str) -> SourceTile:
        """The tile of a source, made on first use."""
        found = self.tiles.get(name)
        if found is None:
            found = self.tiles[name] = SourceTile(name, colour)
            self._layout.insertWidget(self._layout.count() - 1, found)
            if len(self.tiles) == 1:
                self.setFixedHeight(found.sizeHint().height() + 6)
        return found
