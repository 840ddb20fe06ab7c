"""The Settings page: shop profiles (list, edit, import, export) and the console's own settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QSettings, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.profile import ProfileError, parse_profile
from ui.context import AppContext
from ui.file_dialogs import ask_open_path, ask_save_path
from ui.pages.console_settings import ConsoleSettings
from ui.plain_text import ask as plain_ask
from ui.plain_text import set_plain_tooltip, warn
from ui.profile_files import read_profile_file, slug, unique_path, write_shareable
from ui.widgets.profile_editor import ProfileEditor
from ui.widgets.target_form import ConfirmInsecure, confirm_insecure

log = logging.getLogger(__name__)

#: ``(title, text) -> yes?``: asks before something is discarded or deleted.
Ask = Callable[[str, str], bool]


class SettingsPage(QWidget):
    """Profiles on the left (files in the config folder), the editor on the right; a second
    tab for the console's own settings."""

    sig_profile_saved = pyqtSignal(str)
    """Emitted with the path of a profile file just saved."""
    sig_open_profile = pyqtSignal(str)
    """Emitted with a profile path the user wants the console to switch to."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 ask: Ask | None = None, choose_open: Callable[[], str] | None = None,
                 choose_save: Callable[[str], str] | None = None,
                 confirm_insecure: ConfirmInsecure = confirm_insecure,
                 keychain: bool | None = None) -> None:
        """``ask``, ``choose_open`` (a path to import, '' for none) and ``choose_save``
        (a path to export to, from a suggested file name) default to dialogs; ``keychain``
        to whether this system has one."""
        super().__init__(parent)
        self.setObjectName("page")
        self.ctx = ctx
        self.profiles_dir = ctx.local.config_dir()
        prefs = ctx.settings
        if prefs is None:
            from ui.preferences import settings

            prefs = settings()
        self.prefs: QSettings = prefs
        self.keychain = bool(ctx.local.keychain_available() if keychain is None else keychain)
        self._ask: Ask = ask or (lambda title, text: plain_ask(self, title, text))
        self._choose_open = choose_open or self._open_dialog
        self._choose_save = choose_save or self._save_dialog

        title = QLabel("Settings")
        title.setObjectName("pageTitle")

        self.profile_list = QListWidget()
        self.profile_list.setMinimumWidth(220)
        self.profile_list.setMaximumWidth(280)
        self.profile_list.currentItemChanged.connect(self._on_select)
        self.new_button = QPushButton("New")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        self.new_button.setToolTip("Set up another shop")
        self.export_button.setToolTip("Write this profile to a file to share; secrets are "
                                      "left out (keychain and env: names stay)")
        self.new_button.clicked.connect(self.new_profile)
        self.duplicate_button.clicked.connect(self.duplicate_profile)
        self.delete_button.clicked.connect(self.delete_profile)
        self.import_button.clicked.connect(self._import_clicked)
        self.export_button.clicked.connect(self._export_clicked)
        grid = QVBoxLayout()
        first, second = QHBoxLayout(), QHBoxLayout()
        for button in (self.new_button, self.duplicate_button, self.delete_button):
            first.addWidget(button)
        for button in (self.import_button, self.export_button):
            second.addWidget(button)
        grid.addLayout(first)
        grid.addLayout(second)
        left = QVBoxLayout()
        shops = QLabel("Shops")
        shops.setStyleSheet("font-weight: 600;")
        left.addWidget(shops)
        left.addWidget(self.profile_list, 1)
        left.addLayout(grid)

        self.editor = ProfileEditor(ctx.tasks, keychain_available=self.keychain,
                                    tester=ctx.diagnostics.check_connection, keeper=ctx.local,
                                    confirm_insecure=confirm_insecure)
        self.editor.sig_changed.connect(self._editor_changed)
        self.editor.sig_saved.connect(self._saved)
        self.save_button = QPushButton("Save")
        self.save_button.setProperty("primary", True)
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert)
        self.use_button = QPushButton("Open this shop")
        self.use_button.setToolTip("Switch the console to this profile")
        self.use_button.clicked.connect(self._use_clicked)
        self.location = QLabel()
        self.location.setObjectName("muted")
        bottom = QHBoxLayout()
        bottom.addWidget(self.location, 1)
        bottom.addWidget(self.use_button)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.save_button)
        editor_box = QWidget()
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(self.editor, 1)
        editor_layout.addLayout(bottom)

        self.empty = QWidget()
        empty_layout = QVBoxLayout(self.empty)
        self.empty_text = QLabel(
            "No shop is set up yet; the console is showing the demo shop.\n\n"
            "Set up your own: give its web address, the token of its REST API and, if you "
            "like, its cache, job queue and database. "
            + ("Secrets go into the OS keychain." if self.keychain else
               "There is no OS keychain here: secrets come from environment variables."))
        self.empty_text.setObjectName("emptyState")
        self.empty_text.setWordWrap(True)
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        start = QPushButton("Set up a shop")
        start.setProperty("primary", True)
        start.clicked.connect(self.new_profile)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_text)
        empty_layout.addWidget(start, 0, Qt.AlignmentFlag.AlignCenter)
        empty_layout.addStretch(2)
        self.right = QStackedWidget()
        self.right.addWidget(editor_box)
        self.right.addWidget(self.empty)

        profiles_tab = QWidget()
        profiles_layout = QHBoxLayout(profiles_tab)
        profiles_layout.setContentsMargins(0, 8, 0, 0)
        profiles_layout.addLayout(left)
        profiles_layout.addWidget(self.right, 1)

        self.console_settings = ConsoleSettings(self.prefs, ctx, self.profiles_dir, self.keychain)
        self.tabs = QTabWidget()
        self.tabs.addTab(profiles_tab, "Shops and alerts")
        self.tabs.addTab(self.console_settings, "Appearance and data")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)

        self._current_item: QListWidgetItem | None = None
        self._listed_active: Path | None = None  # the shop in use when the list was read
        self.reload_list(select=self._active_path())

    # -- the list ------------------------------------------------------------------------------

    def _active_path(self) -> Path | None:
        origin = getattr(getattr(self.ctx.services, "profile", None), "origin", "")
        if origin and origin != "demo":
            return Path(origin).resolve()
        return None

    def reload_list(self, select: Path | None = None) -> None:
        """Read the config folder again; select ``select`` (or the first profile)."""
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        active = self._listed_active = self._active_path()
        paths = sorted(p.resolve() for p in self.profiles_dir.glob("*.toml"))
        if active is not None and active not in paths and active.is_file():
            paths.append(active)  # opened with --profile from another folder: editable too
        for path in paths:
            data, problems = read_profile_file(self.ctx.local, path)
            name = str(data.get("name") or path.stem)
            item = QListWidgetItem(name + ("  ⚠" if problems else ""))
            if path == active:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                item.setStatusTip("the profile the console is using")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            tip = str(path) + ("\n" + "\n".join(problems[:5]) if problems else "")
            set_plain_tooltip(item, tip)
            self.profile_list.addItem(item)
        self.profile_list.blockSignals(False)
        row = 0
        if select is not None:
            select = select.resolve()
            row = next((i for i in range(self.profile_list.count())
                        if Path(self.profile_list.item(i).data(Qt.ItemDataRole.UserRole))
                        == select), 0)
        self._current_item = None
        if self.profile_list.count():
            self.profile_list.setCurrentRow(row)
            self._on_select(self.profile_list.item(row), None)
        else:
            self.right.setCurrentWidget(self.empty)
        self._update_buttons()

    def names(self) -> list[str]:
        """What the list shows, top to bottom."""
        return [self.profile_list.item(i).text() for i in range(self.profile_list.count())]

    def _on_select(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is None or item is self._current_item:
            return
        if self.editor.dirty and self._current_item is not None and not self._ask(
                "Discard changes?", "This profile has changes that are not saved. "
                "Discard them?"):
            self.profile_list.blockSignals(True)
            self.profile_list.setCurrentItem(self._current_item)
            self.profile_list.blockSignals(False)
            return
        self._drop_draft(keep=item)
        self._current_item = item
        raw = item.data(Qt.ItemDataRole.UserRole)
        path = Path(raw) if raw else None
        if path is not None:
            self._load_file(path)
        self.right.setCurrentWidget(self.right.widget(0))
        self._update_buttons()

    def _load_file(self, path: Path) -> None:
        """Show a profile file in the editor; one that cannot be read as a profile opens
        empty with what is wrong, so that it can be filled in and saved over."""
        data, problems = read_profile_file(self.ctx.local, path)
        try:
            self.editor.load(data, path)
        except (TypeError, ValueError, AttributeError) as err:  # a table where a number goes
            problems = [*problems, f"{path.name}: the form cannot show it ({err})"]
            data = {}
            self.editor.load(data, path)
        if problems and not data:
            self.editor.show_file_problem(
                f"{'; '.join(problems)}. Fix the file in a text editor, or fill in the form "
                "and Save to replace it.")

    def show_profile(self, path: str) -> None:
        """Select the profile file at ``path`` (from the banner of a profile that needs
        fixing)."""
        self.tabs.setCurrentIndex(0)
        self.reload_list(select=Path(path))

    def _drop_draft(self, keep: QListWidgetItem | None = None) -> None:
        for i in reversed(range(self.profile_list.count())):
            item = self.profile_list.item(i)
            if item is not keep and not item.data(Qt.ItemDataRole.UserRole):
                self.profile_list.takeItem(i)

    def _add_draft(self, data: dict[str, Any], label: str) -> None:
        if self.editor.dirty and not self._ask("Discard changes?",
                                              "The profile open now has unsaved changes. "
                                              "Discard them?"):
            return
        self._drop_draft()
        item = QListWidgetItem(f"{label} (not saved)")
        item.setData(Qt.ItemDataRole.UserRole, "")
        self.profile_list.blockSignals(True)
        self.profile_list.addItem(item)
        self.profile_list.setCurrentItem(item)
        self.profile_list.blockSignals(False)
        self._current_item = item
        self.editor.load(data, None)
        self.editor.dirty = True
        self.right.setCurrentWidget(self.right.widget(0))
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self._current_item is not None
        saved = has and self.editor.path is not None
        self.duplicate_button.setEnabled(has)
        self.delete_button.setEnabled(saved)
        self.export_button.setEnabled(has)
        self.use_button.setEnabled(saved and not self.editor.dirty)
        self.revert_button.setEnabled(has and self.editor.dirty)
        self.save_button.setEnabled(has)
        path = self.editor.path
        self.location.setText(str(path) if path else "Not saved yet: Save puts it in "
                              f"{self.profiles_dir}")

    def _editor_changed(self) -> None:
        item = self._current_item
        if item is not None and item.data(Qt.ItemDataRole.UserRole):
            name = self.editor.general.name_edit.text().strip() or "(no name)"
            item.setText(f"{name} •")
        self._update_buttons()

    # -- actions -------------------------------------------------------------------------------

    def new_profile(self) -> None:
        """A blank profile to fill in (saved on Save)."""
        self.tabs.setCurrentIndex(0)
        self._add_draft({"name": "New shop"}, "New shop")
        self.editor.general.name_edit.setFocus()
        self.editor.general.name_edit.selectAll()

    def duplicate_profile(self) -> None:
        data = self.editor.to_data()
        data["name"] = f"{data.get('name') or 'Shop'} (copy)"
        self._add_draft(data, str(data["name"]))

    def delete_profile(self) -> None:
        path = self.editor.path
        if path is None:
            return
        name = self.editor.general.name_edit.text().strip() or path.name
        if not self._ask("Delete profile?", f"Delete the profile “{name}” ({path})?\n\n"
                        "Secrets it stored in the OS keychain stay there."):
            return
        try:
            path.unlink()
        except OSError as err:
            warn(self, "Not deleted", f"Could not delete {path}: {err}")
            return
        self.editor.dirty = False
        self.reload_list()

    def save(self) -> bool:
        """Save the profile open in the editor (a new one gets a file in the config folder)."""
        if self._current_item is None:
            return False
        path = self.editor.path or unique_path(self.profiles_dir,
                                               self.editor.general.name_edit.text())
        return self.editor.save(path)

    def _saved(self, path: str) -> None:
        saved = Path(path)
        self.editor.dirty = False
        self._apply_live(saved)
        self.reload_list(select=saved)
        self.sig_profile_saved.emit(path)

    def _apply_live(self, path: Path) -> None:
        """Alert rules of the profile in use take effect at once."""
        if path != self._active_path():
            return
        alerts = self.ctx.alerts
        if alerts is None:
            return
        try:
            profile = parse_profile(self.editor.to_data(), origin=str(path))
        except ProfileError:
            return
        alerts.set_rules(profile.alerts)

    def revert(self) -> None:
        path = self.editor.path
        if path is None:
            self.editor.dirty = False
            self.reload_list()
            return
        self._load_file(path)
        data, _problems = read_profile_file(self.ctx.local, path)
        if self._current_item is not None:
            self._current_item.setText(str(data.get("name") or path.stem))
        self._update_buttons()

    def import_profile(self, path: Path) -> bool:
        """Open a profile file as a new, unsaved profile (checked before it is kept)."""
        data, problems = read_profile_file(self.ctx.local, path)
        if not data:
            warn(self, "Not imported", "\n".join(problems))
            return False
        self.tabs.setCurrentIndex(0)
        self._add_draft(data, str(data.get("name") or path.stem))
        return True

    def export_profile(self, path: Path) -> bool:
        """Write the open profile to ``path`` with literal secrets left out."""
        try:
            profile = parse_profile(self.editor.to_data())
        except ProfileError:
            self.editor.validate()
            self.editor.message.setText("Not exported: fix the problems marked first.")
            self.editor.message.setVisible(True)
            return False
        try:
            write_shareable(self.ctx.local, profile, path)
        except OSError as err:
            self.editor.message.setText(f"Not exported: {err}")
            self.editor.message.setVisible(True)
            return False
        self.editor.message.setText(f"Exported to {path} (secrets left out).")
        self.editor.message.setStyleSheet("")
        self.editor.message.setVisible(True)
        return True

    def _import_clicked(self) -> None:
        chosen = self._choose_open()
        if chosen:
            self.import_profile(Path(chosen))

    def _export_clicked(self) -> None:
        name = slug(self.editor.general.name_edit.text()) + ".toml"
        chosen = self._choose_save(name)
        if chosen:
            self.export_profile(Path(chosen))

    def _open_dialog(self) -> str:
        path = ask_open_path(self, "Import a profile", "Profiles (*.toml);;All files (*)")
        return "" if path is None else str(path)

    def _save_dialog(self, name: str) -> str:
        path = ask_save_path(self, "Export the profile", name, "Profiles (*.toml)")
        return "" if path is None else str(path)

    def _use_clicked(self) -> None:
        if self.editor.path is not None:
            self.sig_open_profile.emit(str(self.editor.path))

    # -- page protocol -------------------------------------------------------------------------

    def open_alert_rules(self) -> None:
        """Show the rules of the profile in use (from the Alerts page's "Edit rules")."""
        self.tabs.setCurrentIndex(0)
        active = self._active_path()
        if active is not None and self.editor.path != active:
            self.reload_list(select=active)
        self.editor.show_tab("Alerts")

    def refresh(self) -> None:
        if not self.editor.dirty:
            # The shop in use changed since the list was read (the services start after the
            # window, or the top bar switched shops): show that one; else keep the selection.
            active = self._active_path()
            self.reload_list(select=active if active != self._listed_active
                             else self.editor.path)
