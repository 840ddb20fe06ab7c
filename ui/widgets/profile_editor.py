"""The profile editor: a shop's back end, probes, sources, database and alerts, checked live."""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.profile import SOURCE_KINDS, Profile, ProfileError, SecretRef, parse_profile
from services.connection_test import check_target
from services.profiles import save_profile
from services.secrets import hold_for_session, store_secret
from ui.plain_text import plain_label, set_plain_text
from ui.theme import FAIL, WARN
from ui.widgets.alert_rules_editor import AlertRuleRow, AlertRulesEditor
from ui.widgets.form_section import FormSection
from ui.widgets.secret_field import NO_KEYCHAIN, SecretField
from ui.widgets.source_form import (
    KIND_LABELS,
    BackendForm,
    DatabaseForm,
    ProbeForm,
    SourceForm,
    TargetForm,
)

log = logging.getLogger(__name__)

_PATH = re.compile(r"(?P<section>[A-Za-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<field>[A-Za-z_]+))?")

ROLE_LABELS = (("support", "Support: everything (charts, diagnostics, alerts)"),
               ("manager", "Manager: today, bookings, orders, products, a health light"))

#: ``(target kind, dataclass) -> result`` with ``.outcome``, ``.title``, ``.detail``; runs on a
#: worker thread (services.connection_test.check_target by default).
Tester = Callable[[str, Any], Any]
#: ``(name, value) -> SecretRef`` (services.secrets.store_secret by default).
SecretStore = Callable[[str, str], SecretRef]
#: ``(profile, path) -> Path`` (services.profiles.save_profile by default).
ProfileWriter = Callable[[Profile, Path], Path]


def route_problem(problem: str) -> tuple[str, int | None, str, str]:
    """'sources[1].url: bad' -> ('sources', 1, 'url', 'bad'); top-level fields go to
    section 'general' ('name: required' -> ('general', None, 'name', 'required'))."""
    path, sep, message = problem.partition(": ")
    if not sep:
        return "general", None, "", problem
    match = _PATH.match(path)
    if match is None:
        return "general", None, "", problem
    section, index, field = match["section"], match["index"], match["field"] or ""
    if section in ("backend", "database", "probes", "sources", "alerts"):
        return section, int(index) if index is not None else None, field, message
    return "general", None, section, message


def slug(name: str) -> str:
    """'Harbour Café' -> 'harbour-cafe': for file and keychain names."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in ascii_name)
    return "-".join(part for part in cleaned.split("-") if part) or "shop"


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


class GeneralForm(FormSection):
    """The profile's name and the view it opens in."""

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


class ProfileEditor(QWidget):
    """Edits one profile as TOML data; validation is the schema's own (``parse_profile``),
    its problems shown beside the fields they name, plus what only the form can see.

    Saving stores typed secrets in the OS keychain first (the file gets ``keyring:NAME``)
    and then writes the file, both off the GUI thread. "Test connection" connects once with
    what is typed, also off the GUI thread; nothing is saved by a test.
    """

    sig_changed = pyqtSignal()
    """Emitted when the user edits anything (the editor is then dirty)."""
    sig_saved = pyqtSignal(str)
    """Emitted with the path written after a successful save."""
    sig_save_failed = pyqtSignal(str)
    """Emitted with what went wrong when a save did not happen."""
    sig_tested = pyqtSignal(str, str)
    """Emitted with (what was tested, outcome) when a connection test comes back."""

    def __init__(self, tasks: Any, *, keychain_available: bool,
                 tester: Tester | None = None, secret_store: SecretStore | None = None,
                 writer: ProfileWriter | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.keychain_available = keychain_available
        self._tester = tester
        self._secret_store = secret_store
        self._writer = writer
        self.path: Path | None = None
        self.dirty = False
        self._loading = False
        self._saving = False
        self.last_problems: list[str] = []
        self.warnings: tuple[str, ...] = ()

        self.keychain_banner = QLabel(NO_KEYCHAIN)
        self.keychain_banner.setWordWrap(True)
        self.keychain_banner.setStyleSheet(f"color: {WARN};")
        self.keychain_banner.setVisible(not keychain_available)
        self.message = plain_label()
        self.message.setWordWrap(True)
        self.message.setVisible(False)

        self.general = GeneralForm()
        self.backend = BackendForm(keychain_available=keychain_available)
        self.database = DatabaseForm(keychain_available=keychain_available)
        shop_page = QWidget()
        shop_layout = QVBoxLayout(shop_page)
        shop_layout.addWidget(self.general)
        shop_layout.addWidget(self.backend)
        shop_layout.addWidget(self.database)
        shop_layout.addStretch(1)

        self.probe_forms: list[ProbeForm] = []
        self._probe_list = QVBoxLayout()
        add_probe = QPushButton("Add probe")
        add_probe.clicked.connect(lambda: self.add_probe({}))
        probes_page = self._list_page(
            "A probe times one URL end to end, the way a customer's browser would.",
            self._probe_list, [add_probe])

        self.source_forms: list[SourceForm] = []
        self._source_list = QVBoxLayout()
        add_source = QPushButton("Add source")
        menu = QMenu(add_source)
        for kind in SOURCE_KINDS:
            action = menu.addAction(KIND_LABELS.get(kind, kind))
            if action is not None:
                action.triggered.connect(lambda _c=False, k=kind: self.add_source({"kind": k}))
        add_source.setMenu(menu)
        sources_page = self._list_page(
            "Sources are the systems behind the shop: the web app's metrics, the cache, the "
            "job queue, the database.", self._source_list, [add_source])

        self.alerts = AlertRulesEditor()
        alerts_page = QWidget()
        alerts_layout = QVBoxLayout(alerts_page)
        alerts_layout.addWidget(self.alerts)

        self.tabs = QTabWidget()
        self._scrolls = [_scroll(page) for page in (shop_page, probes_page, sources_page,
                                                    alerts_page)]
        for area, name in zip(self._scrolls, ("Shop", "Probes", "Sources", "Alerts"),
                              strict=True):
            self.tabs.addTab(area, name)
        self.tabs.currentChanged.connect(lambda _i: self._refresh_targets())
        self._tab_names = ("Shop", "Probes", "Sources", "Alerts")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.keychain_banner)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)

        for form in (self.general, self.backend, self.database):
            form.sig_changed.connect(self._changed)
        for target in (self.backend, self.database):
            target.sig_test.connect(lambda t=target: self.test_connection(t))
        self.alerts.sig_changed.connect(self._changed)
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(300)
        self._validate_timer.timeout.connect(self.validate)

    @staticmethod
    def _list_page(intro_text: str, items: QVBoxLayout, buttons: list[QPushButton]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        intro = QLabel(intro_text)
        intro.setObjectName("muted")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        items.setSpacing(10)
        layout.addLayout(items)
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    # -- loading -------------------------------------------------------------------------------

    def load(self, data: dict[str, Any], path: Path | None = None) -> None:
        """Show a profile's TOML data (from a file or ``profile_to_dict``)."""
        self._loading = True
        try:
            self.path = path
            self.general.name_edit.setText(str(data.get("name", "")))
            role = str(data.get("role", "support"))
            self.general.role_box.setCurrentIndex(max(0, self.general.role_box.findData(role)))
            backend = data.get("backend")
            self.backend.load(backend if isinstance(backend, dict) else None)
            database = data.get("database")
            self.database.load(database if isinstance(database, dict) else None)
            for probe_form in list(self.probe_forms):
                self._remove(probe_form, self.probe_forms, self._probe_list)
            for source_form in list(self.source_forms):
                self._remove(source_form, self.source_forms, self._source_list)
            for probe in data.get("probes") or []:
                self.add_probe(probe)
            for source in data.get("sources") or []:
                self.add_source(source)
            self._refresh_targets()
            self.alerts.load(list(data.get("alerts") or []))
            self._apply_prefix()
        finally:
            self._loading = False
        self.dirty = False
        self.message.setVisible(False)
        self.validate()

    def add_probe(self, data: dict[str, Any]) -> ProbeForm:
        form = ProbeForm(keychain_available=self.keychain_available)
        form.load(data)
        self._add(form, self.probe_forms, self._probe_list)
        return form

    def add_source(self, data: dict[str, Any]) -> SourceForm:
        form = SourceForm(keychain_available=self.keychain_available,
                          kind=str(data.get("kind", "prometheus")))
        form.load(data)
        self._add(form, self.source_forms, self._source_list)
        return form

    def _add(self, form: Any, forms: list[Any], layout: QVBoxLayout) -> None:
        form.set_secret_prefix(slug(self.general.name_edit.text()))
        forms.append(form)
        layout.addWidget(form)
        form.sig_changed.connect(self._changed)
        form.sig_test.connect(lambda: self.test_connection(form))
        form.sig_remove.connect(lambda: self._remove(form, forms, layout, user=True))
        if not self._loading:
            self._changed()

    def _remove(self, form: Any, forms: list[Any], layout: QVBoxLayout,
                user: bool = False) -> None:
        forms.remove(form)
        layout.removeWidget(form)
        form.deleteLater()
        if user:
            self._changed()

    def _apply_prefix(self) -> None:
        prefix = slug(self.general.name_edit.text())
        forms: list[Any] = [self.backend, self.database, *self.probe_forms, *self.source_forms]
        for form in forms:
            form.set_secret_prefix(prefix)

    def _refresh_targets(self) -> None:
        kinds = [(f.name_edit.text().strip(), "http") for f in self.probe_forms]
        kinds += [(f.name_edit.text().strip(), f.kind) for f in self.source_forms]
        self.alerts.set_targets(kinds)

    def _changed(self) -> None:
        if self._loading:
            return
        self.dirty = True
        self._apply_prefix()
        self.sig_changed.emit()
        self._validate_timer.start()

    # -- data and validation -------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The profile as TOML data, every secret as a reference (never a keychain value)."""
        data: dict[str, Any] = {"name": self.general.name_edit.text().strip(),
                                "role": str(self.general.role_box.currentData())}
        backend = self.backend.to_data()
        if backend is not None:
            data["backend"] = backend
        if self.probe_forms:
            data["probes"] = [f.to_data() for f in self.probe_forms]
        if self.source_forms:
            data["sources"] = [f.to_data() for f in self.source_forms]
        database = self.database.to_data()
        if database is not None:
            data["database"] = database
        rules = self.alerts.to_data()
        if rules:
            data["alerts"] = rules
        return data

    def _forms(self) -> dict[tuple[str, int | None], Any]:
        forms: dict[tuple[str, int | None], Any] = {("general", None): self.general,
                                                     ("backend", None): self.backend,
                                                     ("database", None): self.database}
        forms.update({("probes", i): f for i, f in enumerate(self.probe_forms)})
        forms.update({("sources", i): f for i, f in enumerate(self.source_forms)})
        forms.update({("alerts", i): r for i, r in enumerate(self.alerts.rows)})
        return forms

    def validate(self) -> Profile | None:
        """Check everything; show each problem beside its field. The profile, or None."""
        self._validate_timer.stop()
        forms = self._forms()
        routed: dict[Any, dict[str, list[str]]] = {form: {} for form in forms.values()}
        problems: list[str] = []
        profile: Profile | None = None
        try:
            profile = parse_profile(self.to_data(), origin=str(self.path or ""))
        except ProfileError as err:
            problems = list(err.problems)
        for problem in problems:
            section, index, field, message = route_problem(problem)
            form = forms.get((section, index)) or self.general
            if form is self.general and section != "general":
                field, message = "", problem
            routed[form].setdefault(field, []).append(message)
        for form in forms.values():
            if isinstance(form, TargetForm):
                for field, messages in form.local_problems().items():
                    routed[form].setdefault(field, []).extend(messages)
                    problems += [f"{form.describe()}: {m}" for m in messages]
        for form, found in routed.items():
            form.show_problems(found)
        self.last_problems = problems
        self.warnings = profile.warnings if profile is not None else ()
        self._update_tab_titles()
        return profile if not problems else None

    def _update_tab_titles(self) -> None:
        counts = [
            sum(f.problem_count() for f in (self.general, self.backend, self.database)),
            sum(f.problem_count() for f in self.probe_forms),
            sum(f.problem_count() for f in self.source_forms),
            sum(r.problem_count() for r in self.alerts.rows),
        ]
        for i, (name, count) in enumerate(zip(self._tab_names, counts, strict=True)):
            self.tabs.setTabText(i, f"{name} ⚠ {count}" if count else name)

    def reveal_first_problem(self) -> None:
        """Show the tab and scroll to the first card with a problem."""
        groups: list[list[Any]] = [[self.general, self.backend, self.database],
                                   list(self.probe_forms), list(self.source_forms),
                                   list(self.alerts.rows)]
        for tab, forms in enumerate(groups):
            for form in forms:
                if form.problem_count():
                    self.tabs.setCurrentIndex(tab)
                    self._scrolls[tab].ensureWidgetVisible(form)
                    return

    def problem_beside(self, form: Any, field: str = "") -> str:
        """The message shown beside ``field`` of ``form`` ('' when none)."""
        return str(form.problem_text(field))

    def secret_fields(self) -> list[SecretField]:
        fields: list[SecretField] = []
        for form in (self.backend, self.database, *self.probe_forms, *self.source_forms):
            if form is self.backend and not self.backend.enabled.isChecked():
                continue
            if form is self.database and not self.database.enabled.isChecked():
                continue
            fields += [f for key, f in form.fields.items()
                       if isinstance(f, SecretField) and form.row_visible(key)]
        return fields

    # -- saving --------------------------------------------------------------------------------

    def save(self, path: Path | None = None) -> bool:
        """Validate, then store typed secrets in the keychain and write the file off the GUI
        thread. False (and the problems shown) when the profile is not valid."""
        target = path or self.path
        if target is None:
            raise ValueError("save needs a path for a new profile")
        profile = self.validate()
        if profile is None:
            count = len(self.last_problems)
            self._say(f"Not saved: {count} problem{'s' if count != 1 else ''} to fix "
                      "(marked beside the fields).", FAIL)
            self.reveal_first_problem()
            self.sig_save_failed.emit("invalid")
            return False
        if self._saving:
            return False
        for field in self.secret_fields():
            held = field.session_secret()
            if held is not None:
                hold_for_session(*held)
        pending = [(field, *secret) for field in self.secret_fields()
                   if (secret := field.pending_secret()) is not None]
        store = self._secret_store or _default_store
        write = self._writer or _default_writer
        secrets = [(name, value) for _field, name, value in pending]

        def work(_state: Any) -> Path:
            for name, value in secrets:
                store(name, value)
            return write(profile, Path(target))

        def done(written: Path) -> None:
            self._saving = False
            for field, _name, _value in pending:
                field.mark_stored()
            self.path = Path(written)
            self.dirty = False
            stored = f" {len(pending)} secret{'s' if len(pending) != 1 else ''} stored in " \
                     "the keychain." if pending else ""
            warn = f" Warnings: {'; '.join(self.warnings)}" if self.warnings else ""
            self._say(f"Saved to {written}.{stored}{warn}", WARN if self.warnings else "")
            self.sig_saved.emit(str(written))

        def failed(exc: BaseException) -> None:
            self._saving = False
            log.warning("saving the profile failed: %s", exc)
            self._say(f"Not saved: {exc}", FAIL)
            self.sig_save_failed.emit(str(exc))

        self._saving = True
        self._say("Saving…", "")
        self.tasks.run(work, owner=self, on_success=done, on_failure=failed, name="save-profile")
        return True

    def show_file_problem(self, text: str) -> None:
        """Say above the form what is wrong with the file itself (not TOML, unreadable)."""
        self._say(text, FAIL)

    def _say(self, text: str, colour: str) -> None:
        set_plain_text(self.message, text)
        self.message.setStyleSheet(f"color: {colour};" if colour else "")
        self.message.setVisible(bool(text))

    # -- connection tests ----------------------------------------------------------------------

    def test_connection(self, form: TargetForm) -> None:
        """Connect once with what the card holds (typed secrets included, in memory only)."""
        target = self._target_for(form)
        if target is None:
            form.result.set_result("invalid", "Fix the fields marked first", "")
            self.sig_tested.emit(form.describe(), "invalid")
            return
        kind, item = target
        tester = self._tester or _default_tester
        form.result.set_running(form.describe())

        def done(result: Any) -> None:
            form.result.set_result(str(result.outcome), str(result.title), str(result.detail))
            self.sig_tested.emit(form.describe(), str(result.outcome))

        def failed(exc: BaseException) -> None:
            form.result.set_result("error", "Could not test", str(exc))
            self.sig_tested.emit(form.describe(), "error")

        self.tasks.run(lambda _state: tester(kind, item), owner=self, on_success=done,
                       on_failure=failed, name="connection-test")

    def _target_for(self, form: TargetForm) -> tuple[str, Any] | None:
        """(kind, parsed item) for the card, typed secrets as in-memory literals."""
        if isinstance(form, BackendForm | DatabaseForm):
            data = form.to_data()
            if data is None:
                return None
            key = "backend" if isinstance(form, BackendForm) else "database"
            doc: dict[str, Any] = {"name": "connection test", key: data}
        elif isinstance(form, ProbeForm):
            key, doc = "probes", {"name": "connection test", "probes": [form.to_data()]}
        else:
            assert isinstance(form, SourceForm)
            key, doc = "sources", {"name": "connection test", "sources": [form.to_data()]}
        try:
            profile = parse_profile(doc)
        except ProfileError as err:
            problems: dict[str, list[str]] = {}
            for problem in err.problems:
                _section, _index, field, message = route_problem(problem)
                problems.setdefault(field, []).append(message)
            form.show_problems(problems)
            return None
        secret = next((f.typed_value() for f in form.secret_fields() if f.typed_value()), None)
        if key == "backend":
            item: Any = profile.backend
            kind = "backend"
            if secret:
                item = dataclasses.replace(item, token=SecretRef.literal(secret))
        elif key == "database":
            item, kind = profile.database, "database"
            if secret:
                item = dataclasses.replace(item, password=SecretRef.literal(secret))
        elif key == "probes":
            item, kind = profile.probes[0], "probe"
            if secret:
                item = dataclasses.replace(item, token=SecretRef.literal(secret))
        else:
            item, kind = profile.sources[0], "source"
            if secret:
                item = dataclasses.replace(item, password=SecretRef.literal(secret))
        return kind, item

    # -- navigation ----------------------------------------------------------------------------

    def show_tab(self, name: str) -> None:
        index = self._tab_names.index(name)
        self.tabs.setCurrentIndex(index)

    def alert_rows(self) -> list[AlertRuleRow]:
        return list(self.alerts.rows)


def _default_store(name: str, value: str) -> SecretRef:
    return store_secret(name, value)


def _default_writer(profile: Profile, path: Path) -> Path:
    return save_profile(profile, path)


def _default_tester(kind: str, item: Any) -> Any:
    return check_target(kind, item)
