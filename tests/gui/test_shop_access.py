"""What a shop will not let the console change is greyed, the reason shown as typed."""

from __future__ import annotations

from typing import Any

import pytest
from PyQt6.QtGui import QTextDocument
from PyQt6.QtWidgets import QLineEdit

from console.shop_access import EntityAccess, access_of
from ui.pages.shop_access import grey_fixed_fields
from ui.plain_text import plain_tooltip

pytestmark = pytest.mark.gui


def shown(tooltip: str) -> str:
    """The text Qt shows for a tooltip (it renders anything that looks like markup)."""
    doc = QTextDocument()
    doc.setHtml(tooltip)
    return doc.toPlainText()


def test_a_reason_from_the_shop_is_shown_as_typed(qtbot: Any) -> None:
    reason = 'orders are <b>read-only</b> & <img src="/dev/zero"> "frozen"'
    assert shown(plain_tooltip(reason)) == reason
    edit = QLineEdit()
    qtbot.add_widget(edit)
    grey_fixed_fields({"phone": edit}, EntityAccess(writable=False, why_read_only=reason))
    assert not edit.isEnabled()
    assert shown(edit.toolTip()) == reason


def test_a_repository_that_cannot_say_shares_everything() -> None:
    access = access_of(object())
    assert access.bookings is not None and access.bookings.can_edit("notes")
