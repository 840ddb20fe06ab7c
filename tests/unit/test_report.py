"""Diagnose rendering: the JSON shape others rely on, and a table a person can read."""

from __future__ import annotations

import dataclasses
import json
import math

from console.domain import Check, Finding, Severity, SlowQuery, Status
from console.report import DiagnoseResult, LatencySummary, render_json, render_table

RESULT = DiagnoseResult(
    profile="Bistro",
    status=Status.WARN,
    checks=(Check("home", "http", Status.OK, "HTTP 200 in 12.0 ms", 12.04),
            Check("cache", "redis", Status.FAIL, "unreachable: cannot connect", None)),
    latency=(LatencySummary("home", 0.010, 0.020, 0.0301, 5),
             LatencySummary("web", None, None, None, 0)),
    cache_hit_rate=(("cache", None), ("web", 0.75), ("odd", math.nan)),
    queue_depth=(("mq/emails", 12),),
    slow_queries=(SlowQuery("SELECT * FROM bookings WHERE start_at > $1", 150, 40.0, 6000.0),),
    findings=(Finding(Severity.WARN, "Cache hit rate low", "web: hit rate 75%", "lengthen TTLs",
                      "cache-hit-rate"),),
    duration_s=1.34,
)


def test_json_has_the_agreed_shape_and_units() -> None:
    data = json.loads(render_json(RESULT))
    assert set(data) == {"profile", "status", "checks", "metrics", "slow_queries", "findings"}
    assert data["status"] == "warn"
    assert data["checks"][0] == {"name": "home", "kind": "http", "status": "ok",
                                 "detail": "HTTP 200 in 12.0 ms", "latency_ms": 12.04}
    assert data["checks"][1]["latency_ms"] is None
    assert data["metrics"]["latency_ms"]["home"] == {"p50": 10.0, "p95": 20.0, "p99": 30.1,
                                                     "count": 5}
    assert data["metrics"]["latency_ms"]["web"]["p95"] is None
    assert data["metrics"]["cache_hit_rate"] == {"cache": None, "web": 0.75, "odd": None}
    assert data["metrics"]["queue_depth"] == {"mq/emails": 12}
    assert data["slow_queries"] == [{"query": "SELECT * FROM bookings WHERE start_at > $1",
                                     "calls": 150, "mean_ms": 40.0, "total_ms": 6000.0}]
    assert data["findings"] == [{"severity": "warn", "title": "Cache hit rate low",
                                 "evidence": "web: hit rate 75%", "advice": "lengthen TTLs"}]


def test_table_shows_status_checks_and_findings() -> None:
    text = render_table(RESULT)
    lines = text.splitlines()
    assert lines[0] == "Backroom diagnose: Bistro: WARN (needs attention), 2 checks in 1.3 s"
    quick = render_table(dataclasses.replace(RESULT, duration_s=0.042))
    assert quick.splitlines()[0].endswith("2 checks in 42 ms")
    assert any(line.startswith("home") and "12.0 ms" in line and "OK" in line for line in lines)
    assert any(line.startswith("cache") and "FAIL" in line for line in lines)
    assert "mq/emails" in text and "75.0%" in text
    assert "[WARN] Cache hit rate low" in text
    assert "-> lengthen TTLs" in text


def test_table_without_findings_says_so() -> None:
    quiet = DiagnoseResult(profile="x", status=Status.OK, checks=())
    assert render_table(quiet).rstrip().endswith("No findings.")


def test_the_html_report_has_the_latency_cache_and_queue_tables_the_text_prints() -> None:
    import re

    from console.report_html import render_html

    page = render_html(RESULT)
    text = render_table(RESULT)
    for heading in ("Latency", "Cache hit rate", "Queues"):
        assert f"<h2>{heading}</h2>" in page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", page)
    for figure in ("home", "10.0", "20.0", "30.1", "75.0%", "mq/emails", "12"):
        assert figure in cells, figure
        assert figure in text


def test_traffic_says_its_usual_or_that_there_is_no_history_to_judge_a_rise_by() -> None:
    from console.report import TrafficSummary

    result = dataclasses.replace(RESULT, traffic=(
        TrafficSummary("shop", 24.2, 0.0, 0.0, usual_rate=6.9),
        TrafficSummary("api", 3.0, 0.0, 0.0)))
    lines = render_table(result).splitlines()
    assert any("usual req/s" in line for line in lines)
    assert any(line.startswith("shop") and line.rstrip().endswith("6.9") for line in lines)
    assert any(line.startswith("api") and line.rstrip().endswith("no history")
               for line in lines)
    data = json.loads(render_json(result))
    assert data["metrics"]["traffic"]["shop"]["usual_requests_per_s"] == 6.9
    assert data["metrics"]["traffic"]["api"]["usual_requests_per_s"] is None
