"""The demo shop's scenario switches on the dashboard: cache, index, workers, slow endpoint,
traffic, back-end errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import escaped
from ui.theme import FAIL
from ui.worker import TaskRunner, TaskState

if TYPE_CHECKING:
    from services.shop.demo_control import DemoControl, DemoScenario

log = logging.getLogger(__name__)

#: (label, value of ``slow_endpoint``) offered in the slow-endpoint menu.
SLOW_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("none", None),
    ("/api/availability", "/api/availability"),
    ("/api/menu", "/api/menu"),
    ("/api/bookings", "/api/bookings"),
    ("/api/orders", "/api/orders"),
    ("every /api/* endpoint", "*"),
)

#: The slow endpoint's default delay: well over the demo's "Slow responses" rule (p95 above
#: 500 ms), so that making an endpoint slow fires it.
DEFAULT_SLOW_MS = 900

#: Wait this long after the last click or keystroke before sending changes.
APPLY_DELAY_MS = 350


class DemoPanel(QFrame):
    """Flip the demo shop's switches and watch the charts react.

    Every call goes through ``tasks`` (off the GUI thread); changes made while a call is
    on its way are merged and sent after it, so the shop sees them in order.
    """

    sig_applied = pyqtSignal(object)
    """Emitted with the new :class:`~services.demo_control.DemoScenario` after a change."""
    sig_failed = pyqtSignal(str)
    """Emitted with the error text when the demo shop refused or did not answer."""

    def __init__(self, control: Callable[[], DemoControl], tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self._control_factory = control
        self._control: DemoControl | None = None
        self._tasks = tasks
        self._busy = False
        self._pending: dict[str, Any] = {}
        self._loading = False
        self.scenario: DemoScenario | None = None
        self.reading = False  # the switches are being read

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        title = QLabel("Demo shop switches")
        title.setStyleSheet("font-weight: 600;")
        hint = QLabel("Break the demo on purpose and watch the charts: each change is marked "
                      "on the timeline.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(hint)

        form = QFormLayout()
        form.setContentsMargins(0, 6, 0, 0)
        self.cache = QCheckBox("on")
        self.cache.setToolTip("Off: every menu and availability read goes to the database")
        self.index = QCheckBox("present")
        self.index.setToolTip("Drops or creates ix_bookings_start_at; without it availability "
                              "scans the whole bookings table")
        self.workers = QSpinBox()
        self.workers.setRange(0, 16)
        self.workers.setToolTip("Job worker threads; too few and the queue backs up")
        self.slow_endpoint = QComboBox()
        for label, value in SLOW_CHOICES:
            self.slow_endpoint.addItem(label, value)
        self.slow_endpoint.setMinimumContentsLength(16)
        self.slow_endpoint.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.slow_ms = QSpinBox()
        self.slow_ms.setMaximumWidth(96)
        self.slow_ms.setRange(0, 10_000)
        self.slow_ms.setSingleStep(50)
        self.slow_ms.setSuffix(" ms")
        # crosses the demo's own "Slow responses" rule (p95 above 500 ms)
        self.slow_ms.setValue(DEFAULT_SLOW_MS)
        slow_row = QHBoxLayout()
        slow_row.addWidget(self.slow_endpoint, 1)
        slow_row.addWidget(self.slow_ms)
        self.traffic = QDoubleSpinBox()
        self.traffic.setRange(0, 200)
        self.traffic.setDecimals(1)
        self.traffic.setSingleStep(1.0)
        self.traffic.setSuffix(" /s")
        self.traffic.setToolTip("Simulated customers' actions per second (0 pauses them)")
        self.errors = QSpinBox()
        self.errors.setRange(0, 100)
        self.errors.setSingleStep(5)
        self.errors.setSuffix(" %")
        self.errors.setToolTip("Share of API requests the back end answers 503, as when a "
                               "dependency fails")
        form.addRow("Cache", self.cache)
        form.addRow("Booking time index", self.index)
        form.addRow("Queue workers", self.workers)
        form.addRow("Slow endpoint", slow_row)
        form.addRow("Customer traffic", self.traffic)
        form.addRow("Back-end errors", self.errors)
        layout.addLayout(form)
        self.status = QLabel("Reading the demo shop's switches…")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._set_enabled(False)

        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(APPLY_DELAY_MS)
        self._apply_timer.timeout.connect(self._send)
        self.cache.toggled.connect(lambda on: self._queue(cache=on))
        self.index.toggled.connect(lambda on: self._queue(booking_time_index=on))
        self.workers.valueChanged.connect(lambda n: self._queue(workers=n))
        self.slow_endpoint.currentIndexChanged.connect(lambda _i: self._queue_slow())
        self.slow_ms.valueChanged.connect(lambda _v: self._queue_slow())
        self.traffic.valueChanged.connect(lambda v: self._queue(traffic_rate=float(v)))
        self.errors.valueChanged.connect(lambda v: self._queue(error_ratio=v / 100))

    # -- talking to the shop --------------------------------------------------------------

    def control(self) -> DemoControl:
        if self._control is None:
            self._control = self._control_factory()
        return self._control

    def load(self) -> None:
        """Read the current switches (off the GUI thread); once at a time."""
        if self.reading:
            return
        control = self.control()
        self.reading = True

        def done(scenario: DemoScenario) -> None:
            self.reading = False
            self.status.setText("")  # an earlier "did not answer" is over
            self._show(scenario)

        def failed(exc: BaseException) -> None:
            self.reading = False
            self._failed(exc)

        self._tasks.run(lambda _s: control.scenario(), owner=self, on_success=done,
                        on_failure=failed, name="demo-scenario")

    def _queue(self, **changes: Any) -> None:
        if self._loading:
            return
        self._pending.update(changes)
        self.status.setText("Applying…")
        self._apply_timer.start()

    def _queue_slow(self) -> None:
        endpoint = self.slow_endpoint.currentData()
        self.slow_ms.setEnabled(endpoint is not None)
        if endpoint is None:
            self._queue(slow_endpoint=None, slow_ms=0)
        else:
            self._queue(slow_endpoint=endpoint, slow_ms=int(self.slow_ms.value()))

    def apply(self, **changes: Any) -> None:
        """Send changes now (as if the user had made them), e.g. ``apply(cache=False)``."""
        self._pending.update(changes)
        self._send()

    def _send(self) -> None:
        if self._busy or not self._pending:
            return
        changes, self._pending = self._pending, {}
        self._busy = True
        control = self.control()

        def work(_state: TaskState) -> DemoScenario:
            return control.set_scenario(**changes)

        def done(scenario: DemoScenario) -> None:
            self._busy = False
            self._show(scenario)
            self.status.setText("Applied: " + describe(changes))
            self.sig_applied.emit(scenario)
            if self._pending:
                self._send()

        def failed(exc: BaseException) -> None:
            self._busy = False
            self._failed(exc)

        self._tasks.run(work, owner=self, on_success=done, on_failure=failed,
                        name="demo-set-scenario")

    def _failed(self, exc: BaseException) -> None:
        text = str(exc) or type(exc).__name__
        self.status.setText(f"<span style='color:{FAIL}'>{escaped(text)}</span>")
        self.sig_failed.emit(text)

    # -- showing the switches -------------------------------------------------------------

    def _set_enabled(self, on: bool) -> None:
        for widget in (self.cache, self.index, self.workers, self.slow_endpoint, self.slow_ms,
                       self.traffic, self.errors):
            widget.setEnabled(on)

    def _show(self, scenario: DemoScenario) -> None:
        self.scenario = scenario
        self._loading = True
        try:
            self.cache.setChecked(scenario.cache)
            self.cache.setText("on" if scenario.cache else "off")
            self.index.setChecked(scenario.booking_time_index)
            self.index.setText("present" if scenario.booking_time_index else "dropped")
            self.workers.setValue(scenario.workers)
            index = self.slow_endpoint.findData(scenario.slow_endpoint)
            self.slow_endpoint.setCurrentIndex(max(index, 0))
            if scenario.slow_endpoint and scenario.slow_ms:
                self.slow_ms.setValue(scenario.slow_ms)
            self.slow_ms.setEnabled(scenario.slow_endpoint is not None)
            self.traffic.setValue(scenario.traffic_rate)
            self.errors.setValue(round(scenario.error_ratio * 100))
        finally:
            self._loading = False
        self._set_enabled(True)
        if self.status.text().startswith("Reading"):
            self.status.setText("Live switches of the demo shop.")

    def shutdown(self) -> None:
        """Stop sending; the owner of the control's HTTP session closes it."""
        self._apply_timer.stop()
        self._pending.clear()


def describe(changes: dict[str, Any]) -> str:
    """'cache off, workers 0' for a dict of scenario changes."""
    words = []
    for key, value in changes.items():
        if key == "cache":
            words.append(f"cache {'on' if value else 'off'}")
        elif key == "booking_time_index":
            words.append(f"booking index {'created' if value else 'dropped'}")
        elif key == "workers":
            words.append(f"workers {value}")
        elif key == "slow_endpoint":
            words.append(f"slow endpoint {value or 'none'}")
        elif key == "slow_ms":
            if changes.get("slow_endpoint"):
                words.append(f"+{value} ms")
        elif key == "traffic_rate":
            words.append(f"traffic {value:g}/s")
        elif key == "error_ratio":
            words.append(f"back-end errors {value:.0%}")
        else:
            words.append(f"{key} {value}")
    return ", ".join(words)
