"""File dialogs open in the folder last chosen, not in the working folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QFileDialog

from ui.file_dialogs import ask_open_path, ask_save_path

pytestmark = pytest.mark.gui


def answer_dialog(choose: Path, seen: list[str]) -> None:
    """Once the dialog is up: note the folder it opened in, pick ``choose``, accept."""
    def poll() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, QFileDialog) and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(20, poll)
            return
        seen.append(dialog.directory().absolutePath())
        dialog.selectFile(str(choose))
        QTest.keyClick(dialog, Qt.Key.Key_Return)  # as the user would

    QTimer.singleShot(0, poll)


def test_the_next_dialog_opens_where_the_last_file_was_chosen(qtbot: Any, tmp_path: Path,
                                                               monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the working folder is not where dialogs should open
    prefs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    exports = tmp_path / "exports"
    exports.mkdir()
    seen: list[str] = []
    answer_dialog(exports / "bookings.csv", seen)
    saved = ask_save_path(None, "Export to CSV", "bookings.csv", "CSV files (*.csv)", prefs)
    assert saved == exports / "bookings.csv"
    assert seen[0] == str(Path.home())
    (exports / "bookings.csv").write_text("x", encoding="utf-8")
    answer_dialog(exports / "bookings.csv", seen)
    opened = ask_open_path(None, "Open", "All files (*)", prefs=prefs)
    assert opened == exports / "bookings.csv"
    assert seen[1] == str(exports)
