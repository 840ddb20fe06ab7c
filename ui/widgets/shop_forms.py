"""The editor's Shop tab: the shop's name and first view, its REST API, its database."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from console.changes import default_user
from console.profile import DEFAULT_BACKEND_TIMEOUT_S, DEFAULT_TIMEOUT_S
from ui.widgets.form_section import FormSection
from ui.widgets.source_form import URL_HINTS
from ui.widgets.target_form import ConfirmInsecure, TargetForm, confirm_insecure, secret_ref

ROLE_LABELS = (("support", "Support: everything (charts, diagnostics, alerts)"),
               ("manager", "Manager: today, bookings, orders, products, a health light"))


class GeneralForm(FormSection):
    """The profile's name, the view it opens in and who its user is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("The shop", parent)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Main Street Bistro")
        self.name_edit.textEdited.connect(lambda _t: self.sig_changed.emit())
        self.add_row("name", "Name", self.name_edit, "Shown in the top bar and the title.")
        self.role_box = QComboBox()
        for role, label in ROLE_LABELS:
            self.role_box.addItem(label, role)
        self.role_box.currentIndexChanged.connect(lambda _i: self.sig_changed.emit())
        self.add_row("role", "Opens in", self.role_box,
                     "Everyone can switch views in the top bar; this is where it starts.")
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText(f"your login: {default_user() or 'none'}")
        self.user_edit.textEdited.connect(lambda _t: self.sig_changed.emit())
        self.add_row("user", "Your name", self.user_edit,
                     "Who your changes are recorded as in the shop's History.")


class OptionalTargetForm(TargetForm):
    """A card for something a shop may not have: a check box under the title turns it on;
    off, its fields are greyed, it is not tested, and the profile leaves its table out."""

    def __init__(self, title: str, switch: str, *, keychain_available: bool,
                 confirm: ConfirmInsecure = confirm_insecure,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, keychain_available=keychain_available, removable=False,
                         confirm=confirm, parent=parent)
        self.enabled = QCheckBox(switch)
        self.enabled.clicked.connect(self._toggle)
        self.header.addWidget(self.enabled)

    def _toggle(self) -> None:
        self._apply_enabled()
        self._changed()

    def _apply_enabled(self) -> None:
        on = self.enabled.isChecked()
        for key, widget in self.fields.items():
            widget.setEnabled(on)
            self._rows[key].setEnabled(on)
        self.test_button.setEnabled(on)

    def local_problems(self) -> dict[str, list[str]]:
        return super().local_problems() if self.enabled.isChecked() else {}


class BackendForm(OptionalTargetForm):
    """``[backend]``: the shop's REST API (bookings, orders, products, health)."""

    def __init__(self, *, keychain_available: bool,
                 confirm: ConfirmInsecure = confirm_insecure,
                 parent: QWidget | None = None) -> None:
        super().__init__("The shop's REST API", "This shop has a REST API Backroom can use",
                         keychain_available=keychain_available, confirm=confirm,
                         parent=parent)
        self.enabled.setChecked(True)
        self.url_edit = self._line("base_url", "Base URL", "https://shop.example.com")
        self.token = self._secret("token", "API token")
        self.timeout = self._spin("timeout_s", "Timeout", DEFAULT_BACKEND_TIMEOUT_S)
        self.verify, self.ca_edit = self._tls()

    def describe(self) -> str:
        return "the shop's REST API"

    def _retitle(self) -> None:
        self.token.set_default_name(f"{self.secret_prefix}/api-token")

    def load(self, data: dict[str, Any] | None) -> None:
        self.enabled.setChecked(data is not None)
        data = data or {}
        self.url_edit.setText(str(data.get("base_url", "")))
        self.token.set_ref(secret_ref(data.get("token")))
        self.timeout.set_exact(float(data.get("timeout_s", DEFAULT_BACKEND_TIMEOUT_S)))
        self._load_tls(data)
        self._apply_enabled()
        self.result.reset()

    def to_data(self) -> dict[str, Any] | None:
        if not self.enabled.isChecked():
            return None
        out: dict[str, Any] = {"base_url": self.url_edit.text().strip(),
                               "timeout_s": self.timeout.exact()}
        ref = self.token.reference_text()
        if ref is not None:
            out["token"] = ref
        self._put_tls(out)
        return out


class DatabaseForm(OptionalTargetForm):
    """``[database]``: the shop database for direct SQL."""

    def __init__(self, *, keychain_available: bool,
                 confirm: ConfirmInsecure = confirm_insecure,
                 parent: QWidget | None = None) -> None:
        super().__init__("The shop database (direct SQL)",
                         "Read bookings, orders and products straight from the database",
                         keychain_available=keychain_available, confirm=confirm,
                         parent=parent)
        placeholder, hint = URL_HINTS["database"]
        self.url_edit = self._line("url", "URL", placeholder, hint)
        self.password = self._secret("password", "Password")
        self.timeout = self._spin("timeout_s", "Timeout", DEFAULT_TIMEOUT_S)
        self.interval = self._spin("interval_s", "Health every", 30.0)
        self.kept_map: Any = None
        """``[database.map.*]`` as written in the file: kept as it is (docs/connect.md)."""

    def describe(self) -> str:
        return "the shop database"

    def _retitle(self) -> None:
        self.password.set_default_name(f"{self.secret_prefix}/database")

    def load(self, data: dict[str, Any] | None) -> None:
        self.enabled.setChecked(data is not None)
        data = data or {}
        self.url_edit.setText(str(data.get("url", "")))
        self.password.set_ref(secret_ref(data.get("password")))
        self.timeout.set_exact(float(data.get("timeout_s", DEFAULT_TIMEOUT_S)))
        self.interval.set_exact(float(data.get("interval_s", 30.0)))
        self.kept_map = data.get("map")
        self._apply_enabled()
        self.result.reset()

    def to_data(self) -> dict[str, Any] | None:
        if not self.enabled.isChecked():
            return None
        out: dict[str, Any] = {"url": self.url_edit.text().strip(),
                               "timeout_s": self.timeout.exact(),
                               "interval_s": self.interval.exact()}
        ref = self.password.reference_text()
        if ref is not None:
            out["password"] = ref
        if self.kept_map is not None:
            out["map"] = self.kept_map
        return out
