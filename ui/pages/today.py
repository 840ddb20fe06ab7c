"""The Today page: bookings, covers, orders, revenue, low stock; each hour against last week."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QHideEvent, QShowEvent
from PyQt6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.floor import FloorDay, read_day
from console.shop import TodayFigures
from ui.context import AppContext
from ui.models.formatting import money
from ui.pages.run_sheet import RunSheetDialog
from ui.pages.shop_page import ShopPage
from ui.pages.shop_texts import NO_BACKEND, error_text
from ui.pages.shop_widgets import header_button
from ui.theme import WARN, resolve, series_colour, tabular_font
from ui.widgets.covers_strip import CoversStrip
from ui.worker import TaskHandle

log = logging.getLogger(__name__)

AUTO_REFRESH_MS = 60_000
TODAY_COLOUR = series_colour(0)
LAST_WEEK_COLOUR = series_colour(1)


class FigureCard(QFrame):
    """One of today's numbers: what it is, the number, and a line of comparison."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(2)
        self.title = QLabel(title)
        self.title.setObjectName("cardTitle")
        self.value = QLabel("–")
        self.value.setObjectName("cardValue")
        self.value.setFont(tabular_font(self.value.font()))
        self.note = QLabel(" ")
        self.note.setObjectName("muted")
        layout.addWidget(self.title)
        layout.addWidget(self.value)
        layout.addWidget(self.note)
        self.state = ""

    def set(self, value: str, note: str = "", state: str = "") -> None:
        self.value.setText(value)
        self.note.setText(note or " ")
        self.state = state
        # Only a figure that needs attention gets a colour (the state colour, nothing else).
        self.setStyleSheet(f"QFrame#card {{ border-left: 4px solid {WARN}; }}"
                           if state == "warn" else "")

    def clear(self) -> None:
        self.set("–")


def compare(now: int, before: int) -> str:
    """'12 more than last Wed' / 'same as …' / '3 fewer than …'."""
    day = datetime.now().strftime("%a")
    if now == before:
        return f"same as last {day}"
    diff = now - before
    return f"{abs(diff):,} {'more' if diff > 0 else 'fewer'} than last {day} ({before:,})"


def so_far(per_hour: tuple[int, ...], at: datetime) -> int:
    """How many of a day's hourly counts had come by the clock time of ``at`` (the current
    hour pro rata): what today, still under way, is fairly set against."""
    hour = at.hour
    done = sum(per_hour[:hour])
    if hour < len(per_hour):
        done += round(per_hour[hour] * (at.minute * 60 + at.second) / 3600)
    return done


def compare_so_far(now: int, per_hour_last_week: tuple[int, ...], at: datetime) -> str:
    """Today's count so far against the same weekday last week by the same time of day:
    'same as by this time last Thu' / '5 fewer than by this time last Thu (9; 67 all day)'."""
    before, whole = so_far(per_hour_last_week, at), sum(per_hour_last_week)
    day = at.strftime("%a")
    if now == before:
        return f"same as by this time last {day} ({whole:,} all day)"
    diff = now - before
    return (f"{abs(diff):,} {'more' if diff > 0 else 'fewer'} than by this time last {day} "
            f"({before:,}; {whole:,} all day)")


class HourChart(pg.PlotWidget):
    """Per-hour counts: today as bars, the same weekday last week as a dashed step line."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        theme = resolve(str(QApplication.instance().property("backroom_theme") or "light")
                        if QApplication.instance() is not None else "light")
        super().__init__(parent, background=theme.base)
        self.setMinimumHeight(220)
        item = self.getPlotItem()
        assert item is not None
        item.setTitle(title, color=theme.text, size="11pt")
        item.showGrid(x=False, y=True, alpha=0.25)
        item.setMenuEnabled(False)
        item.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        item.setXRange(-0.5, 23.5, padding=0)
        axis = item.getAxis("bottom")
        axis.setTicks([[(h, f"{h:02d}:00") for h in range(0, 24, 3)],
                       [(h, "") for h in range(24)]])
        for name in ("bottom", "left"):
            ax = item.getAxis(name)
            ax.setZValue(-1)  # grid lines behind the bars
            ax.setPen(pg.mkPen(theme.border))
            ax.setTextPen(pg.mkPen(theme.muted))
        legend = item.addLegend(offset=(10, 6))
        legend.setLabelTextColor(theme.text)
        hours = np.arange(24, dtype=float)
        self.bars = pg.BarGraphItem(x=hours, height=np.zeros(24), width=0.7,
                                    brush=pg.mkBrush(TODAY_COLOUR), pen=pg.mkPen(None),
                                    name="Today")
        item.addItem(self.bars)
        self.last_week = item.plot(np.arange(25, dtype=float) - 0.5, np.zeros(24),
                                   stepMode="center",
                                   pen=pg.mkPen(LAST_WEEK_COLOUR, width=2,
                                                style=Qt.PenStyle.DashLine),
                                   name="Same day last week")
        self.today_values: tuple[int, ...] = (0,) * 24
        self.last_week_values: tuple[int, ...] = (0,) * 24

    def set_counts(self, today: tuple[int, ...], last_week: tuple[int, ...]) -> None:
        """Update the bars and the line in place (nothing is rebuilt)."""
        t = np.zeros(24)
        w = np.zeros(24)
        t[:min(24, len(today))] = today[:24]
        w[:min(24, len(last_week))] = last_week[:24]
        self.today_values, self.last_week_values = tuple(today), tuple(last_week)
        self.bars.setOpts(height=t)
        self.last_week.setData(np.arange(25, dtype=float) - 0.5, w, stepMode="center")
        item = self.getPlotItem()
        assert item is not None
        item.setYRange(0, max(1.0, float(max(t.max(), w.max()))) * 1.15, padding=0)

    def clear_counts(self) -> None:
        self.set_counts((0,) * 24, (0,) * 24)


class TodayPage(ShopPage):
    """Today at a glance: five figures and two per-hour charts, refreshed every minute."""

    title = "Today"

    sig_loaded = pyqtSignal(object)
    """Emitted with the :class:`TodayFigures` after each successful refresh."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.figures: TodayFigures | None = None
        self.loaded_at: datetime | None = None
        """When the figures on show were loaded (local time)."""
        self._task: TaskHandle[Any] | None = None
        self.updated = QLabel()
        self.updated.setObjectName("muted")
        self.head.addWidget(self.updated)
        self.head.addWidget(header_button("Refresh", self.refresh, tooltip="Refresh (F5)"))
        self.head.addWidget(header_button(
            "Print tonight…", self.open_run_sheet,
            tooltip="Tonight's run sheet: bookings by time, covers, tables, notes, allergies"))
        self.run_sheet: RunSheetDialog | None = None
        cards = QHBoxLayout()
        self.bookings_card = FigureCard("Bookings today")
        self.covers_card = FigureCard("Covers")
        self.orders_card = FigureCard("Orders today")
        self.revenue_card = FigureCard("Revenue today")
        self.low_stock_card = FigureCard("Low stock")
        for card in (self.bookings_card, self.covers_card, self.orders_card,
                     self.revenue_card, self.low_stock_card):
            cards.addWidget(card)
        self.outer.addLayout(cards)
        slots_head = QHBoxLayout()
        slots_title = QLabel("Covers per slot")
        slots_title.setObjectName("cardTitle")
        self.slots_note = QLabel(" ")
        self.slots_note.setObjectName("muted")
        slots_head.addWidget(slots_title)
        slots_head.addWidget(self.slots_note, 1)
        self.outer.addLayout(slots_head)
        self.covers_strip = CoversStrip()
        self.outer.addWidget(self.covers_strip)
        self.floor_day: FloorDay | None = None
        charts = QGridLayout()
        self.bookings_chart = HourChart("Bookings by start time")
        self.orders_chart = HourChart("Orders by time placed")
        charts.addWidget(self.bookings_chart, 0, 0)
        charts.addWidget(self.orders_chart, 0, 1)
        self.outer.addLayout(charts, 1)
        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.hide()
        self.outer.addWidget(self.empty)
        self._timer = QTimer(self)
        self._timer.setInterval(AUTO_REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def open_run_sheet(self) -> None:
        """Tonight's dinner run sheet, to print or save as PDF."""
        if self.run_sheet is not None:
            self.run_sheet.close()
            self.run_sheet.deleteLater()
        self.run_sheet = RunSheetDialog(self.ctx, parent=self)
        self.run_sheet.open()

    def services_ready(self) -> None:
        """The shop repository came after the page was built (the window's first frame)."""
        self.refresh()

    def refresh(self) -> None:
        """Fetch today's figures again (F5; also every minute while the page is shown)."""
        shop = self.ctx.shop
        if self.ctx.starting:
            self.updated.setText("Updating…")  # services_ready() asks once the shop is there
            return
        if shop is None:
            self.notice.show_text(NO_BACKEND, "warn")
            self._show_nothing("Nothing to show yet: this profile has no shop back end or "
                               "database. Add one in Settings.")
            return
        if self._task is not None and not self._task.done:
            return
        self.updated.setText("Updating…")
        local_tz = datetime.now().astimezone().tzinfo
        self._task = self.ctx.tasks.run(lambda _s: shop.today(tz=local_tz), owner=self,
                                        on_success=self._loaded, on_failure=self._failed,
                                        name="today")
        assert local_tz is not None
        today = datetime.now(local_tz).date()
        self.ctx.tasks.run(lambda _s: read_day(shop, today, local_tz), owner=self,
                           on_success=self._slots_loaded,
                           on_failure=lambda e: self.slots_note.setText(
                               "not read: " + error_text(e, self.location())),
                           name="today-slots")

    def _slots_loaded(self, day: FloorDay) -> None:
        """Covers booked per slot against the limit, the slots over it in warning colour."""
        self.floor_day = day
        self.covers_strip.set_slots(day.slots)
        over = [s for s in day.slots if s.over]
        limit = day.plan.covers_per_slot
        note = (f"booked / limit of {limit} per {day.plan.slot_minutes} minutes"
                if limit is not None else "booked (the shop sets no limit per slot)")
        if over:
            note += f" · {len(over)} over the limit"
        self.slots_note.setText(note)

    def _loaded(self, figures: TodayFigures) -> None:
        # The load has answered: a refresh from here on asks again, even before the task's
        # own end reaches this thread (F5 right after a failure was ignored otherwise).
        self._task = None
        self.notice.clear()
        self.figures = figures
        last_b = sum(figures.bookings_per_hour_last_week)
        last_o = sum(figures.orders_per_hour_last_week)
        self.bookings_card.set(f"{figures.bookings:,}", compare(figures.bookings, last_b))
        avg = figures.covers / figures.bookings if figures.bookings else 0
        self.covers_card.set(f"{figures.covers:,}",
                             f"{avg:.1f} per booking" if figures.bookings else "no bookings yet")
        # Orders are placed through the day (bookings for today are mostly made already):
        # today so far is set against last week by this time of day, not its whole day.
        now = self.loaded_at = datetime.now()
        self.orders_card.set(f"{figures.orders:,}",
                             compare_so_far(figures.orders, figures.orders_per_hour_last_week,
                                            now) if figures.day == now.date()
                             else compare(figures.orders, last_o))
        self.revenue_card.set(money(figures.revenue_cents), "paid, preparing, ready, completed")
        low = figures.low_stock
        self.low_stock_card.set(f"{low:,}", "products to reorder (see Products)" if low
                                else "nothing to reorder", "warn" if low else "")
        self.bookings_chart.set_counts(figures.bookings_per_hour,
                                       figures.bookings_per_hour_last_week)
        self.orders_chart.set_counts(figures.orders_per_hour, figures.orders_per_hour_last_week)
        quiet = not (figures.bookings or figures.orders or last_b or last_o)
        self.empty.setVisible(quiet)
        self.empty.setText("No bookings or orders today or on this day last week yet. New "
                           "ones show here within a minute; press F5 to check now.")
        self.updated.setText(f"{figures.day:%a %d %b} · updated "
                             f"{datetime.now(UTC).astimezone():%H:%M:%S}")
        self.sig_loaded.emit(figures)

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self.notice.show_text(error_text(exc, self.location()))
        self.updated.setText("Not updated")

    def _show_nothing(self, text: str) -> None:
        self.figures = None
        for card in (self.bookings_card, self.covers_card, self.orders_card,
                     self.revenue_card, self.low_stock_card):
            card.clear()
        self.bookings_chart.clear_counts()
        self.orders_chart.clear_counts()
        self.empty.setText(text)
        self.empty.show()
        self.updated.setText("")

    def showEvent(self, event: QShowEvent | None) -> None:
        """Opened: today's figures as they are now, not as they were when last looked at."""
        super().showEvent(event)
        self._timer.start()
        self.refresh()  # a load already under way (the first one) is not asked twice

    def hideEvent(self, event: QHideEvent | None) -> None:
        super().hideEvent(event)
        self._timer.stop()
