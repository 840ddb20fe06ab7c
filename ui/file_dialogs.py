"""Open and save dialogs that start in the folder the user last chose (not the working folder)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QFileDialog, QWidget

LAST_FOLDER_KEY = "files/last_folder"


def _prefs(prefs: QSettings | None) -> QSettings:
    if prefs is not None:
        return prefs
    from ui.preferences import settings  # the console's own preferences file

    return settings()


def last_folder(prefs: QSettings | None = None) -> Path:
    """The folder of the last file chosen in any dialog; the home folder at first."""
    saved = str(_prefs(prefs).value(LAST_FOLDER_KEY, "") or "")
    folder = Path(saved) if saved else Path.home()
    return folder if folder.is_dir() else Path.home()


def remember(path: Path, prefs: QSettings | None = None) -> None:
    _prefs(prefs).setValue(LAST_FOLDER_KEY, str(path.parent))


def initial_path(suggested_name: str, prefs: QSettings | None = None) -> str:
    """Where a dialog opens: the last folder, with the suggested file name in it."""
    folder = last_folder(prefs)
    return str(folder / suggested_name) if suggested_name else str(folder)


def ask_save_path(parent: QWidget, caption: str, suggested_name: str, pattern: str,
                  prefs: QSettings | None = None) -> Path | None:
    """A save dialog in the last folder; None when cancelled. The folder is remembered."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, initial_path(suggested_name, prefs),
                                          pattern)
    if not path:
        return None
    remember(Path(path), prefs)
    return Path(path)


def ask_open_path(parent: QWidget, caption: str, pattern: str, start: str = "",
                  prefs: QSettings | None = None) -> Path | None:
    """An open dialog in ``start``'s folder or the last one; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, caption, start or initial_path("", prefs),
                                          pattern)
    if not path:
        return None
    remember(Path(path), prefs)
    return Path(path)


def ask_open_paths(parent: QWidget, caption: str, pattern: str,
                   prefs: QSettings | None = None) -> list[Path]:
    """An open dialog for one or more files in the last folder; [] when cancelled."""
    paths, _ = QFileDialog.getOpenFileNames(parent, caption, initial_path("", prefs), pattern)
    if not paths:
        return []
    remember(Path(paths[0]), prefs)
    return [Path(p) for p in paths]
