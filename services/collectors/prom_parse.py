"""Fast Prometheus text-format scan: skips unwanted families, parses labels only for the rest."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator

from console.series_limit import OTHER_LABELS

#: Samples by name: each a (labels, value) pair, in page order.
Samples = dict[str, list[tuple[dict[str, str], float]]]
#: A folded row's sample name and the labels it keeps (its bound, its status).
FoldKey = tuple[str, tuple[tuple[str, str], ...]]

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_PAIR_TEXT = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
_LABELS = re.compile(r"\{((?:" + _PAIR_TEXT + "(?:," + _PAIR_TEXT + r")*)?,?)\}")
_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r'\\[\\n"]')
_ESCAPES = {"\\\\": "\\", "\\n": "\n", '\\"': '"'}
_COMMENT_SPACE = " \t\n\r\x0b\x0c"
#: A bucket's or quantile's bound inside a label text: many per series, not a label set of its own.
_BOUND_PAIR = re.compile(r'(?<![a-zA-Z0-9_])(?:le|quantile)="(?:[^"\\]|\\.)*"')
#: Lines are split this many characters at a time (one C call each, never the whole page).
_CHUNK = 1 << 16

# Sample names a family of each type owns (the text-format parser's rule).
_OWNED_SUFFIXES = {
    "counter": ("",),
    "gauge": ("",),
    "summary": ("_count", "_sum", ""),
    "histogram": ("_count", "_sum", "_bucket"),
}


class PromParseError(ValueError):
    """The page is not Prometheus text format; the message names the line."""


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], text) if "\\" in text else text


def _number(token: str) -> float:
    if "_" in token or token != token.strip():
        raise ValueError(f"invalid value {token!r}")
    if "." in token:  # never an int: no exception raised and caught per sample
        return float(token)
    try:
        number = int(token)
    except ValueError:
        return float(token)
    try:
        float(number)
    except OverflowError:
        raise ValueError(f"value out of range ({len(token)} digits)") from None
    return number


def _value(text: str) -> float:
    """Value of a sample from the text after its name and labels; a timestamp is checked
    and dropped (extra fields in between are ignored, as prometheus_client does)."""
    text = text.lstrip()
    if " " not in text and "\t" not in text and text:  # the value alone (the usual line)
        return _number(text)
    separator = " " if " " in text else "\t"
    fields = [part.strip() for part in text.split(separator) if part.strip()]
    if not fields:
        return float(text)
    value = _number(fields[0])
    if len(fields) > 1:
        _number(fields[-1])
    return value


def _escaped(text: str, pos: int) -> bool:
    slashes = 0
    while pos > slashes and text[pos - 1 - slashes] == "\\":
        slashes += 1
    return slashes % 2 == 1


def _split_comment(line: str) -> list[str]:
    """Split a comment line on unquoted whitespace into at most four fields."""
    fields: list[str] = []
    pos, size = 0, len(line)
    while pos < size and len(fields) < 3:
        while pos < size and line[pos] in _COMMENT_SPACE:
            pos += 1
        if pos >= size:
            break
        start, quoted = pos, False
        while pos < size:
            char = line[pos]
            if char == '"' and not _escaped(line, pos):
                quoted = not quoted
            elif not quoted and char in _COMMENT_SPACE:
                break
            pos += 1
        fields.append(line[start:pos])
    while pos < size and line[pos] in _COMMENT_SPACE:
        pos += 1
    if pos < size:
        fields.append(line[pos:])
    return fields


def _unquote(text: str) -> tuple[str, bool]:
    if not text:
        return text, False
    text = text.strip()
    quoted = text[0] == '"'
    if quoted:
        if len(text) == 1 or text[-1] != '"':
            raise ValueError("missing close quote")
        text = text[1:-1]
    return _unescape(text), quoted


def _slow_sample(line: str) -> tuple[str, dict[str, str], float]:
    """Parse one unusual sample line exactly as prometheus_client does."""
    from prometheus_client.parser import text_string_to_metric_families  # rarely needed

    family = next(iter(text_string_to_metric_families(line)))
    sample = family.samples[0]
    return sample.name, dict(sample.labels), sample.value


def _parse_line(line: str, match: re.Match[str] | None) -> tuple[dict[str, str], float]:
    """Labels and value of a sample line whose name is already known."""
    if match is None:
        _, labels, value = _slow_sample(line)
        return labels, value
    end = match.end()
    if line[end] != "{":
        return {}, _value(line[end + 1 :])
    labels_match = _LABELS.match(line, end)
    if labels_match is not None:
        pairs = _PAIR.findall(labels_match.group(1))
        keys = {key for key, _ in pairs}
        if len(keys) == len(pairs) and not any(key.startswith("__") for key in keys):
            labels = {key: _unescape(val) for key, val in pairs}
            return labels, _value(line[labels_match.end() :])
    _, labels, value = _slow_sample(line)
    return labels, value


def _lines(page: str | bytes | bytearray) -> Iterator[str]:
    """The page's lines, split (and a page of bytes decoded as UTF-8) a bounded piece at a
    time: one ``str.split`` of a 5 MB page makes (and later frees) 100,000 strings in one C
    call, and one ``decode`` copies it all, each holding the GIL for 10-50 ms on a busy
    machine. A newline never falls inside a UTF-8 character, so the pieces decode apart."""
    start, size = 0, len(page)
    while start < size:
        if isinstance(page, str):
            end = page.find("\n", min(start + _CHUNK, size))
            piece = page[start:end if end >= 0 else size]
        else:
            end = page.find(b"\n", min(start + _CHUNK, size))
            piece = page[start:end if end >= 0 else size].decode("utf-8", errors="replace")
        yield from piece.split("\n")
        start = size if end < 0 else end + 1


class LabelSetCap:
    """Keeps the first ``cap`` label sets of each sample name a page shows, across pages (a
    bucket's ``le`` and a quantile's bound are not label sets of their own); rows of any other
    label set are summed, per name and the labels in ``keep``, into one row labelled
    :data:`OTHER_LABELS`. So a page of 100,000 queues makes 1,001 rows, never 100,000 dicts.

    One per page source, used by one thread at a time."""

    def __init__(self, cap: int, keep: Collection[str] = ()) -> None:
        self.cap = cap
        self.keep = ("le", "quantile", *keep)
        self._named = re.compile("(?:" + "|".join(map(re.escape, self.keep)) + ')="')
        self._kept: dict[str, set[str]] = {}
        #: Rows summed into 'other' by the last page, per sample name (as named on the page).
        self.folded: dict[str, int] = {}

    def over(self, name: str, line: str, match: re.Match[str] | None,
             labels: dict[str, str] | None, value: float
             ) -> tuple[tuple[tuple[str, str], ...], float] | None:
        """None when this sample line's label set is one of its name's first ``cap`` (a row as
        ever); else what it is summed under (its labels named in ``keep``) and its value. A
        line naming none of ``keep`` (a queue's) is not parsed into a dict only to be summed."""
        text = ""
        if labels is None and match is not None:
            if line[match.end()] == "{":
                text = line[match.end():line.rfind("}") + 1]
            key = _BOUND_PAIR.sub("", text) if 'le="' in text or 'quantile="' in text else text
        else:
            key = repr(sorted((k, v) for k, v in (labels or {}).items()
                              if k not in ("le", "quantile")))
        seen = self._kept.get(name)
        if seen is None:
            seen = self._kept[name] = set()
        if key in seen:
            return None
        if len(seen) < self.cap:
            seen.add(key)
            return None
        if labels is None:
            if match is not None and not self._named.search(text):
                return (), _value(line[match.end() + len(text):])
            labels, value = _parse_line(line, match)
        return tuple((k, labels[k]) for k in self.keep if k in labels), value


def parse_samples(text: str | bytes | bytearray, wanted: Collection[str],
                  cap: LabelSetCap | None = None) -> Samples:
    """Samples of the ``wanted`` sample names (e.g. ``x_bucket``, ``y_total``) on a page.

    Gives what prometheus_client's parser gives for those names (the samples of a family
    whose final type is counter and whose name lacks ``_total`` gain the suffix, as there)
    while skipping everything else cheaply. Raises :class:`PromParseError` on text that is
    not the Prometheus text format. A page of bytes is read as UTF-8 (a bad byte: U+FFFD), a
    piece at a time. With ``cap``, label sets past it are summed into one
    ``other`` row per name (and bound) as the page is read (see :class:`LabelSetCap`).
    """
    wanted = frozenset(wanted)
    # A sample may be renamed name -> name_total, so keep both spellings while in a family.
    keep = wanted | {w[:-6] for w in wanted if w.endswith("_total")}
    found: Samples = {}
    family = ""
    family_type = "untyped"
    owned: frozenset[str] = frozenset()
    pending: list[tuple[str, dict[str, str], float]] = []
    family_others: dict[FoldKey, tuple[float, int]] = {}  # (raw name, kept labels) -> sum, rows
    others: dict[FoldKey, tuple[float, int]] = {}  # the same by final name, the whole page

    def flush() -> None:
        rename = family_type == "counter" and not family.endswith("_total")
        for raw, labels, value in pending:
            name = raw + "_total" if rename else raw
            if name in wanted:
                found.setdefault(name, []).append((labels, value))
        pending.clear()
        for (raw, kept), (total, rows) in family_others.items():
            key = (raw + "_total" if rename else raw, kept)
            before, count = others.get(key, (0.0, 0))
            others[key] = (before + total, count + rows)
        family_others.clear()

    def fold(into: dict[FoldKey, tuple[float, int]], name: str,
             summed: tuple[tuple[tuple[str, str], ...], float]) -> None:
        key = (name, summed[0])
        total, rows = into.get(key, (0.0, 0))
        into[key] = (total + summed[1], rows + 1)

    number = 0
    line = ""
    value = 0.0
    try:
        for number, raw_line in enumerate(_lines(text), start=1):  # noqa: B007
            line = raw_line.strip()
            if not line:
                continue
            if line[0] == "#":
                fields = _split_comment(line)
                if len(fields) < 2:
                    continue
                candidate = ""
                if len(fields) > 2:
                    if fields[1] not in ("TYPE", "HELP"):
                        continue
                    candidate, quoted = _unquote(fields[2])
                    if not quoted and not _LEGACY_NAME.match(candidate):
                        raise ValueError(f"invalid metric name {candidate!r}")
                if fields[1] == "HELP":
                    if candidate != family:
                        flush()
                        family, family_type = candidate, "untyped"
                        owned = frozenset((candidate,))
                elif fields[1] == "TYPE":
                    if len(fields) < 4:
                        raise ValueError("TYPE line without a type")
                    if candidate != family:
                        flush()
                    family = candidate
                    family_type = fields[3]
                    suffixes = _OWNED_SUFFIXES.get(family_type, ("",))
                    owned = frozenset(family + s for s in suffixes)
                continue
            match = _NAME.match(line)
            labels: dict[str, str] | None = None
            if match is not None:
                name = match.group()
                follow = line[match.end() : match.end() + 1]
                if not (follow == "{" or (follow in (" ", "\t") and "{" not in line)):
                    match = None
            if match is None:
                name, labels, value = _slow_sample(line)
            if name in owned:
                if name in keep:
                    if cap is not None:
                        summed = cap.over(name, line, match, labels, value)
                        if summed is not None:
                            fold(family_others, name, summed)
                            continue
                    if labels is None:
                        labels, value = _parse_line(line, match)
                    pending.append((name, labels, value))
                continue
            # A sample outside the current family stands alone as an untyped family.
            flush()
            family, family_type, owned = "", "untyped", frozenset()
            if name in wanted:
                if cap is not None:
                    summed = cap.over(name, line, match, labels, value)
                    if summed is not None:
                        fold(others, name, summed)
                        continue
                if labels is None:
                    labels, value = _parse_line(line, match)
                found.setdefault(name, []).append((labels, value))
        flush()
    except (ValueError, IndexError, StopIteration) as err:
        raise PromParseError(f"line {number}: {err or 'cannot parse'}: {line[:120]!r}") from err
    if cap is not None:
        cap.folded = {}
        for (name, kept), (total, rows) in others.items():
            if name in wanted:
                found.setdefault(name, []).append(({**OTHER_LABELS, **dict(kept)}, total))
                if not any(k in ("le", "quantile") for k, _ in kept):
                    cap.folded[name] = cap.folded.get(name, 0) + rows
    return found


#: A page of more sample lines than this is not remembered (its shape would hold them all).
MAX_SHAPE_LINES = 20_000


def _shape(text: str | bytes | bytearray) -> tuple[list[str], list[str]] | None:
    """A page's lines with the values taken out (comments whole), and the values; None when a
    sample line is not ``name[{labels}] value`` with one space (a timestamp, a tab)."""
    heads: list[str] = []
    values: list[str] = []
    for raw_line in _lines(text):
        line = raw_line.strip()
        if not line:
            continue
        if line[0] == "#":
            heads.append(line)
            continue
        head, _, value = line.rpartition(" ")
        if not head or not value or (head[-1] != "}" and (" " in head or "\t" in head)):
            return None
        heads.append(head)
        values.append(value)
    return heads, values


def _same(a: Samples, b: Samples) -> bool:
    """Whether two parses agree, a NaN equal to a NaN."""
    if a.keys() != b.keys():
        return False
    for name, rows in a.items():
        other = b[name]
        if len(rows) != len(other):
            return False
        for (labels, value), (labels_b, value_b) in zip(rows, other, strict=True):
            if labels != labels_b or not (value == value_b or (
                    math.isnan(value) and math.isnan(value_b))):
                return False
    return True


class PageShape:
    """A source's last page as a shape: its lines with the values taken out, and which value
    each wanted sample takes. An app's ``/metrics`` between two scrapes is most often the same
    series with other counts, and such a page is read by converting its values alone (6x
    cheaper at 31 lines); any other page is parsed in full by :func:`parse_samples` and
    becomes the shape. The shape is learnt by parsing the page once more with each value
    replaced by its position, and kept only when reading the page through it gives exactly
    what the full parse gave (so never past a cap's fold). One per page source, used by one
    thread at a time; not pickled (a page read in a child process is parsed in full)."""

    def __init__(self) -> None:
        self._heads: list[str] | None = None
        self._wanted: frozenset[str] = frozenset()
        self._rows: list[tuple[str, list[tuple[dict[str, str], int]]]] = []

    def __getstate__(self) -> dict[str, object]:
        return {}

    def __setstate__(self, _state: dict[str, object]) -> None:
        self.__init__()  # type: ignore[misc]

    def parse(self, text: str | bytes | bytearray, wanted: Collection[str],
              cap: LabelSetCap | None = None) -> Samples:
        """What :func:`parse_samples` gives for the page."""
        wanted = frozenset(wanted)
        shape = _shape(text) if len(text) <= MAX_SHAPE_LINES * 64 else None
        if shape is not None and shape[0] == self._heads and wanted == self._wanted:
            read = self._read(shape[1])
            if read is not None:
                if cap is not None:
                    cap.folded = {}
                return read
        found = parse_samples(text, wanted, cap)
        self._heads = None
        if shape is not None and len(shape[1]) <= MAX_SHAPE_LINES:
            self._learn(shape, wanted, found)
        return found

    def _read(self, values: list[str]) -> Samples | None:
        try:
            return {name: [(dict(labels), _number(values[at])) for labels, at in rows]
                    for name, rows in self._rows}
        except ValueError:
            return None  # parsed in full, for the error naming the line

    def _learn(self, shape: tuple[list[str], list[str]], wanted: frozenset[str],
               found: Samples) -> None:
        heads, values = shape
        numbered: list[str] = []
        position = 0
        for head in heads:
            if head[0] == "#":
                numbered.append(head)
            else:
                numbered.append(f"{head} {position}")
                position += 1
        try:
            placed = parse_samples("\n".join(numbered), wanted)
        except PromParseError:
            return
        rows = [(name, [(labels, int(at)) for labels, at in samples])
                for name, samples in placed.items()]
        self._heads, self._wanted, self._rows = heads, wanted, rows
        read = self._read(values)
        if read is None or not _same(read, found):
            self._heads = None
