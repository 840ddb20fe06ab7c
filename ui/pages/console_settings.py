"""Settings' "Appearance and data" tab: theme, chart updates, history kept, and where files live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QSettings, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QDesktopServices
from PyQt6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui import theme
from ui.context import AppContext
from ui.widgets.form_section import FormSection

THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))
#: QSettings keys other parts of the console read.
THEME_KEY = "appearance/theme"
REFRESH_KEY = "charts/refresh_hz"
RETENTION_KEY = "history/retention_days"
ALERT_RETENTION_KEY = "alerts/retention_days"
DEFAULT_REFRESH_HZ = 5
DEFAULT_RETENTION_DAYS = 7
DEFAULT_ALERT_RETENTION_DAYS = 30


class ConsoleSettings(QWidget):
    """Theme (applied live), chart refresh rate, history retention, and where files live."""

    sig_theme_changed = pyqtSignal(str)
    """Emitted with 'light', 'dark' or 'system' once applied."""
    sig_refresh_rate_changed = pyqtSignal(int)
    """Emitted with the new chart refresh rate (updates per second)."""
    sig_retention_changed = pyqtSignal(int)
    """Emitted with the new history retention in days."""

    def __init__(self, prefs: QSettings, ctx: AppContext, profiles_dir: Path,
                 keychain: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.ctx = ctx
        look = FormSection("Appearance")
        self.theme_box = QComboBox()
        for key, label in THEMES:
            self.theme_box.addItem(label, key)
        current = str(prefs.value(THEME_KEY, "system"))
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(current)))
        self.theme_box.currentIndexChanged.connect(self._theme_chosen)
        look.add_row("theme", "Theme", self.theme_box, "Applied at once.")
        self.refresh_spin = _spin()
        self.refresh_spin.setRange(1, 30)
        self.refresh_spin.setSuffix(" per second")
        self.refresh_spin.setValue(int(prefs.value(REFRESH_KEY, DEFAULT_REFRESH_HZ)))
        self.refresh_spin.valueChanged.connect(self._refresh_chosen)
        look.add_row("refresh", "Chart updates", self.refresh_spin,
                     "Fewer updates save power on a laptop; the data is polled the same.")

        data = FormSection("History")
        self.retention_spin = _spin()
        self.retention_spin.setRange(1, 365)
        self.retention_spin.setSuffix(" days")
        self.retention_spin.setValue(int(prefs.value(RETENTION_KEY, DEFAULT_RETENTION_DAYS)))
        self.retention_spin.valueChanged.connect(self._retention_chosen)
        data.add_row("retention", "Keep metrics for", self.retention_spin,
                     "Older samples are deleted from the local history database.")
        self.alert_retention_spin = _spin()
        self.alert_retention_spin.setRange(1, 3650)
        self.alert_retention_spin.setSuffix(" days")
        self.alert_retention_spin.setValue(int(prefs.value(ALERT_RETENTION_KEY,
                                                           DEFAULT_ALERT_RETENTION_DAYS)))
        self.alert_retention_spin.valueChanged.connect(self._alert_retention_chosen)
        data.add_row("alert_retention", "Keep alert history for", self.alert_retention_spin)

        folders = FormSection("Folders")
        self.folder_labels: dict[str, QLabel] = {}
        for key, label, path in (("data", "Data", _safe(ctx.local.data_dir)),
                                 ("logs", "Logs", _safe(ctx.local.log_dir)),
                                 ("profiles", "Profiles", str(profiles_dir))):
            folders.add_row(key, label, self._folder_row(key, path))
        self.keychain_label = QLabel(
            "Available: the profile editor stores secrets in the OS keychain." if keychain
            else "Not available on this system: give secrets as environment variables "
                 "(env:NAME) instead.")
        self.keychain_label.setWordWrap(True)
        folders.add_row("keychain", "OS keychain", self.keychain_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        for section in (look, data, folders):
            layout.addWidget(section)
        layout.addStretch(1)

    def _folder_row(self, key: str, path: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel(path)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_labels[key] = label
        button = QPushButton("Open")
        button.setToolTip(f"Open {path} in the file manager")
        button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(path)))
        row.addWidget(label, 1)
        row.addWidget(button)
        return box

    def _theme_chosen(self) -> None:
        choice = str(self.theme_box.currentData())
        self.prefs.setValue(THEME_KEY, choice)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, choice)
        self.sig_theme_changed.emit(choice)

    def _refresh_chosen(self, value: int) -> None:
        self.prefs.setValue(REFRESH_KEY, value)
        self.sig_refresh_rate_changed.emit(value)

    def _retention_chosen(self, value: int) -> None:
        self.prefs.setValue(RETENTION_KEY, value)
        history = self.ctx.history
        if history is not None and hasattr(history, "rollup_retention_s"):
            # The one-minute roll-ups are what a week of charts reads; raw stays as it is.
            history.rollup_retention_s = max(value * 86_400.0,
                                             float(getattr(history, "raw_retention_s", 0.0)))
        self.sig_retention_changed.emit(value)

    def _alert_retention_chosen(self, value: int) -> None:
        self.prefs.setValue(ALERT_RETENTION_KEY, value)
        alerts = self.ctx.alerts
        if alerts is not None:
            alerts.retention_s = value * 86_400.0


def _spin() -> QSpinBox:
    box = QSpinBox()
    box.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
    box.setMinimumWidth(120)
    return box


def _safe(fn: Callable[[], Path]) -> str:
    try:
        return str(fn())
    except OSError as err:
        return f"unavailable ({err})"
