"""The stylesheet: a control that does nothing looks it; spin and combo boxes show their arrows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PyQt6.QtGui import QColor, QImage
from PyQt6.QtWidgets import QApplication, QPushButton, QSpinBox

from ui import theme


@pytest.fixture(params=["light", "dark"])
def themed(qapp: QApplication, request: pytest.FixtureRequest) -> Iterator[theme.Theme]:
    sheet, palette = qapp.styleSheet(), qapp.palette()
    yield theme.apply(qapp, request.param)
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)


def colours(image: QImage) -> set[str]:
    return {image.pixelColor(x, y).name() for x in range(image.width())
            for y in range(image.height())}


def ink_contrast(image: QImage) -> int:
    """How far the word's darkest or lightest pixel is from the button's face."""
    face = image.pixelColor(image.width() // 6, image.height() // 2).lightness()
    return max(abs(QColor(c).lightness() - face) for c in colours(image))


def test_a_disabled_button_looks_different_from_an_enabled_one(qtbot, themed) -> None:
    enabled, disabled = QPushButton("Seat"), QPushButton("Seat")
    disabled.setEnabled(False)
    for button in (enabled, disabled):
        qtbot.add_widget(button)
        button.resize(90, 30)
    on, off = enabled.grab().toImage(), disabled.grab().toImage()
    middle = (on.width() // 6, on.height() // 2)  # inside the button, left of its word
    assert on.pixelColor(*middle) != off.pixelColor(*middle)
    # the word is drawn fainter: in the theme's disabled colour, not in the text colour
    assert ink_contrast(off) < 0.7 * ink_contrast(on)


def test_a_spin_box_draws_its_up_and_down_arrows(qtbot, themed) -> None:
    box = QSpinBox()
    qtbot.add_widget(box)
    box.resize(120, 30)
    image = box.grab().toImage()
    arrow = QColor(themed.muted).name()
    up = [(x, y) for x in range(image.width() - 18, image.width())
          for y in range(image.height() // 2) if image.pixelColor(x, y).name() == arrow]
    down = [(x, y) for x in range(image.width() - 18, image.width())
            for y in range(image.height() // 2, image.height())
            if image.pixelColor(x, y).name() == arrow]
    assert up and down
    # a triangle: the up arrow's top row is narrower than its bottom row
    rows = sorted({y for _, y in up})
    assert len([p for p in up if p[1] == rows[0]]) < len([p for p in up if p[1] == rows[-1]])


def test_seated_and_confirmed_chips_differ_in_colour() -> None:
    from console.shop import BookingStatus
    from ui.models.formatting import BOOKING_STATES

    seated = theme.state_colour(BOOKING_STATES[BookingStatus.SEATED])
    confirmed = theme.state_colour(BOOKING_STATES[BookingStatus.CONFIRMED])
    assert seated != confirmed
    # and it borrows neither the colours that mean trouble nor the selected row's blue
    assert seated not in (theme.WARN, theme.FAIL, theme.STALE, theme.LIGHT.accent,
                          theme.DARK.accent)
