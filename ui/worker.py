"""The one way to run blocking work off the GUI thread: a QThreadPool task with callbacks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PyQt6 import sip
from PyQt6.QtCore import QMetaObject, QObject, QRunnable, QThreadPool, pyqtSignal

log = logging.getLogger(__name__)

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a task by :meth:`TaskState.check` once the user has cancelled it."""


class TaskState:
    """Handed to the task function: lets it report progress and see a cancel request.

    The task function runs on a pool thread and must never touch a widget; it talks to the
    GUI only through this object, whose signals Qt delivers on the GUI thread.
    """

    def __init__(self, bridge: _Bridge) -> None:
        self._bridge = bridge
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the task was cancelled; call it between steps."""
        if self._cancel.is_set():
            raise Cancelled

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1) with a short message; delivered on the GUI thread."""
        if not self._cancel.is_set():
            self._bridge.sig_progress.emit(float(fraction), message)


class _Bridge(QObject):
    """Carries a task's outcome from the pool thread to the GUI thread (queued signals)."""

    sig_success = pyqtSignal(object)
    """Emitted with the task's return value."""
    sig_failure = pyqtSignal(object)
    """Emitted with the exception the task raised."""
    sig_progress = pyqtSignal(float, str)
    """Emitted with (fraction 0..1, message) while the task runs."""
    sig_finished = pyqtSignal()
    """Emitted last, whatever the outcome (also after a cancel)."""


class TaskHandle(Generic[T]):
    """What :meth:`TaskRunner.run` returns: cancel the task, ask whether it is done."""

    def __init__(self, name: str, state: TaskState, bridge: _Bridge,
                 owner: QObject | None) -> None:
        self.name = name
        self.owner = owner
        self._state = state
        self._bridge = bridge
        self.done = False

    def cancel(self) -> None:
        """Ask the task to stop; its success/failure callbacks will not be called."""
        self._state._cancel.set()

    def owned_by(self, root: QObject) -> bool:
        """True if this task's owner is ``root`` or lies inside it (a child, grandchild...)."""
        obj = self.owner
        while obj is not None and not sip.isdeleted(obj):
            if obj is root:
                return True
            obj = obj.parent()
        return False

    def _callbacks_wanted(self) -> bool:
        """Callbacks go only to a task that was not cancelled and whose owner still exists."""
        return not self._state.cancelled and (self.owner is None
                                              or not sip.isdeleted(self.owner))

    @property
    def cancelled(self) -> bool:
        return self._state.cancelled

    @property
    def sig_finished(self) -> Any:
        return self._bridge.sig_finished


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[TaskState], Any], state: TaskState, bridge: _Bridge,
                 name: str) -> None:
        super().__init__()
        self._fn = fn
        self._state = state
        self._bridge = bridge
        self._name = name

    def run(self) -> None:
        threading.current_thread().name = f"task-{self._name}"
        try:
            result = self._fn(self._state)
        except Cancelled:
            pass
        except Exception as exc:
            if not self._state.cancelled:
                log.debug("task %s failed: %s", self._name, exc)
                self._bridge.sig_failure.emit(exc)
        else:
            if not self._state.cancelled:
                self._bridge.sig_success.emit(result)
        finally:
            self._bridge.sig_finished.emit()


class TaskRunner(QObject):
    """Runs functions on a QThreadPool and calls back on the GUI thread.

    ``run(fn, owner=widget, on_success=..., on_failure=..., on_progress=...)``: ``fn(state)``
    runs on a pool thread; the callbacks run on the GUI thread. Every task belongs to the
    widget (or model) that ran it, as Anki's ``QueryOp(parent=...)`` does: once the owner is
    destroyed the task is cancelled and no callback of it is called, so a result arriving
    after its page has gone never reaches a deleted Qt object. Cancelled tasks call neither
    ``on_success`` nor ``on_failure``.
    """

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._live: set[TaskHandle[Any]] = set()

    def run(
        self,
        fn: Callable[[TaskState], T],
        *,
        owner: QObject | None,
        on_success: Callable[[T], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        name: str = "work",
    ) -> TaskHandle[T]:
        bridge = _Bridge()
        # The bridge lives on the GUI thread, so queued signals land there.
        bridge.moveToThread(self.thread())
        state = TaskState(bridge)
        handle: TaskHandle[T] = TaskHandle(name, state, bridge, owner)
        wanted = handle._callbacks_wanted
        if on_success is not None:
            bridge.sig_success.connect(lambda result: on_success(result) if wanted() else None)
        if on_failure is not None:
            bridge.sig_failure.connect(lambda exc: on_failure(exc) if wanted() else None)
        if on_progress is not None:
            bridge.sig_progress.connect(
                lambda fraction, message: on_progress(fraction, message) if wanted() else None)
        # The owner's end cancels the task at once (a destroyed QObject emits this from its
        # destructor); the check in wanted() also covers a result already queued by then.
        gone: QMetaObject.Connection | None = (
            None if owner is None else owner.destroyed.connect(handle.cancel))

        def finished() -> None:
            handle.done = True
            self._live.discard(handle)
            if gone is not None and owner is not None and not sip.isdeleted(owner):
                owner.destroyed.disconnect(gone)

        bridge.sig_finished.connect(finished)
        self._live.add(handle)
        self._pool.start(_Runnable(fn, state, bridge, name))
        return handle

    def active(self) -> int:
        """How many tasks have not finished yet."""
        return len(self._live)

    def cancel_owned_by(self, root: QObject) -> int:
        """Cancel every task owned by ``root`` or by something inside it (a profile switch
        cancels the old window's work); returns how many were cancelled."""
        owned = [handle for handle in self._live if handle.owned_by(root)]
        for handle in owned:
            handle.cancel()
        return len(owned)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel every task and wait for the pool to drain; True if it did in time."""
        for handle in list(self._live):
            handle.cancel()
        return self._pool.waitForDone(timeout_ms)
