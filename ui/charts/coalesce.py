"""A timer that turns many "please redraw" requests into at most one call per interval."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QObject, Qt, QTimer


class CoalescingTimer(QObject):
    """Calls ``fn`` at most once per ``interval_ms`` however often :meth:`request` is called.

    The first request after a quiet spell fires after ``interval_ms`` (so a burst of data
    or range changes costs one redraw); :meth:`flush` runs a pending call now.
    """

    def __init__(self, interval_ms: int, fn: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._fire)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def request(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()

    def flush(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._fn()

    def _fire(self) -> None:
        self._fn()
