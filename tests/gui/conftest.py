"""Fixtures of the GUI tests: each shop back end (SQLite, PostgreSQL, the API), hostile text, and
a check that no test leaves a top-level widget alive."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent
from PyQt6.QtWidgets import QApplication, QDialog, QMainWindow, QWidget

from services.bootstrap import Diagnostics, Local
from tests.gui.hostile import FifoWatch, GuiTicks, Hostile, corpus
from tests.support.shops import Backend, backend_params, open_backend
from ui.context import AppContext
from ui.pages.bookings import BookingsPage
from ui.pages.dashboard import DashboardPage
from ui.worker import TaskRunner


def _ours(widget: QWidget) -> bool:
    """A window a test or the console made: shown, a main window or dialog, or of a class of
    ui/ or tests/. Not the hidden parentless QMenu and QWidget that pyqtgraph makes for each
    plot's context menu (they go when Python collects the plot), nor Qt's tooltip label."""
    if type(widget).__name__ == "QTipLabel":
        return False
    return (widget.isVisible() or isinstance(widget, QMainWindow | QDialog)
            or type(widget).__module__.startswith(("ui.", "tests.")))


def _leaked(before: weakref.WeakSet[QWidget]) -> list[QWidget]:
    """Top-level widgets of ours alive now that were not before, once deleteLater() has run
    and Python has collected its garbage."""
    for _ in range(2):  # a deleted widget may deleteLater() what it owned
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
    return [w for w in QApplication.topLevelWidgets() if w not in before and _ours(w)]


@pytest.fixture(autouse=True)
def _no_leaked_widgets(qapp: QApplication, request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a new top-level widget alive (as napari's fixtures do): a
    window that outlives its test keeps its timers and tasks running into the next ones.
    Give widgets to ``qtbot.addWidget`` (closed and deleted after the test), or parent
    them to one that is."""
    before: weakref.WeakSet[QWidget] = weakref.WeakSet(QApplication.topLevelWidgets())
    yield
    leaked = _leaked(before)
    if leaked:
        names = ", ".join(f"{type(w).__module__}.{type(w).__name__}"
                          f"({w.objectName() or w.windowTitle() or '-'})" for w in leaked)
        pytest.fail(f"{request.node.nodeid} left top-level widgets alive: {names}",
                    pytrace=False)


@pytest.fixture(scope="module", params=backend_params())
def backend(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    yield from open_backend(request, tmp_path_factory)


@pytest.fixture
def ctx(backend: Backend) -> Iterator[AppContext]:
    tasks = TaskRunner()
    yield AppContext(services=SimpleNamespace(shop=backend.repo, profile=None), tasks=tasks,
                     diagnostics=Diagnostics(), local=Local())
    tasks.shutdown()


@pytest.fixture
def bookings_page(qtbot: Any, ctx: AppContext) -> BookingsPage:
    """The Bookings page on ``ctx``'s shop, shown at 1400x900, its first page loaded."""
    widget = BookingsPage(ctx)
    qtbot.add_widget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitUntil(lambda: widget.model.count is not None and not widget.model.loading,
                    timeout=10_000)
    return widget


@pytest.fixture
def make_page(qtbot: Any, qapp: QApplication) -> Iterator[Callable[..., DashboardPage]]:
    """A dashboard of ``services`` in a plain host window (as in the main window's page stack:
    the offscreen platform warns when a top-level window's size hints change after it is
    shown); ``local`` gives it a config folder of its own (All shops' profiles)."""
    made: list[DashboardPage] = []
    hosts: list[QWidget] = []  # held: a page goes with its host

    def make(services: Any, is_demo: bool = False, local: Local | None = None) -> DashboardPage:
        ctx = AppContext(services=services, tasks=TaskRunner(), diagnostics=Diagnostics(),
                         local=local or Local(), is_demo=is_demo)
        host = QWidget()
        hosts.append(host)
        qtbot.add_widget(host)
        host.resize(1400, 900)
        page = DashboardPage(ctx, host)
        page.resize(1400, 900)
        host.show()
        made.append(page)
        return page

    yield make
    for page in made:
        page.shutdown()
        page.ctx.tasks.shutdown()
        page.ctx.diagnostics.close()


@pytest.fixture
def hostile(qtbot: object, tmp_path: Path) -> Iterator[Hostile]:
    """The hostile-text corpus (its `<img>` on a FIFO made here), with the GUI thread's ticks;
    a test ends with ``hostile.check_gui_was_free()``."""
    fifo = FifoWatch(tmp_path / "image.fifo").start()
    made = Hostile(corpus(fifo.path), fifo, GuiTicks())
    try:
        yield made
    finally:
        made.ticks.stop()
        made.fifo.stop()
