"""The previous flame tree (one Python object a frame), kept as the oracle of console/flame.py.

console/flame.py builds the same tree as flat numpy arrays; tests/unit/test_flame_arrays.py
compares the two on real py-spy output and bench_flame.py times both in one run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A function as a profiler names it: (name, file, line); file "" and line 0 when unknown.
FrameKey = tuple[str, str, int]

#: py-spy's frame text in collapsed stacks: ``name (file:line)``, ``name (file)`` or ``name``.
#: How much of a file is read to tell py-spy's output from a cProfile dump.
SNIFF_BYTES = 65536
_COLLAPSED_LINE = re.compile(rb"^\S.* \d+(\.\d+)?$")
_FRAME_TEXT = re.compile(r"^(?P<name>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


class FlameError(ValueError):
    """The file is not a sampled profile this view reads; the message says what to do."""


class Frame:
    """One node of the tree: a function reached by one particular path of callers.

    ``total`` counts the samples (or seconds) in the frame and everything it called, ``own``
    those where it was the innermost frame. ``children`` is heaviest first once the tree is
    finished."""

    __slots__ = ("_index", "children", "depth", "key", "own", "parent", "total")

    def __init__(self, key: FrameKey, parent: Frame | None) -> None:
        self.key = key
        self.total = 0.0
        self.own = 0.0
        self.parent = parent
        self.depth: int = 0 if parent is None else parent.depth + 1
        self.children: list[Frame] = []
        self._index: dict[Any, Frame] = {}

    @property
    def name(self) -> str:
        return self.key[0]

    @property
    def file(self) -> str:
        return self.key[1]

    @property
    def line(self) -> int:
        return self.key[2]

    @property
    def label(self) -> str:
        """``name (file.py:12)``: the words painted on the frame and shown in its tip."""
        name, file, line = self.key
        if not file:
            return name
        short = file.replace("\\", "/").rsplit("/", 1)[-1]
        return f"{name} ({short}:{line})" if line else f"{name} ({short})"

    def path(self) -> list[Frame]:
        """The frames from the root down to this one (the root included)."""
        chain: list[Frame] = []
        node: Frame | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        chain.reverse()
        return chain

    def __repr__(self) -> str:
        return f"Frame({self.label!r}, total={self.total:g})"


@dataclass(frozen=True, slots=True)
class FlameTree:
    """A whole profile: the root frame ("all"), the unit of its values and where it came from."""

    root: Frame
    unit: str = "samples"
    source: str = ""
    stacks: int = 0
    threads: int = 1

    @property
    def total(self) -> float:
        return self.root.total

    def frames(self) -> Iterable[Frame]:
        """Every frame below the root, depth first."""
        pending = list(reversed(self.root.children))
        while pending:
            node = pending.pop()
            yield node
            pending.extend(reversed(node.children))

    def share(self, predicate: Any) -> float:
        """The fraction of all samples spent in frames ``predicate(frame)`` holds for (a frame
        under another matching one is counted once)."""
        if self.total <= 0:
            return 0.0
        found = 0.0
        pending = list(self.root.children)
        while pending:
            node = pending.pop()
            if predicate(node):
                found += node.total
            else:
                pending.extend(node.children)
        return found / self.total


class TreeBuilder:
    """Adds stacks (outermost frame first) one at a time, then :meth:`finish` sorts the tree."""

    def __init__(self) -> None:
        self.root = Frame(("all", "", 0), None)
        self.stacks = 0

    def add(self, stack: Sequence[int], value: float, functions: Sequence[Any],
            keys: Sequence[FrameKey], head: tuple[Any, FrameKey] | None = None) -> None:
        """``stack`` is frame numbers into ``keys``; frames whose ``functions[number]`` are
        equal under one parent are one frame. ``head`` goes above the stack (a thread)."""
        if value <= 0:
            return
        node = self.root
        node.total += value
        if head is not None:
            node = self._child(node, head[0], head[1])
            node.total += value
        for number in stack:
            ident = functions[number]
            child = node._index.get(ident)
            if child is None:
                child = Frame(keys[number], node)
                node._index[ident] = child
                node.children.append(child)
            child.total += value
            node = child
        node.own += value
        self.stacks += 1

    @staticmethod
    def _child(node: Frame, ident: Any, key: FrameKey) -> Frame:
        child = node._index.get(ident)
        if child is None:
            child = node._index[ident] = Frame(key, node)
            node.children.append(child)
        return child

    def add_texts(self, parts: Sequence[str], value: float,
                  keys: dict[str, tuple[tuple[str, str], FrameKey]]) -> None:
        """A stack of frame texts (collapsed stacks): :meth:`add` without a pair per frame;
        ``keys`` caches each text's function (its look-up id) and key."""
        if value <= 0:
            return
        node = self.root
        node.total += value
        for part in parts:
            known = keys.get(part)
            if known is None:
                key = frame_key(part)
                known = keys[part] = ((key[0], key[1]), key)
            child = node._index.get(known[0])
            if child is None:
                child = Frame(known[1], node)
                node._index[known[0]] = child
                node.children.append(child)
            child.total += value
            node = child
        node.own += value
        self.stacks += 1

    def finish(self, unit: str = "samples", source: str = "", threads: int = 1,
               keys: Iterable[FrameKey] = ()) -> FlameTree:
        """Sort every frame's callees, heaviest first. A function sampled at several of its
        lines is one frame (py-spy names the line running, not the function's); it is named
        by the first of those lines among ``keys``."""
        first = first_lines(keys)
        pending = [self.root]
        while pending:
            node = pending.pop()
            node._index = {}
            line = first.get((node.key[0], node.key[1]))
            if line is not None and line != node.key[2]:
                node.key = (node.key[0], node.key[1], line)
            node.children.sort(key=lambda c: (-c.total, c.key))
            pending.extend(node.children)
        return FlameTree(self.root, unit, source, self.stacks, threads)


def first_lines(keys: Iterable[FrameKey]) -> dict[tuple[str, str], int]:
    """The smallest line seen of each function (name, file), for a function seen at several."""
    first: dict[tuple[str, str], int] = {}
    for name, file, line in keys:
        if line and line < first.get((name, file), line + 1):
            first[(name, file)] = line
    return first


def frame_key(text: str) -> FrameKey:
    """py-spy's frame text split into (name, file, line)."""
    found = _FRAME_TEXT.match(text)
    if found is None:
        return (text, "", 0)
    line = found.group("line")
    return (found.group("name"), found.group("file"), int(line) if line else 0)


def parse_collapsed(text: str, source: str = "") -> FlameTree:
    """Collapsed stacks (``py-spy record --format raw``, flamegraph.pl's input): one line a
    stack, ``outer;inner;innermost COUNT``."""
    builder = TreeBuilder()
    keys: dict[str, tuple[tuple[str, str], FrameKey]] = {}
    bad = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        stack_text, _, count_text = line.rpartition(" ")
        try:
            count = float(count_text)
        except ValueError:
            bad += 1
            continue
        if not stack_text:
            bad += 1
            continue
        builder.add_texts(stack_text.split(";"), count, keys)
    if builder.stacks == 0:
        what = f"{bad} lines not read" if bad else "no stacks"
        raise FlameError(f"{source or 'the file'} holds no collapsed stacks ({what}); record one "
                         "with `py-spy record --format raw -o profile.txt --pid PID`")
    return builder.finish("samples", source, keys=(key for _fn, key in keys.values()))


def parse_speedscope(data: Any, source: str = "") -> FlameTree:
    """A speedscope file (``py-spy record --format speedscope``): its sampled and evented
    profiles, one a thread; with several threads each becomes a root frame of its own."""
    try:
        frames = data["shared"]["frames"]
        profiles = data["profiles"]
        keys = [(str(f.get("name", "?")), str(f.get("file") or ""), int(f.get("line") or 0))
                for f in frames]
    except (KeyError, TypeError, AttributeError, ValueError):
        raise FlameError(f"{source or 'the file'} is not a speedscope profile (no shared "
                         "frames or profiles)") from None
    functions = [(name, file) for name, file, _line in keys]
    builder = TreeBuilder()
    units = set()
    threaded = len(profiles) > 1
    try:
        for number, profile in enumerate(profiles):
            units.add(str(profile.get("unit", "none")))
            head: tuple[Any, FrameKey] | None = None
            if threaded:
                thread = str(profile.get("name") or f"thread {number + 1}")
                head = (("thread", thread), (thread, "", 0))
            if profile.get("type") == "evented":
                _add_evented(builder, profile, keys, functions, head)
            else:
                samples, weights = profile["samples"], profile.get("weights")
                if weights is None:
                    weights = [1.0] * len(samples)
                for stack, weight in zip(samples, weights, strict=False):
                    builder.add(stack, float(weight), functions, keys, head)
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise FlameError(f"{source or 'the file'}: a speedscope profile could not be read "
                         f"({type(exc).__name__}: {exc})") from None
    if builder.stacks == 0:
        raise FlameError(f"{source or 'the file'} holds no samples")
    unit = units.pop() if len(units) == 1 else "samples"
    return builder.finish("samples" if unit == "none" else unit, source, max(1, len(profiles)),
                          keys)


def _add_evented(builder: TreeBuilder, profile: Any, keys: list[FrameKey],
                 functions: list[tuple[str, str]], head: tuple[Any, FrameKey] | None) -> None:
    """Open/close events: the time between two events goes to the stack open in between."""
    open_stack: list[int] = []
    last = float(profile.get("startValue", 0.0))
    for event in profile["events"]:
        at = float(event["at"])
        if open_stack and at > last:
            builder.add(open_stack, at - last, functions, keys, head)
        last = at
        if event["type"] == "O":
            open_stack.append(int(event["frame"]))
        elif open_stack:
            open_stack.pop()


def load_flame(path: Path | str) -> FlameTree:
    """Read a py-spy output: speedscope JSON or collapsed stacks, told apart by content."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FlameError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise FlameError(f"{path.name} is not valid JSON ({exc})") from None
        return parse_speedscope(data, path.name)
    return parse_collapsed(text, path.name)


def is_sampled_profile(path: Path | str) -> bool:
    """Whether a file looks like py-spy's output (text) rather than a cProfile dump (marshal).

    A marshalled pstats dict starts with ``{`` too, so JSON is told by its first key."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        return stripped[1:].lstrip().startswith(b'"')
    if b"\x00" in head:  # marshal's integers carry zero bytes
        return False
    first, newline, _rest = stripped.partition(b"\n")
    if not newline and len(head) == SNIFF_BYTES:  # one stack deeper than the bytes read
        return b";" in first
    return _COLLAPSED_LINE.match(first.strip()) is not None
# -- layout ----------------------------------------------------------------------------------


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
    wide. A frame narrower than that is left out with all it called (its callees are no
    wider), so the work follows what can be seen, not the size of the profile."""
    boxes = [Box(0.0, width, f.depth, f, True) for f in zoom.path()[:-1]]
    if zoom.total <= 0 or width <= 0:
        return boxes
    scale = width / zoom.total
    pending: list[tuple[Frame, float]] = [(zoom, 0.0)]
    append = boxes.append
    while pending:
        node, x = pending.pop()
        w = node.total * scale
        append(Box(x, w, node.depth, node))
        child_x = x
        for child in node.children:
            cw = child.total * scale
            if cw < min_width:
                break  # heaviest first: every later sibling is narrower still
            pending.append((child, child_x))
            child_x += cw
    return boxes


def hit(boxes: Sequence[Box], x: float, depth: int) -> Frame | None:
    """The frame painted at ``x`` in row ``depth``, if any."""
    for box in boxes:
        if box.depth == depth and box.x <= x < box.x + box.width:
            return box.frame
    return None


# -- search ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Matches:
    """The frames whose function matches a search, and the share of samples under them."""

    text: str
    frames: frozenset[int]
    """``id()`` of every matching frame (a set look-up per painted box)."""
    functions: int
    value: float
    share: float


class SearchIndex:
    """Frames grouped by function, so a search looks at each function once, not each frame."""

    def __init__(self, tree: FlameTree) -> None:
        self.tree = tree
        self._by_key: dict[FrameKey, list[Frame]] = {}
        for frame in tree.frames():
            self._by_key.setdefault(frame.key, []).append(frame)

    def find(self, text: str, within: Frame | None = None) -> Matches:
        """Frames whose name or file contains ``text`` (case-insensitive); the share is of
        ``within`` (the zoomed frame; the root by default), a nested match counted once."""
        needle = text.strip().casefold()
        within = within or self.tree.root
        if not needle:
            return Matches(text, frozenset(), 0, 0.0, 0.0)
        found: list[Frame] = []
        functions = 0
        for key, frames in self._by_key.items():
            if needle in key[0].casefold() or needle in key[1].casefold():
                functions += 1
                found.extend(frames)
        ids = frozenset(id(f) for f in found)
        if id(within) in ids:
            value = within.total
        else:
            value = sum(f.total for f in found if _counted(f, within, ids))
        share = value / within.total if within.total > 0 else 0.0
        return Matches(text, ids, functions, value, share)


def _counted(frame: Frame, within: Frame, ids: frozenset[int]) -> bool:
    """Whether a matching frame is under ``within`` with no matching caller up to it (a
    frame inside another match is in that match's share already)."""
    node = frame.parent
    while node is not None and node.depth >= within.depth:
        if id(node) in ids:
            return False
        if node is within:
            return True
        node = node.parent
    return False


def share_of(tree: FlameTree, name: str) -> float:
    """The fraction of all samples under frames of the function called ``name``."""
    return tree.share(lambda frame: frame.name == name)
