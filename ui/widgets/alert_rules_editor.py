"""The profile's alert rules as editable rows, thresholds shown in ms and % where they apply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console import metrics
from console.alert_rules import BUSIER_BASELINE_S, DEFAULT_RULES, format_value
from console.profile import SEVERITIES
from ui.plain_text import plain_label
from ui.theme import FAIL
from ui.widgets.form_section import ExactSpinBox

#: The condition's columns, left to right; the name spans them on the line above.
_CONDITION = ("source", "metric", "direction", "threshold", "for_s", "severity")
#: key -> (caption row, column, column span) in a rule's grid.
_PLACES: dict[str, tuple[int, int, int]] = {
    "name": (0, 0, len(_CONDITION) - 1),
    **{key: (3, column, 1) for column, key in enumerate(_CONDITION)},
}

SEVERITY_LABELS = {"info": "Info", "warn": "Warning", "fail": "Critical"}

#: (key, caption) of each column of a rule row; the key is the profile field.
COLUMNS = (("name", "Name"), ("source", "Source"), ("metric", "Metric"),
           ("direction", "When"), ("threshold", "Threshold"), ("for_s", "For at least"),
           ("severity", "Severity"))


def unit_for(metric: str) -> tuple[float, str]:
    """(display factor, suffix): seconds are shown in ms, ratios in %."""
    base = metric.partition("{")[0].strip()
    if base in metrics.SECONDS_METRICS:
        return 1000.0, " ms"
    if base in metrics.RATIO_METRICS:
        return 100.0, " %"
    return 1.0, ""


class AlertRuleRow(QFrame):
    """One rule: name, source, metric, above/below, threshold, for, severity; each field
    with its error line beneath it."""

    sig_changed = pyqtSignal()
    """Emitted when the user edits the rule."""
    sig_remove = pyqtSignal()
    """Emitted when the user removes the rule."""

    def __init__(self, sources: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 6, 10, 6)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("what the status light says, e.g. Cache hit rate low")
        self.source_box = QComboBox()
        self.source_box.setEditable(True)
        self.set_sources(sources)
        self.metric_box = QComboBox()
        self.metric_box.setEditable(True)
        self.metric_box.addItems(metrics.STANDARD_METRICS)
        self.metric_box.setToolTip('A standard metric, optionally with labels: '
                                   'queue_depth{queue="celery"}')
        self.direction_box = QComboBox()
        self.direction_box.addItem("above", "above")
        self.direction_box.addItem("below", "below")
        self.direction_box.addItem("above × usual", "above_usual")
        self.direction_box.addItem("below × usual", "below_usual")
        self.direction_box.setToolTip("× usual: the threshold is a factor of the metric's "
                                      "median over its baseline (15 min unless the profile "
                                      "says baseline_s)")
        self.baseline_s = BUSIER_BASELINE_S
        self.threshold = ExactSpinBox(-1e12, 1e12, 3)
        self.threshold.setToolTip("Latency in milliseconds, ratios in percent")
        self.for_s = ExactSpinBox(0.0, 86_400.0, 0, " s")
        self.severity_box = QComboBox()
        for severity in SEVERITIES:
            self.severity_box.addItem(SEVERITY_LABELS.get(severity, severity), severity)
        self.severity_box.setCurrentIndex(self.severity_box.findData("warn"))
        remove = QPushButton("Remove")
        remove.clicked.connect(self.sig_remove)
        self.fields: dict[str, QWidget] = {
            "name": self.name_edit, "source": self.source_box, "metric": self.metric_box,
            "direction": self.direction_box, "threshold": self.threshold, "for_s": self.for_s,
            "severity": self.severity_box,
        }
        self.errors: dict[str, QLabel] = {}
        # The name on its own line (it is what the status light says), the condition
        # below it in columns of fixed width so the rules line up like a table.
        for key, (row, column, span) in _PLACES.items():
            head = QLabel(dict(COLUMNS)[key])
            head.setObjectName("muted")
            grid.addWidget(head, row, column, 1, span)
            grid.addWidget(self.fields[key], row + 1, column, 1, span)
            error = plain_label()
            error.setStyleSheet(f"color: {FAIL}; font-size: 12px;")
            error.setWordWrap(True)
            error.setVisible(False)
            grid.addWidget(error, row + 2, column, 1, span)
            self.errors[key] = error
        grid.addWidget(remove, 1, len(_CONDITION) - 1)
        self.general_error = plain_label()
        self.general_error.setStyleSheet(f"color: {FAIL}; font-size: 12px;")
        self.general_error.setVisible(False)
        grid.addWidget(self.general_error, 6, 0, 1, len(_CONDITION))
        for key, width in (("direction", 150), ("threshold", 120), ("for_s", 100),
                           ("severity", 110)):
            self.fields[key].setFixedWidth(width)
        for key in ("source", "metric"):
            box = self.fields[key]
            assert isinstance(box, QComboBox)
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)
        remove.setFixedWidth(110)

        self.name_edit.textEdited.connect(lambda _t: self.sig_changed.emit())
        self.source_box.currentTextChanged.connect(lambda _t: self.sig_changed.emit())
        self.metric_box.currentTextChanged.connect(self._metric_changed)
        self.direction_box.currentIndexChanged.connect(self._direction_changed)
        self.threshold.valueChanged.connect(lambda _v: self.sig_changed.emit())
        self.for_s.valueChanged.connect(lambda _v: self.sig_changed.emit())
        self.severity_box.currentIndexChanged.connect(lambda _i: self.sig_changed.emit())
        self._metric_changed(self.metric_box.currentText())

    def set_sources(self, names: Iterable[str]) -> None:
        """The probe and source names the rule may watch (the current text stays)."""
        current = self.source_box.currentText()
        self.source_box.blockSignals(True)
        self.source_box.clear()
        self.source_box.addItems(list(names))
        self.source_box.setCurrentText(current)
        self.source_box.blockSignals(False)

    def _metric_changed(self, text: str) -> None:
        factor, suffix = unit_for(text) if not self.relative else (1.0, " ×")
        self.threshold.set_factor(factor, suffix)
        self.sig_changed.emit()

    def _direction_changed(self, _index: int) -> None:
        self._metric_changed(self.metric_box.currentText())

    @property
    def relative(self) -> bool:
        """True when the threshold is a factor of the metric's usual value."""
        return str(self.direction_box.currentData()).endswith("_usual")

    def load(self, data: dict[str, Any]) -> None:
        self.name_edit.setText(str(data.get("name", "")))
        self.name_edit.setCursorPosition(0)
        self.source_box.setCurrentText(str(data.get("source", "")))
        self.metric_box.setCurrentText(str(data.get("metric", "")))
        direction = "below" if "below" in data else "above"
        baseline = float(data.get("baseline_s", 0.0) or 0.0)
        if baseline > 0:
            self.baseline_s = baseline
        self.direction_box.setCurrentIndex(self.direction_box.findData(
            f"{direction}_usual" if baseline > 0 else direction))
        self.threshold.set_exact(float(data.get(direction, 0.0) or 0.0))
        self.for_s.set_exact(float(data.get("for_s", 0.0)))
        index = self.severity_box.findData(str(data.get("severity", "warn")))
        self.severity_box.setCurrentIndex(max(index, 0))

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name_edit.text().strip(),
                               "source": self.source_box.currentText().strip(),
                               "metric": self.metric_box.currentText().strip()}
        direction = str(self.direction_box.currentData())
        out[direction.removesuffix("_usual")] = self.threshold.exact()
        if self.relative:
            out["baseline_s"] = self.baseline_s
        out["for_s"] = self.for_s.exact()
        out["severity"] = str(self.severity_box.currentData())
        return out

    def show_problems(self, problems: dict[str, list[str]]) -> None:
        general: list[str] = []
        for label in (*self.errors.values(), self.general_error):
            label.clear()
            label.setVisible(False)
        for key, messages in problems.items():
            target = "threshold" if key in ("above", "below") else key
            found = self.errors.get(target)
            if found is not None:
                found.setText("\n".join(messages))
                found.setVisible(True)
            else:
                general += messages
        if general:
            self.general_error.setText("\n".join(general))
            self.general_error.setVisible(True)

    def problem_text(self, key: str = "") -> str:
        label = self.errors.get(key) if key else self.general_error
        return label.text() if label is not None else ""

    def problem_count(self) -> int:
        return sum(1 for label in (*self.errors.values(), self.general_error) if label.text())

    def describe(self) -> str:
        data = self.to_data()
        direction = "above" if "above" in data else "below"
        if self.relative:
            return (f"{data['source']}/{data['metric']} {direction} {data[direction]:g}x "
                    "its usual")
        return (f"{data['source']}/{data['metric']} {direction} "
                f"{format_value(data['metric'].partition('{')[0], data[direction])}")


class AlertRulesEditor(QWidget):
    """Every ``[[alerts]]`` rule of the profile, with Add and Add suggested rules."""

    sig_changed = pyqtSignal()
    """Emitted when a rule is added, removed or edited."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[AlertRuleRow] = []
        self._sources: list[str] = []
        self._kinds: list[tuple[str, str]] = []
        intro = QLabel("A rule fires when a metric stays past its threshold for the time "
                       "given; it resolves once the value is back by a small margin. Firing "
                       "rules show in the status light, on the Alerts page and as a "
                       "desktop notification.")
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        self.empty = QLabel("No rules yet. “Add suggested rules” adds slow pages, errors, "
                            "a low cache hit rate and a backed-up queue for the sources "
                            "of this profile.")
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self._list = QVBoxLayout()
        self._list.setSpacing(8)
        add = QPushButton("Add rule")
        add.clicked.connect(lambda: self.add_rule({}))
        self.suggest_button = QPushButton("Add suggested rules")
        self.suggest_button.clicked.connect(self.add_suggested)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.suggest_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        layout.addWidget(self.empty)
        layout.addLayout(self._list)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def set_targets(self, kinds: list[tuple[str, str]]) -> None:
        """(name, kind) of every probe and source: what rules may watch."""
        self._kinds = list(kinds)
        self._sources = [name for name, _kind in kinds if name]
        for row in self.rows:
            row.set_sources(self._sources)

    def load(self, rules: list[dict[str, Any]]) -> None:
        for row in list(self.rows):
            self._remove(row, emit=False)
        for rule in rules:
            self.add_rule(rule, emit=False)
        self.empty.setVisible(not self.rows)

    def add_rule(self, data: dict[str, Any], emit: bool = True) -> AlertRuleRow:
        row = AlertRuleRow(self._sources)
        if data:
            row.load(data)
        elif self._sources:
            row.source_box.setCurrentText(self._sources[0])
        row.sig_changed.connect(self.sig_changed)
        row.sig_remove.connect(lambda: self._remove(row))
        self.rows.append(row)
        self._list.addWidget(row)
        self.empty.setVisible(False)
        if emit:
            self.sig_changed.emit()
        return row

    def add_suggested(self) -> int:
        """Add the default rules that fit this profile's sources and are not there yet."""
        have = {row.name_edit.text().strip() for row in self.rows}
        added = 0
        for default in DEFAULT_RULES:
            if default.name in have:
                continue
            target = next((name for name, kind in self._kinds if kind in default.kinds), None)
            if target is None:
                continue
            data: dict[str, Any] = {"name": default.name, "source": target,
                                    "metric": default.metric, "for_s": default.for_s,
                                    "severity": default.severity}
            if default.above is not None:
                data["above"] = default.above
            else:
                data["below"] = default.below
            if default.baseline_s:
                data["baseline_s"] = default.baseline_s
            self.add_rule(data, emit=False)
            added += 1
        if added:
            self.sig_changed.emit()
        return added

    def _remove(self, row: AlertRuleRow, emit: bool = True) -> None:
        self.rows.remove(row)
        self._list.removeWidget(row)
        row.deleteLater()
        self.empty.setVisible(not self.rows)
        if emit:
            self.sig_changed.emit()

    def to_data(self) -> list[dict[str, Any]]:
        return [row.to_data() for row in self.rows]
