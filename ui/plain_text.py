"""Text from outside (a shop, a server, a file) on widgets: shown as plain text, never as markup."""

from __future__ import annotations

import html
import re
from typing import Protocol

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QTextOption
from PyQt6.QtWidgets import QLabel, QMessageBox, QPlainTextEdit, QWidget

# Qt guesses "rich text" from any string that looks like HTML (QLabel, tooltips, message
# boxes): a customer named `Ana <img src=/dev/zero>` would have the image loader read
# /dev/zero on the GUI thread. Everything that can carry a shop's, a server's or a file's
# words goes through here (qutebrowser's messages: plain unless the caller says rich).

_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: The most of one outside value a dialog or a tooltip shows (the rest is counted, not shown).
PREVIEW_CHARS = 2000
#: A run without a space this long is not a word: editors wrap it anywhere (Qt spends seconds
#: looking for a word boundary in 100 kB of one "word").
LONGEST_WORD = 200


class _HasToolTip(Protocol):
    def setToolTip(self, text: str | None) -> None: ...


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that always shows its text as typed, whatever it looks like."""
    label = QLabel(parent)
    set_plain_text(label, text)
    return label


def set_plain_text(label: QLabel, text: str) -> None:
    """Show ``text`` on ``label`` literally (Qt would otherwise guess rich text)."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)


def plain_tooltip(text: str) -> str:
    """Markup of our own that a tooltip shows as ``text`` literally, spaces and lines kept
    (a very long text as its start and its length).

    A tooltip has no text format of its own: Qt guesses rich text from the string
    (``Qt.mightBeRichText``), so text it would take for markup is escaped and wrapped; text
    it would show as it is stays as it is ('' stays '': no tooltip)."""
    text = preview(text)
    if not Qt.mightBeRichText(text):  # type: ignore[attr-defined]  # (not in the stubs)
        return text
    return f'<p style="white-space:pre-wrap">{escaped(text)}</p>'


def set_plain_tooltip(item: _HasToolTip, text: str) -> None:
    """``setToolTip`` of a widget, a chart item or a table item, for outside text."""
    item.setToolTip(plain_tooltip(text))


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """``text``, or its first ``limit`` characters and how long it is in all."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters in all)"


def set_plain_editor_text(edit: QPlainTextEdit, text: str) -> None:
    """Put outside text in a text field without freezing on a giant "word"."""
    giant = any(len(word) > LONGEST_WORD for word in text.split())
    edit.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere if giant
                         else QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    edit.setPlainText(text)


def escaped(text: str) -> str:
    """An outside string to put inside markup of our own (a coloured dot and a name)."""
    return html.escape(isolated(text), quote=True)


def isolated(text: str) -> str:
    """``text`` made unable to reorder the words around it when it carries bidi controls
    (a right-to-left override in a name would otherwise run on into our own sentence)."""
    if _BIDI_CONTROLS.search(text):
        return f"\u2068{text}\u2069"
    return text


def plain_message_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
                      buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
                      default: QMessageBox.StandardButton = QMessageBox.StandardButton.NoButton,
                      ) -> QMessageBox:
    """A message box whose text is shown literally (QMessageBox.warning() would guess)."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if default != QMessageBox.StandardButton.NoButton:
        box.setDefaultButton(default)
    return box


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """A modal warning with one OK button; ``text`` may quote outside words."""
    plain_message_box(parent, QMessageBox.Icon.Warning, title, text).exec()


def ask(parent: QWidget | None, title: str, text: str, *,
        icon: QMessageBox.Icon = QMessageBox.Icon.Question) -> bool:
    """A Yes/No question whose default is No; True when the user says Yes."""
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    box = plain_message_box(parent, icon, title, text, yes | no, no)
    box.exec()
    return box.standardButton(box.clickedButton()) == yes
