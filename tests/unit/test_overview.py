"""The overview's rows: figures, status and order of shops as a support person reads them."""

from __future__ import annotations

import json

from console import metrics
from console.alert_rules import RuleSpec
from console.domain import Reading, Severity, Status, series_name
from console.overview import (
    SourceRead,
    failed_profile,
    render_overview,
    row_to_dict,
    summarise_profile,
    worst_first,
    worst_status,
)

NOW = 1_800_000_000.0
SLOW = RuleSpec.create("Slow responses", metrics.LATENCY_P95, "web", above=0.5,
                       severity=Severity.WARN)


def figures(source: str = "web", labels: dict[str, str] | None = None, *, p95: float = 0.05,
            errors: float = 0.0, cache: float = 0.95, ts: float = NOW) -> list[Reading]:
    return [Reading(series_name(source, metric, labels), ts, value)
            for metric, value in ((metrics.LATENCY_P95, p95), (metrics.ERROR_RATIO, errors),
                                  (metrics.CACHE_HIT_RATE, cache))]


def shop(name: str, reads: list[SourceRead], rules: list[RuleSpec] | None = None):
    return summarise_profile(name, f"/profiles/{name}.toml", reads, rules or [], NOW)


def test_a_healthy_shop_is_ok_with_its_figures() -> None:
    (row,) = shop("Bistro", [SourceRead("web", tuple(figures(ts=NOW - 3)))])
    assert row.status is Status.OK
    assert (row.p95_s, row.error_ratio, row.cache_hit_rate) == (0.05, 0.0, 0.95)
    assert row.last_reading == NOW - 3
    assert row.problem == "" and row.alerts == ()


def test_a_rule_over_its_line_is_an_alert_and_sets_the_status() -> None:
    (row,) = shop("Bistro", [SourceRead("web", tuple(figures(p95=0.7)))], [SLOW])
    assert row.alerts == ("Slow responses",)
    assert row.status is Status.WARN
    assert "Slow responses" in row.problem and "p95 700 ms" in row.problem


def test_an_info_rule_is_listed_but_does_not_change_the_light() -> None:
    busy = RuleSpec.create("Lunch rush", metrics.REQUEST_RATE, above=10,
                           severity=Severity.INFO)
    rate = Reading(series_name("web", metrics.REQUEST_RATE), NOW, 25.0)
    (row,) = shop("Bistro", [SourceRead("web", (*figures(), rate))], [busy])
    assert row.alerts == ("Lunch rush",) and row.status is Status.OK


def test_a_source_that_did_not_answer_fails_the_shop_and_says_why() -> None:
    reads = [SourceRead("web", tuple(figures())),
             SourceRead("cache", error="unreachable: connection refused")]
    (row,) = shop("Bistro", reads)
    assert row.status is Status.FAIL
    assert row.problem == "cache: unreachable: connection refused"
    assert row.p95_s == 0.05  # what did answer is still shown


def test_a_shop_with_no_figures_is_a_warning_not_ok() -> None:
    up = Reading(series_name("web", metrics.UP), NOW, 1.0)
    (row,) = shop("Bistro", [SourceRead("web", (up,))])
    assert row.status is Status.WARN and "no figures" in row.problem


def test_the_profiles_rules_move_the_advisors_lines() -> None:
    loose = RuleSpec.create("Cache", metrics.CACHE_HIT_RATE, "web", below=0.4,
                            severity=Severity.WARN)
    reads = [SourceRead("web", tuple(figures(cache=0.6)))]
    assert shop("Bistro", reads)[0].status is Status.WARN  # the default line is 80 %
    assert shop("Bistro", reads, [loose])[0].status is Status.OK


def test_a_grouped_source_gives_a_row_per_site_judged_by_its_own_figures() -> None:
    readings = (figures(p95=0.3) + figures(labels={"site": "leeds"}, p95=2.5)
                + figures(labels={"site": "york"}, p95=0.04))
    rows = shop("Chain", [SourceRead("web", tuple(readings), group_by=("site",))], [SLOW])
    by_group = {r.group_words: r for r in rows}
    assert set(by_group) == {"", "site=leeds", "site=york"}
    assert by_group["site=leeds"].status is Status.FAIL  # past the 2 s failing line
    assert by_group["site=leeds"].alerts == ("Slow responses",)
    assert by_group["site=york"].status is Status.OK and by_group["site=york"].alerts == ()
    # the whole chain's row shows the chain's own figure, and the alert of its worst site
    assert by_group[""].p95_s == 0.3 and by_group[""].alerts == ("Slow responses",)


def test_worst_first_puts_failing_then_warning_then_the_slowest() -> None:
    ok_fast = shop("Fast", [SourceRead("web", tuple(figures(p95=0.02)))])[0]
    ok_slower = shop("Slower", [SourceRead("web", tuple(figures(p95=0.3)))])[0]
    warn = shop("Warm", [SourceRead("web", tuple(figures(errors=0.02)))])[0]
    broken = failed_profile("Broken", "/p/broken.toml", "profile not valid: x")
    rows = worst_first([ok_fast, warn, ok_slower, broken])
    assert [r.shop for r in rows] == ["Broken", "Warm", "Slower", "Fast"]
    assert worst_status(rows) is Status.FAIL
    assert worst_status([ok_fast]) is Status.OK


def test_the_table_has_a_line_per_shop_worst_first_and_the_reasons_after() -> None:
    rows = worst_first(shop("Fast", [SourceRead("web", tuple(figures(ts=NOW - 120)))])
                       + shop("Slow", [SourceRead("web", tuple(figures(p95=0.9)))], [SLOW]))
    lines = render_overview(rows, NOW).splitlines()
    assert lines[0].split()[:2] == ["status", "shop"]
    assert lines[1].split()[:4] == ["WARN", "Slow", "900", "ms"]
    assert lines[2].split()[:2] == ["OK", "Fast"] and lines[2].endswith("2 min ago")
    assert lines[-1] == "Slow: p95 900 ms; Slow responses"


def test_json_has_one_object_per_shop_in_milliseconds() -> None:
    (row,) = shop("Bistro", [SourceRead("web", tuple(figures(p95=0.25)))])
    out = json.loads(json.dumps(row_to_dict(row), allow_nan=False))
    assert out["shop"] == "Bistro" and out["status"] == "ok" and out["p95_ms"] == 250.0
    assert out["group"] == {} and out["alerts"] == [] and out["last_reading"] == NOW


def test_a_grouped_source_gives_no_queue_depth_a_site_sources_own_queues_add_up() -> None:
    queue = [Reading(series_name("web", metrics.QUEUE_DEPTH, {"queue": "emails"}), NOW, 7.0)]
    rows = shop("Chain", [SourceRead("web", (*figures(), *figures(labels={"site": "york"}),
                                             *queue), group_by=("site",))])
    assert [r.queue_depth for r in rows] == [None, None]
    mail = Reading(series_name("mq", metrics.QUEUE_DEPTH, {"queue": "emails"}), NOW, 3.0)
    jobs = Reading(series_name("mq", metrics.QUEUE_DEPTH, {"queue": "jobs"}), NOW, 4.0)
    (row,) = shop("Bistro", [SourceRead("web", tuple(figures())), SourceRead("mq", (mail, jobs))])
    assert row.queue_depth == 7.0
