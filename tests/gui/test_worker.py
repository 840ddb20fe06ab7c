"""The worker bridge: results, failures, progress and cancel arrive on the GUI thread."""

from __future__ import annotations

import threading

import pytest
from PyQt6.QtCore import QThread
from PyQt6.QtWidgets import QApplication

from ui.worker import TaskRunner, TaskState

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(qapp: QApplication):
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000)


def test_success_is_delivered_on_the_gui_thread(qtbot, runner: TaskRunner) -> None:
    seen: dict[str, object] = {}
    gui_thread = QThread.currentThread()

    def work(state: TaskState) -> int:
        seen["worker_thread"] = threading.current_thread().name
        return 6 * 7

    def on_success(value: int) -> None:
        seen["value"] = value
        seen["callback_on_gui"] = QThread.currentThread() is gui_thread

    runner.run(work, owner=None, on_success=on_success, name="answer")
    qtbot.waitUntil(lambda: "value" in seen, timeout=5000)
    assert seen["value"] == 42
    assert seen["callback_on_gui"] is True
    assert seen["worker_thread"] != threading.main_thread().name


def test_failure_carries_the_exception(qtbot, runner: TaskRunner) -> None:
    failures: list[BaseException] = []
    successes: list[object] = []

    def work(state: TaskState) -> None:
        raise ConnectionError("shop unreachable")

    runner.run(work, owner=None, on_success=successes.append, on_failure=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert isinstance(failures[0], ConnectionError)
    assert str(failures[0]) == "shop unreachable"
    assert successes == []


def test_progress_reports_in_order(qtbot, runner: TaskRunner) -> None:
    progress: list[tuple[float, str]] = []
    done: list[object] = []

    def work(state: TaskState) -> str:
        for step in range(1, 4):
            state.progress(step / 3, f"step {step}")
        return "done"

    runner.run(work, owner=None, on_success=done.append,
               on_progress=lambda f, m: progress.append((f, m)))
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert [m for _, m in progress] == ["step 1", "step 2", "step 3"]
    assert progress[-1][0] == pytest.approx(1.0)


def test_cancel_stops_the_task_and_drops_its_result(qtbot, runner: TaskRunner) -> None:
    started = threading.Event()
    release = threading.Event()
    steps: list[int] = []
    successes: list[object] = []
    failures: list[object] = []

    def work(state: TaskState) -> str:
        started.set()
        release.wait(5)
        for step in range(100):
            state.check()
            steps.append(step)
        return "finished"

    handle = runner.run(work, owner=None, on_success=successes.append,
                        on_failure=failures.append)
    assert started.wait(5)
    handle.cancel()
    release.set()
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert handle.cancelled
    assert steps == []
    assert successes == [] and failures == []
    assert runner.active() == 0


def test_task_never_touches_widgets_off_the_gui_thread(qtbot, runner: TaskRunner) -> None:
    """The result is applied to a widget by the callback, which runs on the GUI thread."""
    from PyQt6.QtWidgets import QLabel

    label = QLabel("loading")
    qtbot.addWidget(label)
    applied_on: list[bool] = []
    gui_thread = QThread.currentThread()

    def apply(text: str) -> None:
        applied_on.append(QThread.currentThread() is gui_thread)
        label.setText(text)

    runner.run(lambda state: "12 bookings", owner=label, on_success=apply)
    qtbot.waitUntil(lambda: label.text() == "12 bookings", timeout=5000)
    assert applied_on == [True]


def test_a_task_whose_owner_is_destroyed_is_cancelled_and_never_calls_back(
        qtbot, runner: TaskRunner) -> None:
    from PyQt6 import sip
    from PyQt6.QtWidgets import QWidget

    owner = QWidget()
    started = threading.Event()
    release = threading.Event()
    saw_cancel: list[bool] = []
    calls: list[object] = []

    def work(state: TaskState) -> str:
        started.set()
        release.wait(5)
        saw_cancel.append(state.cancelled)
        return "too late"

    handle = runner.run(work, owner=owner, on_success=calls.append, on_failure=calls.append)
    assert started.wait(5)
    owner.deleteLater()
    qtbot.waitUntil(lambda: sip.isdeleted(owner), timeout=5000)
    assert handle.cancelled
    release.set()
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert saw_cancel == [True]
    assert calls == []
    assert runner.active() == 0


def test_a_result_already_on_its_way_is_dropped_when_its_owner_goes(
        qtbot, runner: TaskRunner) -> None:
    """The pool thread has sent the result; the owner is deleted before it is delivered."""
    from PyQt6 import sip
    from PyQt6.QtWidgets import QLabel

    label = QLabel("loading")
    handle = runner.run(lambda _s: "12 bookings", owner=label, on_success=label.setText)
    assert runner._pool.waitForDone(5000)  # the result is queued, not yet delivered
    sip.delete(label)
    qtbot.waitUntil(lambda: handle.done, timeout=5000)  # no RuntimeError on the way
    assert runner.active() == 0


def test_cancel_owned_by_cancels_only_what_lies_inside(qtbot, runner: TaskRunner) -> None:
    from PyQt6.QtWidgets import QLabel, QWidget

    window = QWidget()
    qtbot.addWidget(window)
    inside = QLabel("old shop", window)
    outside = QLabel("new shop")
    qtbot.addWidget(outside)
    release = threading.Event()

    def work(_state: TaskState) -> str:
        release.wait(5)
        return "loaded"

    old = runner.run(work, owner=inside, on_success=inside.setText)
    new = runner.run(work, owner=outside, on_success=outside.setText)
    assert runner.cancel_owned_by(window) == 1
    release.set()
    qtbot.waitUntil(lambda: old.done and new.done, timeout=5000)
    assert old.cancelled and not new.cancelled
    assert inside.text() == "old shop"
    assert outside.text() == "loaded"
