"""The profile editor: a shop's back end, probes, sources, database and alerts, checked live."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.profile import SOURCE_KINDS, Profile, ProfileError, parse_profile
from ui.plain_text import plain_label, set_plain_text
from ui.profile_files import slug
from ui.theme import FAIL, WARN
from ui.widgets.alert_rules_editor import AlertRuleRow, AlertRulesEditor
from ui.widgets.connection_check import Tester, run_connection_test
from ui.widgets.probe_form import ProbeForm
from ui.widgets.profile_problems import route_problems
from ui.widgets.profile_saving import ProfileKeeper, save_with_secrets
from ui.widgets.secret_field import NO_KEYCHAIN, SecretField
from ui.widgets.shop_forms import BackendForm, DatabaseForm, GeneralForm, OptionalTargetForm
from ui.widgets.source_form import KIND_LABELS, SourceForm
from ui.widgets.target_form import ConfirmInsecure, TargetForm, confirm_insecure
from ui.worker import TaskRunner

log = logging.getLogger(__name__)


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


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

    def __init__(self, tasks: TaskRunner, *, keychain_available: bool, tester: Tester,
                 keeper: ProfileKeeper, confirm_insecure: ConfirmInsecure = confirm_insecure,
                 parent: QWidget | None = None) -> None:
        """``tester`` makes a card's connection test and ``keeper`` keeps the saved profile
        and its secrets (the root's diagnostics and local tools); ``confirm_insecure`` asks
        before a card turns TLS verification off."""
        super().__init__(parent)
        self.tasks = tasks
        self.keychain_available = keychain_available
        self._tester = tester
        self._keeper = keeper
        self._confirm_insecure = confirm_insecure
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
        self.backend = BackendForm(keychain_available=keychain_available,
                                   confirm=confirm_insecure)
        self.database = DatabaseForm(keychain_available=keychain_available,
                                     confirm=confirm_insecure)
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
            self.general.user_edit.setText(str(data.get("user") or ""))
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
        form = ProbeForm(keychain_available=self.keychain_available,
                         confirm=self._confirm_insecure)
        form.load(data)
        self._add(form, self.probe_forms, self._probe_list)
        return form

    def add_source(self, data: dict[str, Any]) -> SourceForm:
        form = SourceForm(keychain_available=self.keychain_available,
                          kind=str(data.get("kind", "prometheus")),
                          confirm=self._confirm_insecure)
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
        user = self.general.user_edit.text().strip()
        if user:
            data["user"] = user
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
        problems: list[str] = []
        profile: Profile | None = None
        try:
            profile = parse_profile(self.to_data(), origin=str(self.path or ""))
        except ProfileError as err:
            problems = list(err.problems)
        routed = route_problems(problems, forms, self.general)
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
            if isinstance(form, OptionalTargetForm) and not form.enabled.isChecked():
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

        def done(written: Path, stored_count: int) -> None:
            self._saving = False
            self.path = written
            self.dirty = False
            stored = f" {stored_count} secret{'s' if stored_count != 1 else ''} stored in " \
                     "the keychain." if stored_count else ""
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
        save_with_secrets(profile, Path(target), self.secret_fields(), self.tasks, owner=self,
                          keeper=self._keeper, on_saved=done,
                          on_failed=failed)
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
        run_connection_test(form, self.tasks, owner=self, tester=self._tester,
                            tested=self.sig_tested.emit)

    # -- navigation ----------------------------------------------------------------------------

    def show_tab(self, name: str) -> None:
        index = self._tab_names.index(name)
        self.tabs.setCurrentIndex(index)

    def alert_rows(self) -> list[AlertRuleRow]:
        return list(self.alerts.rows)
