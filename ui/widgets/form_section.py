"""A form whose every field has its own error line beneath it, and exact number fields."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import plain_label
from ui.theme import FAIL

#: Captions share one width so the fields of stacked cards line up.
CAPTION_WIDTH = 110


class ExactSpinBox(QDoubleSpinBox):
    """A number field that gives back exactly the value it was given until the user edits
    it (so 0.123456 survives a round trip through a 3-decimal field), shown times
    ``factor`` (e.g. seconds shown as ms)."""

    def __init__(self, minimum: float = 0.0, maximum: float = 1e9, decimals: int = 2,
                 suffix: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(minimum, maximum)
        self.setDecimals(decimals)
        if suffix:
            self.setSuffix(suffix)
        self.factor = 1.0
        self._exact: float | None = None
        # The themed frame leaves no room for the arrows; typing and the wheel remain.
        self.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.valueChanged.connect(self._edited)

    def textFromValue(self, value: float) -> str:
        """'500' rather than '500.000': trailing zeros say nothing."""
        text = f"{value:.{self.decimals()}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    def set_exact(self, value: float) -> None:
        self.blockSignals(True)
        self.setValue(value * self.factor)
        self.blockSignals(False)
        self._exact = float(value)

    def set_factor(self, factor: float, suffix: str) -> None:
        """Show values times ``factor`` with ``suffix``; keeps the exact value."""
        exact = self.exact()
        self.factor = factor
        self.setSuffix(suffix)
        self.set_exact(exact)

    def exact(self) -> float:
        return self._exact if self._exact is not None else self.value() / self.factor

    def _edited(self, _value: float) -> None:
        self._exact = None


class FormSection(QFrame):
    """A titled card holding a :class:`QFormLayout`; each row's field carries an error line
    (red, hidden when empty) that :meth:`show_problems` fills by field key."""

    sig_changed = pyqtSignal()
    """Emitted whenever the user changes any field of the form."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(14, 10, 14, 12)
        self._outer.setSpacing(6)
        self.header = QVBoxLayout()
        self.title = plain_label(title)
        self.title.setStyleSheet("font-weight: 600; font-size: 14px;")
        self.header.addWidget(self.title)
        self._outer.addLayout(self.header)
        self.general_error = self._error_label()
        self._outer.addWidget(self.general_error)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setVerticalSpacing(4)
        self._outer.addLayout(self.form)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._rows: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}

    @staticmethod
    def _error_label() -> QLabel:
        label = plain_label()
        label.setObjectName("fieldError")
        label.setStyleSheet(f"color: {FAIL}; font-size: 12px;")
        label.setWordWrap(True)
        label.setVisible(False)
        return label

    def add_row(self, key: str, label: str, widget: QWidget, hint: str = "") -> QWidget:
        """Add a field with its error line; ``hint`` is a muted line under the field."""
        box = QWidget()
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        if isinstance(widget, QAbstractSpinBox | QComboBox | QCheckBox):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            layout.addWidget(widget)
        if hint:
            hint_label = QLabel(hint)
            hint_label.setProperty("muted", True)
            hint_label.setObjectName("muted")
            hint_label.setWordWrap(True)
            layout.addWidget(hint_label)
        error = self._error_label()
        layout.addWidget(error)
        caption = QLabel(label)
        caption.setMinimumWidth(CAPTION_WIDTH)
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        caption.setBuddy(widget)
        self.form.addRow(caption, box)
        self.fields[key] = widget
        self.errors[key] = error
        self._rows[key] = box
        self._labels[key] = caption
        return box

    def set_row_visible(self, key: str, visible: bool) -> None:
        self._rows[key].setVisible(visible)
        self._labels[key].setVisible(visible)

    def row_visible(self, key: str) -> bool:
        return not self._rows[key].isHidden()

    def set_label(self, key: str, text: str) -> None:
        self._labels[key].setText(text)

    def clear_problems(self) -> None:
        for label in (*self.errors.values(), self.general_error):
            label.clear()
            label.setVisible(False)

    def show_problems(self, problems: dict[str, list[str]]) -> None:
        """``problems``: field key -> messages; a key with no field (or '') goes to the
        card's general line, prefixed with the key."""
        self.clear_problems()
        general: list[str] = []
        for key, messages in problems.items():
            label = self.errors.get(key)
            if label is not None and self.row_visible(key):
                label.setText("\n".join(messages))
                label.setVisible(True)
            else:
                general += [f"{key}: {m}" if key else m for m in messages]
        if general:
            self.general_error.setText("\n".join(general))
            self.general_error.setVisible(True)

    def problem_text(self, key: str = "") -> str:
        """The error shown beside a field ('' for the card's general line)."""
        label = self.errors.get(key) if key else self.general_error
        return label.text() if label is not None else ""

    def problem_count(self) -> int:
        labels = [*self.errors.values(), self.general_error]
        return sum(1 for label in labels if label.text())
