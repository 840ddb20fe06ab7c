"""The flame graph as a user sees it: search highlights and says the share, click zooms, back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtWidgets import QApplication, QMainWindow

from console.flame import parse_collapsed
from console.flame_layout import Box
from services.bootstrap import Diagnostics
from tests.support.pyspy import hot_process, require_pyspy
from ui.widgets.flame_graph import (
    DIM_COLOUR,
    MATCH_COLOUR,
    ROW_HEIGHT,
    FlameView,
    frame_colour,
)
from ui.widgets.pstats_browser import PAGE_FLAME, PstatsBrowser
from ui.worker import TaskRunner

pytestmark = pytest.mark.gui

COLLAPSED = """\
main (app.py:10);handle (views.py:20);query (db.py:5) 60
main (app.py:10);handle (views.py:20);render (tpl.py:7) 25
main (app.py:10);handle (views.py:20) 5
main (app.py:10);idle 10
"""


@pytest.fixture
def runner(qapp: QApplication) -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    assert tasks.shutdown(8000)


def shown(qtbot, widget, width: int = 1000, height: int = 600) -> QMainWindow:
    window = QMainWindow()
    window.setCentralWidget(widget)
    window.resize(width, height)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def box_of(view: FlameView, name: str) -> Box:
    return next(b for b in view.graph.boxes() if b.frame.name == name and not b.above_zoom)


def centre(box: Box) -> QPoint:
    return QPoint(int(box.x + box.width / 2), box.depth * ROW_HEIGHT + ROW_HEIGHT // 2)


def colour_at(view: FlameView, box: Box) -> str:
    """The fill of ``box`` where no text is painted: its right end, near its top."""
    point = QPoint(int(box.x + box.width - 4), box.depth * ROW_HEIGHT + 2)
    return view.graph.grab().toImage().pixelColor(point).name()


@pytest.fixture
def view(qtbot) -> Iterator[FlameView]:
    flame = FlameView()
    flame.test_window = shown(qtbot, flame)  # type: ignore[attr-defined]
    flame.set_tree(parse_collapsed(COLLAPSED, "web.txt"))
    yield flame


def test_search_highlights_the_matches_and_says_their_share(qtbot, view: FlameView) -> None:
    query, render = box_of(view, "query"), box_of(view, "render")
    assert colour_at(view, query) == frame_colour("query").name()
    qtbot.keyClicks(view.search_edit, "db.py")
    assert view.match_label.text() == "1 function matching, 60.0 % of all"
    assert colour_at(view, query) == MATCH_COLOUR.name()
    assert colour_at(view, render) == DIM_COLOUR.name()
    view.search_edit.clear()
    assert view.match_label.text() == ""
    assert colour_at(view, render) == frame_colour("render").name()
    qtbot.keyClicks(view.search_edit, "nothing like it")
    assert view.match_label.text() == "no match"


def test_click_zooms_into_a_frame_and_back_zooms_out(qtbot, view: FlameView) -> None:
    assert not view.back_button.isEnabled()
    handle = box_of(view, "handle")
    assert handle.width == pytest.approx(view.graph.width() * 0.9)
    qtbot.mouseClick(view.graph, Qt.MouseButton.LeftButton, pos=centre(handle))
    assert view.graph.zoom.name == "handle"  # type: ignore[union-attr]
    assert view.breadcrumb.text() == "all › main (app.py:10) › handle (views.py:20)"
    assert box_of(view, "handle").width == pytest.approx(view.graph.width())
    assert box_of(view, "render").width == pytest.approx(view.graph.width() * 25 / 90)
    # the share of a search is now of the zoomed frame
    qtbot.keyClicks(view.search_edit, "query")
    assert view.match_label.text() == "1 function matching, 66.7 % of this zoom"
    view.search_edit.clear()
    qtbot.mouseClick(view.graph, Qt.MouseButton.LeftButton, pos=centre(box_of(view, "render")))
    assert view.graph.zoom.name == "render"  # type: ignore[union-attr]
    assert view.back_button.isEnabled() and view.reset_button.isEnabled()
    qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    assert view.graph.zoom.name == "handle"  # type: ignore[union-attr]
    # a caller's row above the zoom zooms out to it
    above = next(b for b in view.graph.boxes() if b.frame.name == "main")
    assert above.above_zoom
    qtbot.mouseClick(view.graph, Qt.MouseButton.LeftButton, pos=centre(above))
    assert view.graph.zoom.name == "main"  # type: ignore[union-attr]
    qtbot.mouseClick(view.reset_button, Qt.MouseButton.LeftButton)
    assert view.graph.zoom == view.graph.tree.root  # type: ignore[union-attr]
    assert not view.reset_button.isEnabled()
    assert box_of(view, "idle").width == pytest.approx(view.graph.width() * 0.1)


def test_hostile_function_names_are_painted_and_tipped_as_text(qtbot, hostile) -> None:
    names = [n for n in hostile.strings.values() if len(n) < 500 and "\n" not in n]
    text = "\n".join(f"main (app.py:1);{name.replace(';', ',')} (x.py:2) 10" for name in names)
    flame = FlameView()
    window = shown(qtbot, flame)  # noqa: F841 - keeps the window alive
    flame.set_tree(parse_collapsed(text))
    flame.graph.grab()
    frame = box_of(flame, "main").frame.children[0]
    tip = flame.graph.describe(frame)
    assert tip.splitlines()[0] == frame.name
    qtbot.mouseClick(flame.graph, Qt.MouseButton.LeftButton, pos=centre(box_of(flame, frame.name)))
    assert flame.breadcrumb.textFormat() == Qt.TextFormat.PlainText
    assert flame.breadcrumb.text().endswith(f"{frame.name} (x.py:2)")
    flame.graph.grab()
    hostile.check_gui_was_free()


def test_py_spy_records_a_process_from_the_profiler(qtbot, runner: TaskRunner,
                                                    tmp_path: Path) -> None:
    require_pyspy()
    browser = PstatsBrowser(runner, pyspy=Diagnostics().pyspy_tools())
    browser.recorder._folder = tmp_path
    window = shown(qtbot, browser)  # noqa: F841
    qtbot.mouseClick(browser.record_button, Qt.MouseButton.LeftButton)
    assert browser.recorder.isVisible()
    browser.recorder.seconds.setValue(2)
    failures: list[str] = []
    browser.recorder.sig_failed.connect(failures.append)
    with hot_process(tmp_path) as child:
        browser.recorder.process_box.setEditText(str(child.pid))
        with qtbot.waitSignals([browser.recorder.sig_recorded], timeout=30_000,
                               check_params_cbs=None, raising=False) as blocker:
            qtbot.mouseClick(browser.recorder.record_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: browser.recorder.cancel_button.isEnabled() or failures)
        if failures and failures[0].startswith("Not allowed"):
            pytest.skip(f"ptrace is not permitted here: {failures[0]}")
        assert blocker.signal_triggered, failures
        qtbot.waitUntil(lambda: browser.stack.currentIndex() == PAGE_FLAME, timeout=10_000)
    qtbot.keyClicks(browser.flame.search_edit, "slow_handler")
    share = float(browser.flame.match_label.text().split(", ")[1].split(" %")[0])
    assert share >= 60.0
    assert browser.recorder.record_button.isEnabled()


def test_cancel_gives_the_record_button_back(qtbot, runner: TaskRunner, tmp_path: Path) -> None:
    require_pyspy()
    browser = PstatsBrowser(runner, pyspy=Diagnostics().pyspy_tools())
    browser.recorder._folder = tmp_path
    window = shown(qtbot, browser)  # noqa: F841
    browser.record_button.setChecked(True)
    browser.recorder.seconds.setValue(60)
    with hot_process(tmp_path) as child:
        browser.recorder.start(child.pid)
        assert browser.recorder.cancel_button.isEnabled()
        assert not browser.recorder.record_button.isEnabled()
        qtbot.waitUntil(lambda: browser.recorder.progress.value() > 0
                        or "Recording" in browser.recorder.message.text(), timeout=10_000)
        qtbot.mouseClick(browser.recorder.cancel_button, Qt.MouseButton.LeftButton)
        assert browser.recorder.record_button.isEnabled()
        assert browser.recorder.message.text() == "Recording cancelled; nothing was written."
        qtbot.waitUntil(lambda: runner.active() == 0, timeout=5_000)
    assert not list(tmp_path.glob("py-spy-*.json"))


def test_without_py_spy_the_recorder_says_how_to_install_it(qtbot, runner: TaskRunner,
                                                            monkeypatch) -> None:
    monkeypatch.setattr("services.diagnostics.pyspy.pyspy_path", lambda: None)
    browser = PstatsBrowser(runner, pyspy=Diagnostics().pyspy_tools())
    window = shown(qtbot, browser)  # noqa: F841
    browser.record_button.setChecked(True)
    assert not browser.recorder.record_button.isEnabled()
    assert "pip install py-spy" in browser.recorder.message.text()


def test_a_large_profile_opens_paints_and_searches_as_the_old_tree_did(qtbot) -> None:
    """20,000 stacks (some 230,000 frames) in the flat-array tree: the graph paints only what
    is a pixel wide or more, a search says the share the old one-object-a-frame tree gives,
    and a click zooms into the frame under the mouse."""
    from tests.benchmarks.bench_flame import collapsed_stacks
    from tests.support import flame_oracle as oracle
    from tests.support.shots import save_shot

    text = collapsed_stacks(20_000, seed=11)
    flame = FlameView()
    window = shown(qtbot, flame, 1400, 900)  # noqa: F841 - keeps the window alive
    flame.set_tree(parse_collapsed(text, "big.txt"))
    boxes = flame.graph.boxes()
    assert 100 < len(boxes) < 20_000 and all(b.width >= 1.0 for b in boxes)
    old = oracle.parse_collapsed(text)
    want = oracle.SearchIndex(old).find("module_7.py").share
    with qtbot.waitSignal(flame.sig_search_done) as searched:
        flame.search_edit.setText("module_7.py")
    assert searched.args[0].share == pytest.approx(want)
    assert flame.match_label.text().endswith(f"{want * 100:.1f} % of all")
    flame.graph.grab()
    save_shot(flame, "diagnostics-flame-large.png")
    heavy = max((b for b in flame.graph.boxes() if b.depth == 3), key=lambda b: b.width)
    qtbot.mouseClick(flame.graph, Qt.MouseButton.LeftButton, pos=centre(heavy))
    assert flame.graph.zoom == heavy.frame
    assert flame.breadcrumb.text().endswith(heavy.frame.label)
