"""Celery, inside: the workers and their tasks, task rates from events, purging a queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ui.models.sweep_model import RowsTableModel
from ui.plain_text import ask, plain_label, set_plain_text
from ui.widgets.db_views import rows_table
from ui.widgets.redis_inside import duration_text

if TYPE_CHECKING:
    from services.diagnostics.celery_inside import (
        Broker,
        CeleryInside,
        CeleryReadings,
        CeleryTools,
        EventWindow,
    )

WORKER_COLUMNS = ("Worker", "Pool", "Concurrency", "Active", "Reserved", "Done since start",
                  "Queues")
TASK_COLUMNS = ("Worker", "State", "Task", "Arguments", "Running for", "Queue", "Id")
RATE_COLUMNS = ("Task", "Received", "Succeeded", "Failed", "Done per minute", "Mean runtime")
#: Seconds of events a watch listens for, by default.
WATCH_S = 10

Confirm = Callable[[QWidget, str, str], bool]


def confirm_purge(parent: QWidget, title: str, text: str) -> bool:
    return ask(parent, title, text, icon=QMessageBox.Icon.Warning)


def _box(title: str, *widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 4, 0, 0)
    heading = QLabel(title)
    heading.setStyleSheet("font-weight: 600;")
    layout.addWidget(heading)
    for widget in widgets:
        layout.addWidget(widget, 1 if not isinstance(widget, QLabel) else 0)
    return box


class CeleryInsideView(QWidget):
    """Ask the workers of each Celery broker of the profile (Refresh), watch their task
    events for a few seconds (Watch events), purge a queue (after a confirmation naming it and
    its depth). Every call runs off the GUI thread."""

    EMPTY = ("Press Refresh to ping the workers of each Celery broker and list what they run "
             "and hold; nothing is changed on the broker.")

    def __init__(self, profile: Any, tasks: Any = None, *, tools: CeleryTools,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tools = tools
        self._profile = profile
        self._tasks = tasks
        self._handle: Any = None
        self.readings = tools.empty()
        self.events: EventWindow | None = None
        self.confirm: Confirm = confirm_purge

        self.broker_combo = QComboBox()
        self.broker_combo.currentIndexChanged.connect(self._show_current)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Ping the workers and ask what they run (about 1 s)")
        self.refresh_button.clicked.connect(self.refresh)
        self.state = plain_label()
        self.state.setObjectName("muted")
        top = QHBoxLayout()
        top.addWidget(QLabel("Broker"))
        top.addWidget(self.broker_combo)
        top.addStretch(1)
        top.addWidget(self.state)
        top.addWidget(self.refresh_button)

        self.message = plain_label(self.EMPTY)
        self.message.setWordWrap(True)
        self.error = plain_label()
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        self.workers = RowsTableModel(WORKER_COLUMNS, self)
        self.task_rows = RowsTableModel(TASK_COLUMNS, self)
        self.rates = RowsTableModel(RATE_COLUMNS, self)

        self.watch_seconds = QSpinBox()
        self.watch_seconds.setRange(2, 120)
        self.watch_seconds.setValue(WATCH_S)
        self.watch_seconds.setSuffix(" s")
        self.watch_button = QPushButton("Watch events")
        self.watch_button.setToolTip("Listen to the workers' task events for this long")
        self.watch_button.clicked.connect(self.watch)
        self.rates_note = plain_label("Task rates come from Celery's task events: press "
                                      "“Watch events” to listen for a few seconds.")
        self.rates_note.setObjectName("muted")
        self.rates_note.setWordWrap(True)
        self.queue_combo = QComboBox()
        self.queue_combo.setMinimumContentsLength(16)
        self.purge_button = QPushButton("Purge queue…")
        self.purge_button.setToolTip("Delete every task waiting in the chosen queue; asks first")
        self.purge_button.clicked.connect(self.ask_purge)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Watch for"))
        actions.addWidget(self.watch_seconds)
        actions.addWidget(self.watch_button)
        actions.addStretch(1)
        actions.addWidget(QLabel("Queue"))
        actions.addWidget(self.queue_combo)
        actions.addWidget(self.purge_button)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(_box("Workers", rows_table(self.workers, 6)))
        splitter.addWidget(_box("Tasks held by the workers (active: running; reserved: "
                                "prefetched, waiting in the worker)",
                                rows_table(self.task_rows, 3)))
        splitter.addWidget(_box("Task rates by name", self.rates_note,
                                rows_table(self.rates, 0)))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        layout.addWidget(splitter, 1)
        self._fill_brokers()

    def _fill_brokers(self) -> None:
        names = [s.name for s in self._tools.sources(self._profile)]
        self.broker_combo.blockSignals(True)
        self.broker_combo.clear()
        self.broker_combo.addItems(names)
        self.broker_combo.blockSignals(False)
        for button in (self.refresh_button, self.watch_button, self.purge_button):
            button.setEnabled(bool(names))
        if not names:
            set_plain_text(self.message, "This profile has no Celery broker. Add one in "
                           "Settings (kind celery-redis or rabbitmq).")
        self._fill_queues()

    def _broker_reader(self) -> Callable[[], Broker]:
        """Resolves the chosen source's broker (its secret may come from the OS keychain,
        which can block): call it off the GUI thread."""
        profile, name, tools = self._profile, self.broker_combo.currentText(), self._tools

        def broker() -> Broker:
            brokers, problems = tools.brokers(profile)
            found = next((b for b in brokers if b.source == name), None)
            if found is None:
                raise ValueError("; ".join(p for p in problems if p.startswith(f"{name}:"))
                                 or f"no Celery source named {name}")
            return found

        return broker

    def _current(self) -> CeleryInside | None:
        name = self.broker_combo.currentText()
        return next((c for _b, c in self.readings.sources if c.source == name), None)

    def _busy(self) -> bool:
        return self._handle is not None and not self._handle.done

    def _run(self, work: Callable[[Any], Any], done: Callable[[Any], None], name: str,
             saying: str) -> None:
        if self._busy() or self._tasks is None:
            return
        set_plain_text(self.state, saying)
        for button in (self.refresh_button, self.watch_button, self.purge_button):
            button.setEnabled(False)
        self._handle = self._tasks.run(work, owner=self, on_success=lambda r: self._done(done, r),
                                       on_failure=self._failed, name=name)

    def _done(self, done: Callable[[Any], None], result: Any) -> None:
        self._handle = None  # finished: ``done`` may start the next step (depth, then purge)
        self.state.setText("")
        for button in (self.refresh_button, self.watch_button, self.purge_button):
            button.setEnabled(True)
        done(result)

    def _failed(self, exc: BaseException) -> None:
        self._done(lambda _r: None, None)
        text = str(exc) if self._tools.says_it_all(exc) else f"Celery: {exc}"
        set_plain_text(self.error, text)
        self.error.setVisible(True)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    # -- workers ---------------------------------------------------------------------------
    def refresh(self) -> None:
        profile, tools = self._profile, self._tools

        def work(state: Any) -> CeleryReadings:
            return tools.read(profile, cancelled=lambda: state.cancelled)

        self._run(work, self.show_readings, "celery-inside", "Asking the workers…")

    def show_readings(self, readings: CeleryReadings) -> None:
        self.readings = readings
        self._show_current()

    def _show_current(self) -> None:
        name = self.broker_combo.currentText()
        inside = self._current()
        problems = [p for p in self.readings.problems if p.startswith(f"{name}:")]
        if inside is not None:
            problems += list(inside.problems)
        set_plain_text(self.error, "\n".join(problems))
        self.error.setVisible(bool(problems))
        self._fill_queues()
        if inside is None:
            for model in (self.workers, self.task_rows):
                model.set_rows([])
            return
        if inside.workers:
            set_plain_text(self.message, (
                f"{len(inside.workers)} workers answered the ping at {inside.where} "
                f"(asked in {inside.waited_s:.1f} s) · {len(inside.tasks)} tasks held"))
        else:
            set_plain_text(self.message, (
                f"No worker answered the ping at {inside.where} within the wait: none is "
                "running on this broker, or they listen on another virtual host, database or "
                "key prefix."))
        self.workers.set_rows([
            (w.name, w.pool, "" if w.concurrency is None else str(w.concurrency),
             str(w.active), str(w.reserved), "" if w.processed is None else f"{w.processed:,}",
             ", ".join(w.queues)) for w in inside.workers])
        now = time.time()
        self.task_rows.set_rows(
            [(t.worker, t.state, t.name, t.args,
              duration_text(now - t.started) if t.started else "", t.queue, t.id)
             for t in inside.tasks],
            ["ok" if t.state == "active" else "" for t in inside.tasks])

    def _fill_queues(self) -> None:
        inside = self._current()
        source = next((s for s in self._tools.sources(self._profile)
                       if s.name == self.broker_combo.currentText()), None)
        queues = list(inside.queues if inside is not None else
                      ((tuple(source.queues) or ("celery",)) if source is not None else ()))
        previous = self.queue_combo.currentText()
        self.queue_combo.clear()
        self.queue_combo.addItems(queues)
        if previous in queues:
            self.queue_combo.setCurrentText(previous)

    # -- events ----------------------------------------------------------------------------
    def watch(self) -> None:
        if not self.broker_combo.currentText():
            return
        broker = self._broker_reader()
        seconds = float(self.watch_seconds.value())
        inside = self._current()
        workers = [w.name for w in inside.workers] if inside is not None else []
        known = {t.id: t.name for t in inside.tasks} if inside is not None else {}

        tools = self._tools

        def work(state: Any) -> EventWindow:
            return tools.watch_events(broker(), seconds, workers=workers, known=known,
                                      cancelled=lambda: state.cancelled)

        self._run(work, self.show_events, "celery-events",
                  f"Listening to task events for {seconds:.0f} s…")

    def show_events(self, window: EventWindow) -> None:
        self.events = window
        heard = (f"{window.events} task events from {', '.join(window.heard_from)}"
                 if window.heard_from else "no task event")
        note = f"{heard} in {window.window_s:.1f} s; {window.processed} tasks finished."
        set_plain_text(self.rates_note, note + (f"\n{window.advice}" if window.advice else ""))
        self.rates_note.setObjectName("errorText" if window.silent_workers else "muted")
        self.rates_note.setStyleSheet(self.rates_note.styleSheet())  # re-polish the name
        self.rates.set_rows([
            (r.name, f"{r.received:,}", f"{r.succeeded:,}", f"{r.failed:,}",
             f"{r.done_per_minute:,.1f}",
             "" if r.mean_runtime_s is None else f"{r.mean_runtime_s * 1000:,.0f} ms")
            for r in window.rates],
            ["fail" if r.failed else "" for r in window.rates])

    # -- purge -----------------------------------------------------------------------------
    def ask_purge(self) -> None:
        """Read the chosen queue's depth, then ask, naming the queue and the depth."""
        queue = self.queue_combo.currentText()
        if not self.broker_combo.currentText() or not queue:
            return
        reader, tools = self._broker_reader(), self._tools

        def work(_state: Any) -> tuple[Broker, int]:
            broker = reader()
            return broker, tools.queue_depth(broker, queue)

        self._run(work, lambda found: self._confirm_and_purge(found[0], queue, found[1]),
                  "celery-depth", f"Counting {queue}…")

    def _confirm_and_purge(self, broker: Broker, queue: str, depth: int) -> None:
        if depth == 0:
            set_plain_text(self.message, f"Queue {queue} on {broker.source} is empty: nothing "
                           "to purge.")
            return
        text = (f"Delete the {depth:,} tasks waiting in queue “{queue}” on {broker.source} "
                f"({broker.where})?\n\nThey will never run. Tasks the workers already hold "
                "(active or reserved) are not touched. This cannot be undone.")
        if not self.confirm(self, f"Purge {queue}?", text):
            set_plain_text(self.message, f"Nothing purged from {queue}.")
            return
        self._run(lambda _s: self._tools.purge(broker, queue), lambda n: set_plain_text(
            self.message, f"Purged {n:,} tasks from {queue} on {broker.source}."),
            "celery-purge", f"Purging {queue}…")
