"""py-spy's profiles (collapsed stacks, speedscope JSON) as a frame tree in flat arrays."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: A function as a profiler names it: (name, file, line); file "" and line 0 when unknown.
FrameKey = tuple[str, str, int]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

#: How much of a file is read to tell py-spy's output from a cProfile dump.
SNIFF_BYTES = 65536
_COLLAPSED_LINE = re.compile(rb"^\S.* \d+(\.\d+)?$")
#: py-spy's frame text in collapsed stacks: ``name (file:line)``, ``name (file)`` or ``name``.
_FRAME_TEXT = re.compile(r"^(?P<name>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


class FlameError(ValueError):
    """The file is not a sampled profile this view reads; the message says what to do."""


class Frame:
    """One node of the tree (a function reached by one path of callers), as a view of the
    tree's arrays: made when asked for, equal to any other view of the same node.

    ``total`` counts the samples (or seconds) in the frame and everything it called, ``own``
    those where it was the innermost frame; ``children`` are heaviest first."""

    __slots__ = ("index", "tree")

    def __init__(self, tree: FlameTree, index: int) -> None:
        self.tree = tree
        self.index = index

    @property
    def key(self) -> FrameKey:
        return self.tree.keys[int(self.tree.function[self.index])]

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
    def total(self) -> float:
        return float(self.tree.totals[self.index])

    @property
    def own(self) -> float:
        return float(self.tree.owns[self.index])

    @property
    def depth(self) -> int:
        return int(self.tree.depth[self.index])

    @property
    def parent(self) -> Frame | None:
        up = int(self.tree.parent[self.index])
        return Frame(self.tree, up) if up >= 0 else None

    @property
    def children(self) -> list[Frame]:
        """The frames it called, heaviest first (the next nodes of its subtree in order)."""
        size, tree = self.tree.size, self.tree
        out = []
        at, end = self.index + 1, self.index + int(size[self.index])
        while at < end:
            out.append(Frame(tree, at))
            at += int(size[at])
        return out

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

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Frame) and other.index == self.index
                and other.tree is self.tree)

    def __hash__(self) -> int:
        return hash((id(self.tree), self.index))

    def __repr__(self) -> str:
        return f"Frame({self.label!r}, total={self.total:g})"


class FlameTree:
    """A whole profile as arrays over its frames, in depth-first order with each frame's
    callees heaviest first, so a frame's subtree is the ``size[i]`` nodes from ``i``; node 0
    is the root ("all"). ``offset`` is where a frame starts, in samples from the root's
    left edge (its x on screen times the scale). ``keys`` names each ``function``."""

    __slots__ = ("depth", "function", "keys", "offset", "owns", "parent", "size", "source",
                 "stacks", "threads", "totals", "unit")

    def __init__(self, keys: list[FrameKey], function: Ints, parent: Ints, depth: Ints,
                 totals: Floats, owns: Floats, size: Ints, offset: Floats, *,
                 unit: str = "samples", source: str = "", stacks: int = 0,
                 threads: int = 1) -> None:
        self.keys = keys
        self.function, self.parent, self.depth = function, parent, depth
        self.totals, self.owns, self.size, self.offset = totals, owns, size, offset
        self.unit, self.source, self.stacks, self.threads = unit, source, stacks, threads

    @property
    def root(self) -> Frame:
        return Frame(self, 0)

    @property
    def total(self) -> float:
        return float(self.totals[0])

    def __len__(self) -> int:
        """Frames below the root."""
        return len(self.function) - 1

    def frames(self) -> Iterator[Frame]:
        """Every frame below the root, depth first."""
        return (Frame(self, i) for i in range(1, len(self.function)))

    def matching(self, functions: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Which frames are of the functions ``functions`` marks (one flag a function)."""
        marked = functions[self.function]
        marked[0] = False
        return marked

    def share(self, nodes: npt.NDArray[np.bool_], within: int = 0) -> float:
        """What the marked frames hold under ``within`` (the root by default), a frame under
        another marked one counted once."""
        start, end = within, within + int(self.size[within])
        if nodes[within]:
            return float(self.totals[within])
        found = np.flatnonzero(nodes[start:end]) + start
        if found.size == 0:
            return 0.0
        ends = found + self.size[found]
        reach = np.maximum.accumulate(ends)
        outermost = np.ones(found.size, dtype=bool)
        outermost[1:] = found[1:] >= reach[:-1]  # not inside an earlier marked frame
        return float(self.totals[found[outermost]].sum())


# -- building the tree ------------------------------------------------------------------------


class Stacks:
    """Stacks gathered before the tree is built: frame numbers (outermost first) in one flat
    list, how many each stack has, and its value."""

    def __init__(self) -> None:
        self.flat: list[Ints] = []
        self.lengths: list[Ints] = []
        self.values: list[Floats] = []

    def add(self, flat: Ints, lengths: Ints, values: Floats, head: int | None = None) -> None:
        """Stacks of ``lengths`` frames each from ``flat``; ``head`` goes above each one (a
        thread of a profile with several)."""
        if head is not None and lengths.size:
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            flat = np.insert(flat, starts, head)
            lengths = lengths + 1
        self.flat.append(flat)
        self.lengths.append(lengths)
        self.values.append(values)

    def build(self, keys: list[FrameKey], unit: str = "samples", source: str = "",
              threads: int = 1) -> FlameTree:
        """The tree of the stacks whose value is over 0; frame number ``n`` is function
        ``n`` of ``keys`` (already one number per function)."""
        flat = np.concatenate(self.flat) if self.flat else np.zeros(0, np.int64)
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int64)
        values = np.concatenate(self.values) if self.values else np.zeros(0)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        kept = values > 0
        starts, lengths, values = starts[kept], lengths[kept], values[kept]
        return _tree(keys, flat.astype(np.int64), starts, lengths.astype(np.int64), values,
                     unit=unit, source=source, threads=threads)


def _tree(keys: list[FrameKey], flat: Ints, starts: Ints, lengths: Ints, values: Floats, *,
          unit: str, source: str, threads: int) -> FlameTree:
    """One level of depth at a time: the stacks still that deep are grouped by (the node
    reached so far, their next function) with ``np.unique``; each group is a node."""
    count = len(keys)
    at = np.zeros(lengths.size, np.int64)  # the node each stack has reached
    parents: list[Ints] = [np.array([-1])]
    functions: list[Ints] = [np.array([count])]  # the root's function: "all", added below
    level_totals: list[Floats] = [np.array([values.sum()])]
    made = 1
    depth = 0
    deep = np.arange(lengths.size)
    while True:
        deep = deep[lengths[deep] > depth]
        if deep.size == 0:
            break
        pair = at[deep] * (count + 1) + flat[starts[deep] + depth]
        groups, which = np.unique(pair, return_inverse=True)
        parents.append(groups // (count + 1))
        functions.append(groups % (count + 1))
        at[deep] = made + which
        level_totals.append(np.bincount(which, weights=values[deep],
                                        minlength=groups.size).astype(np.float64))
        made += groups.size
        depth += 1
    parent = np.concatenate(parents)
    function = np.concatenate(functions)
    level_of = np.repeat(np.arange(depth + 1), [p.size for p in parents])
    totals = np.concatenate(level_totals)
    owns = np.bincount(at, weights=values, minlength=made).astype(np.float64)
    all_keys = [*keys, ("all", "", 0)]
    return _ordered(all_keys, function, parent, level_of, totals, owns, [p.size for p in parents],
                    unit=unit, source=source, stacks=int(lengths.size), threads=threads)


def _ordered(keys: list[FrameKey], function: Ints, parent: Ints, depth: Ints, totals: Floats,
             owns: Floats, per_level: list[int], **about: Any) -> FlameTree:
    """The nodes (made level by level) put in depth-first order, callees heaviest first
    (ties by name, file, line), with each node's subtree size and left edge."""
    made = function.size
    size = np.ones(made, np.int64)
    bounds = np.concatenate(([0], np.cumsum(per_level)))
    for level in range(len(per_level) - 1, 0, -1):  # sizes bottom up, a level's callers
        lo, hi, up = bounds[level], bounds[level + 1], bounds[level - 1]  # are the level above
        size[up:lo] += np.bincount(parent[lo:hi] - up, weights=size[lo:hi],
                                   minlength=lo - up).astype(np.int64)
    ranks = np.empty(len(keys), np.int64)
    ranks[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    where = np.zeros(made, np.int64)  # each node's place in depth-first order
    offset = np.zeros(made)
    for level in range(1, len(per_level)):
        lo, hi = bounds[level], bounds[level + 1]
        nodes = np.arange(lo, hi)
        up = parent[lo:hi]
        order = np.lexsort((ranks[function[lo:hi]], -totals[lo:hi], where[up]))
        nodes, up = nodes[order], up[order]
        first = np.ones(nodes.size, dtype=bool)
        first[1:] = up[1:] != up[:-1]
        group = np.cumsum(first) - 1
        for values, out, base in ((size, where, 1), (totals, offset, 0)):
            run = np.cumsum(values[nodes])
            before = run - values[nodes]
            out[nodes] = out[up] + base + before - (before[first])[group]
    order = np.argsort(where)
    new_index = where
    parent_new = np.where(parent[order] >= 0, new_index[np.maximum(parent[order], 0)], -1)
    return FlameTree(keys, function[order], parent_new, depth[order], totals[order],
                     owns[order], size[order], offset[order], **about)


def first_lines(keys: Sequence[FrameKey]) -> dict[tuple[str, str], int]:
    """The smallest line seen of each function (name, file), for a function seen at several."""
    first: dict[tuple[str, str], int] = {}
    for name, file, line in keys:
        if line and line < first.get((name, file), line + 1):
            first[(name, file)] = line
    return first


class Functions:
    """One number per function (name, file): a function sampled at several of its lines is
    one frame (py-spy names the line running, not the function's), named by its first line."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[str, str], int] = {}
        self.seen: list[FrameKey] = []

    def number(self, key: FrameKey) -> int:
        self.seen.append(key)
        return self.numbers.setdefault((key[0], key[1]), len(self.numbers))

    def keys(self) -> list[FrameKey]:
        first = first_lines(self.seen)
        return [(name, file, first.get((name, file), 0)) for name, file in self.numbers]


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
    parts: list[str] = []
    lengths: list[int] = []
    values: list[float] = []
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
        frames = stack_text.split(";")
        parts += frames
        lengths.append(len(frames))
        values.append(count)
    if not any(v > 0 for v in values):
        what = f"{bad} lines not read" if bad else "no stacks"
        raise FlameError(f"{source or 'the file'} holds no collapsed stacks ({what}); record one "
                         "with `py-spy record --format raw -o profile.txt --pid PID`")
    texts = {t: i for i, t in enumerate(dict.fromkeys(parts))}
    functions = Functions()
    of_text = np.array([functions.number(frame_key(t)) for t in texts], np.int64)
    flat = of_text[np.fromiter(map(texts.__getitem__, parts), np.int64, len(parts))]
    stacks = Stacks()
    stacks.add(flat, np.array(lengths, np.int64), np.array(values))
    return stacks.build(functions.keys(), "samples", source)


def parse_speedscope(data: Any, source: str = "") -> FlameTree:
    """A speedscope file (``py-spy record --format speedscope``): its sampled and evented
    profiles, one a thread; with several threads each becomes a root frame of its own."""
    functions = Functions()
    try:
        frames = data["shared"]["frames"]
        profiles = data["profiles"]
        of_frame = np.array([functions.number(
            (str(f.get("name", "?")), str(f.get("file") or ""), int(f.get("line") or 0)))
            for f in frames], np.int64)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise FlameError(f"{source or 'the file'} is not a speedscope profile (no shared "
                         "frames or profiles)") from None
    stacks = Stacks()
    units = set()
    threaded = len(profiles) > 1
    heads: list[FrameKey] = []
    try:
        for number, profile in enumerate(profiles):
            units.add(str(profile.get("unit", "none")))
            head: int | None = None
            if threaded:
                heads.append((str(profile.get("name") or f"thread {number + 1}"), "", 0))
                head = len(functions.numbers) + len(heads) - 1
            if profile.get("type") == "evented":
                samples, weights = _evented(profile)
            else:
                samples, weights = profile["samples"], profile.get("weights")
                if weights is None:
                    weights = [1.0] * len(samples)
            samples = samples[:len(weights)]
            lengths = np.fromiter(map(len, samples), np.int64, len(samples))
            flat = np.fromiter(itertools.chain.from_iterable(samples), np.int64,
                               int(lengths.sum()))
            if flat.size and (flat.min() < 0 or flat.max() >= of_frame.size):
                raise IndexError("a sample names a frame the file does not have")
            stacks.add(of_frame[flat], lengths,
                       np.array([float(w) for w in weights[:len(samples)]]), head)
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise FlameError(f"{source or 'the file'}: a speedscope profile could not be read "
                         f"({type(exc).__name__}: {exc})") from None
    tree = stacks.build(functions.keys() + heads, "samples", source, max(1, len(profiles)))
    if tree.stacks == 0:
        raise FlameError(f"{source or 'the file'} holds no samples")
    unit = units.pop() if len(units) == 1 else "samples"
    tree.unit = "samples" if unit == "none" else unit
    return tree


def _evented(profile: Any) -> tuple[list[list[int]], list[float]]:
    """Open/close events: the time between two events goes to the stack open in between."""
    samples: list[list[int]] = []
    weights: list[float] = []
    open_stack: list[int] = []
    last = float(profile.get("startValue", 0.0))
    for event in profile["events"]:
        at = float(event["at"])
        if open_stack and at > last:
            samples.append(list(open_stack))
            weights.append(at - last)
        last = at
        if event["type"] == "O":
            open_stack.append(int(event["frame"]))
        elif open_stack:
            open_stack.pop()
    return samples, weights


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
