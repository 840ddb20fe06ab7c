"""A sweep as one self-contained HTML page: findings, checks, tables and inline PNG charts."""

from __future__ import annotations

import base64
import html
import math
import struct
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from console.domain import Check, Finding, Severity, SlowQuery, Status
from console.report import figure_tables

# The console's state colours (the same as ui.theme; colour carries meaning only).
STATE_COLOURS = {"ok": "#2e7d32", "warn": "#e69f00", "fail": "#c62828", "info": "#0072B2",
                 "stale": "#8a8a8a"}
_TEXT = (0x1D, 0x23, 0x2B)
_MUTED = (0x8A, 0x8A, 0x8A)
_GRID = (0xD7, 0xDB, 0xE0)
_WHITE = (0xFF, 0xFF, 0xFF)


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart already drawn as PNG bytes (by the UI, or by :func:`bar_chart_png`)."""

    title: str
    png: bytes
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """A plain table in the report (database views, slow queries, anything tabular)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    flags: tuple[str, ...] = ()  # per row: "", "ok", "warn" or "fail" (colours the row)


# -- PNG, pure ------------------------------------------------------------------------------

def encode_png(width: int, height: int, rgb: bytes | bytearray) -> bytes:
    """An 8-bit RGB PNG of ``width`` x ``height`` from packed RGB bytes, rows top to bottom."""
    if len(rgb) != width * height * 3:
        raise ValueError("rgb must hold width * height * 3 bytes")
    stride = width * 3
    raw = b"".join(b"\x00" + bytes(rgb[y * stride:(y + 1) * stride]) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# A 3x5 pixel font: enough for labels and figures (lower case is drawn as upper case).
_FONT: dict[str, tuple[str, ...]] = {
    "A": ("010", "101", "111", "101", "101"), "B": ("110", "101", "110", "101", "110"),
    "C": ("011", "100", "100", "100", "011"), "D": ("110", "101", "101", "101", "110"),
    "E": ("111", "100", "110", "100", "111"), "F": ("111", "100", "110", "100", "100"),
    "G": ("011", "100", "101", "101", "011"), "H": ("101", "101", "111", "101", "101"),
    "I": ("111", "010", "010", "010", "111"), "J": ("001", "001", "001", "101", "010"),
    "K": ("101", "101", "110", "101", "101"), "L": ("100", "100", "100", "100", "111"),
    "M": ("101", "111", "111", "101", "101"), "N": ("110", "101", "101", "101", "101"),
    "O": ("010", "101", "101", "101", "010"), "P": ("110", "101", "110", "100", "100"),
    "Q": ("010", "101", "101", "110", "011"), "R": ("110", "101", "110", "101", "101"),
    "S": ("011", "100", "010", "001", "110"), "T": ("111", "010", "010", "010", "010"),
    "U": ("101", "101", "101", "101", "111"), "V": ("101", "101", "101", "101", "010"),
    "W": ("101", "101", "111", "111", "101"), "X": ("101", "101", "010", "101", "101"),
    "Y": ("101", "101", "010", "010", "010"), "Z": ("111", "001", "010", "100", "111"),
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("110", "001", "010", "100", "111"), "3": ("110", "001", "010", "001", "110"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "110", "001", "110"),
    "6": ("011", "100", "111", "101", "111"), "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "110"),
    " ": ("000", "000", "000", "000", "000"), ".": ("000", "000", "000", "000", "010"),
    "-": ("000", "000", "111", "000", "000"), ":": ("000", "010", "000", "010", "000"),
    "/": ("001", "001", "010", "100", "100"), "%": ("101", "001", "010", "100", "101"),
    "(": ("010", "100", "100", "100", "010"), ")": ("010", "001", "001", "001", "010"),
    "_": ("000", "000", "000", "000", "111"), "<": ("001", "010", "100", "010", "001"),
    ">": ("100", "010", "001", "010", "100"), "+": ("000", "010", "111", "010", "000"),
    "=": ("000", "111", "000", "111", "000"), "?": ("110", "001", "010", "000", "010"),
    ",": ("000", "000", "000", "010", "100"),
}
_SCALE = 2
_CHAR_W = 4 * _SCALE  # 3 pixels and a gap
_CHAR_H = 5 * _SCALE


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(_WHITE) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, colour: tuple[int, int, int]) -> None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(colour) * (x1 - x0)
        for yy in range(y0, y1):
            start = (yy * self.width + x0) * 3
            self.pixels[start:start + len(row)] = row

    def text(self, x: int, y: int, words: str, colour: tuple[int, int, int]) -> None:
        for i, ch in enumerate(words.upper()):
            glyph = _FONT.get(ch, _FONT["?"])
            for gy, bits in enumerate(glyph):
                for gx, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(x + i * _CHAR_W + gx * _SCALE, y + gy * _SCALE,
                                  _SCALE, _SCALE, colour)

    def png(self) -> bytes:
        return encode_png(self.width, self.height, self.pixels)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def text_width(words: str) -> int:
    """Pixels the chart font needs for ``words``."""
    return len(words) * _CHAR_W


def bar_chart_png(bars: Sequence[tuple[str, float | None, str]], *, unit: str = "ms",
                  width: int = 760, label_chars: int = 24) -> bytes:
    """Horizontal bars, one per (label, value or None, state); the value written after it.

    A None value (e.g. a check that never answered) draws no bar and writes "no answer".
    """
    row_h = 26
    top = 8
    height = top * 2 + row_h * max(1, len(bars))
    canvas = _Canvas(width, height)
    label_w = text_width("M" * label_chars) + 8
    value_w = text_width("00000.0 MS") + 12
    area = max(40, width - label_w - value_w)
    finite = [v for _l, v, _s in bars if v is not None and math.isfinite(v) and v > 0]
    scale_max = max(finite, default=1.0)
    canvas.rect(label_w - 1, top - 2, 1, height - 2 * top + 4, _GRID)
    for i, (label, value, state) in enumerate(bars):
        y = top + i * row_h
        short = label if len(label) <= label_chars else label[:label_chars - 1] + "."
        canvas.text(4, y + (row_h - _CHAR_H) // 2, short, _TEXT)
        colour = _rgb(STATE_COLOURS.get(str(state), STATE_COLOURS["stale"]))
        if value is None or not math.isfinite(value):
            canvas.text(label_w + 6, y + (row_h - _CHAR_H) // 2, "no answer", _MUTED)
            continue
        length = max(2, round(area * max(value, 0.0) / scale_max))
        canvas.rect(label_w, y + 4, length, row_h - 8, colour)
        figure = f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
        canvas.text(label_w + length + 6, y + (row_h - _CHAR_H) // 2, figure, _TEXT)
    return canvas.png()


# -- reading a sweep result (duck-typed: the diagnose result or the GUI's sweep) --------------

def _checks(result: Any) -> tuple[Check, ...]:
    return tuple(getattr(result, "checks", ()) or ())


def _findings(result: Any) -> tuple[Finding, ...]:
    return tuple(getattr(result, "findings", ()) or ())


def overall_status(result: Any) -> Status:
    status = getattr(result, "status", None)
    if isinstance(status, Status):
        return status
    return Status.worst([c.status for c in _checks(result)])


def shop_name(result: Any) -> str:
    for attr in ("profile_name", "profile", "shop", "name"):
        value = getattr(result, attr, None)
        if isinstance(value, str) and value:
            return value
    profile = getattr(result, "profile", None)
    return str(getattr(profile, "name", "") or "")


def result_time(result: Any) -> float:
    for attr in ("finished_at", "started_at", "ts", "generated_at"):
        value = getattr(result, attr, None)
        if isinstance(value, int | float):
            return float(value)
    return time.time()


def latency_chart(result: Any) -> Chart | None:
    """Bars of every check's latency, coloured by its status; None without any figure."""
    checks = _checks(result)
    if not any(c.latency_ms is not None for c in checks):
        return None
    bars = [(c.name, c.latency_ms, str(c.status)) for c in checks]
    alt = "; ".join(f"{c.name}: " + ("no answer" if c.latency_ms is None
                                     else f"{c.latency_ms:.1f} ms") for c in checks)
    return Chart("Response time per check", bar_chart_png(bars), alt)


def slow_query_section(queries: Iterable[SlowQuery], title: str = "Slow queries") -> Section:
    rows = tuple((f"{q.total_ms:,.1f}", f"{q.mean_ms:,.2f}", f"{q.calls:,}", f"{q.rows:,}",
                  q.query) for q in queries)
    return Section(title, ("Total ms", "Mean ms", "Calls", "Rows", "Query"), rows)


# -- HTML -----------------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d232b;
       background: #f6f7f9; margin: 0; padding: 24px; }
main { max-width: 1100px; margin: 0 auto; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.muted { color: #5b6573; }
.chip { display: inline-block; min-width: 44px; text-align: center; padding: 1px 8px;
        border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; }
.chip.ok { background: #2e7d32; } .chip.warn { background: #e69f00; color: #1d232b; }
.chip.fail { background: #c62828; } .chip.info { background: #0072B2; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d7dbe0; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceff3;
         vertical-align: top; }
th { background: #f0f2f5; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
          white-space: pre-wrap; word-break: break-word; }
tr.warn td:first-child { box-shadow: inset 4px 0 #e69f00; }
tr.fail td:first-child { box-shadow: inset 4px 0 #c62828; }
.finding { background: #fff; border: 1px solid #d7dbe0; border-radius: 8px; padding: 10px 14px;
           margin: 8px 0; }
.finding h3 { font-size: 15px; margin: 0 0 4px; }
figure { background: #fff; border: 1px solid #d7dbe0; border-radius: 8px; padding: 10px;
         margin: 8px 0; } figure img { max-width: 100%; }
footer { margin-top: 32px; font-size: 12px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _chip(state: str) -> str:
    cls = state if state in ("ok", "warn", "fail", "info") else "info"
    return f'<span class="chip {cls}">{_e(state.upper())}</span>'


def _severity_state(severity: Severity | str) -> str:
    value = str(severity)
    return {"info": "info", "warn": "warn", "fail": "fail"}.get(value, "info")


def _table(columns: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: set[int] | None = None, code: set[int] | None = None,
           flags: Sequence[str] = ()) -> str:
    numeric = numeric or set()
    code = code or set()
    out = ["<table><thead><tr>"]
    out += [f"<th>{_e(c)}</th>" for c in columns]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        flag = flags[i] if i < len(flags) else ""
        out.append(f'<tr class="{_e(flag)}">' if flag else "<tr>")
        for j, cell in enumerate(row):
            cls = "num" if j in numeric else "code" if j in code else ""
            out.append(f'<td class="{cls}">{_e(cell)}</td>' if cls else f"<td>{_e(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _checks_table(checks: Sequence[Check]) -> str:
    out = ["<table><thead><tr><th>Status</th><th>Check</th><th>Kind</th><th>Figure</th>"
           "<th>Detail</th></tr></thead><tbody>"]
    for c in checks:
        state = str(c.status)
        figure = "" if c.latency_ms is None else f"{c.latency_ms:,.1f} ms"
        row_class = f' class="{_e(state)}"' if c.status != Status.OK else ""
        out.append(f"<tr{row_class}><td>{_chip(state)}</td><td>{_e(c.name)}</td>"
                   f'<td>{_e(c.kind)}</td><td class="num">{_e(figure)}</td>'
                   f"<td>{_e(c.detail)}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _looks_numeric(values: Iterable[str]) -> bool:
    seen = False
    for value in values:
        cleaned = value.replace(",", "").replace(".", "").replace("-", "").replace("%", "")
        if value and not cleaned.isdigit():
            return False
        seen = seen or bool(value)
    return seen


def figure_sections(result: Any) -> list[Section]:
    """The latency, cache and queue tables the text output prints, as report sections."""
    return [Section(title, tuple(h.capitalize() if h.isupper() else h for h in headers),
                    tuple(tuple(row) for row in rows))
            for title, headers, rows, _right in figure_tables(result)]


def render_html(result: Any, *, title: str | None = None, sections: Sequence[Section] = (),
                charts: Sequence[Chart] | None = None,
                versions: Sequence[tuple[str, str]] = (),
                generated_at: float | None = None) -> str:
    """The whole report as one HTML document with nothing to fetch (charts are data: URIs).

    ``result`` needs ``checks`` (Check) and may have ``findings`` (Finding),
    ``slow_queries`` (SlowQuery), ``profile_name``/``profile`` and ``finished_at``. With
    ``charts`` None, a response-time chart is drawn from the checks. Every text is escaped.
    """
    checks = _checks(result)
    findings = _findings(result)
    status = overall_status(result)
    shop = shop_name(result)
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC",
                         time.gmtime(generated_at if generated_at is not None
                                     else result_time(result)))
    heading = title or (f"Diagnostic report: {shop}" if shop else "Diagnostic report")
    counts = {s: sum(1 for c in checks if c.status == s) for s in Status}
    summary = (f"{len(checks)} checks: {counts[Status.OK]} ok, {counts[Status.WARN]} warn, "
               f"{counts[Status.FAIL]} fail · {len(findings)} findings")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(heading)} {_chip(str(status))}</h1>",
        f'<p class="muted">Generated {_e(when)} by Backroom · {_e(summary)}</p>',
    ]

    parts.append("<h2>Findings</h2>")
    if findings:
        order = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}
        for f in sorted(findings, key=lambda f: order.get(f.severity, 3)):
            parts.append(
                f'<div class="finding"><h3>{_chip(_severity_state(f.severity))} '
                f"{_e(f.title)}</h3><p><b>Evidence:</b> {_e(f.evidence)}</p>"
                f"<p><b>Advice:</b> {_e(f.advice)}</p></div>")
    else:
        parts.append('<p class="muted">No findings: nothing in this sweep needs action.</p>')

    parts.append("<h2>Checks</h2>")
    if checks:
        parts.append(_checks_table(checks))
    else:
        parts.append('<p class="muted">No checks ran: the profile has no probes or sources. '
                     "Add them in Settings.</p>")

    chart_list = list(charts) if charts is not None else [
        c for c in (latency_chart(result),) if c is not None]
    if chart_list:
        parts.append("<h2>Charts</h2>")
        for chart in chart_list:
            data = base64.b64encode(chart.png).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" '
                         f'alt="{_e(chart.alt or chart.title)}">'
                         f"<figcaption>{_e(chart.title)}</figcaption></figure>")

    slow = tuple(getattr(result, "slow_queries", ()) or ())
    all_sections = figure_sections(result) + list(sections)
    if slow and not any(s.title == "Slow queries" for s in all_sections):
        all_sections.insert(0, slow_query_section(slow))
    for section in all_sections:
        parts.append(f"<h2>{_e(section.title)}</h2>")
        if section.note:
            parts.append(f'<p class="muted">{_e(section.note)}</p>')
        if not section.rows:
            parts.append('<p class="muted">Nothing to show.</p>')
            continue
        numeric = {j for j in range(len(section.columns))
                   if _looks_numeric(r[j] for r in section.rows if j < len(r))}
        code = {j for j, c in enumerate(section.columns)
                if c.lower() in ("query", "sql", "plan")}
        parts.append(_table(section.columns, section.rows, numeric=numeric - code, code=code,
                            flags=section.flags))

    if versions:
        parts.append("<footer class=\"muted\">" + " · ".join(
            f"{_e(k)} {_e(v)}" for k, v in versions) + "</footer>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
