"""Record a Python process of this machine with py-spy for N seconds: progress, cancel, why not."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import plain_label, set_plain_text

if TYPE_CHECKING:
    from services.diagnostics.pyspy import PySpyTools, PythonProcess

NO_PYSPY = ("py-spy is not installed here. Install it beside the console (`pip install py-spy`, "
            "or `pip install backroom[profile]`) on the machine the server runs on; py-spy "
            "records only processes of the same machine.")
WHY = ("py-spy samples every thread of a running server without restarting it: on a threaded "
       "or async server it sees the request handlers that cProfile (only its own thread) "
       "misses.")


class PySpyRecorder(QGroupBox):
    """Choose a process and a duration, record, and hand the file on; runs on ``tasks``."""

    sig_recorded = pyqtSignal(object)
    """Emitted with the :class:`Path` of the speedscope file once a recording is written."""
    sig_failed = pyqtSignal(str)
    """Emitted with the words shown when a recording failed."""

    def __init__(self, tasks: Any, *, tools: PySpyTools, parent: QWidget | None = None,
                 folder: Path | None = None) -> None:
        super().__init__("Record a process with py-spy", parent)
        self._tasks = tasks
        self._tools = tools
        self._folder = folder
        self._handle: Any = None
        self.available = tools.available() and tasks is not None
        self.process_box = QComboBox()
        self.process_box.setEditable(True)
        self.process_box.setMinimumContentsLength(40)
        self.process_box.setToolTip("A process id, or one of this machine's Python processes")
        line_edit = self.process_box.lineEdit()
        assert line_edit is not None
        line_edit.setPlaceholderText("Process id (PID)")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_processes)
        self.seconds = QSpinBox()
        self.seconds.setRange(1, 600)
        self.seconds.setValue(10)
        self.seconds.setSuffix(" s")
        self.record_button = QPushButton("Record")
        self.record_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.message = plain_label(WHY)
        self.message.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(QLabel("Process"))
        row.addWidget(self.process_box, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(QLabel("for"))
        row.addWidget(self.seconds)
        row.addWidget(self.record_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self._set_running(False)
        if not self.available:
            set_plain_text(self.message, NO_PYSPY)

    @property
    def running(self) -> bool:
        return self._handle is not None and not self._handle.done \
            and not self._handle.cancelled

    def _set_running(self, running: bool) -> None:
        self.record_button.setEnabled(not running and self.available)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        self.process_box.setEnabled(not running)
        self.seconds.setEnabled(not running)

    def refresh_processes(self) -> None:
        """List this machine's Python processes (read off the GUI thread)."""
        if self._tasks is None:
            return
        self._tasks.run(lambda _state: self._tools.processes(), owner=self,
                        on_success=self._show_processes, name="python-processes")

    def _show_processes(self, processes: list[PythonProcess]) -> None:
        typed = self.process_box.currentText()
        self.process_box.clear()
        for process in processes:
            self.process_box.addItem(process.label, process.pid)
        self.process_box.setEditText(typed)

    def chosen_pid(self) -> int | None:
        text = self.process_box.currentText().strip()
        word = text.split()[0] if text else ""
        return int(word) if word.isdigit() else None

    def start(self, pid: int | None = None) -> None:
        """Record ``pid`` (the chosen process by default) for the chosen seconds."""
        pid = pid if isinstance(pid, int) and not isinstance(pid, bool) else self.chosen_pid()
        if pid is None:
            set_plain_text(self.message, "Choose a process, or type its id (PID).")
            return
        if self.running:
            return
        seconds = self.seconds.value()
        folder = self._folder or Path(tempfile.gettempdir())
        output = folder / f"py-spy-{pid}-{time.strftime('%Y%m%d-%H%M%S')}.json"

        tools = self._tools

        def work(state: Any) -> Path:
            # when cancelled, state.check() raises Cancelled: no callback is called
            return tools.record(pid, seconds, output, progress=state.progress,
                                cancelled=lambda: state.cancelled, when_cancelled=state.check)

        self._set_running(True)
        self.progress.setValue(0)
        set_plain_text(self.message, f"Starting py-spy on process {pid}…")
        self._handle = self._tasks.run(work, owner=self, on_success=self._on_recorded,
                                       on_failure=self._on_failed,
                                       on_progress=self._on_progress, name="py-spy-record")

    def cancel(self) -> None:
        if self._handle is not None and not self._handle.done:
            self._handle.cancel()
        self._set_running(False)
        set_plain_text(self.message, "Recording cancelled; nothing was written.")

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 100))
        set_plain_text(self.message, message)

    def _on_recorded(self, path: Path) -> None:
        self._set_running(False)
        set_plain_text(self.message, f"Recorded into {path}")
        self.sig_recorded.emit(path)

    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        set_plain_text(self.message, str(exc))
        self.sig_failed.emit(str(exc))
