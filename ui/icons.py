"""Icons drawn by qtawesome once, then read back from PNGs in the user's cache folder."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import platformdirs
from PyQt6.QtCore import QSize
from PyQt6.QtGui import QIcon

from console import __version__

log = logging.getLogger(__name__)

#: Pixel sizes kept: the rail's 18 px at device pixel ratios 1, 1.5 and 2, and a few others.
SIZES = (16, 18, 24, 27, 32, 36, 48)


def cache_folder() -> Path:
    """Where drawn icons are kept: per version, so an upgrade draws them again."""
    return Path(platformdirs.user_cache_dir("backroom", appauthor=False)) / "icons" / __version__


def icon(name: str, color: str, folder: Path | None = None) -> QIcon:
    """qtawesome's ``name`` (e.g. ``"fa5s.book"``) in ``color``.

    Importing qtawesome takes a tenth to a quarter of a second, a large part of a start; so
    each icon is drawn by qtawesome the first time and saved, and later starts only read the
    PNGs. A folder that cannot be written only means drawing again next time.
    """
    folder = folder or cache_folder()
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{name}-{color}").strip("-")
    files = [(folder / f"{stem}-{size}.png", size) for size in SIZES]
    if all(path.is_file() for path, _ in files):
        cached = QIcon()
        for path, size in files:
            cached.addFile(str(path), QSize(size, size))
        return cached
    import qtawesome as qta

    drawn: QIcon = qta.icon(name, color=color)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, size in files:
            partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            if not drawn.pixmap(size, size).save(str(partial), "PNG"):
                raise OSError(f"could not write {partial}")
            os.replace(partial, path)  # another console starting at once sees whole files
    except OSError as err:
        log.debug("icon cache not written: %s", err)
    return drawn
