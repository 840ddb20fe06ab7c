"""console.flame: collapsed stacks and speedscope into a frame tree, layout, search, sniffing."""

from __future__ import annotations

import cProfile
import json
from pathlib import Path

import pytest

from console.flame import (
    FlameError,
    frame_key,
    is_sampled_profile,
    load_flame,
    parse_collapsed,
    parse_speedscope,
)
from console.flame_layout import SearchIndex, hit, layout, share_of
from console.pstats_view import load_merged, load_stats
from services.diagnostics.pyspy import PTRACE_FIX, explain

COLLAPSED = """\
main (app.py:10);handle (views.py:20);query (db.py:5) 60
main (app.py:10);handle (views.py:20);render (tpl.py:7) 25
main (app.py:10);handle (views.py:20) 5
main (app.py:10);idle 10
"""


def by_name(tree, name):
    return next(f for f in tree.frames() if f.name == name)


def test_collapsed_stacks_become_a_tree_with_totals_and_own_time() -> None:
    tree = parse_collapsed(COLLAPSED, "web.txt")
    assert tree.total == 100 and tree.stacks == 4 and tree.source == "web.txt"
    handle = by_name(tree, "handle")
    assert (handle.total, handle.own) == (90, 5)
    assert handle.key == ("handle", "views.py", 20)
    assert handle.label == "handle (views.py:20)"
    # heaviest child first
    assert [c.name for c in handle.children] == ["query", "render"]
    assert [f.name for f in by_name(tree, "render").path()] == ["all", "main", "handle",
                                                                "render"]
    assert share_of(tree, "query") == pytest.approx(0.6)


def test_frame_text_without_a_file_or_line_keeps_its_name() -> None:
    assert frame_key("idle") == ("idle", "", 0)
    assert frame_key("<module> (/srv/a b.py)") == ("<module>", "/srv/a b.py", 0)
    assert frame_key("f (x (y).py:3)") == ("f", "x (y).py", 3)


def test_a_file_without_stacks_says_how_to_record_one() -> None:
    with pytest.raises(FlameError, match="py-spy record --format raw"):
        parse_collapsed("not a profile\n\n", "notes.txt")


def speedscope(profiles, frames):
    return {"shared": {"frames": frames}, "profiles": profiles}


FRAMES = [{"name": "slow_handler", "file": "/srv/app.py", "line": 4},
          {"name": "<module>", "file": "/srv/app.py", "line": 12},
          {"name": "fast", "file": "/srv/app.py", "line": 8}]


def test_speedscope_sampled_threads_become_root_frames() -> None:
    data = speedscope([
        {"type": "sampled", "name": "Thread 1 \"main\"", "unit": "seconds",
         "samples": [[1, 0], [1, 0], [1, 2]], "weights": [0.01, 0.01, 0.01]},
        {"type": "sampled", "name": "Thread 2 \"worker\"", "unit": "seconds",
         "samples": [[1, 0]], "weights": [0.01]}], FRAMES)
    tree = parse_speedscope(data, "x.json")
    assert tree.unit == "seconds" and tree.threads == 2
    assert [c.name for c in tree.root.children] == ['Thread 1 "main"', 'Thread 2 "worker"']
    assert tree.total == pytest.approx(0.04)
    assert share_of(tree, "slow_handler") == pytest.approx(0.75)


def test_speedscope_evented_time_goes_to_the_open_stack() -> None:
    data = speedscope([{"type": "evented", "unit": "milliseconds", "startValue": 0,
                        "events": [{"type": "O", "frame": 1, "at": 0},
                                   {"type": "O", "frame": 0, "at": 2},
                                   {"type": "C", "frame": 0, "at": 9},
                                   {"type": "C", "frame": 1, "at": 10}]}], FRAMES)
    tree = parse_speedscope(data)
    assert tree.total == pytest.approx(10)
    assert by_name(tree, "slow_handler").total == pytest.approx(7)
    assert by_name(tree, "<module>").own == pytest.approx(3)


def test_a_json_that_is_not_speedscope_is_refused() -> None:
    with pytest.raises(FlameError, match="not a speedscope profile"):
        parse_speedscope({"traceEvents": []}, "chrome.json")
    with pytest.raises(FlameError, match="could not be read"):
        parse_speedscope(speedscope([{"type": "sampled", "samples": [[7]]}], FRAMES))


def test_layout_fills_the_width_and_leaves_out_frames_under_a_pixel() -> None:
    lines = ["main;hot 1000"] + [f"main;tiny{i} 1" for i in range(50)]
    tree = parse_collapsed("\n".join(lines))
    wide = layout(tree.root, 10_000.0)
    assert {b.frame.name for b in wide} >= {"hot", "tiny0", "tiny49"}
    narrow = layout(tree.root, 500.0)      # each tiny frame is 0.48 px there
    assert [b.frame.name for b in narrow] == ["all", "main", "hot"]
    everything = layout(tree.root, 500.0, min_width=0.0)
    assert len(everything) == 53
    main = next(b for b in narrow if b.frame.name == "main")
    assert (main.x, main.width, main.depth) == (0.0, 500.0, 1)
    assert hit(narrow, 10.0, 2).name == "hot"  # type: ignore[union-attr]
    assert hit(narrow, 499.0, 2) is None       # the culled tail


def test_zooming_puts_the_callers_above_at_full_width() -> None:
    tree = parse_collapsed(COLLAPSED)
    render = by_name(tree, "render")
    boxes = layout(render, 800.0)
    assert [(b.frame.name, b.above_zoom, b.width) for b in boxes] == [
        ("all", True, 800.0), ("main", True, 800.0), ("handle", True, 800.0),
        ("render", False, 800.0)]


def test_search_counts_nested_matches_once_and_within_the_zoom() -> None:
    tree = parse_collapsed("a;handle;inner_handle 30\na;handle 10\na;other 60\n"
                           "a;other;inner_handle 20\n")
    index = SearchIndex(tree)
    found = index.find("HANDLE")
    assert found.functions == 2 and len(found.frames) == 3
    assert found.share == pytest.approx(0.5)  # 60 of 120, inner_handle not counted twice
    handle = by_name(tree, "handle")
    assert index.find("inner", within=handle).share == pytest.approx(0.75)  # not other's
    assert index.find("handle", within=handle).share == 1.0
    assert index.find("views.py").functions == 0
    assert index.find("  ").frames == frozenset()


def test_py_spy_outputs_are_told_from_cprofile_dumps(tmp_path: Path) -> None:
    prof = tmp_path / "a.prof"
    profiler = cProfile.Profile()
    profiler.runcall(sum, range(1000))
    profiler.dump_stats(prof)
    raw = tmp_path / "b.txt"
    raw.write_text(COLLAPSED)
    scope = tmp_path / "c.json"
    scope.write_text(json.dumps(speedscope([{"type": "sampled", "samples": [[0]],
                                             "weights": [1]}], FRAMES)))
    assert not is_sampled_profile(prof)
    assert is_sampled_profile(raw) and is_sampled_profile(scope)
    assert load_flame(scope).total == 1
    assert load_flame(raw).total == 100


def spin(n: int) -> int:
    return sum(i * i for i in range(n))


def test_several_cprofile_files_merge_into_one(tmp_path: Path) -> None:
    paths = []
    for number in range(3):
        profiler = cProfile.Profile()
        profiler.runcall(spin, 1000)
        paths.append(tmp_path / f"worker{number}.prof")
        profiler.dump_stats(paths[-1])
    one = next(r for r in load_stats(paths[0]).rows if r.name == "spin")
    merged = load_merged(paths)
    spun = next(r for r in merged.rows if r.name == "spin")
    assert spun.calls == 3 * one.calls == 3
    assert merged.source.startswith("3 profiles (worker0.prof")
    bad = tmp_path / "notes.prof"
    bad.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.prof is not a cProfile"):
        load_merged([paths[0], bad])


def test_the_ptrace_refusal_is_explained_with_the_fix() -> None:
    # py-spy 0.4's words when the kernel refuses ptrace (a container without SYS_PTRACE)
    refused = ("Permission Denied: Try running again with elevated permissions by going "
               "'sudo env \"PATH=$PATH\" !!'")
    text = explain(refused, 4242)
    assert text.startswith("Not allowed to read process 4242")
    assert PTRACE_FIX in text
    assert "--cap-add SYS_PTRACE" in text and "kernel.yama.ptrace_scope" in text
    assert "SYS_PTRACE" in explain("Error: Operation not permitted (os error 1)", 1)
    assert "is not running" in explain(
        "Error: Failed to get process executable name. Check that the process is running.", 7)


def test_a_deep_stack_on_the_first_line_is_still_told_apart(tmp_path: Path) -> None:
    deep = ";".join(f"layer_{i} (/srv/app/module_{i}.py:{i})" for i in range(3000))
    path = tmp_path / "deep.txt"
    path.write_text(f"{deep} 7\nmain 3\n")
    assert is_sampled_profile(path)
    tree = load_flame(path)
    assert tree.total == 10 and share_of(tree, "layer_2999") == pytest.approx(0.7)
    notes = tmp_path / "notes.prof"
    notes.write_text("these are not stats")
    assert not is_sampled_profile(notes)


def test_a_function_sampled_at_several_lines_is_one_frame() -> None:
    # py-spy names the line running in each frame: the same handler at two lines
    tree = parse_collapsed("main (app.py:9);view (app.py:30);query (db.py:5) 3\n"
                           "main (app.py:9);view (app.py:27);render (tpl.py:7) 1\n")
    (main,) = tree.root.children
    (view,) = main.children
    assert view.total == 4 and view.label == "view (app.py:27)"
    frames = [{"name": "view", "file": "app.py", "line": 30},
              {"name": "view", "file": "app.py", "line": 27},
              {"name": "main", "file": "app.py", "line": 9}]
    scope = parse_speedscope(speedscope([{"type": "sampled", "samples": [[2, 0], [2, 1]],
                                          "weights": [1, 1]}], frames))
    assert [(f.label, f.total) for f in scope.frames()] == [("main (app.py:9)", 2),
                                                            ("view (app.py:27)", 2)]
