"""Someone else saved first: both versions side by side; keep mine, take theirs, or merge."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.changes import SavedBy
from console.shop import Side, diff_drafts, merge_drafts
from ui.models.formatting import when_text
from ui.plain_text import escaped, isolated, plain_label, preview

KEEP_MINE = "mine"
TAKE_THEIRS = "theirs"
MERGE = "merge"
#: The widest a value is shown (a longer line wraps, or is cut at the edge).
VALUE_WIDTH = 420


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one field of a draft is named and shown."""

    name: str
    label: str
    show: Callable[[Any], str] = str


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the user chose: ``choice`` is mine, theirs or merge; ``draft`` is what to save
    (mine, or the merge) or theirs to show."""

    choice: str
    draft: Any


class ConflictDialog(QDialog):
    """Shows my unsaved version and the one someone else saved, field by field.

    Only fields that differ are listed; each has a "use mine / use theirs" choice,
    preset to keep whatever only one side changed. Nothing is saved here: the page acts on
    :attr:`sig_resolved`.
    """

    sig_resolved = pyqtSignal(object)
    """Emitted with a :class:`Resolution` when the user picks; not emitted on Escape."""

    def __init__(self, what: str, fields: Sequence[FieldSpec], base: Any, mine: Any,
                 theirs: Any, *, theirs_note: str = "", saved_by: SavedBy | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        who = isolated(preview(saved_by.user, 80)) if saved_by and saved_by.user else ""
        self.saved_by_text = who_saved(saved_by)
        self.setWindowTitle(f"{preview(what, 200)} changed by {who or 'someone else'}")
        self.setModal(True)
        self.mine, self.theirs = mine, theirs
        self.resolution: Resolution | None = None
        specs = {f.name: f for f in fields}
        self.diffs = [d for d in diff_drafts(base, mine, theirs) if d.name in specs]
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<b>{escaped(preview(what, 200))} was saved by {escaped(self.saved_by_text)} "
            "after you opened it.</b> Nothing has been overwritten. Compare the two versions "
            "and choose what to keep." +
            (f"<br>{escaped(theirs_note)}" if theirs_note else ""))
        # Rich for our own bold; the record's name and the note are escaped.
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        for col, text in enumerate(("Field", "Your version", "Their version", "Keep")):
            head = QLabel(f"<b>{text}</b>")
            grid.addWidget(head, 0, col)
        self.choices: dict[str, QButtonGroup] = {}
        self.mine_buttons: dict[str, QRadioButton] = {}
        self.theirs_buttons: dict[str, QRadioButton] = {}
        for row, diff in enumerate(self.diffs, start=1):
            spec = specs[diff.name]
            grid.addWidget(QLabel(spec.label), row, 0)
            mine_label = plain_label(isolated(preview(_shown(spec, diff.mine))) + (
                " (changed by you)" if diff.changed_by_me else ""))
            theirs_label = plain_label(isolated(preview(_shown(spec, diff.theirs))) + (
                " (changed by them)" if diff.changed_by_them else ""))
            for label in (mine_label, theirs_label):
                label.setWordWrap(True)
                label.setMaximumWidth(VALUE_WIDTH)  # a 100 kB "word" must not widen the dialog
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(mine_label, row, 1)
            grid.addWidget(theirs_label, row, 2)
            pick = QHBoxLayout()
            group = QButtonGroup(self)
            use_mine, use_theirs = QRadioButton("Mine"), QRadioButton("Theirs")
            group.addButton(use_mine)
            group.addButton(use_theirs)
            (use_mine if diff.suggested == Side.MINE else use_theirs).setChecked(True)
            pick.addWidget(use_mine)
            pick.addWidget(use_theirs)
            holder = QWidget()
            holder.setLayout(pick)
            grid.addWidget(holder, row, 3)
            self.choices[diff.name] = group
            self.mine_buttons[diff.name] = use_mine
            self.theirs_buttons[diff.name] = use_theirs
        if not self.diffs:
            grid.addWidget(QLabel("The fields you can edit are the same in both versions; "
                                  "only the version number moved on."), 1, 0, 1, 4)
        layout.addLayout(grid)
        buttons = QHBoxLayout()
        self.keep_mine_button = QPushButton("Keep mine")
        self.keep_mine_button.setToolTip("Save your version on top of theirs")
        self.take_theirs_button = QPushButton("Take theirs")
        self.take_theirs_button.setToolTip("Drop your changes and show their version")
        self.merge_button = QPushButton("Save the merge")
        self.merge_button.setToolTip("Save the field-by-field choice above")
        self.merge_button.setProperty("primary", True)
        self.merge_button.setEnabled(bool(self.diffs))
        buttons.addStretch(1)
        for b in (self.take_theirs_button, self.keep_mine_button, self.merge_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        # Sized once from its content rather than constrained by the layout afterwards.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.resize(max(560, self.sizeHint().width()), self.sizeHint().height())
        self.keep_mine_button.clicked.connect(lambda: self._resolve(KEEP_MINE))
        self.take_theirs_button.clicked.connect(lambda: self._resolve(TAKE_THEIRS))
        self.merge_button.clicked.connect(lambda: self._resolve(MERGE))

    def merged(self) -> Any:
        """My draft and theirs combined by the choices shown."""
        choices = {name: (Side.MINE if self.mine_buttons[name].isChecked() else Side.THEIRS)
                   for name in self.choices}
        return merge_drafts(self.mine, self.theirs, choices)

    def _resolve(self, choice: str) -> None:
        draft = {KEEP_MINE: self.mine, TAKE_THEIRS: self.theirs}.get(choice)
        if choice == MERGE:
            draft = self.merged()
        self.resolution = Resolution(choice, draft)
        self.sig_resolved.emit(self.resolution)
        self.accept()


def who_saved(saved_by: SavedBy | None) -> str:
    """'Maria Rossi at Mon 07 Dec 19:42', or 'someone else' when the shop did not say."""
    if saved_by is None or not saved_by.user:
        return "someone else" + (f" at {when_text(saved_by.at)}" if saved_by and saved_by.at
                                 else "")
    who = isolated(preview(saved_by.user, 80))
    return f"{who} at {when_text(saved_by.at)}" if saved_by.at else who


def _shown(spec: FieldSpec, value: Any) -> str:
    text = spec.show(value)
    return text if text else "(empty)"
