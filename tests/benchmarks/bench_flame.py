"""The flame graph on 100,000 stacks: open, search, paint; the old object-a-frame tree beside."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from tests.benchmarks.harness import Figure, median_time

AREA = "flame"
WIDTH, HEIGHT = 1400, 900


def collapsed_stacks(stacks: int, seed: int = 7) -> str:
    """A web server's profile as py-spy writes it: walks 8 to 40 deep through a fixed call
    graph of 3,000 functions (each calls four others, one of them four times in five), so
    stacks share their callers as a real program's do; heavy-tailed counts (most seen once)."""
    rng = random.Random(seed)
    functions = [f"func_{i} (/srv/app/module_{i % 300}.py:{10 + i % 500})" for i in range(3000)]
    callees = [rng.sample(range(len(functions)), 4) for _ in functions]
    odds = (0.8, 0.12, 0.06, 0.02)
    roots = ["<module> (manage.py:22)", "run (threading.py:975)"]
    seen: set[str] = set()
    lines: list[str] = []
    while len(lines) < stacks:
        root = rng.randrange(len(roots))
        at = root
        frames = [roots[root]]
        for _level in range(rng.randint(8, 40)):
            at = rng.choices(callees[at], odds)[0]
            frames.append(functions[at])
        stack = ";".join(frames)
        if stack in seen:
            continue
        seen.add(stack)
        lines.append(f"{stack} {max(1, int(rng.paretovariate(1.5)))}")
    return "\n".join(lines) + "\n"


def speedscope_of(text: str) -> dict[str, Any]:
    """The same samples as a speedscope document (one sample per count)."""
    index: dict[str, int] = {}
    samples: list[list[int]] = []
    weights: list[float] = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        ids = [index.setdefault(part, len(index)) for part in stack.split(";")]
        samples.append(ids)
        weights.append(float(count) * 0.01)
    frames = [{"name": name, "file": "", "line": 0} for name in index]
    return {"shared": {"frames": frames}, "profiles": [
        {"type": "sampled", "name": "Thread 1", "unit": "seconds", "samples": samples,
         "weights": weights}]}


def _paint_ms(app: Any, graph: Any, min_px: float, fresh_layout: bool,
              repeat: int) -> tuple[float, int]:
    """Median time to lay out (when ``fresh_layout``) and paint the whole graph into an image
    of the window's size; and how many boxes were painted."""
    from PyQt6.QtGui import QImage, QPainter

    graph.min_frame_px = min_px
    image = QImage(WIDTH, max(HEIGHT, graph.height()), QImage.Format.Format_ARGB32_Premultiplied)
    painted = [0]

    def paint() -> None:
        if fresh_layout:
            graph._layout_key = None  # what a zoom or a resize costs
        image.fill(0xFFFFFFFF)
        painter = QPainter(image)
        painted[0] = graph.paint_boxes(painter)
        painter.end()

    return median_time(paint, repeat=repeat) * 1000, painted[0]


def _open_ms(parse: Any, index: Any, lay_out: Any, repeat: int) -> float:
    """Median time (ms) to open a profile as the profiler page does: parse it (a worker
    thread), build its search index and lay out the first view (the GUI thread)."""
    def open_() -> None:
        tree = parse()
        index(tree)
        lay_out(tree.root, float(WIDTH), 1.0)
    return median_time(open_, repeat=repeat) * 1000


def run(quick: bool = False) -> list[Figure]:
    from PyQt6.QtWidgets import QApplication

    from console.flame import FlameTree, parse_collapsed, parse_speedscope
    from console.flame_layout import SearchIndex, layout
    from tests.support import flame_oracle as old
    from ui import theme
    from ui.widgets.flame_graph import FlameGraph

    app = QApplication.instance() or QApplication([])
    theme.apply(app, "light")  # type: ignore[arg-type]
    stacks = 100_000
    repeat = 3 if quick else 5
    text = collapsed_stacks(stacks)
    document = json.dumps(speedscope_of(text))

    open_ms = _open_ms(lambda: parse_collapsed(text), SearchIndex, layout, repeat)
    old_open_ms = _open_ms(lambda: old.parse_collapsed(text), old.SearchIndex, old.layout, 1)
    parse_s = median_time(lambda: parse_collapsed(text), repeat=repeat)
    old_parse_s = median_time(lambda: old.parse_collapsed(text), repeat=1)
    split_s = median_time(lambda: [line.rpartition(" ")[0].split(";")
                                   for line in text.splitlines()], repeat=repeat)
    scope_s = median_time(lambda: parse_speedscope(json.loads(document)), repeat=repeat)
    old_scope_s = median_time(lambda: old.parse_speedscope(json.loads(document)), repeat=1)
    json_s = median_time(lambda: json.loads(document), repeat=repeat)
    tree: FlameTree = parse_collapsed(text)
    old_tree = old.parse_collapsed(text)
    frames = len(tree)

    start = time.perf_counter()
    index = SearchIndex(tree)
    index_s = time.perf_counter() - start
    search_s = median_time(lambda: index.find("module_7.py"), repeat=repeat)
    old_index = old.SearchIndex(old_tree)
    old_search_s = median_time(lambda: old_index.find("module_7.py"), repeat=repeat)

    graph = FlameGraph()
    graph.resize(WIDTH, HEIGHT)
    graph.set_tree(tree)
    graph.resize(WIDTH, graph.height())
    culled_ms, culled_boxes = _paint_ms(app, graph, 1.0, True, repeat)
    repaint_ms, _ = _paint_ms(app, graph, 1.0, False, repeat)
    old_layout_ms = median_time(lambda: old.layout(old_tree.root, float(WIDTH)),
                                repeat=repeat) * 1000
    layout_ms = median_time(lambda: layout(tree.root, float(WIDTH)), repeat=repeat) * 1000
    every_ms, every_boxes = _paint_ms(app, graph, 0.0, True, 1)
    deep = max(tree.root.children[0].children, key=lambda f: f.total)
    graph.min_frame_px = 1.0
    graph.zoom_to(deep)
    zoom_ms, zoom_boxes = _paint_ms(app, graph, 1.0, True, repeat)
    graph.deleteLater()

    return [
        Figure(AREA, f"open {stacks:,} collapsed stacks: parse, index, first layout",
               open_ms, "ms", "the same with the one-object-a-frame tree (the old code)",
               old_open_ms, "<= 3 s", open_ms <= 3000),
        Figure(AREA, f"parse {stacks:,} collapsed stacks ({frames:,} frames)", parse_s * 1000,
               "ms", "the old tree (one Python object a frame)", old_parse_s * 1000,
               "off the GUI thread; <= 3 s", parse_s <= 3.0),
        Figure(AREA, "  the same stacks split into frames, nothing built", split_s * 1000, "ms"),
        Figure(AREA, f"parse the same as speedscope JSON ({len(document) / 1e6:.0f} MB)",
               scope_s * 1000, "ms", "the old tree", old_scope_s * 1000,
               "off the GUI thread; <= 4 s", scope_s <= 4.0),
        Figure(AREA, "  json.loads of it alone", json_s * 1000, "ms"),
        Figure(AREA, "search one keystroke", search_s * 1000, "ms",
               "the old tree's index by function", old_search_s * 1000, "<= 30 ms",
               search_s <= 0.030),
        Figure(AREA, "search index, built once on open (GUI thread)", index_s * 1000, "ms"),
        Figure(AREA, "layout of the whole profile, >= 1 px cull", layout_ms, "ms",
               "the old tree's walk", old_layout_ms),
        Figure(AREA, f"layout + paint, >= 1 px cull ({culled_boxes:,} boxes)", culled_ms, "ms",
               f"layout + paint every frame, no cull ({every_boxes:,} boxes)", every_ms,
               "<= 50 ms", culled_ms <= 50.0),
        Figure(AREA, "repaint, layout kept (hover, search)", repaint_ms, "ms",
               "layout + paint, >= 1 px cull", culled_ms, "<= 50 ms", repaint_ms <= 50.0),
        Figure(AREA, f"zoomed into a heavy frame ({zoom_boxes:,} boxes)", zoom_ms, "ms",
               "layout + paint, no cull, whole profile", every_ms, "<= 50 ms",
               zoom_ms <= 50.0),
    ]
