"""A card for something Backroom connects to: its fields, "Test connection" and its result, TLS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from console.profile import SecretRef
from ui.file_dialogs import ask_open_path
from ui.plain_text import ask, isolated, set_plain_text
from ui.theme import FAIL, OK, STALE
from ui.widgets.form_section import ExactSpinBox, FormSection
from ui.widgets.secret_field import SecretField

OUTCOME_COLOURS = {"reachable": OK}

ConfirmInsecure = Callable[[QWidget, str], bool]


def confirm_insecure(parent: QWidget, what: str) -> bool:
    """Ask before turning TLS verification off; the default answer is No."""
    return ask(
        parent, "Turn off TLS verification?",
        f"Turn off certificate checks for {what}?\n\nBackroom would then talk to any server "
        "that answers at this address, including one pretending to be yours, and send it "
        "the password or token. Use this only on a network you trust, or better, give the "
        "CA bundle that signed the server's certificate.\n\nThe status bar will say that "
        "verification is off.", icon=QMessageBox.Icon.Warning)


def _seconds(default: float, maximum: float = 86_400.0) -> ExactSpinBox:
    box = ExactSpinBox(0.1, maximum, 1, " s")
    box.set_exact(default)
    return box


class TestResultLine(QLabel):
    """The outcome of "Test connection": a coloured mark, a title, what to try."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        # The detail quotes the server (its /health version, its error): never markup.
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.outcome = ""
        # The fields under it stay where they are when a result appears or clears.
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.setVisible(False)

    def set_running(self, what: str) -> None:
        self.outcome = "running"
        self.setStyleSheet(f"color: {STALE};")
        self.setText(f"Testing {what}…")
        self.setVisible(True)

    def set_result(self, outcome: str, title: str, detail: str) -> None:
        self.outcome = outcome
        colour = OUTCOME_COLOURS.get(outcome, FAIL)
        mark = "✓" if outcome == "reachable" else "✗"
        self.setStyleSheet(f"color: {colour};")
        set_plain_text(self, f"{mark} {title}" + (f" — {isolated(detail)}" if detail else ""))
        self.setVisible(True)

    def reset(self) -> None:
        self.outcome = ""
        self.clear()
        self.setVisible(False)


class TargetForm(FormSection):
    """A card for something Backroom connects to: fields, "Test connection", TLS choices."""

    sig_test = pyqtSignal()
    """Emitted when the user asks to test this connection."""
    sig_remove = pyqtSignal()
    """Emitted when the user removes this card (list items only)."""

    def __init__(self, title: str, *, keychain_available: bool, removable: bool,
                 testable: bool = True, confirm: ConfirmInsecure = confirm_insecure,
                 parent: QWidget | None = None) -> None:
        """``confirm`` asks before TLS verification is turned off."""
        super().__init__(title, parent)
        self.keychain_available = keychain_available
        self.secret_prefix = "backroom"
        self._confirm = confirm
        actions = QHBoxLayout()
        actions.addWidget(self.title, 1)
        self.header.removeWidget(self.title)
        self.test_button = QPushButton("Test connection")
        self.test_button.setToolTip("Connect once with what is typed here (nothing is saved)")
        self.test_button.clicked.connect(self.sig_test)
        self.test_button.setVisible(testable)
        actions.addWidget(self.test_button)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.sig_remove)
        self.remove_button.setVisible(removable)
        actions.addWidget(self.remove_button)
        self.header.addLayout(actions)
        self.result = TestResultLine()
        self.header.addWidget(self.result)

    # -- shared field builders -----------------------------------------------------------------

    def _line(self, key: str, label: str, placeholder: str = "", hint: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda _t: self._changed())
        self.add_row(key, label, edit, hint)
        return edit

    def _secret(self, key: str, label: str) -> SecretField:
        field = SecretField(keychain_available=self.keychain_available)
        field.sig_changed.connect(self._changed)
        self.add_row(key, label, field)
        return field

    def _spin(self, key: str, label: str, default: float) -> ExactSpinBox:
        box = _seconds(default)
        box.valueChanged.connect(lambda _v: self._changed())
        self.add_row(key, label, box)
        return box

    def _tls(self) -> tuple[QCheckBox, QLineEdit]:
        verify = QCheckBox("Check the server's certificate (recommended)")
        verify.setChecked(True)
        verify.clicked.connect(self._verify_clicked)
        self.add_row("verify_tls", "TLS", verify)
        ca_edit = QLineEdit()
        ca_edit.setPlaceholderText("the system's trusted CAs")
        ca_edit.textEdited.connect(lambda _t: self._changed())
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse_ca(ca_edit))
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(ca_edit, 1)
        row.addWidget(browse)
        self.add_row("ca_bundle", "CA bundle", box,
                     "For a server whose certificate your own CA signed (PEM file).")
        self.fields["ca_bundle"] = ca_edit
        return verify, ca_edit

    def _verify_clicked(self, checked: bool) -> None:
        verify = self.fields["verify_tls"]
        assert isinstance(verify, QCheckBox)
        if not checked and not self._confirm(self, self.describe()):
            verify.setChecked(True)
            return
        self._changed()

    def _browse_ca(self, edit: QLineEdit) -> None:
        path = ask_open_path(self, "CA bundle", "Certificates (*.pem *.crt *.cer);;All (*)",
                             start=edit.text())
        if path is not None:
            edit.setText(str(path))
            self._changed()

    def _changed(self) -> None:
        self.result.reset()
        self.sig_changed.emit()

    # -- what subclasses give ------------------------------------------------------------------

    def describe(self) -> str:
        """'cache (Redis cache)': the card's subject in a sentence."""
        return self.title.text()

    def set_secret_prefix(self, prefix: str) -> None:
        """Keychain names start with the profile's slug: 'main-street-bistro/cache'."""
        self.secret_prefix = prefix
        self._retitle()

    def _retitle(self) -> None:
        """Follow the card's name and the profile's slug: the title, the keychain name
        suggested for its secret."""

    def secret_fields(self) -> list[SecretField]:
        return [w for w in self.fields.values() if isinstance(w, SecretField)]

    def local_problems(self) -> dict[str, list[str]]:
        """Problems only the form can see (a CA file that is not there, a keychain secret
        with nothing typed)."""
        problems: dict[str, list[str]] = {}
        for key, widget in self.fields.items():
            if not self.row_visible(key):
                continue
            if isinstance(widget, SecretField) and widget.local_problem():
                problems.setdefault(key, []).append(widget.local_problem())
            path = widget.text().strip() if isinstance(widget, QLineEdit) else ""
            if key == "ca_bundle" and path and not Path(path).expanduser().is_file():
                problems.setdefault(key, []).append(
                    f"no file at {path}; choose the PEM file of the CA")
        return problems

    def _put_tls(self, out: dict[str, Any]) -> None:
        verify = self.fields["verify_tls"]
        ca = self.fields["ca_bundle"]
        assert isinstance(verify, QCheckBox) and isinstance(ca, QLineEdit)
        out["verify_tls"] = verify.isChecked()
        if ca.text().strip():
            out["ca_bundle"] = ca.text().strip()

    def _load_tls(self, data: dict[str, Any]) -> None:
        verify = self.fields["verify_tls"]
        ca = self.fields["ca_bundle"]
        assert isinstance(verify, QCheckBox) and isinstance(ca, QLineEdit)
        verify.setChecked(bool(data.get("verify_tls", True)))
        ca.setText(str(data.get("ca_bundle") or ""))


def secret_ref(text: Any) -> SecretRef | None:
    """The reference a profile's secret field holds ('keyring:NAME', 'env:NAME', a literal)."""
    return SecretRef.parse(text) if isinstance(text, str) and text else None
