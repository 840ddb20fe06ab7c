"""The base of a shop page that edits the chosen record: saves, refusals and conflicts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from PyQt6.QtWidgets import QWidget

from console.shop import BackendUnavailable, Conflict, NotFound, ValidationFailed
from ui.context import AppContext
from ui.pages.shop_list_page import Q, ShopListPage
from ui.pages.shop_texts import error_text
from ui.widgets.conflict_dialog import (
    KEEP_MINE,
    MERGE,
    TAKE_THEIRS,
    ConflictDialog,
    FieldSpec,
    Resolution,
)
from ui.worker import TaskState


class StoredRecord(Protocol):
    """A record the shop stores under a version, as the edit and conflict flow needs it."""

    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...

    def draft(self) -> Any: ...


class EditForm(Protocol):
    """A side panel that edits one record, as the save and conflict flow drives it."""

    base: Any
    """The draft of the record as stored when it was loaded (None for a new one)."""

    def load(self, record: Any) -> None: ...

    def fill(self, draft: Any) -> None: ...

    def show_errors(self, errors: dict[str, str]) -> None: ...

    def show_message(self, text: str, kind: str = ...) -> None: ...

    def set_busy(self, busy: bool) -> None:
        """While a save runs the buttons wait; after it, they offer what fits the form."""


E = TypeVar("E", bound=StoredRecord)


class ShopFormPage(ShopListPage[E, Q]):
    """A list page whose side panel edits the chosen record: saves off the GUI thread, the
    reasons a save failed, and the conflict dialog when someone else saved first.

    A subclass sets :attr:`form` and provides :meth:`_save_over` and :meth:`_conflict_heading`.
    """

    conflict_fields: tuple[FieldSpec, ...] = ()
    """The fields the conflict dialog compares, in the form's words."""
    gone_text = ""
    """What the form says when the record was deleted while the user edited it."""

    form: EditForm
    sig_saved: Any  # each page declares and documents its own signal

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.conflict_dialog: ConflictDialog | None = None

    # -- what each page says for itself -------------------------------------------------

    def _save_over(self, record_id: int, version: int, draft: Any) -> None:  # pragma: no cover
        """Store ``draft`` over the record at ``version`` (a conflict if it moved on)."""
        raise NotImplementedError

    def _conflict_heading(self, theirs: E) -> tuple[str, str]:  # pragma: no cover
        """The conflict dialog's name for the record, and a note on their version."""
        raise NotImplementedError

    def _show_stored(self, record: E) -> None:
        """Show ``record`` as stored now wherever the page shows it (the list's row)."""
        self.model.replace_row(record)

    # -- saving --------------------------------------------------------------------------

    def _run_save(self, fn: Callable[[TaskState], E], on_success: Callable[[E], None],
                  name: str) -> None:
        """Run a change off the GUI thread; the form's buttons wait until it ends."""
        self.form.set_busy(True)
        self.ctx.tasks.run(fn, owner=self, on_success=on_success, on_failure=self._save_failed,
                           name=name)

    def _saved(self, record: E, message: str = "Saved.") -> None:
        self.form.load(record)
        self.form.show_message(message)
        self._show_stored(record)
        self.refresh_history()
        self.sig_saved.emit(record)

    def _save_failed(self, exc: BaseException) -> None:
        self.form.set_busy(False)
        if isinstance(exc, Conflict):
            self._conflict(exc)
        elif isinstance(exc, ValidationFailed):
            self.form.show_errors(exc.errors)
        elif isinstance(exc, BackendUnavailable):
            self.show_failure(exc)
            self.form.show_message("Not saved: " + error_text(exc, self.location()) +
                                   " Your changes are still here.", "fail")
        elif isinstance(exc, NotFound):
            self.form.show_message(self.gone_text, "fail")
        else:
            # Under the page's own logger, so the log says which page could not save.
            logging.getLogger(type(self).__module__).exception(
                "saving a %s failed", self.noun, exc_info=exc)
            self.form.show_message("Not saved: " + error_text(exc, self.location()), "fail")

    def _conflict(self, conflict: Conflict) -> None:
        """Mine and theirs side by side; the user keeps one, or merges, and saves again."""
        theirs: E = conflict.theirs
        what, note = self._conflict_heading(theirs)
        dialog = ConflictDialog(what, self.conflict_fields, self.form.base, conflict.mine,
                                theirs.draft(), theirs_note=note,
                                saved_by=conflict.saved_by, parent=self)
        self.conflict_dialog = dialog
        dialog.sig_resolved.connect(lambda r: self._resolved(r, theirs))
        dialog.rejected.connect(lambda: self.form.show_message(
            f"Not saved: someone else changed this {self.noun}. Your changes are still here; "
            "press Save again to compare.", "warn") if dialog.resolution is None else None)
        dialog.open()

    def _resolved(self, resolution: Resolution, theirs: E) -> None:
        self.conflict_dialog = None
        if resolution.choice == TAKE_THEIRS:
            self.form.load(theirs)
            self._show_stored(theirs)
            self.form.show_message("Showing their version; your changes were dropped.")
        elif resolution.choice in (KEEP_MINE, MERGE):
            self.form.load(theirs)
            self.form.fill(resolution.draft)
            self._save_over(theirs.id, theirs.version, resolution.draft)
