"""The dashboard's time range: the range buttons, Live and Pause, and the span the charts show."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton

from console.durations import format_duration
from ui.charts.coalesce import CoalescingTimer

if TYPE_CHECKING:
    from ui.pages.dashboard.page import DashboardPage

#: Time ranges offered at the top right: (button text, seconds).
RANGES: tuple[tuple[str, int], ...] = (("5 min", 300), ("1 h", 3600), ("24 h", 86_400),
                                       ("7 d", 7 * 86_400))
RANGES_WORDS = {300: "5 minutes", 3600: "hour", 86_400: "24 hours", 7 * 86_400: "7 days"}


class TimeRange:
    """Follow-live or paused, over the last 5 min .. 7 d or what the user zoomed to."""

    def __init__(self, page: DashboardPage) -> None:
        self.page = page
        self.span_s = float(RANGES[0][1])
        self._chosen_span = RANGES[0][1]
        self.live = True
        self._paused_end = page.clock()
        self.settle = CoalescingTimer(250, self._view_settled, page)

    def add_buttons(self, bar: QHBoxLayout) -> None:
        """The range buttons, then Live and Pause, at the end of ``bar``."""
        page = self.page
        self.buttons: dict[int, QPushButton] = {}
        self._group = QButtonGroup(page)
        self._group.setExclusive(True)
        for text, seconds in RANGES:
            button = QPushButton(text)
            button.setCheckable(True)
            button.setToolTip(f"Show the last {text}")
            button.clicked.connect(lambda _c=False, s=seconds: self.set_range(s))
            self._group.addButton(button)
            self.buttons[seconds] = button
            bar.addWidget(button)
        self.buttons[int(self.span_s)].setChecked(True)
        bar.addSpacing(8)
        self.live_button = QPushButton("● Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow the newest data")
        self.live_button.clicked.connect(lambda: self.set_live(True))
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Hold the charts still (zooming or panning pauses too)")
        self.pause_button.clicked.connect(lambda: self.set_live(False))
        live_group = QButtonGroup(page)
        live_group.addButton(self.live_button)
        live_group.addButton(self.pause_button)
        bar.addWidget(self.live_button)
        bar.addWidget(self.pause_button)

    def view_range(self) -> tuple[float, float]:
        """The time range the charts show now (UTC epoch seconds)."""
        if self.live:
            now = self.page.clock()
            return now - self.span_s, now + self.span_s * 0.01
        return self._paused_end - self.span_s, self._paused_end

    def readout_time(self) -> float:
        """The time the charts' latest-value readouts are for."""
        return self.page.clock() if self.live else self.view_range()[1]

    def words(self) -> str:
        """The status line's words for the range: 'Live · last hour' or 'Paused · …'."""
        if self.live:
            return f"Live · last {RANGES_WORDS.get(int(self.span_s), _span_words(self.span_s))}"
        start, end = self.view_range()
        return (f"Paused · {datetime.fromtimestamp(start):%d %b %H:%M:%S} – "
                f"{datetime.fromtimestamp(end):%H:%M:%S} · press Live to follow")

    def set_range(self, seconds: float) -> None:
        """Show the last ``seconds`` (5 min .. 7 d); paused charts keep their right edge."""
        self.span_s = float(seconds)
        button = self.buttons.get(int(seconds))
        if button is not None:
            self._chosen_span = int(seconds)
            if not button.isChecked():
                button.setChecked(True)
        self.page.reload()

    def set_live(self, live: bool) -> None:
        """Follow the newest data, or hold the view still."""
        page = self.page
        if live == self.live:
            self._sync_live_buttons()
            return
        if not live:
            self._paused_end = page.timeline.x_range()[1] if page.timeline.panels \
                else page.clock()
        self.live = live
        self._sync_live_buttons()
        if live:
            # back to the range last chosen with a button (zooming leaves it)
            self.span_s = float(self._chosen_span)
            self.buttons[self._chosen_span].setChecked(True)
            page.reload()
        page.update_status()
        page.sig_live_changed.emit(live)

    def _sync_live_buttons(self) -> None:
        self.live_button.setChecked(self.live)
        self.pause_button.setChecked(not self.live)

    def user_range(self, start: float, end: float) -> None:
        """The user zoomed or panned: leave follow-live and load what the view needs."""
        self.span_s = max(end - start, 1.0)
        self._paused_end = end
        if self.live:
            self.live = False
            self._sync_live_buttons()
            self.page.sig_live_changed.emit(False)
        for button in self.buttons.values():
            if button.isChecked():
                self._group.setExclusive(False)
                button.setChecked(False)
                self._group.setExclusive(True)
        self.settle.request()
        self.page.update_status()

    def _view_settled(self) -> None:
        start, end = self.page.timeline.x_range()
        self._paused_end = end
        loaded = self.page.feed.loaded
        if loaded is None or start < loaded[0] or end > loaded[1] + self.span_s \
                or (end - start) < (loaded[1] - loaded[0]) / 8:
            self.page.reload()


def _span_words(seconds: float) -> str:
    return format_duration(seconds)
