"""A secret field: the OS keychain (what the editor saves), env:NAME, or a warned literal."""

from __future__ import annotations

import re

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtGui import QStandardItemModel
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from console.profile import SecretRef
from ui.plain_text import plain_label
from ui.theme import WARN

KEYRING = "keyring"
ENV = "env"
SESSION = "session"
LITERAL = "literal"
NONE = "none"

_MODES = (
    (KEYRING, "OS keychain"),
    (ENV, "Environment variable"),
    (SESSION, "This session only"),
    (LITERAL, "Written in the profile (not safe)"),
    (NONE, "None"),
)

NO_KEYCHAIN = ("No OS keychain is available here (e.g. a headless Linux session), so Backroom "
               "cannot store secrets safely. Choose “This session only” to type a secret and use "
               "it until Backroom quits, or “Environment variable” to read it from a variable "
               "set before Backroom starts.")
NO_KEYCHAIN_PROBLEM = ("there is no keychain here to read this secret from; choose "
                       "“This session only” or “Environment variable” instead")
SESSION_NOTE = ("Used until Backroom quits, never written anywhere. The profile says env:NAME: "
                "set that variable before the next start, or type the secret here again.")
LITERAL_WARNING = ("The secret will be written into the profile file as plain text: anyone "
                   "who can read the file can read it. Prefer the keychain or an environment "
                   "variable.")


def is_variable_name(text: str) -> bool:
    """Whether a shell can export a variable of this name."""
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text.strip()) is not None


def variable_name(suggestion: str) -> str:
    """An environment variable name made from a keychain name: 'main-street/cache' ->
    'MAIN_STREET_CACHE'."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", suggestion).strip("_").upper() or "BACKROOM_SECRET"
    return name if is_variable_name(name) else f"BACKROOM_{name}"


class SecretField(QWidget):
    """Where one secret lives. In keychain mode the typed value is kept only in this widget
    until the profile is saved, when the editor stores it with keyring and writes
    ``keyring:NAME`` into the file; the value itself never reaches the profile data.

    Without a keychain the keychain choice is disabled and the field says what to do
    instead; there is no silent fallback to writing the secret into the file.
    """

    sig_changed = pyqtSignal()
    """Emitted when the mode, the name or the typed value changes."""

    def __init__(self, *, keychain_available: bool, default_name: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keychain_available = keychain_available
        self._default_name = default_name
        self._original: SecretRef | None = None
        self._auto_name = True  # the name follows the suggestion until given or typed
        self.mode_box = QComboBox()
        for mode, label in _MODES:
            self.mode_box.addItem(label, mode)
        model = self.mode_box.model()
        if not keychain_available and isinstance(model, QStandardItemModel):
            item = model.item(0)
            if item is not None:
                item.setEnabled(False)
                item.setToolTip(NO_KEYCHAIN)
        self.name_edit = QLineEdit()
        self.name_edit.setMinimumWidth(160)
        self.value_edit = QLineEdit()
        self.value_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.value_edit.setMinimumWidth(140)
        self.note = plain_label()
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.mode_box.setFixedWidth(230)
        row.addWidget(self.mode_box)
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.value_edit, 1)
        self._spacer = QWidget()
        row.addWidget(self._spacer, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.name_edit.textEdited.connect(self._name_typed)
        self.value_edit.textEdited.connect(lambda _t: self.sig_changed.emit())
        self.set_ref(None)

    # -- state ---------------------------------------------------------------------------------

    def set_default_name(self, name: str) -> None:
        """The keychain entry name to suggest (e.g. 'main-street-bistro/cache'); a name
        loaded from the profile or typed by the user is kept."""
        self._default_name = name
        if self.mode() in (KEYRING, ENV, SESSION) and self._auto_name:
            self.name_edit.setText(name if self.mode() == KEYRING else variable_name(name))
            self._update()

    def _name_typed(self, _text: str) -> None:
        self._auto_name = False
        self._update()
        self.sig_changed.emit()

    def set_ref(self, ref: SecretRef | None) -> None:
        """Show a stored reference (its value, if literal, stays hidden in the field)."""
        self._original = ref
        self._auto_name = ref is None or ref.kind == "literal"
        self.value_edit.clear()
        if ref is None:
            self._select(NONE)
            self.name_edit.clear()
        elif ref.kind == "literal":
            self._select(LITERAL)
            self.name_edit.clear()
            self.value_edit.setText(ref.value)
        else:
            self._select(ref.kind)
            self.name_edit.setText(ref.name)
        self._update()

    def mode(self) -> str:
        return str(self.mode_box.currentData())

    def set_mode(self, mode: str) -> None:
        """Choose a mode as the user would (keychain is refused when there is none)."""
        if mode == KEYRING and not self.keychain_available:
            return
        self._select(mode)
        self._mode_changed()

    def _select(self, mode: str) -> None:
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(max(0, self.mode_box.findData(mode)))
        self.mode_box.blockSignals(False)

    def reference_text(self) -> str | None:
        """What the profile file gets: ``keyring:NAME``, ``env:NAME``, the literal, or None."""
        mode = self.mode()
        if mode == NONE:
            return None
        if mode == LITERAL:
            return self.value_edit.text()
        if mode == SESSION:
            return f"{ENV}:{self.name_edit.text().strip()}"
        return f"{mode}:{self.name_edit.text().strip()}"

    def session_secret(self) -> tuple[str, str] | None:
        """(variable name, value) to hold for this session, when one was typed."""
        if self.mode() == SESSION and self.value_edit.text():
            return self.name_edit.text().strip(), self.value_edit.text()
        return None

    def pending_secret(self) -> tuple[str, str] | None:
        """(keychain name, value) to store on save, when a value was typed in keychain mode."""
        if self.mode() == KEYRING and self.value_edit.text():
            return self.name_edit.text().strip(), self.value_edit.text()
        return None

    def typed_value(self) -> str | None:
        """The secret typed right now (keychain or literal mode), for a connection test."""
        if self.mode() in (KEYRING, LITERAL, SESSION) and self.value_edit.text():
            return self.value_edit.text()
        return None

    def mark_stored(self) -> None:
        """The typed value is in the keychain now: forget it here."""
        if self.mode() == KEYRING:
            self._original = SecretRef("keyring", self.name_edit.text().strip())
            self.value_edit.clear()
            self._update()

    def local_problem(self) -> str:
        """A problem the profile schema cannot see: keychain mode with nothing to store."""
        if self.mode() in (ENV, SESSION) and not is_variable_name(self.name_edit.text()):
            return ("an environment variable name has only letters, digits and _, and does "
                    "not start with a digit (e.g. BACKROOM_SHOP)")
        if self.mode() == SESSION and not self.value_edit.text():
            return "type the secret to use it in this session"
        if self.mode() != KEYRING:
            return ""
        if not self.keychain_available:
            return NO_KEYCHAIN_PROBLEM
        if not self.name_edit.text().strip():
            return "give the keychain entry a name"
        unchanged = (self._original is not None and self._original.kind == "keyring"
                     and self._original.name == self.name_edit.text().strip())
        if not unchanged and not self.value_edit.text():
            return "type the secret to store it in the keychain"
        return ""

    # -- looks ---------------------------------------------------------------------------------

    def _mode_changed(self) -> None:
        mode = self.mode()
        if mode == KEYRING and (self._auto_name or not self.name_edit.text()):
            self._auto_name = True
            self.name_edit.setText(self._default_name)
        if mode in (ENV, SESSION) and (self._auto_name
                                       or not is_variable_name(self.name_edit.text())):
            # a keychain name ('backroom/shop') cannot name a variable: BACKROOM_SHOP can
            self._auto_name = True
            self.name_edit.setText(variable_name(self._default_name))
        if mode == LITERAL:
            self.name_edit.clear()
        self._update()
        self.sig_changed.emit()

    def _update(self) -> None:
        mode = self.mode()
        self.name_edit.setVisible(mode in (KEYRING, ENV, SESSION))
        self.value_edit.setVisible(mode in (KEYRING, LITERAL, SESSION))
        self._spacer.setVisible(mode == NONE)
        self.name_edit.setPlaceholderText("keychain entry name" if mode == KEYRING
                                          else "VARIABLE_NAME")
        stored = (self._original is not None and self._original.kind == "keyring"
                  and self._original.name == self.name_edit.text().strip())
        self.value_edit.setPlaceholderText("stored — type to replace" if stored
                                           else "type the secret")
        locked = mode == KEYRING and not self.keychain_available
        self.value_edit.setEnabled(not locked)
        if locked:
            self.value_edit.setPlaceholderText("cannot be read here")
        note, colour = "", ""
        if mode == LITERAL:
            note, colour = LITERAL_WARNING, WARN
        elif mode == ENV:
            note = "Read from this environment variable when Backroom starts (for scripts)."
        elif mode == SESSION:
            note = SESSION_NOTE
        self.note.setText(note)
        self.note.setStyleSheet(f"color: {colour};" if colour else "")
        self.note.setVisible(bool(note))
        self.note.setProperty("warning", bool(colour))
