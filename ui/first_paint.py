"""Work put off until a widget has painted its first frame (a start paints before it builds)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PyQt6.QtCore import QEvent, QObject, QTimer
from PyQt6.QtWidgets import QWidget

#: How long to wait for a first paint that may never come (a window opened minimised).
FIRST_PAINT_WAIT_MS = 1000


class _FirstPaint(QObject):
    """Runs a function once, just after the watched widget's first paint has been handled,
    or after ``FIRST_PAINT_WAIT_MS`` if no paint comes (a window opened minimised)."""

    def __init__(self, widget: QWidget, fn: Callable[[], None]) -> None:
        super().__init__(widget)
        self._fn: Callable[[], None] | None = fn
        self._widget = widget
        widget.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_WAIT_MS, self._run)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self._run)  # runs once this paint is done
        return False

    def _run(self) -> None:
        fn, self._fn = self._fn, None
        if fn is not None:
            with contextlib.suppress(RuntimeError):  # the window may be gone already
                self._widget.removeEventFilter(self)
            fn()


def after_first_paint(widget: QWidget, fn: Callable[[], None], *,
                      not_shown_yet: bool = False) -> None:
    """Call ``fn`` once ``widget`` has painted its first frame (at once if it is not shown, so
    that nothing waits on a window that never paints). Work started on a zero timer instead
    may run before the first paint and hold it up (imports hold the GIL).
    ``not_shown_yet``: the widget is about to be shown (a page being built for the window's
    first frame): wait for its paint all the same, at most ``FIRST_PAINT_WAIT_MS``."""
    if widget.isVisible() or not_shown_yet:
        _FirstPaint(widget, fn)
    else:
        QTimer.singleShot(0, fn)
