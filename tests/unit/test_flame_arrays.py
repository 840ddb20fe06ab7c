"""console.flame's flat-array tree against the previous one-object-a-frame tree (the oracle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.flame import FlameTree, load_flame, parse_collapsed, parse_speedscope
from console.flame_layout import SearchIndex, layout
from tests.benchmarks.bench_flame import collapsed_stacks, speedscope_of
from tests.support import flame_oracle as oracle


def old_shape(frame: Any, path: tuple = ()) -> list[tuple]:
    """Every frame depth first as (path of keys, total, own), callees in their order."""
    here = (*path, frame.key)
    out = [(here, frame.total, frame.own)]
    for child in frame.children:
        out += old_shape(child, here)
    return out


def new_shape(tree: FlameTree) -> list[tuple]:
    """The same, read straight from the arrays (node order is depth first)."""
    paths: dict[int, tuple] = {}
    out = []
    for i in range(len(tree.function)):
        up = int(tree.parent[i])
        key = tree.keys[int(tree.function[i])]
        paths[i] = (*paths[up], key) if up >= 0 else (key,)
        out.append((paths[i], float(tree.totals[i]), float(tree.owns[i])))
    return out


def assert_same(new: FlameTree, old: Any, exact_order: bool = True) -> None:
    got, want = new_shape(new), old_shape(old.root)
    assert len(got) == len(want)
    if exact_order:  # whole samples: sums are exact, so the order of callees is too
        assert got == want
    else:  # fractions of seconds summed in another order differ in the last bits
        by_path = {path: (total, own) for path, total, own in want}
        for path, total, own in got:
            assert by_path[path] == (pytest.approx(total), pytest.approx(own))
    assert (new.unit, new.stacks, new.threads) == (old.unit, old.stacks, old.threads)


def test_the_benchmarks_stacks_make_the_same_tree() -> None:
    text = collapsed_stacks(3000, seed=3)
    assert_same(parse_collapsed(text), oracle.parse_collapsed(text))
    document = speedscope_of(text)
    assert_same(parse_speedscope(document), oracle.parse_speedscope(document), exact_order=False)


def test_threads_evented_profiles_and_odd_stacks_make_the_same_tree() -> None:
    frames = [{"name": "main", "file": "app.py", "line": 9},
              {"name": "view", "file": "app.py", "line": 30},
              {"name": "view", "file": "app.py", "line": 31},
              {"name": "idle", "file": "", "line": 0}]
    document = {"shared": {"frames": frames}, "profiles": [
        {"type": "sampled", "name": "Thread 1", "unit": "none",
         "samples": [[0, 1], [0, 2], [0], [], [3], [0, 1]], "weights": [2, 3, 1, 4, 0, 5]},
        {"type": "evented", "name": "Thread 2", "unit": "none", "startValue": 0,
         "events": [{"type": "O", "frame": 0, "at": 0}, {"type": "O", "frame": 1, "at": 2},
                    {"type": "C", "frame": 1, "at": 7}, {"type": "C", "frame": 0, "at": 8}]}]}
    assert_same(parse_speedscope(document), oracle.parse_speedscope(document))
    text = "a;b;c 3\na;b 2\na;c;b 2\nb 1\na;b;c 0\nbad line\n"
    assert_same(parse_collapsed(text), oracle.parse_collapsed(text))


def test_layout_and_search_agree_with_the_old_tree() -> None:
    text = collapsed_stacks(2000, seed=5)
    new, old = parse_collapsed(text), oracle.parse_collapsed(text)
    for width, min_px in ((1400.0, 1.0), (700.0, 0.0)):
        boxes = {(tuple(f.key for f in b.frame.path()), round(b.x, 6), round(b.width, 6))
                 for b in layout(new.root, width, min_px)}
        want = {(tuple(f.key for f in b.frame.path()), round(b.x, 6), round(b.width, 6))
                for b in oracle.layout(old.root, width, min_px)}
        assert boxes == want and len(boxes) > 100
    deep_new = max(new.root.children[0].children, key=lambda f: f.total)
    deep_old = max(old.root.children[0].children, key=lambda f: f.total)
    zoomed = [(b.frame.key, b.depth, b.above_zoom) for b in layout(deep_new, 900.0)]
    assert sorted(zoomed) == sorted((b.frame.key, b.depth, b.above_zoom)
                                    for b in oracle.layout(deep_old, 900.0))
    index = SearchIndex(new)
    found = index.find("module_7.py")
    want = sum(f.total for f in old.frames() if "module_7.py" in f.file)
    assert found.value <= want and found.value > 0
    assert found.functions == len({f.key for f in old.frames() if "module_7.py" in f.file})


@pytest.mark.integration
def test_a_real_py_spy_recording_makes_the_same_tree(tmp_path: Path) -> None:
    """py-spy against a real process this test starts, both formats: the new tree is the old."""
    import subprocess

    from tests.support.pyspy import hot_process, record_or_skip, require_pyspy

    program = require_pyspy()
    raw = tmp_path / "server.txt"
    with hot_process(tmp_path) as child:
        scope = record_or_skip(child.pid, 2, tmp_path / "server.json")
        done = subprocess.run([program, "record", "--pid", str(child.pid), "--duration", "2",
                               "--format", "raw", "--output", str(raw), "--nonblocking"],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_same(load_flame(raw), oracle.load_flame(raw))
    document = json.loads(scope.read_text())
    new = load_flame(scope)
    assert len(new) > 5
    assert_same(new, oracle.parse_speedscope(document, scope.name), exact_order=False)
