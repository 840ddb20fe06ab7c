"""Fixtures of the manager pages' tests: each back end (SQLite, PostgreSQL, the demo shop's API)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

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
    yield AppContext(services=SimpleNamespace(shop=backend.repo, profile=None), tasks=tasks)
    tasks.shutdown()
