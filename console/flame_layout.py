"""Where a flame tree's frames go on screen at a zoom, which one is under the mouse, and search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from console.flame import FlameTree, Frame


@dataclass(frozen=True, slots=True)
class Box:
    """A frame's rectangle on screen: ``x`` and ``width`` in pixels, ``depth`` in rows."""

    x: float
    width: float
    depth: int
    frame: Frame
    above_zoom: bool = False


def layout(zoom: Frame, width: float, min_width: float = 1.0) -> list[Box]:
    """The boxes to paint with ``zoom`` filling ``width`` pixels: its callers (the path up to
    the root) as full-width rows above it, and below it every frame at least ``min_width``
    wide. A frame narrower than that is left out, and so is all it called (no callee is
    wider than its caller): the boxes made follow what can be seen, and finding them is one
    pass of numpy over the zoomed frame's subtree."""
    boxes = [Box(0.0, width, f.depth, f, True) for f in zoom.path()[:-1]]
    if zoom.total <= 0 or width <= 0:
        return boxes
    tree = zoom.tree
    start, end = zoom.index, zoom.index + int(tree.size[zoom.index])
    scale = width / zoom.total
    widths = tree.totals[start:end] * scale
    wide = widths >= min_width
    wide[0] = True  # the zoomed frame is always drawn (it fills the width)
    shown = np.flatnonzero(wide)
    xs = (tree.offset[start:end][shown] - tree.offset[start]) * scale
    depths = tree.depth[start:end][shown]
    boxes += [Box(x, w, d, Frame(tree, start + i)) for x, w, d, i in
              zip(xs.tolist(), widths[shown].tolist(), depths.tolist(), shown.tolist(),
                  strict=True)]
    return boxes


def hit(boxes: Sequence[Box], x: float, depth: int) -> Frame | None:
    """The frame painted at ``x`` in row ``depth``, if any."""
    for box in boxes:
        if box.depth == depth and box.x <= x < box.x + box.width:
            return box.frame
    return None


@dataclass(frozen=True, slots=True)
class Matches:
    """The frames whose function matches a search, and the share of samples under them."""

    text: str
    nodes: npt.NDArray[np.bool_]
    """One flag a frame of the tree (a look-up per painted box)."""
    functions: int
    value: float
    share: float

    @property
    def frames(self) -> frozenset[int]:
        """The matching frames' numbers in the tree."""
        return frozenset(np.flatnonzero(self.nodes).tolist())

    def __contains__(self, frame: Frame) -> bool:
        return bool(self.nodes[frame.index])


class SearchIndex:
    """A search compares each function once (a few thousand), then marks their frames (a
    million) with one numpy pass."""

    def __init__(self, tree: FlameTree) -> None:
        self.tree = tree
        self._folded = [(name.casefold(), file.casefold()) for name, file, _ in tree.keys]

    def find(self, text: str, within: Frame | None = None) -> Matches:
        """Frames whose name or file contains ``text`` (case-insensitive); the share is of
        ``within`` (the zoomed frame; the root by default), a nested match counted once."""
        tree = self.tree
        needle = text.strip().casefold()
        within = within or tree.root
        if not needle:
            return Matches(text, np.zeros(len(tree.function), dtype=bool), 0, 0.0, 0.0)
        wanted = np.fromiter(((needle in name or needle in file)
                              for name, file in self._folded), bool, len(self._folded))
        nodes = tree.matching(wanted)
        functions = int(np.unique(tree.function[nodes]).size)
        value = tree.share(nodes, within.index)
        share = value / within.total if within.total > 0 else 0.0
        return Matches(text, nodes, functions, value, share)


def share_of(tree: FlameTree, name: str) -> float:
    """The fraction of all samples under frames of the function called ``name``."""
    if tree.total <= 0:
        return 0.0
    wanted = np.array([key[0] == name for key in tree.keys], dtype=bool)
    return tree.share(tree.matching(wanted)) / tree.total
