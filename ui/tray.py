"""Desktop notifications of firing alerts: the system tray, once per firing, or the status bar."""

from __future__ import annotations

import logging
import sys
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QMainWindow, QSystemTrayIcon

from console.alert_rules import format_value
from console.alerts import AlertStatus
from console.domain import Severity
from ui.plain_text import escaped

log = logging.getLogger(__name__)

#: How long a notification stays up (tray balloon or status-bar message).
SHOW_MS = 15_000


class AlertNotifier(QObject):
    """Watches the alert service and tells the user once per firing.

    A firing is one rule from the moment it fires until it resolves (or goes to no data
    or error); it is notified once, however long it fires and however often this checks.
    With a system tray the notification is a tray message; without one (offscreen, some
    Linux desktops) it is a status-bar message on ``window``.
    """

    sig_notified = pyqtSignal(str, str)
    """Emitted with (title, body) for every notification shown."""
    sig_open_alerts = pyqtSignal()
    """Emitted when the user clicks a tray notification or the tray icon."""

    def __init__(self, alerts: Any, window: QMainWindow | None = None, *,
                 icon: QIcon | None = None, interval_ms: int = 1000,
                 use_tray: bool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self._alerts = alerts
        self._window = window
        self._notified: set[tuple[str, float]] = set()
        self.tray: QSystemTrayIcon | None = None
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        if use_tray:
            self.tray = QSystemTrayIcon(icon or QIcon(), self)
            self.tray.setToolTip("Backroom")
            self.tray.messageClicked.connect(self.sig_open_alerts)
            self.tray.activated.connect(lambda _reason: self.sig_open_alerts.emit())
            self.tray.show()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        if alerts is not None:
            self._timer.start()

    @property
    def uses_tray(self) -> bool:
        return self.tray is not None

    def check(self) -> list[tuple[str, str]]:
        """Notify every firing not notified yet; returns the (title, body) pairs shown."""
        if self._alerts is None:
            return []
        firing = list(self._alerts.firing())
        keys = {(s.name, s.since) for s in firing}
        # Forget firings that ended, so the next firing of the same rule is news again.
        self._notified &= keys
        shown = []
        for status in firing:
            key = (status.name, status.since)
            if key in self._notified:
                continue
            self._notified.add(key)
            title, body = notification_text(status)
            self._show(title, body, status.severity)
            shown.append((title, body))
        return shown

    def _show(self, title: str, body: str, severity: Severity) -> None:
        if self.tray is not None:
            icon = (QSystemTrayIcon.MessageIcon.Critical if severity is Severity.FAIL
                    else QSystemTrayIcon.MessageIcon.Warning)
            self.tray.showMessage(title, tray_body(body), icon, SHOW_MS)
        elif self._window is not None:
            bar = self._window.statusBar()
            if bar is not None:
                bar.showMessage(f"⚠ {title} — {body}", SHOW_MS)
        log.info("notified: %s", title)
        self.sig_notified.emit(title, body)

    def stop(self) -> None:
        """Stop watching and take the tray icon away (on quit)."""
        self._timer.stop()
        if self.tray is not None:
            self.tray.hide()


def tray_body(body: str) -> str:
    """The body as the desktop's notifier shows it literally: freedesktop notification
    servers read a body as markup (<b>, <a>, <img>), so it is escaped there; Windows and
    macOS show it as text."""
    return escaped(body) if sys.platform.startswith(("linux", "freebsd", "openbsd")) else body


def notification_text(status: AlertStatus) -> tuple[str, str]:
    """('Cache hit rate low', '62% on cache/cache_hit_rate — fires below 80%')."""
    rule = status.rule
    where = status.series or rule.where
    value = format_value(rule.metric, status.value)
    limit = format_value(rule.metric, rule.threshold)
    return rule.name, f"{value} on {where} — fires {rule.direction} {limit}"
