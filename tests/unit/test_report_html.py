"""console.report_html: one self-contained, escaped HTML page with inline PNG charts."""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from console.domain import Check, Finding, Severity, SlowQuery, Status
from console.report_html import (
    Chart,
    Section,
    bar_chart_png,
    encode_png,
    latency_chart,
    render_html,
)


@dataclass
class FakeResult:
    checks: list[Check]
    findings: list[Finding] = field(default_factory=list)
    slow_queries: list[SlowQuery] = field(default_factory=list)
    profile_name: str = "Main Street Bistro"
    finished_at: float = 1_750_000_000.0


def sweep() -> FakeResult:
    return FakeResult(
        checks=[
            Check("home page", "http", Status.OK, "200 OK, p95 42 ms", 42.0),
            Check("availability", "http", Status.WARN, "p95 1,240 ms", 1240.0),
            Check("broker", "rabbitmq", Status.FAIL, "connection refused", None),
        ],
        findings=[
            Finding(Severity.INFO, "Cache is warm", "hit rate 97 %", "Nothing to do."),
            Finding(Severity.FAIL, "Bookings read without an index",
                    "SCAN bookings (12,000 rows)", "CREATE INDEX ix_bookings_start_at"),
        ],
        slow_queries=[SlowQuery("SELECT * FROM bookings WHERE start_at >= $1", 1200, 35.2,
                                42240.0, 8000)],
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def decode_png_rows(data: bytes) -> list[bytes]:
    """Rows of an RGB PNG written by encode_png (filter 0 only)."""
    width, height = png_size(data)
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    assert len(raw) == stride * height
    return [raw[y * stride + 1:(y + 1) * stride] for y in range(height)]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_png_encoder_round_trips_pixels() -> None:
    rgb = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    png = encode_png(2, 2, rgb)
    assert png_size(png) == (2, 2)
    assert decode_png_rows(png) == [rgb[:6], rgb[6:]]
    with pytest.raises(ValueError):
        encode_png(2, 2, b"\x00")


def test_bar_chart_draws_state_colours() -> None:
    png = bar_chart_png([("fast", 10.0, "ok"), ("slow", 900.0, "warn"), ("down", None, "fail")])
    width, height = png_size(png)
    assert width == 760
    assert height > 3 * 20
    pixels = b"".join(decode_png_rows(png))
    assert bytes.fromhex("2e7d32") in pixels  # ok green bar
    assert bytes.fromhex("e69f00") in pixels  # warn amber bar
    assert bytes.fromhex("c62828") not in pixels  # a check with no figure draws no bar


def test_report_has_findings_checks_and_figures() -> None:
    page = render_html(sweep(), versions=[("Backroom", "0.1.0"), ("Python", "3.11.7")])
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Diagnostic report: Main Street Bistro</title>" in page
    assert "3 checks: 1 ok, 1 warn, 1 fail · 2 findings" in page
    assert "Generated 2025-06-15 15:06:40 UTC" in page
    # the worst finding first
    assert page.index("Bookings read without an index") < page.index("Cache is warm")
    assert "CREATE INDEX ix_bookings_start_at" in page
    assert "1,240.0 ms" in page
    assert '<span class="chip fail">FAIL</span>' in page
    assert "Slow queries" in page and "42,240.0" in page
    assert "Backroom 0.1.0" in page


def test_report_is_self_contained() -> None:
    page = render_html(sweep())
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("data:image/png;base64,"), (tag, value)
    assert tag_count(parser, "script") == 0
    assert tag_count(parser, "link") == 0
    images = [a for t, a in parser.tags if t == "img"]
    assert len(images) == 1
    data = base64.b64decode(str(images[0]["src"]).split(",", 1)[1])
    assert png_size(data)[0] == 760
    assert "availability: 1240.0 ms" in str(images[0]["alt"])


def tag_count(parser: _Tags, name: str) -> int:
    return sum(1 for tag, _ in parser.tags if tag == name)


def test_everything_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    result = FakeResult(
        checks=[Check(evil, evil, Status.FAIL, evil, 3.0)],
        findings=[Finding(Severity.WARN, evil, evil, evil)],
        slow_queries=[SlowQuery(evil, 1, 1.0, 1.0)],
        profile_name=evil,
    )
    page = render_html(result, sections=[Section(evil, (evil,), ((evil,),), note=evil)],
                       charts=[Chart(evil, b"\x89PNG", evil)], versions=[(evil, evil)])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_sections_mark_numbers_code_and_flags() -> None:
    section = Section("Query plans", ("Query", "Plan", "Rows"),
                      (("bookings by start time", "SCAN bookings", "12,000"),
                       ("products by category", "SEARCH USING INDEX ix", "300")),
                      note="SQLite keeps no statistics", flags=("fail", ""))
    page = render_html(FakeResult(checks=[]), sections=[section])
    assert '<tr class="fail"><td class="code">bookings by start time</td>' in page
    assert '<td class="num">12,000</td>' in page
    assert "SQLite keeps no statistics" in page
    assert "No checks ran" in page
    assert "No findings" in page
    assert "<img" not in page  # no figures, no chart


def test_latency_chart_needs_a_figure() -> None:
    assert latency_chart(FakeResult(checks=[Check("x", "http", Status.FAIL, "down")])) is None
    chart = latency_chart(sweep())
    assert chart is not None
    assert chart.title == "Response time per check"
