"""The paged table model: pages off the GUI thread, jumps, LRU, count fixes, sort, CSV."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import pytest
from PyQt6.QtCore import QModelIndex, Qt
from PyQt6.QtWidgets import QTableView
from sqlalchemy import event

from console.shop import BackendUnavailable, BookingQuery, Page, RowCount
from services.shop.db import make_engine
from services.shop.seed import seed
from services.shop.sql import SqlShopRepository
from ui.models.list_source import Column, ListSource
from ui.models.paged import LOADING_TEXT, PagedTableModel
from ui.models.roles import STATE_ROLE
from ui.models.shop_tables import BookingsTableModel, ProductsTableModel
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui


class Sort(StrEnum):
    NAME = "name"


@dataclass(frozen=True)
class Q:
    sort: Sort = Sort.NAME
    descending: bool = False
    prefix: str = ""


@dataclass(frozen=True)
class Row:
    id: int
    name: str


class FakeSource:
    """An in-memory keyset list with call counters and a count that can be made wrong."""

    def __init__(self, n: int, *, count_factor: float = 1.0, exact: bool = True,
                 can_seek: bool = True, fail: bool = False) -> None:
        self.rows = [Row(i, f"row {i:06d}") for i in range(n)]
        self.count_factor, self.exact, self.can_seek, self.fail = (count_factor, exact,
                                                                    can_seek, fail)
        self.pages = self.seeks = self.counts = self.exact_counts = 0
        self.lock = threading.Lock()

    def _rows(self, q: Q) -> list[Row]:
        rows = [r for r in self.rows if r.name.startswith(q.prefix or "")]
        return sorted(rows, key=lambda r: (r.name, r.id), reverse=q.descending)

    def page(self, q: Q, after: str | None, limit: int) -> Page[Row]:
        if self.fail:
            raise BackendUnavailable("connection refused")
        with self.lock:
            self.pages += 1
        rows = self._rows(q)
        start = 0
        if after is not None:
            ids = [r.id for r in rows]
            start = ids.index(int(after)) + 1
        chunk = rows[start:start + limit]
        more = start + limit < len(rows)
        return Page(tuple(chunk), str(chunk[-1].id) if more and chunk else None)

    def count(self, q: Q, exact: bool) -> RowCount:
        if self.fail:
            raise BackendUnavailable("connection refused")
        with self.lock:
            self.counts += 1
            self.exact_counts += exact
        n = len(self._rows(q))
        if exact or self.exact:
            return RowCount(n, True)
        return RowCount(int(n * self.count_factor), False)

    def seek(self, q: Q, position: int) -> str | None:
        with self.lock:
            self.seeks += 1
        rows = self._rows(q)
        if position <= 0:
            return None
        return str(rows[min(position, len(rows)) - 1].id)

    def source(self) -> ListSource[Row, Q]:
        return ListSource(self.page, self.count, self.seek, self.can_seek, lambda r: r.id)


COLUMNS = (Column("Name", lambda r: r.name, sort="name"),
           Column("Id", lambda r: str(r.id), numeric=True,
                  state=lambda r: "warn" if r.id % 10 == 0 else None))


@pytest.fixture
def tasks() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown()


def fake_model(tasks: TaskRunner, fake: FakeSource, **kw: object) -> PagedTableModel[Row, Q]:
    model: PagedTableModel[Row, Q] = PagedTableModel(tasks, COLUMNS, fake.source, Q(),
                                                     page_size=50, **kw)  # type: ignore[arg-type]
    return model


def load(qtbot, model, row: int) -> Row:  # type: ignore[no-untyped-def]
    """Ask for a row as a view would (data()), and wait until it is there."""
    model.data(model.index(row, 0))
    qtbot.waitUntil(lambda: model.row_object(row) is not None, timeout=5000)
    return model.row_object(row)


def test_first_page_then_the_count(qtbot, qtmodeltester, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(1000)
    model = fake_model(tasks, fake)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 1000 and model.row_object(0) is not None)
    assert model.data(model.index(0, 0)) == "row 000000"
    assert model.data(model.index(0, 1), Qt.ItemDataRole.TextAlignmentRole) & int(
        Qt.AlignmentFlag.AlignRight.value)
    assert model.data(model.index(10, 1), STATE_ROLE) == "warn"
    assert model.data(model.index(999, 0)) == LOADING_TEXT
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name"
    qtmodeltester.check(model)


def test_a_jump_seeks_once_instead_of_walking(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(1000)
    model = fake_model(tasks, fake)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 1000)
    before = fake.pages
    assert load(qtbot, model, 900).name == "row 000900"
    assert fake.seeks == 1 and fake.pages - before == 1
    # The next page follows by keyset: no second seek.
    assert load(qtbot, model, 950).name == "row 000950"
    assert fake.seeks == 1


def test_without_seek_it_walks_forward(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(600, can_seek=False)
    model = fake_model(tasks, fake)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 600)
    assert load(qtbot, model, 420).name == "row 000420"
    assert fake.seeks == 0
    assert model.row_object(260) is not None  # the pages walked past are kept too


def test_only_max_pages_stay_in_memory(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(2000)
    model = fake_model(tasks, fake, max_pages=4)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 2000)
    for row in range(0, 2000, 150):
        load(qtbot, model, row)
        assert model.cached_pages() <= 4
    assert model.row_object(0) is None  # evicted, fetched again when painted


def test_an_estimate_too_high_is_corrected(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(1000, count_factor=1.5, exact=False)
    model = fake_model(tasks, fake)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 1500)
    assert model.count == RowCount(1500, exact=False)
    model.data(model.index(1499, 0))
    qtbot.waitUntil(lambda: model.rowCount() == 1000, timeout=5000)
    assert model.count is not None and model.count.exact
    assert load(qtbot, model, 999).name == "row 000999"


def test_an_estimate_too_low_grows(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(1000, count_factor=0.4, exact=False)
    model = fake_model(tasks, fake)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() >= 400 and model.count is not None)
    load(qtbot, model, model.rowCount() - 1)
    qtbot.waitUntil(lambda: model.rowCount() == 1000, timeout=5000)
    assert load(qtbot, model, 999).name == "row 000999"


def test_sorting_asks_the_server(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(300)
    model = fake_model(tasks, fake)
    model.reload()
    qtbot.waitUntil(lambda: model.row_object(0) is not None)
    with qtbot.waitSignal(model.modelReset):
        model.sort(0, Qt.SortOrder.DescendingOrder)
    assert model.query.descending
    assert load(qtbot, model, 0).name == "row 000299"
    assert model.sort_column() == (0, Qt.SortOrder.DescendingOrder)
    model.sort(1, Qt.SortOrder.AscendingOrder)  # not sortable: nothing happens
    assert model.query.descending


def test_a_saved_row_changes_in_place(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(200)
    model = fake_model(tasks, fake)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 200)
    load(qtbot, model, 60)

    def only_row_60(top: QModelIndex, bottom: QModelIndex, *_: object) -> bool:
        return (top.row(), bottom.row(), top.column(), bottom.column()) == (60, 60, 0, 1)

    with qtbot.waitSignal(model.dataChanged, check_params_cb=only_row_60):
        assert model.replace_row(Row(60, "renamed"))
    assert model.data(model.index(60, 0)) == "renamed"
    assert model.find_row(60) == 60
    assert not model.replace_row(Row(123456, "not loaded"))


def test_a_failing_back_end_is_reported_once(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(10, fail=True)
    model = fake_model(tasks, fake)
    with qtbot.waitSignal(model.sig_failed) as blocker:
        model.reload()
    assert isinstance(blocker.args[0], BackendUnavailable)
    assert model.rowCount() == 0
    qtbot.waitUntil(lambda: not model.loading)


def test_export_writes_every_row_of_the_view(qtbot, tasks, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(450)
    fake.rows[3] = Row(3, "=HYPERLINK(evil)")
    model = fake_model(tasks, fake)
    model.set_query(Q(descending=True))
    qtbot.waitUntil(lambda: model.count is not None)
    done: list[int] = []
    path = tmp_path / "out.csv"
    model.export_csv(path, on_done=done.append, on_failure=pytest.fail)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert done == [450] and rows[0] == ["Name", "Id"] and len(rows) == 451
    assert rows[1][0] == "row 000449"  # the view's sort
    assert ["'=HYPERLINK(evil)", "3"] in rows


# --------------------------------------------------------------------------- real SQL


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('models') / 'shop.db'}"
    seed(url, bookings=5000, products=80, orders=0)
    return url


def test_bookings_model_on_sqlite_counts_once_and_pages_by_keyset(
        qtbot, qtmodeltester, tasks, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    repo = SqlShopRepository(make_engine(sqlite_url))
    statements: list[str] = []
    event.listen(repo.engine, "before_cursor_execute",
                 lambda *a: statements.append(str(a[2]).lower()))
    try:
        model = BookingsTableModel(tasks, lambda: repo, BookingQuery(), page_size=100)
        view = QTableView()
        qtbot.add_widget(view)
        view.setModel(model)
        view.resize(800, 600)
        model.reload()
        qtbot.waitUntil(lambda: model.rowCount() == 5000 and model.row_object(0) is not None)
        qtmodeltester.check(model)
        for row in (150, 250, 350, 4990):
            load(qtbot, model, row)
        counts = [s for s in statements if "count(" in s]
        seeks = [s for s in statements if s.startswith("select bookings.start_at, bookings.id")]
        assert len(counts) == 1  # once for the scroll bar, never per page
        assert len(seeks) == 1  # the one jump to row 4990; the rest walked by keyset
        starts = [model.row_object(r).start_at for r in (150, 250, 350, 4990)]
        assert starts == sorted(starts)
    finally:
        repo.close()


def test_products_model_tints_low_stock(qtbot, tasks, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    repo = SqlShopRepository(make_engine(sqlite_url))
    try:
        model = ProductsTableModel(tasks, lambda: repo)
        model.reload()
        qtbot.waitUntil(lambda: model.count is not None and model.row_object(0) is not None)
        rows = [model.row_object(r) for r in range(model.rowCount())]
        low = next(i for i, p in enumerate(rows) if p is not None and p.is_low_stock)
        fine = next(i for i, p in enumerate(rows) if p is not None and not p.is_low_stock)
        stock_col = [c.title for c in model.columns].index("Stock")
        assert model.data(model.index(low, stock_col), STATE_ROLE) in ("warn", "fail")
        assert model.data(model.index(low, 0), Qt.ItemDataRole.BackgroundRole) is not None
        assert model.data(model.index(fine, stock_col), STATE_ROLE) is None
        assert model.data(model.index(fine, 0), Qt.ItemDataRole.BackgroundRole) is None
    finally:
        repo.close()


def test_a_new_query_drops_late_answers(qtbot, tasks) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSource(500)
    model = fake_model(tasks, fake)
    model.reload()
    model.set_query(replace(model.query, prefix="row 0001"))
    qtbot.waitUntil(lambda: model.count is not None and not model.loading)
    assert model.rowCount() == 100
    assert load(qtbot, model, 0).name == "row 000100"
