"""Forms for one monitored thing: a source of any kind, a probe, the back end, the database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from console.profile import (
    DEFAULT_BACKEND_TIMEOUT_S,
    DEFAULT_PROBE_INTERVAL_S,
    DEFAULT_SOURCE_INTERVAL_S,
    DEFAULT_TIMEOUT_S,
    SOURCE_KINDS,
    SecretRef,
)
from ui.file_dialogs import ask_open_path
from ui.plain_text import ask, isolated, set_plain_text
from ui.theme import FAIL, OK, STALE
from ui.widgets.form_section import ExactSpinBox, FormSection
from ui.widgets.secret_field import SecretField

KIND_LABELS: dict[str, str] = {
    "prometheus": "Prometheus metrics page",
    "prometheus-server": "Prometheus server",
    "redis": "Redis cache",
    "memcached": "Memcached",
    "rabbitmq": "RabbitMQ",
    "celery-redis": "Celery on Redis",
    "database": "Database",
}

#: The fields the form shows for each kind (the schema accepts exactly these and a few
#: advanced tables, which the form keeps untouched; see ``_KEPT``).
KIND_FIELDS: dict[str, frozenset[str]] = {
    "prometheus": frozenset({"url", "interval_s", "timeout_s", "user", "password",
                             "verify_tls", "ca_bundle"}),
    "prometheus-server": frozenset({"url", "interval_s", "timeout_s", "user", "password",
                                    "selector", "verify_tls", "ca_bundle"}),
    "redis": frozenset({"url", "interval_s", "timeout_s", "password"}),
    "memcached": frozenset({"url", "interval_s", "timeout_s"}),
    "rabbitmq": frozenset({"url", "interval_s", "timeout_s", "user", "password", "queues",
                           "vhost", "verify_tls", "ca_bundle"}),
    "celery-redis": frozenset({"url", "interval_s", "timeout_s", "password", "queues"}),
    "database": frozenset({"url", "interval_s", "timeout_s", "password"}),
}
#: Advanced fields written by hand in the file, kept as they are while the kind allows them.
_KEPT: dict[str, frozenset[str]] = {
    "prometheus": frozenset({"metrics", "unit", "error_ratio_warn", "error_ratio_fail"}),
    "prometheus-server": frozenset({"metrics", "query", "unit", "error_ratio_warn",
                                    "error_ratio_fail", "group_by", "scrape_interval_s"}),
    "celery-redis": frozenset({"global_keyprefix", "sep", "priority_steps"}),
}
#: Kept for every kind: the series cap and the app the source belongs to.
_KEPT_ALWAYS = frozenset({"max_series", "app"})
_ANY_KEPT = frozenset().union(_KEPT_ALWAYS, *_KEPT.values())

URL_HINTS: dict[str, tuple[str, str]] = {
    "prometheus": ("https://shop.example.com/metrics",
                   "The /metrics page of the web app or an exporter."),
    "prometheus-server": ("http://prometheus.internal:9090",
                          "A Prometheus server: watches every web server at once."),
    "redis": ("redis://cache.internal:6379/0", "Leave the password out of the URL."),
    "memcached": ("cache.internal:11211", "host:port"),
    "rabbitmq": ("http://mq.internal:15672",
                 "The management API (http/https), or amqp:// when it is not enabled."),
    "celery-redis": ("redis://broker.internal:6379/0", "The Redis database Celery uses."),
    "database": ("postgresql+psycopg://monitor@db.internal/shop",
                 "PostgreSQL or sqlite:///path/to/file.sqlite; the password goes below."),
}

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
                 testable: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.keychain_available = keychain_available
        self.secret_prefix = "backroom"
        self.confirm: ConfirmInsecure = confirm_insecure
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
        if not checked and not self.confirm(self, self.describe()):
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


def _ref(text: Any) -> SecretRef | None:
    return SecretRef.parse(text) if isinstance(text, str) and text else None


class SourceForm(TargetForm):
    """One ``[[sources]]`` entry; the fields follow the kind."""

    def __init__(self, *, keychain_available: bool, kind: str = "prometheus",
                 parent: QWidget | None = None) -> None:
        super().__init__("", keychain_available=keychain_available, removable=True,
                         parent=parent)
        self._kept: dict[str, Any] = {}
        self.name_edit = self._line("name", "Name", "e.g. cache",
                                    "Short; alert rules and charts refer to it.")
        self.name_edit.textEdited.connect(lambda _t: self._retitle())
        self.kind_box = QComboBox()
        for kind_name in SOURCE_KINDS:
            self.kind_box.addItem(KIND_LABELS.get(kind_name, kind_name), kind_name)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.add_row("kind", "Kind", self.kind_box)
        self.url_edit = self._line("url", "URL")
        self.user_edit = self._line("user", "User")
        self.password = self._secret("password", "Password")
        self.queues_edit = self._line("queues", "Queues", "celery, emails",
                                      "Comma-separated; empty means every queue.")
        self.vhost_edit = self._line("vhost", "Virtual host", "/")
        self.selector_edit = self._line("selector", "Selector", 'job="shop"',
                                        "PromQL label matchers added to every query.")
        self.interval = self._spin("interval_s", "Every", DEFAULT_SOURCE_INTERVAL_S)
        self.timeout = self._spin("timeout_s", "Timeout", DEFAULT_TIMEOUT_S)
        self.verify, self.ca_edit = self._tls()
        self.set_kind(kind)

    @property
    def kind(self) -> str:
        return str(self.kind_box.currentData())

    def set_kind(self, kind: str) -> None:
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(kind)))
        self._apply_kind()

    def _kind_changed(self) -> None:
        self._apply_kind()
        self._changed()

    def _apply_kind(self) -> None:
        kind = self.kind
        shown = KIND_FIELDS.get(kind, frozenset())
        for key in ("url", "user", "password", "queues", "vhost", "selector", "verify_tls",
                    "ca_bundle"):
            self.set_row_visible(key, key in shown)
        self.set_label("url", "Address" if kind == "memcached" else "URL")
        placeholder, hint = URL_HINTS.get(kind, ("", ""))
        self.url_edit.setPlaceholderText(placeholder)
        self.url_edit.setToolTip(hint)
        self._retitle()

    def _retitle(self) -> None:
        name = self.name_edit.text().strip() or "New source"
        self.title.setText(f"{name} — {KIND_LABELS.get(self.kind, self.kind)}")
        self.password.set_default_name(
            f"{self.secret_prefix}/{self.name_edit.text().strip() or 'source'}")

    def describe(self) -> str:
        return f"{self.name_edit.text().strip() or 'this source'}"

    def set_secret_prefix(self, prefix: str) -> None:
        """Keychain names start with the profile's slug: 'main-street-bistro/cache'."""
        self.secret_prefix = prefix
        self._retitle()

    def load(self, data: dict[str, Any]) -> None:
        self.name_edit.setText(str(data.get("name", "")))
        self.set_kind(str(data.get("kind", "prometheus")))
        self.url_edit.setText(str(data.get("address", data.get("url", "")) or ""))
        self.user_edit.setText(str(data.get("user") or ""))
        self.password.set_ref(_ref(data.get("password")))
        queues = data.get("queues") or []
        self.queues_edit.setText(", ".join(queues) if isinstance(queues, list) else str(queues))
        self.vhost_edit.setText(str(data.get("vhost") or ""))
        self.selector_edit.setText(str(data.get("selector") or ""))
        self.interval.set_exact(float(data.get("interval_s", DEFAULT_SOURCE_INTERVAL_S)))
        self.timeout.set_exact(float(data.get("timeout_s", DEFAULT_TIMEOUT_S)))
        self._load_tls(data)
        self._kept = {k: v for k, v in data.items() if k in _ANY_KEPT}
        self._retitle()
        self.result.reset()

    def to_data(self) -> dict[str, Any]:
        """The ``[[sources]]`` table, secrets as references only."""
        kind = self.kind
        shown = KIND_FIELDS.get(kind, frozenset())
        out: dict[str, Any] = {"name": self.name_edit.text().strip(), "kind": kind}
        url = self.url_edit.text().strip()
        if kind == "memcached" and "://" not in url:
            out["address"] = url
        else:
            out["url"] = url
        out["interval_s"] = self.interval.exact()
        out["timeout_s"] = self.timeout.exact()
        if "user" in shown and self.user_edit.text().strip():
            out["user"] = self.user_edit.text().strip()
        if "password" in shown:
            ref = self.password.reference_text()
            if ref is not None:
                out["password"] = ref
        if "queues" in shown:
            queues = [q.strip() for q in self.queues_edit.text().split(",") if q.strip()]
            if queues:
                out["queues"] = queues
        if "vhost" in shown and self.vhost_edit.text().strip():
            out["vhost"] = self.vhost_edit.text().strip()
        if "selector" in shown and self.selector_edit.text().strip():
            out["selector"] = self.selector_edit.text().strip()
        if "verify_tls" in shown:
            self._put_tls(out)
        allowed = _KEPT.get(kind, frozenset()) | _KEPT_ALWAYS
        out.update({k: v for k, v in self._kept.items() if k in allowed})
        return out

    def show_problems(self, problems: dict[str, list[str]]) -> None:
        merged = dict(problems)
        if "address" in merged:  # memcached's address is the URL field
            merged.setdefault("url", []).extend(merged.pop("address"))
        super().show_problems(merged)


class ProbeForm(TargetForm):
    """One ``[[probes]]`` entry: a URL timed end to end."""

    def __init__(self, *, keychain_available: bool, parent: QWidget | None = None) -> None:
        super().__init__("New probe", keychain_available=keychain_available, removable=True,
                         parent=parent)
        self.name_edit = self._line("name", "Name", "e.g. home page")
        self.name_edit.textEdited.connect(lambda _t: self._retitle())
        self.url_edit = self._line("url", "URL", "https://shop.example.com/",
                                   "{today} becomes today's date (UTC).")
        self.expect_edit = self._line("expect_status", "Expect status", "any 2xx or 3xx",
                                      "e.g. 200 or 200, 204")
        self.token = self._secret("token", "Bearer token")
        self.interval = self._spin("interval_s", "Every", DEFAULT_PROBE_INTERVAL_S)
        self.timeout = self._spin("timeout_s", "Timeout", DEFAULT_TIMEOUT_S)
        self.verify, self.ca_edit = self._tls()

    def _retitle(self) -> None:
        name = self.name_edit.text().strip()
        self.title.setText(f"{name or 'New probe'} — HTTP probe")
        self.token.set_default_name(f"{self.secret_prefix}/{name or 'probe'}")

    def describe(self) -> str:
        return self.name_edit.text().strip() or "this probe"

    def set_secret_prefix(self, prefix: str) -> None:
        self.secret_prefix = prefix
        self._retitle()

    def load(self, data: dict[str, Any]) -> None:
        self.name_edit.setText(str(data.get("name", "")))
        self.url_edit.setText(str(data.get("url", "")))
        expect = data.get("expect_status")
        if isinstance(expect, list):
            self.expect_edit.setText(", ".join(str(v) for v in expect))
        else:
            self.expect_edit.setText("" if expect is None else str(expect))
        self.token.set_ref(_ref(data.get("token")))
        self.interval.set_exact(float(data.get("interval_s", DEFAULT_PROBE_INTERVAL_S)))
        self.timeout.set_exact(float(data.get("timeout_s", DEFAULT_TIMEOUT_S)))
        self._load_tls(data)
        self._retitle()
        self.result.reset()

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name_edit.text().strip(),
                               "url": self.url_edit.text().strip(),
                               "interval_s": self.interval.exact(),
                               "timeout_s": self.timeout.exact()}
        text = self.expect_edit.text().strip()
        if text:
            parts = [p.strip() for p in text.split(",") if p.strip()]
            out["expect_status"] = ([int(p) for p in parts] if all(p.isdigit() for p in parts)
                                    else text)
        ref = self.token.reference_text()
        if ref is not None:
            out["token"] = ref
        self._put_tls(out)
        return out


class BackendForm(TargetForm):
    """``[backend]``: the shop's REST API (bookings, orders, products, health)."""

    def __init__(self, *, keychain_available: bool, parent: QWidget | None = None) -> None:
        super().__init__("The shop's REST API", keychain_available=keychain_available,
                         removable=False, parent=parent)
        self.enabled = QCheckBox("This shop has a REST API Backroom can use")
        self.enabled.setChecked(True)
        self.enabled.clicked.connect(self._toggle)
        self.header.addWidget(self.enabled)
        self.url_edit = self._line("base_url", "Base URL", "https://shop.example.com")
        self.token = self._secret("token", "API token")
        self.timeout = self._spin("timeout_s", "Timeout", DEFAULT_BACKEND_TIMEOUT_S)
        self.verify, self.ca_edit = self._tls()

    def describe(self) -> str:
        return "the shop's REST API"

    def set_secret_prefix(self, prefix: str) -> None:
        self.secret_prefix = prefix
        self.token.set_default_name(f"{prefix}/api-token")

    def _toggle(self) -> None:
        self._apply_enabled()
        self._changed()

    def _apply_enabled(self) -> None:
        on = self.enabled.isChecked()
        for key, widget in self.fields.items():
            widget.setEnabled(on)
            self._rows[key].setEnabled(on)
        self.test_button.setEnabled(on)

    def load(self, data: dict[str, Any] | None) -> None:
        self.enabled.setChecked(data is not None)
        data = data or {}
        self.url_edit.setText(str(data.get("base_url", "")))
        self.token.set_ref(_ref(data.get("token")))
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

    def local_problems(self) -> dict[str, list[str]]:
        return super().local_problems() if self.enabled.isChecked() else {}


class DatabaseForm(TargetForm):
    """``[database]``: the shop database for direct SQL."""

    def __init__(self, *, keychain_available: bool, parent: QWidget | None = None) -> None:
        super().__init__("The shop database (direct SQL)", keychain_available=keychain_available,
                         removable=False, parent=parent)
        self.enabled = QCheckBox("Read bookings, orders and products straight from the database")
        self.enabled.clicked.connect(self._toggle)
        self.header.addWidget(self.enabled)
        placeholder, hint = URL_HINTS["database"]
        self.url_edit = self._line("url", "URL", placeholder, hint)
        self.password = self._secret("password", "Password")
        self.timeout = self._spin("timeout_s", "Timeout", DEFAULT_TIMEOUT_S)
        self.interval = self._spin("interval_s", "Health every", 30.0)
        self.kept_map: Any = None
        """``[database.map.*]`` as written in the file: kept as it is (docs/connect.md)."""

    def describe(self) -> str:
        return "the shop database"

    def set_secret_prefix(self, prefix: str) -> None:
        self.secret_prefix = prefix
        self.password.set_default_name(f"{prefix}/database")

    def _toggle(self) -> None:
        self._apply_enabled()
        self._changed()

    def _apply_enabled(self) -> None:
        on = self.enabled.isChecked()
        for key, widget in self.fields.items():
            widget.setEnabled(on)
            self._rows[key].setEnabled(on)
        self.test_button.setEnabled(on)

    def load(self, data: dict[str, Any] | None) -> None:
        self.enabled.setChecked(data is not None)
        data = data or {}
        self.url_edit.setText(str(data.get("url", "")))
        self.password.set_ref(_ref(data.get("password")))
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

    def local_problems(self) -> dict[str, list[str]]:
        return super().local_problems() if self.enabled.isChecked() else {}
