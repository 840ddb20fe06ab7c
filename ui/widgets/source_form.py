"""One ``[[sources]]`` card: the fields each kind of source has, and the tables it keeps."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QComboBox, QWidget

from console.profile import DEFAULT_SOURCE_INTERVAL_S, DEFAULT_TIMEOUT_S, SOURCE_KINDS
from ui.widgets.target_form import ConfirmInsecure, TargetForm, confirm_insecure, secret_ref

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

class SourceForm(TargetForm):
    """One ``[[sources]]`` entry; the fields follow the kind."""

    def __init__(self, *, keychain_available: bool, kind: str = "prometheus",
                 confirm: ConfirmInsecure = confirm_insecure,
                 parent: QWidget | None = None) -> None:
        super().__init__("", keychain_available=keychain_available, removable=True,
                         confirm=confirm, parent=parent)
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

    def load(self, data: dict[str, Any]) -> None:
        self.name_edit.setText(str(data.get("name", "")))
        self.set_kind(str(data.get("kind", "prometheus")))
        self.url_edit.setText(str(data.get("address", data.get("url", "")) or ""))
        self.user_edit.setText(str(data.get("user") or ""))
        self.password.set_ref(secret_ref(data.get("password")))
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
