"""Advisor rules on recorded measurements: each speaks at its threshold, with numbers."""

from __future__ import annotations

from console.advisor import Thresholds, advise, thresholds_from_rules
from console.domain import Reading, Severity, SlowQuery
from console.measurements import (
    CacheFacts,
    LatencyFacts,
    Measurements,
    PoolFacts,
    QueueFacts,
    TableFacts,
    measurements_from_readings,
)

AVAILABILITY = SlowQuery("SELECT * FROM bookings WHERE start_at >= $1 AND start_at < $2",
                         calls=1500, mean_ms=48.2, total_ms=72_300.0)


def rules(findings: list) -> list[str]:
    return [f.rule for f in findings]


def test_quiet_shop_has_no_findings() -> None:
    m = Measurements(
        latency=(LatencyFacts("web", 0.12),),
        caches=(CacheFacts("cache", 0.97, 0.0),),
        queues=(QueueFacts("mq", "emails", 2, growth_per_s=0.0, consumers=2),),
        pools=(PoolFacts("db", 10, 100),),
        tables=(TableFacts("db", "public.bookings", 5000, 90000, 50_000),),
        slow_queries=(SlowQuery("SELECT 1", calls=100_000, mean_ms=0.01, total_ms=1000.0),),
    )
    assert advise(m) == []


def test_pghero_slow_query_rule_needs_both_mean_and_calls() -> None:
    just_under = SlowQuery("a", calls=99, mean_ms=500.0, total_ms=49_500.0)
    fast = SlowQuery("b", calls=10_000, mean_ms=19.9, total_ms=199_000.0)
    found = advise(Measurements(slow_queries=(AVAILABILITY, just_under, fast)))
    assert rules(found) == ["missing-index"]
    assert "1500 calls, mean 48.2 ms" in found[0].evidence
    assert "EXPLAIN" in found[0].advice


def test_table_with_many_seq_scans_and_rows() -> None:
    table = TableFacts("db", "public.bookings", seq_scans=4000, idx_scans=12, rows=250_000)
    small = TableFacts("db", "public.tables", seq_scans=9000, idx_scans=0, rows=30)
    found = advise(Measurements(tables=(table, small)))
    assert rules(found) == ["table-seq-scans"]
    assert "public.bookings" in found[0].title
    assert "4000 sequential vs 12 index scans over 250,000 rows" in found[0].evidence


def test_cache_hit_rate_thresholds_and_evictions() -> None:
    warn = advise(Measurements(caches=(CacheFacts("c", 0.79),)))
    fail = advise(Measurements(caches=(CacheFacts("c", 0.49, 3.0),)))
    ok = advise(Measurements(caches=(CacheFacts("c", 0.8),)))
    evicting = advise(Measurements(caches=(CacheFacts("c", 0.95, 12.0),)))
    assert [f.severity for f in warn] == [Severity.WARN]
    assert "TTL" in warn[0].advice
    assert [f.severity for f in fail] == [Severity.FAIL]
    assert "too small" in fail[0].advice and "evicting 3.0 keys/s" in fail[0].evidence
    assert ok == []
    assert rules(evicting) == ["cache-evictions"]


def test_a_handful_of_lookups_says_nothing_about_the_hit_rate() -> None:
    assert advise(Measurements(caches=(CacheFacts("c", 0.0, 0.0, lookups=19),))) == []
    found = advise(Measurements(caches=(CacheFacts("c", 0.0, 0.0, lookups=20),)))
    assert [f.severity for f in found] == [Severity.FAIL]


def test_queue_without_consumers_fails_and_growing_queue_warns() -> None:
    idle = QueueFacts("mq", "emails", depth=120, growth_per_s=1.5, consumers=0)
    growing = QueueFacts("mq", "celery", depth=80, growth_per_s=0.5, consumers=2)
    draining = QueueFacts("mq", "reports", depth=500, growth_per_s=-3.0, consumers=4)
    found = advise(Measurements(queues=(idle, growing, draining)))
    assert [(f.rule, f.severity) for f in found] == [
        ("queue-no-consumers", Severity.FAIL), ("queue-growing", Severity.WARN)]
    assert "120 waiting, 0 consumers, growing 1.5/s" in found[0].evidence
    assert "add workers" in found[1].advice


def test_slow_responses_name_the_database_when_queries_are_slow() -> None:
    m = Measurements(latency=(LatencyFacts("web", 0.9),), slow_queries=(AVAILABILITY,))
    found = advise(m)
    assert rules(found) == ["latency-p95", "missing-index"]
    assert "p95 latency 900 ms (threshold 500 ms)" in found[0].evidence
    assert found[0].advice.startswith("Likely the database")


def test_slow_responses_name_the_cache_or_nothing() -> None:
    cache = advise(Measurements(latency=(LatencyFacts("web", 0.7),),
                                caches=(CacheFacts("c", 0.3),)))
    assert cache[0].rule == "cache-hit-rate"  # fail sorts first
    latency = next(f for f in cache if f.rule == "latency-p95")
    assert latency.advice.startswith("Likely the cache")
    alone = advise(Measurements(latency=(LatencyFacts("web", 2.5),)))
    assert alone[0].severity is Severity.FAIL
    assert "CPU" in alone[0].advice


def test_a_slow_app_with_no_guilty_database_is_sent_to_py_spy() -> None:
    # cProfile sees only its own thread: on a threaded server it recorded none of the request
    # handler where py-spy put 80 of 88 samples in it (issue 22), so the advice names py-spy.
    advice = advise(Measurements(latency=(LatencyFacts("web", 2.5),)))[0].advice
    assert "py-spy record --pid PID" in advice
    assert "threaded or async server" in advice and "cProfile sees only the thread" in advice


def test_connections_near_the_limit() -> None:
    assert advise(Measurements(pools=(PoolFacts("db", 79, 100),))) == []
    warn = advise(Measurements(pools=(PoolFacts("db", 80, 100),)))
    fail = advise(Measurements(pools=(PoolFacts("db", 97, 100),)))
    assert [f.severity for f in warn] == [Severity.WARN]
    assert "80 of 100 connections (80%)" in warn[0].evidence
    assert [f.severity for f in fail] == [Severity.FAIL]


def test_custom_thresholds() -> None:
    m = Measurements(latency=(LatencyFacts("web", 0.3),))
    assert advise(m) == []
    assert rules(advise(m, Thresholds(latency_p95_s=0.25))) == ["latency-p95"]


def test_measurements_from_recorded_readings() -> None:
    earlier = [Reading('mq/queue_depth{queue="emails"}', 100.0, 40.0)]
    readings = [
        Reading("web/latency_p95", 110.0, 0.8),
        Reading("cache/cache_hit_rate", 110.0, 0.6),
        Reading("cache/evictions_rate", 110.0, 2.0),
        Reading('mq/queue_depth{queue="emails"}', 110.0, 60.0),
        Reading('mq/queue_consumers{queue="emails"}', 110.0, 0.0),
        Reading("db/db_connections_total", 110.0, 90.0),
        Reading("db/db_max_connections", 110.0, 100.0),
        Reading('db/table_seq_scans{table="public.bookings"}', 110.0, 500.0),
        Reading('db/table_idx_scans{table="public.bookings"}', 110.0, 1.0),
        Reading('db/table_rows{table="public.bookings"}', 110.0, 20_000.0),
    ]
    m = measurements_from_readings(readings, earlier=earlier)
    assert m.latency == (LatencyFacts("web", 0.8),)
    assert m.caches == (CacheFacts("cache", 0.6, 2.0),)
    assert m.queues == (QueueFacts("mq", "emails", 60.0, 2.0, 0.0),)
    assert m.pools == (PoolFacts("db", 90.0, 100.0),)
    assert m.tables == (TableFacts("db", "public.bookings", 500.0, 1.0, 20_000.0),)
    assert set(rules(advise(m))) == {"latency-p95", "cache-hit-rate", "queue-no-consumers",
                                     "connections-near-limit", "table-seq-scans"}


def test_a_source_without_workers_has_no_consumers_on_any_queue() -> None:
    """Celery on Redis counts its workers for the whole broker: none answering means the
    backlog of each queue has no worker; some answering says nothing of one queue."""
    def readings(workers: float) -> list[Reading]:
        return [Reading('jobs/queue_depth{queue="celery"}', 10.0, 88.0),
                Reading('jobs/queue_depth{queue="emails"}', 10.0, 12.0),
                Reading("jobs/workers", 10.0, workers)]

    stopped = advise(measurements_from_readings(readings(0.0)))
    assert [(f.rule, f.title) for f in stopped] == [
        ("queue-no-consumers", "Queue celery has no workers"),
        ("queue-no-consumers", "Queue emails has no workers")]
    running = measurements_from_readings(readings(2.0))
    assert [q.consumers for q in running.queues] == [None, None]
    assert rules(advise(running)) == ["queue-backlog", "queue-backlog"]


def test_failing_requests_warn_at_1_and_fail_at_5_percent() -> None:
    from console.measurements import TrafficFacts

    quiet = Measurements(traffic=(TrafficFacts("web", 50.0, 0.4, 0.008),))
    assert advise(quiet) == []
    warn = advise(Measurements(traffic=(TrafficFacts("web", 50.0, 1.0, 0.02),)))
    assert [(f.rule, f.severity) for f in warn] == [("error-ratio", Severity.WARN)]
    assert "web: 2.0% of requests answered 5xx (1.00 errors/s of 50.00 requests/s" in \
        warn[0].evidence
    everything = advise(Measurements(traffic=(TrafficFacts("api", 12.0, 12.0, 1.0,
                                                           "instance=web-3:8000"),)))
    assert [(f.rule, f.severity) for f in everything] == [("error-ratio", Severity.FAIL)]
    assert everything[0].evidence.startswith("api (instance=web-3:8000): 100.0% of requests")
    # A source may accept more: a batch endpoint that sheds load by design.
    lenient = {"api": Thresholds(error_ratio_warn=0.5, error_ratio_fail=0.9)}
    assert advise(Measurements(traffic=(TrafficFacts("api", 12.0, 1.2, 0.1),)),
                  per_source=lenient) == []


def test_error_readings_become_traffic_facts() -> None:
    readings = [Reading("web/request_rate", 10.0, 40.0), Reading("web/error_rate", 10.0, 40.0),
                Reading("web/error_ratio", 10.0, 1.0)]
    m = measurements_from_readings(readings)
    assert [(t.source, t.request_rate, t.error_ratio) for t in m.traffic] == [("web", 40.0, 1.0)]
    assert rules(advise(m)) == ["error-ratio"]


def test_a_slow_app_is_linked_only_to_its_own_database_and_cache() -> None:
    apps = {"shop-web": "shop", "cache": "shop", "shopdb": "shop", "fastapi3": "orders"}
    slow_shop = SlowQuery(AVAILABILITY.query, 1500, 48.2, 72_300.0, source="shopdb")
    m = Measurements(latency=(LatencyFacts("shop-web", 0.9), LatencyFacts("fastapi3", 0.826)),
                     caches=(CacheFacts("cache", 0.3),), slow_queries=(slow_shop,))
    found = {f.evidence.split(":")[0]: f for f in advise(m, apps=apps)
             if f.rule == "latency-p95"}
    assert found["shop-web"].advice.startswith("Likely the database, made worse by cache")
    assert found["fastapi3"].advice.startswith("Neither the database nor the cache")


def test_one_cache_seen_by_two_sources_is_one_finding_with_both_as_evidence() -> None:
    apps = {"web": "shop", "cache": "shop", "other-cache": "reports"}
    m = Measurements(caches=(CacheFacts("cache", 0.3), CacheFacts("web", 0.35),
                             CacheFacts("other-cache", 0.2)))
    found = advise(m, apps=apps)
    assert [(f.title, f.evidence, f.sources) for f in found] == [
        ("Cache hit rate low", "cache: hit rate 30%; web: hit rate 35%", ("cache", "web")),
        ("Cache hit rate low", "other-cache: hit rate 20%", ("other-cache",)),
    ]
    # two slow queries of one database stay two findings
    two = SlowQuery("SELECT * FROM orders WHERE placed_at > $1", 900, 30.0, 27_000.0,
                    source="db")
    one = SlowQuery(AVAILABILITY.query, 1500, 48.2, 72_300.0, source="db")
    assert rules(advise(Measurements(slow_queries=(one, two)))) == ["missing-index"] * 2


def test_traffic_at_twice_its_usual_is_news_and_without_a_usual_nothing_is_judged() -> None:
    from console.alert_rules import RuleSpec
    from console.measurements import TrafficFacts

    # traffic x5 on the demo: 24 requests/s against a usual 6.9/s (its last 15 min's median)
    readings = [Reading("shop/request_rate", 10.0, 24.2),
                Reading("shop/request_rate_usual", 10.0, 6.9)]
    found = advise(measurements_from_readings(readings))
    assert [(f.rule, f.severity, f.title) for f in found] == [
        ("traffic-high", Severity.INFO, "Busier than usual")]
    assert found[0].evidence == ("shop: 24.20 requests/s, 3.5x its usual 6.90/s (median of "
                                 "the last 15 min; threshold 2x)")
    # just under twice: nothing; no usual (no history): nothing judged
    assert advise(Measurements(traffic=(TrafficFacts("shop", 13.7, None, None,
                                                     usual_rate=6.9),))) == []
    assert advise(Measurements(traffic=(TrafficFacts("shop", 240.0, None, None),))) == []
    # the profile's relative rule sets the factor and the window
    rule = RuleSpec.create("Busier than usual", "request_rate", "shop", above=3.0,
                           baseline_s=1800)
    per_source = thresholds_from_rules([rule], ["shop"])
    m = Measurements(traffic=(TrafficFacts("shop", 24.2, None, None, usual_rate=6.9),))
    found = advise(m, per_source=per_source)
    assert "3.5x its usual 6.90/s (median of the last 30 min; threshold 3x)" in \
        found[0].evidence
    slower = Measurements(traffic=(TrafficFacts("shop", 18.0, None, None, usual_rate=6.9),))
    assert advise(slower, per_source=per_source) == []


def test_a_table_read_whole_is_a_finding_where_it_is_big_or_its_size_unknown() -> None:
    # traffic x5 on the demo: the empty waitlist (0 rows) read whole 0.6 times a second was
    # the top finding, its 0 rows taken for "not known"
    bookings = TableFacts("shop", "bookings", 0, 0, rows=2_717, full_scans_per_s=2.0)
    empty = TableFacts("shop", "waitlist", 0, 0, rows=0.0, full_scans_per_s=0.6)
    small = TableFacts("shop", "dining_tables", 0, 0, rows=30.0, full_scans_per_s=5.0)
    unknown = TableFacts("db", "public.orders", 0, 0, rows=None, full_scans_per_s=0.8)
    found = advise(Measurements(tables=(bookings, empty, small, unknown)))
    assert [(f.rule, f.title) for f in found] == [
        ("full-scans", "Table bookings is read whole 2.0 times a second"),
        ("full-scans", "Table public.orders is read whole 0.8 times a second")]
    assert "(2,717 rows)" in found[0].evidence and "rows)" not in found[1].evidence
