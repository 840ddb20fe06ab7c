"""Rail icons: drawn once by qtawesome, then read back from the cache folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtGui import QImage

from ui import icons

pytestmark = pytest.mark.gui


def pixels(image: QImage) -> bytes:
    converted = image.convertToFormat(QImage.Format.Format_ARGB32)
    return bytes(converted.constBits().asarray(converted.sizeInBytes()))


def test_an_icon_drawn_once_is_read_back_the_same(qapp, tmp_path: Path) -> None:
    folder = tmp_path / "icons"
    drawn = icons.icon("fa5s.book", "#5b6573", folder)
    saved = sorted(p.name for p in folder.iterdir())
    assert len(saved) == len(icons.SIZES) and all(n.endswith(".png") for n in saved)
    cached = icons.icon("fa5s.book", "#5b6573", folder)
    for size in (18, 36):
        first = drawn.pixmap(size, size).toImage()
        again = cached.pixmap(size, size).toImage()
        assert first.size() == again.size()
        assert pixels(first) == pixels(again)
        assert any(pixels(first)), "the icon has visible pixels"
    other = icons.icon("fa5s.book", "#ffffff", folder)  # another colour is another file
    assert pixels(other.pixmap(18, 18).toImage()) != pixels(drawn.pixmap(18, 18).toImage())


def test_a_cache_folder_that_cannot_be_written_still_gives_the_icon(qapp,
                                                                    tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder would go", encoding="utf-8")
    drawn = icons.icon("fa5s.book", "#5b6573", blocked / "icons")
    assert not drawn.pixmap(18, 18).isNull()
