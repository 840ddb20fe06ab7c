"""One ``[[probes]]`` card: a URL timed end to end, the way a customer's browser would."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QWidget

from console.profile import DEFAULT_PROBE_INTERVAL_S, DEFAULT_TIMEOUT_S
from ui.widgets.target_form import ConfirmInsecure, TargetForm, confirm_insecure, secret_ref


class ProbeForm(TargetForm):
    """One ``[[probes]]`` entry: a URL timed end to end."""

    def __init__(self, *, keychain_available: bool,
                 confirm: ConfirmInsecure = confirm_insecure,
                 parent: QWidget | None = None) -> None:
        super().__init__("New probe", keychain_available=keychain_available, removable=True,
                         confirm=confirm, parent=parent)
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

    def load(self, data: dict[str, Any]) -> None:
        self.name_edit.setText(str(data.get("name", "")))
        self.url_edit.setText(str(data.get("url", "")))
        expect = data.get("expect_status")
        if isinstance(expect, list):
            self.expect_edit.setText(", ".join(str(v) for v in expect))
        else:
            self.expect_edit.setText("" if expect is None else str(expect))
        self.token.set_ref(secret_ref(data.get("token")))
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
