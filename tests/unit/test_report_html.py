"""console.report_html: one self-contained, escaped HTML page with inline SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

from console.domain import Check, Finding, Severity, SlowQuery, Status
from console.report_charts import bar_chart, line_chart
from console.report_html import Section, latency_chart, render_html

SVG = "{http://www.w3.org/2000/svg}"


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


def svgs(page: str) -> list[ET.Element]:
    """Every inline <svg> of the page, parsed as XML (so each must be well-formed)."""
    found, rest = [], page
    while "<svg" in rest:
        start = rest.index("<svg")
        end = rest.index("</svg>", start) + len("</svg>")
        found.append(ET.fromstring(rest[start:end]))
        rest = rest[end:]
    return found


def texts(svg: ET.Element) -> list[str]:
    """The words of every <text> element (their hover title left out)."""
    return [(t.text or "") + "".join(c.tail or "" for c in t) for t in svg.iter(f"{SVG}text")]


def fills(svg: ET.Element) -> set[str]:
    return {r.get("fill", "") for r in svg.iter(f"{SVG}rect")}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_bar_chart_draws_state_colours_and_units() -> None:
    page = render_html(sweep(), charts=[bar_chart(
        "Response time", [("fast", 10.0, "ok"), ("slow", 900.0, "warn"), ("down", None, "fail")])])
    (svg,) = svgs(page)
    assert svg.get("width") == "760"
    assert int(svg.get("height") or 0) > 3 * 20
    assert "#2e7d32" in fills(svg)  # ok green bar
    assert "#e69f00" in fills(svg)  # warn amber bar
    assert "#c62828" not in fills(svg)  # a check with no figure draws no bar
    words = texts(svg)
    assert "10.0 ms" in words and "900 ms" in words and "no answer" in words
    assert not any("MS" in w for w in words)  # units as written everywhere else


def test_a_long_label_is_cut_and_whole_on_hover() -> None:
    long = "availability of tables for parties of eight"
    (svg,) = svgs(render_html(sweep(), charts=[bar_chart("t", [(long, 3.0, "ok")])]))
    (label,) = (t for t in svg.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None)
    assert label.findtext(f"{SVG}title") == long
    assert texts(svg)[0] == long[:23] + "…"


def test_charts_are_svg_with_text_not_images() -> None:
    line = line_chart("web p95 latency, last hour", [(0.0, 120.0), (1800.0, 80.0),
                                                     (3600.0, 200.0)],
                      unit="ms", start=0.0, end=3600.0, colour="#0072B2", alt="now 200.0 ms")
    page = render_html(sweep(), charts=[latency_chart(sweep()), line])  # type: ignore[list-item]
    parser = _Tags()
    parser.feed(page)
    assert tag_count(parser, "img") == 0
    bars, lines = svgs(page)
    assert "availability" in texts(bars) and "1,240 ms" in texts(bars)
    assert bars.findtext(f"{SVG}title") == ("home page: 42.0 ms; availability: 1240.0 ms; "
                                           "broker: no answer")
    assert texts(lines) == ["web p95 latency, last hour", "200 ms", "0 ms", "-60 min", "now"]
    (polyline,) = lines.iter(f"{SVG}polyline")
    points = [tuple(float(n) for n in p.split(",")) for p in str(polyline.get("points")).split()]
    assert len(points) == 3
    assert points[0][0] == 64 and points[-1][0] == 748  # the window's start and end
    assert points[-1][1] < points[0][1] < points[1][1]  # 200 drawn highest, 80 lowest


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
            assert attrs.get(name) is None, (tag, attrs)
    assert tag_count(parser, "script") == 0
    assert tag_count(parser, "link") == 0
    assert tag_count(parser, "img") == 0
    (svg,) = svgs(page)
    assert svg.get("width") == "760"
    assert "availability: 1240.0 ms" in str(svg.findtext(f"{SVG}title"))


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
    charts = [bar_chart(evil, [(evil, 3.0, evil)], unit=evil, alt=evil),
              line_chart(evil, [(0.0, 1.0), (60.0, 2.0)], unit=evil, start=0.0, end=60.0,
                         colour=evil, alt=evil)]
    page = render_html(result, sections=[Section(evil, (evil,), ((evil,),), note=evil)],
                       charts=charts, versions=[(evil, evil)])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    for svg in svgs(page):  # well-formed, the hostile words only ever as text
        assert svg.findtext(f"{SVG}title") == evil
        assert not list(svg.iter(f"{SVG}script"))
    assert evil in texts(svgs(page)[1])  # the line chart's title, whole


HOSTILE = {  # the GUI tests' corpus (tests/gui/hostile.py), without its FIFO
    "img": "Ana <img src=/tmp/image.fifo> Ruiz",
    "link": "Bo <a href=https://refund.example/ok>Refund approved, click</a>",
    "h1": "<h1 style=color:red>REFUND APPROVED</h1>",
    "table": "<table border=1><tr><td>Total</td><td>0.00</td></tr></table>",
    "rtl": "Ana \u202egnp.exe Ruiz",
    "quotes": "\"' onmouseover=alert(1) x='\"",
    "big": "<b>" + "A" * 100_000 + "</b>",
}


def test_hostile_text_is_text_everywhere() -> None:
    """Every hostile string in every place a report shows outside text: the page has only
    the template's own tags, and each string is there escaped."""
    checks = [Check(text, text, Status.WARN, text, 12.0) for text in HOSTILE.values()]
    findings = [Finding(Severity.WARN, text, text, text) for text in HOSTILE.values()]
    series = [line_chart(f"{text} p95 latency, last hour", [(0.0, 1.0), (60.0, 2.0)],
                         unit="ms", start=0.0, end=60.0, colour="#0072B2", alt=text)
              for text in HOSTILE.values()]
    result = FakeResult(checks=checks, findings=findings, profile_name=HOSTILE["h1"])
    page = render_html(result, charts=[latency_chart(result), *series],  # type: ignore[list-item]
                       sections=[Section(t, (t,), ((t,),), note=t) for t in HOSTILE.values()],
                       versions=list(HOSTILE.items()))
    plain = render_html(FakeResult(checks=[Check("a", "http", Status.WARN, "b", 1.0)],
                                   findings=[Finding(Severity.WARN, "c", "d", "e")]),
                        charts=[series[0]], sections=[Section("f", ("g",), (("h",),), note="i")],
                        versions=[("j", "k")])
    ours, theirs = _Tags(), _Tags()
    ours.feed(plain)
    theirs.feed(page)
    assert {t for t, _a in theirs.tags} == {t for t, _a in ours.tags}
    assert all(name in ("class", "id", "x", "y", "width", "height", "fill", "stroke",
                        "stroke-width", "stroke-linejoin", "points", "viewbox", "role",
                        "aria-labelledby", "font-family", "font-size", "xmlns", "charset",
                        "name", "content", "lang", "text-anchor")
               for _t, attrs in theirs.tags for name in attrs)
    for text in HOSTILE.values():
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        escaped = escaped.replace('"', "&#34;").replace("'", "&#39;")
        assert escaped in page
    for svg in svgs(page):
        assert not list(svg.iter(f"{SVG}a")) and not list(svg.iter(f"{SVG}img"))


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
