"""Fixtures of the GUI tests: each shop back end (SQLite, PostgreSQL, the API), hostile text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from services.bootstrap import Diagnostics, Local
from tests.gui.hostile import FifoWatch, GuiTicks, Hostile, corpus
from tests.integration.test_shop_support import Backend, backend_params, open_backend
from ui.context import AppContext
from ui.worker import TaskRunner


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
