"""The floor as a grid: tables down the side, time across, a block a booking, drawn by QPainter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from PyQt6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QFont,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PyQt6.QtWidgets import QScrollArea, QToolTip, QWidget

from console.floor import FloorDay, Seating
from console.shop import Booking, BookingStatus, utc
from ui.plain_text import plain_tooltip
from ui.theme import ACTIVE, FAIL, OK, STALE, WARN, series_colour

LABEL_W = 150
HEADER_H = 42
ROW_H = 28
AREA_H = 20
PX_PER_MIN = 1.6
SNAP_MIN = 15
DRAG_START_PX = 6
STATUS_FILL = {BookingStatus.CONFIRMED: QColor(series_colour(0)),
               BookingStatus.SEATED: QColor(ACTIVE),
               BookingStatus.NO_SHOW: QColor(STALE)}
_WHITE = QColor("#ffffff")


@dataclass(slots=True)
class _Row:
    """One row of the grid: an area's heading, a table, or a lane of bookings without one."""

    top: int
    height: int
    title: str
    detail: str = ""
    table_no: int | None = None
    area: bool = False
    free: bool = False
    seatings: tuple[Seating, ...] = ()


@dataclass(slots=True)
class _Block:
    seating: Seating
    rect: QRectF
    row: int


class FloorGrid(QWidget):
    """A day of the floor. Paints only the rows in the exposed rectangle; the layout of rows
    and blocks is made once per :meth:`set_day`, so a repaint does no arithmetic on times.

    Click a block: :attr:`sig_booking_clicked`. Drag it to another table or time (snapped to
    15 minutes): :attr:`sig_booking_moved`; the page decides whether that may be saved.
    """

    sig_booking_clicked = pyqtSignal(object)
    """Emitted with the :class:`Booking` whose block was clicked."""
    sig_booking_moved = pyqtSignal(object, object, object)
    """Emitted with the :class:`Booking`, the table number and the start it was dropped on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(False)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.day: FloorDay | None = None
        self.now: datetime | None = None
        self.selected_id: int | None = None
        self.rows: list[_Row] = []
        self._blocks_by_row: list[list[_Block] | None] = []
        self._row_of: dict[int, int] = {}
        self._origin = datetime.min
        self.tz: tzinfo | None = datetime.now().astimezone().tzinfo
        self._press: tuple[_Block, QPoint] | None = None
        self._ghost: QRectF | None = None
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        self._bold = QFont(self.font())
        self._bold.setBold(True)

    # -- data ----------------------------------------------------------------------------

    def set_day(self, day: FloorDay | None, now: datetime | None = None) -> None:
        """Show ``day``; ``now`` draws the now-line and marks the tables free at it."""
        self.day, self.now = day, now
        self._press = self._ghost = None
        self.rows, self._blocks_by_row, self._row_of = [], [], {}
        if day is not None:
            self._lay_out(day)
        self.updateGeometry()
        self.resize(self.sizeHint())
        self.update()

    def set_now(self, now: datetime | None) -> None:
        """Move the now-line (free tables follow on the next :meth:`set_day`)."""
        self.now = now
        self.update()

    def block_rect(self, booking_id: int) -> QRect:
        """Where a booking's block is drawn (for tests and for scrolling to it)."""
        for b in self.row_blocks(self._row_of[booking_id]):
            if b.seating.booking.id == booking_id:
                return b.rect.toAlignedRect()
        raise KeyError(booking_id)

    def keep_in_view(self, area: QScrollArea, booking_id: int) -> None:
        """Scroll ``area`` (the grid's scroll area) so the booking's block is clear of the
        table column and the time header that stay painted over the left and top edges."""
        try:
            rect = self.block_rect(booking_id)
        except KeyError:  # not on a table (or another day): nothing to show
            return
        viewport = area.viewport()
        bars = area.horizontalScrollBar(), area.verticalScrollBar()
        if viewport is None or bars[0] is None or bars[1] is None:
            return
        for bar, lo, hi, fixed, size in (
                (bars[0], rect.left(), rect.right(), LABEL_W, viewport.width()),
                (bars[1], rect.top(), rect.bottom(), HEADER_H, viewport.height())):
            shown = bar.value()
            if lo - fixed < shown:  # under the fixed column or header, or left of them
                bar.setValue(max(0, lo - fixed - 8))
            elif hi > shown + size:  # past the right or bottom edge
                bar.setValue(min(hi - size + 8, lo - fixed - 8))

    @property
    def block_count(self) -> int:
        return len(self._row_of)

    def row_top(self, table_no: int) -> int:
        for r in self.rows:
            if r.table_no == table_no and not r.area:
                return r.top
        raise KeyError(table_no)

    def x_of(self, when: datetime) -> float:
        """The x of an aware time (any zone)."""
        return LABEL_W + (when - self._origin).total_seconds() / 60 * PX_PER_MIN

    def time_at(self, x: float) -> datetime:
        minutes = (x - LABEL_W) / PX_PER_MIN
        snapped = round(minutes / SNAP_MIN) * SNAP_MIN
        return self._origin + timedelta(minutes=snapped)

    def sizeHint(self) -> QSize:
        if self.day is None:
            return QSize(600, 200)
        width = self.x_of(self.day.end) + 16
        height = (self.rows[-1].top + self.rows[-1].height) if self.rows else HEADER_H
        return QSize(int(width), height + 4)

    def _lay_out(self, day: FloorDay) -> None:
        local = day.start.astimezone(self.tz)
        self._origin = utc(local.replace(minute=0, second=0, microsecond=0))
        free = ({t.number for t in day.free_at(self.now)} if self.now is not None
                and day.start <= utc(self.now) < day.end
                else {t.number for t in day.plan.tables if not day.seatings.get(t.number)})
        top = HEADER_H
        area = None
        for t in day.plan.tables:
            if t.area != area:
                area = t.area
                self.rows.append(_Row(top, AREA_H, t.area or "Tables", area=True))
                top += AREA_H
            self.rows.append(_Row(top, ROW_H, t.name, f"{t.seats} seats", table_no=t.number,
                                  free=t.number in free,
                                  seatings=day.seatings.get(t.number, ())))
            top += ROW_H
        if day.unassigned:
            self.rows.append(_Row(top, AREA_H, "No table yet", area=True))
            top += AREA_H
            lanes: list[list[Seating]] = []
            for s in day.unassigned:  # first lane where it fits, as a person would stack them
                lane = next((ln for ln in lanes if ln[-1].end <= s.start), None)
                if lane is None:
                    lanes.append([s])
                else:
                    lane.append(s)
            for lane in lanes:
                self.rows.append(_Row(top, ROW_H, "–", "no table", seatings=tuple(lane)))
                top += ROW_H
        # Blocks are placed when their row is first painted (or hit): a 200-table evening
        # costs the GUI thread only the rows the viewport shows.
        self._blocks_by_row = [None] * len(self.rows)
        self._row_of = {s.booking.id: i for i, r in enumerate(self.rows) for s in r.seatings}

    def row_blocks(self, index: int) -> list[_Block]:
        made = self._blocks_by_row[index]
        if made is None:
            row = self.rows[index]
            made = []
            for s in row.seatings:
                x = self.x_of(s.start)
                width = (s.end - s.start).total_seconds() / 60 * PX_PER_MIN
                made.append(_Block(s, QRectF(x + 1, row.top + 3, max(8.0, width - 2),
                                             row.height - 6), index))
            self._blocks_by_row[index] = made
        return made

    # -- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent | None) -> None:
        exposed = event.rect() if event is not None else self.rect()
        p = QPainter(self)
        pal = self.palette()
        base, text = pal.base().color(), pal.text().color()
        muted = QColor(text)
        muted.setAlpha(140)
        hour_line = _mix(base, text, 0.2)
        slot_line = _mix(base, text, 0.09)
        row_line = _mix(base, text, 0.12)
        p.fillRect(exposed, base)
        day = self.day
        if day is None:
            p.end()
            return
        right = int(self.x_of(day.end))
        # Hour and slot lines down the grid.
        slot = timedelta(minutes=max(5, day.plan.slot_minutes))
        t = self._origin
        while t <= day.end:
            x = int(self.x_of(t))
            if exposed.left() - 2 <= x <= exposed.right() + 2:
                # Solid fills, not lines: a raster engine fills a 1-pixel rectangle at once.
                p.fillRect(QRect(x, max(HEADER_H - 4, exposed.top()), 1, exposed.height()),
                           hour_line if t.minute == 0 else slot_line)
            t += slot
        # Rows: only those the exposed rectangle crosses.
        first = self._first_row(exposed.top())
        shown = []
        for i in range(first, len(self.rows)):
            r = self.rows[i]
            if r.top > exposed.bottom():
                break
            shown.append(r)
            if r.area:
                p.fillRect(QRect(exposed.left(), r.top, exposed.width(), r.height),
                           pal.alternateBase())
                continue
            p.fillRect(QRect(exposed.left(), r.top + r.height - 1,
                             min(right, exposed.right()) - exposed.left() + 1, 1), row_line)
            p.setFont(self._small)
            for b in self.row_blocks(i):
                if b.rect.right() >= exposed.left() and b.rect.left() <= exposed.right():
                    self._paint_block(p, b)
        if self.now is not None and day.start <= utc(self.now) <= day.end:
            x = int(self.x_of(self.now))
            p.fillRect(QRect(x - 1, max(HEADER_H - 6, exposed.top()), 2, exposed.height()),
                       QColor(FAIL))
        if self._ghost is not None:
            pen = QPen(text, 1.5, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self._ghost)
        # The table column and the time header stay where the view is: painted last, over
        # whatever scrolled under them.
        view = self.view_rect(exposed)
        self._paint_labels(p, shown, view.left(), exposed, text, muted)
        self._paint_header(p, day, exposed, view, text, muted)
        p.end()

    def view_rect(self, exposed: QRect | None = None) -> QRect:
        """The part of the grid the scroll area shows (the whole exposed part when the grid
        is drawn on its own, as into an image)."""
        seen = self.visibleRegion().boundingRect()
        return seen if not seen.isEmpty() else (exposed or self.rect())

    def _paint_labels(self, p: QPainter, rows: list[_Row], left: int, exposed: QRect,
                      text: QColor, muted: QColor) -> None:
        if left + LABEL_W < exposed.left() or left > exposed.right():
            return
        pal = self.palette()
        p.fillRect(QRect(left, exposed.top(), LABEL_W, exposed.height()), pal.base())
        p.fillRect(QRect(left + LABEL_W - 1, exposed.top(), 1, exposed.height()),
                   _mix(pal.base().color(), text, 0.2))
        for r in rows:
            if r.area:
                p.fillRect(QRect(left, r.top, LABEL_W - 1, r.height), pal.alternateBase())
                p.setFont(self._bold)
                p.setPen(text)
                p.drawText(QRect(left + 8, r.top, LABEL_W - 10, r.height),
                           int(Qt.AlignmentFlag.AlignVCenter), r.title)
                continue
            if r.free:
                tint = QColor(OK)
                tint.setAlpha(38)
                p.fillRect(QRect(left, r.top, LABEL_W - 2, r.height - 1), tint)
            p.setFont(self.font())
            p.setPen(text)
            p.drawText(QRect(left + 8, r.top, 60, r.height),
                       int(Qt.AlignmentFlag.AlignVCenter), r.title)
            p.setFont(self._small)
            p.setPen(QColor(OK) if r.free else muted)
            p.drawText(QRect(left + 62, r.top, LABEL_W - 66, r.height),
                       int(Qt.AlignmentFlag.AlignVCenter),
                       f"{r.detail} · free" if r.free else r.detail)

    def _first_row(self, y: int) -> int:
        lo, hi = 0, len(self.rows)
        while lo < hi:  # the rows are in order of top: bisect
            mid = (lo + hi) // 2
            if self.rows[mid].top + self.rows[mid].height <= y:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _paint_block(self, p: QPainter, b: _Block) -> None:
        s = b.seating
        booking = s.booking
        fill = STATUS_FILL.get(booking.status, STATUS_FILL[BookingStatus.NO_SHOW])
        p.fillRect(b.rect, fill)
        flagged = s.double_booked or s.too_small
        if flagged or booking.id == self.selected_id:
            p.setPen(QPen(QColor(FAIL) if flagged and booking.id != self.selected_id
                          else self.palette().text().color(), 2.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(b.rect.adjusted(1, 1, -1, -1))
        label = f"{'⚠ ' if flagged else ''}{booking.customer_name} · {booking.party_size}"
        if booking.status is not BookingStatus.CONFIRMED:
            label += f" · {booking.status.label}"
        p.setPen(_WHITE)
        # drawText clips to its rectangle; eliding each label would cost more than the rest
        # of the paint.
        p.drawText(b.rect.adjusted(5, 0, -3, 0), int(Qt.AlignmentFlag.AlignVCenter), label)

    def _paint_header(self, p: QPainter, day: FloorDay, exposed: QRect, view: QRect,
                      text: QColor, muted: QColor) -> None:
        top = view.top()
        if top + HEADER_H < exposed.top() or top > exposed.bottom():
            return
        p.fillRect(QRect(exposed.left(), top, exposed.width(), HEADER_H), self.palette().base())
        p.fillRect(QRect(exposed.left(), top + HEADER_H - 1, exposed.width(), 1),
                   _mix(self.palette().base().color(), text, 0.2))
        p.setFont(self._small)
        t = self._origin
        p.setPen(text)
        while t <= day.end:
            x = int(self.x_of(t))
            if exposed.left() - 60 <= x <= exposed.right():
                p.drawText(QRect(x + 3, top + 2, 60, 18), int(Qt.AlignmentFlag.AlignVCenter),
                           t.astimezone(self.tz).strftime("%H:%M"))
            t += timedelta(hours=1)
        width = max(10, int(day.plan.slot_minutes * PX_PER_MIN))
        for s in day.slots:
            x = int(self.x_of(s.start))
            if x + width < exposed.left() or x > exposed.right() or not s.covers:
                continue
            cell = QRect(x + 1, top + 21, width - 2, 17)
            if s.over:
                p.fillRect(cell, QColor(WARN))
            p.setPen(QColor("#1d232b") if s.over else text)
            p.drawText(cell, int(Qt.AlignmentFlag.AlignCenter), s.text)
        left = view.left()
        p.fillRect(QRect(left, top, LABEL_W, HEADER_H - 1), self.palette().base())
        p.setPen(muted)
        p.drawText(QRect(left + 8, top + 2, LABEL_W - 8, 18), int(Qt.AlignmentFlag.AlignVCenter),
                   "Time")
        p.drawText(QRect(left + 8, top + 20, LABEL_W - 8, 18),
                   int(Qt.AlignmentFlag.AlignVCenter), "Covers / limit")

    # -- mouse ---------------------------------------------------------------------------

    def block_at(self, pos: QPointF) -> _Block | None:
        view = self.view_rect()
        if pos.x() < view.left() + LABEL_W or pos.y() < view.top() + HEADER_H:
            return None  # under the table column or the time header
        i = self._first_row(int(pos.y()))
        if i >= len(self.rows) or self.rows[i].top > pos.y():
            return None
        return next((b for b in self.row_blocks(i) if b.rect.contains(pos)), None)

    def table_at(self, y: float) -> int | None:
        for r in self.rows:
            if r.top <= y < r.top + r.height:
                return None if r.area else r.table_no
        return None

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if event is None or event.button() != Qt.MouseButton.LeftButton:
            return
        block = self.block_at(event.position())
        self._press = (block, event.position().toPoint()) if block is not None else None

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        if event is None or self._press is None:
            return
        block, origin = self._press
        delta = event.position().toPoint() - origin
        if self._ghost is None and delta.manhattanLength() < DRAG_START_PX:
            return
        table = self.table_at(event.position().y())
        top = self.row_top(table) + 3 if table is not None else block.rect.top()
        start = self.time_at(block.rect.left() - 1 + delta.x())
        self._ghost = QRectF(self.x_of(start) + 1, top, block.rect.width(), block.rect.height())
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        if event is None or self._press is None:
            return
        block, origin = self._press
        self._press = None
        dragged = self._ghost is not None
        self._ghost = None
        self.update()
        booking: Booking = block.seating.booking
        if not dragged:
            self.selected_id = booking.id
            self.sig_booking_clicked.emit(booking)
            return
        delta = event.position().toPoint() - origin
        table = self.table_at(event.position().y())
        start = self.time_at(block.rect.left() - 1 + delta.x())
        if table is None:
            table = booking.table_no
        if table != booking.table_no or start != utc(booking.start_at):
            self.sig_booking_moved.emit(booking, table, start)

    def event(self, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            block = self.block_at(QPointF(event.pos()))
            if block is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), plain_tooltip(_describe(block.seating)),
                                  self)
            return True
        return super().event(event)


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    """``a`` with ``share`` of ``b`` mixed in: a faint line that needs no blending."""
    return QColor(int(a.red() + (b.red() - a.red()) * share),
                  int(a.green() + (b.green() - a.green()) * share),
                  int(a.blue() + (b.blue() - a.blue()) * share))


def _describe(s: Seating) -> str:
    b = s.booking
    local = s.start.astimezone()
    lines = [f"{b.customer_name}, {b.party_size} covers",
             f"{local:%H:%M}–{s.end.astimezone():%H:%M} · {b.status.label}"]
    lines += [f"⚠ {flag}" for flag in s.flags]
    if b.notes:
        lines.append(b.notes)
    return "\n".join(lines)
