"""Starts the Qt application on a profile: theme, services, the main window, timed quit."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QSettings, QTimer
from PyQt6.QtWidgets import QApplication

log = logging.getLogger(__name__)


def settings() -> QSettings:
    """The console's own preferences (window geometry, last page, theme)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "backroom", "backroom")


def run_gui(profile: Any, *, is_demo: bool = False, first_run: bool = False,
            page: str | None = None, quit_after: float | None = None,
            screenshot: Path | None = None, view: str | None = None,
            masking: Any = None) -> int:
    """Open the main window on ``profile`` and run the event loop; returns the exit status."""
    from services.bootstrap import build_services
    from ui import theme
    from ui.context import AppContext
    from ui.main_window import MainWindow
    from ui.worker import TaskRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Backroom")
    app.setOrganizationName("backroom")
    prefs = settings()
    theme.apply(app, str(prefs.value("appearance/theme", "system")))

    services = build_services(profile, masking=masking)
    tasks = TaskRunner(app)
    ctx = AppContext(services=services, tasks=tasks, extras={"is_demo": is_demo})
    services.start()
    window = MainWindow(ctx, prefs, is_demo=is_demo, first_run=first_run, view=view)
    if page:
        window.show_page(page)
    window.show()

    if quit_after is not None:
        def finish() -> None:
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                if not window.grab().save(str(screenshot)):
                    log.error("could not save the screenshot to %s", screenshot)
            window.close()
            app.quit()

        QTimer.singleShot(int(quit_after * 1000), finish)
    try:
        status = app.exec()
    finally:
        tasks.shutdown()
        services.stop()
    return int(status)
