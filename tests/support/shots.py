"""Screenshots for the docs: saved by GUI tests when BACKROOM_SHOTS names a folder."""

from __future__ import annotations

import os
from pathlib import Path

from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QWidget

#: Where to save what a page looked like (docs/screenshots when refreshing the docs).
SHOTS = os.environ.get("BACKROOM_SHOTS")


def save_shot(widget: QWidget, name: str, theme: str = "light") -> None:
    """Save ``widget``'s window as ``name`` in the light (or dark) theme, when asked to."""
    if not SHOTS:
        return
    from ui import theme as theme_mod

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme_mod.apply(app, theme)
    QTest.qWait(200)  # the restyle laid out, removed widgets deleted
    widget.window().grab().save(str(Path(SHOTS) / name))
