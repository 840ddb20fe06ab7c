"""The overall status light: a pending rule shows as an amber ring and outline with its time."""

from __future__ import annotations

import pytest
from PyQt6.QtGui import QColor, QImage
from PyQt6.QtWidgets import QLabel

from ui.theme import WARN
from ui.widgets.status_light import StatusLight

pytestmark = pytest.mark.gui


def amber_pixels(image: QImage, left: int = 0) -> int:
    """Pixels of the warning amber right of ``left``."""
    amber = QColor(WARN)
    count = 0
    for y in range(image.height()):
        for x in range(left, image.width()):
            c = image.pixelColor(x, y)
            if (abs(c.red() - amber.red()) + abs(c.green() - amber.green())
                    + abs(c.blue() - amber.blue())) < 40:
                count += 1
    return count


def test_pending_is_an_amber_outline_with_the_time_left(qtbot, tmp_path) -> None:
    light = StatusLight()
    qtbot.addWidget(light)
    words = "Cache hit rate low for 20 s, fires at 1 min"
    light.set_state("ok", words)
    light.adjustSize()
    plain = light.grab().toImage()
    light.set_state("pending", words)
    light.adjustSize()
    grabbed = light.grab()
    grabbed.save(str(tmp_path / "status_light_pending.png"))
    pending = grabbed.toImage()
    assert light.text() == words and light.state == "pending"
    assert light.toolTip() == words
    assert amber_pixels(plain) == 0
    # the outline round the words (not only the dot) is amber
    words_left = light.findChildren(QLabel)[1].geometry().left()
    assert amber_pixels(pending, words_left) > 2 * pending.height()
