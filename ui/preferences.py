"""The console's own preferences file: window geometry, last page, theme, chart updates."""

from __future__ import annotations

from PyQt6.QtCore import QSettings


def settings() -> QSettings:
    """The console's own preferences (window geometry, last page, theme)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "backroom", "backroom")
