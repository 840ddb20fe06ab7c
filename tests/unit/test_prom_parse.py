"""The fast scrape parser gives exactly what prometheus_client gives for the wanted names."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.collectors.prom_parse import PromParseError, parse_samples


def oracle(text: str, wanted: set[str]) -> dict[str, list[tuple[dict[str, str], object]]]:
    """prometheus_client's full parse, kept to the wanted sample names."""
    found: dict[str, list[tuple[dict[str, str], object]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted:
                found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def comparable(samples: dict) -> dict:
    def key(value: float) -> object:
        return "nan" if isinstance(value, float) and math.isnan(value) else value

    return {name: [(labels, key(v)) for labels, v in rows] for name, rows in samples.items()}


def test_real_exposition_matches_the_oracle() -> None:
    registry = CollectorRegistry()
    hist = Histogram("http_request_duration_seconds", "latency", ["method"], registry=registry)
    hits = Counter("cache_hits", "hits", registry=registry)
    depth = Gauge("celery_queue_length", "depth", ["queue_name"], registry=registry)
    for i in range(50):
        hist.labels("GET" if i % 3 else 'PO"ST\\n').observe(i / 100)
    hits.inc(7)
    depth.labels("emails").set(4)
    text = generate_latest(registry).decode()
    wanted = {
        "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_count",
        "cache_hits_total",
        "celery_queue_length",
    }
    fast = parse_samples(text, wanted)
    assert comparable(fast) == comparable(oracle(text, wanted))
    assert fast["cache_hits_total"] == [({}, 7.0)]
    assert fast["celery_queue_length"] == [({"queue_name": "emails"}, 4.0)]
    # 14 default bounds and +Inf, for two label sets
    assert len(fast["http_request_duration_seconds_bucket"]) == 2 * 15


def test_unwanted_families_are_skipped() -> None:
    text = "# TYPE a gauge\na 1\n# TYPE b gauge\nb{x=\"1\"} 2\n"
    assert parse_samples(text, {"b"}) == {"b": [({"x": "1"}, 2)]}


def test_counter_declared_without_total_gains_the_suffix() -> None:
    text = "# TYPE hits counter\nhits 3\n"
    assert parse_samples(text, {"hits_total"}) == {"hits_total": [({}, 3)]}


@pytest.mark.parametrize(
    "text",
    [
        "<html><body>Not found</body></html>",
        'x{a="unterminated} 1\n',
        "x{a=\"1\"} not-a-number\n",
        "# TYPE x\n",
    ],
)
def test_malformed_pages_raise_a_clear_error(text: str) -> None:
    with pytest.raises(PromParseError, match="line 1"):
        parse_samples(text, {"x"})


# ---- hypothesis: structured pages and plain noise --------------------------------------

NAMES = st.sampled_from(["a", "b", "req", "req_total", "lat"])
SUFFIXES = st.sampled_from(["", "", "_total", "_bucket", "_count", "_sum", "_created"])
TYPES = st.sampled_from(["counter", "gauge", "histogram", "summary", "untyped", "info"])
LABEL_NAMES = st.sampled_from(["le", "method", "status", "q"] * 8 + ["__x", "a b", "__name__"])
LABEL_VALUES = st.lists(
    st.sampled_from(list("abc09 ,={}.\t") * 3 + ['"', "\\", "\\\\", '\\"', "\\n", "é"]),
    max_size=8,
).map("".join)
VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["NaN", "+Inf", "-Inf", "1e3", "2", "0.25"]),
    st.sampled_from(["1_0", "0x1", "", "abc", "1.5.2", "٣", "nan", "infinity"]),
)
SPACE = st.sampled_from([" ", " ", " ", "\t", "  ", " \t"])


CLEAN_VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["NaN", "+Inf", "-Inf", "1e3", "2", "0.25"]),
)
CLEAN_LABEL_VALUES = st.lists(
    st.sampled_from([*"abc09 ,={}.\t#é", "\\\\", '\\"', "\\n", "\\t"]), max_size=8
).map("".join)


@st.composite
def sample_lines(draw: st.DrawFn, clean: bool) -> str:
    name = draw(NAMES) + draw(SUFFIXES)
    label_values = CLEAN_LABEL_VALUES if clean else LABEL_VALUES
    pairs = draw(st.lists(st.tuples(LABEL_NAMES, label_values), max_size=3))
    if clean:
        pairs = [(k, v) for k, v in dict(pairs).items() if not k.startswith("_") and " " not in k]
    if pairs or draw(st.booleans()):
        inner = ",".join(
            f'{k}="{v}"' if clean or draw(st.integers(0, 19)) else f"{k} = {v}"
            for k, v in pairs
        )
        if draw(st.integers(0, 5)) == 0:
            inner += ","
        labels = "{" + inner + "}"
    else:
        labels = ""
    line = name + labels + draw(SPACE) + draw(CLEAN_VALUES if clean else VALUES)
    if draw(st.integers(0, 4)) == 0:
        stamps = ["1700000000000", "12"] if clean else ["1700000000000", "12", "x"]
        line += draw(SPACE) + draw(st.sampled_from(stamps))
    if not clean and draw(st.integers(0, 9)) == 0:
        line = "  " + line + " \r"
    return line


@st.composite
def comment_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["TYPE", "HELP", "TYPE", "other"]))
    name = draw(NAMES)
    if kind == "TYPE":
        return f"# TYPE {name} {draw(TYPES)}"
    if kind == "HELP":
        return f"# HELP {name} {draw(st.text(max_size=10))}"
    return "# " + draw(st.text(max_size=12))


CLEAN_LINES = st.one_of(*[sample_lines(True)] * 4, comment_lines(), st.just(""))
NOISY_LINES = st.one_of(
    *[sample_lines(False)] * 6, comment_lines(), comment_lines(), st.just(""),
    st.text(max_size=15),
)
PAGES = st.one_of(
    st.lists(CLEAN_LINES, max_size=30), st.lists(NOISY_LINES, max_size=6)
).map("\n".join)
WANTED = st.sets(
    st.sampled_from([n + s for n in ["a", "b", "req", "req_total", "lat"]
                     for s in ["", "_total", "_bucket", "_count", "_sum"]]),
    min_size=8,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=PAGES, wanted=WANTED)
def test_fast_parser_agrees_with_prometheus_client(page: str, wanted: set[str]) -> None:
    try:
        expected = oracle(page, wanted)
    except Exception:  # the oracle rejects the page: ours must fail cleanly or be laxer
        with contextlib.suppress(PromParseError):
            parse_samples(page, wanted)
        return
    assert comparable(parse_samples(page, wanted)) == comparable(expected)


@settings(max_examples=300, deadline=None)
@given(page=st.text(max_size=200), wanted=WANTED)
def test_noise_never_crashes(page: str, wanted: set[str]) -> None:
    try:
        parse_samples(page, wanted)
    except PromParseError as err:
        assert "line" in str(err)


# -- the label-set cap: folded while the page is read ---------------------------------------


def _queues_page(count: int) -> str:
    registry = CollectorRegistry()
    depth = Gauge("rabbitmq_queue_messages", "depth", ["queue"], registry=registry)
    for i in range(count):
        depth.labels(f"q{i:05d}").set(i % 7)
    return generate_latest(registry).decode()


def test_past_the_cap_a_page_gives_one_other_row_with_the_rest_summed() -> None:
    from services.collectors.prom_parse import LabelSetCap

    page = _queues_page(1500)
    cap = LabelSetCap(1000)
    rows = parse_samples(page, {"rabbitmq_queue_messages"}, cap)["rabbitmq_queue_messages"]

    full = oracle(page, {"rabbitmq_queue_messages"})["rabbitmq_queue_messages"]
    assert rows[:1000] == full[:1000]  # the first 1,000 exactly as prometheus_client reads them
    assert rows[1000:] == [({"series": "other"}, sum(i % 7 for i in range(1000, 1500)))]
    assert cap.folded == {"rabbitmq_queue_messages": 500}
    # the same 1,000 are kept on the next page, even when a new queue comes first
    again = parse_samples('rabbitmq_queue_messages{queue="new"} 5\n' + page,
                          {"rabbitmq_queue_messages"}, cap)["rabbitmq_queue_messages"]
    assert [labels["queue"] for labels, _ in again[:1000]] == [f"q{i:05d}" for i in range(1000)]
    assert again[1000][1] == 5 + sum(i % 7 for i in range(1000, 1500))


def test_a_folded_histogram_keeps_its_buckets_and_a_folded_counter_its_status() -> None:
    from services.collectors.prom_parse import LabelSetCap

    registry = CollectorRegistry()
    hist = Histogram("http_request_duration_seconds", "latency", ["path"], registry=registry,
                     buckets=(0.1, 1.0))
    hits = Counter("http_requests", "requests", ["path", "status"], registry=registry)
    for i in range(5):
        hist.labels(f"/p{i}").observe(0.05 * (i + 1))
        hits.labels(f"/p{i}", "500" if i % 2 else "200").inc(i + 1)
    page = generate_latest(registry).decode()
    wanted = {"http_request_duration_seconds_bucket", "http_requests_total"}
    got = parse_samples(page, wanted, LabelSetCap(2, ("status",)))

    buckets = got["http_request_duration_seconds_bucket"]
    assert len(buckets) == 2 * 3 + 3  # two paths' three buckets, and 'other''s three
    assert buckets[6:] == [({"series": "other", "le": "0.1"}, 0.0),
                           ({"series": "other", "le": "1.0"}, 3.0),
                           ({"series": "other", "le": "+Inf"}, 3.0)]
    requests = got["http_requests_total"]  # renamed as prometheus_client does, 'other' too
    assert requests[2:] == [({"series": "other", "status": "200"}, 3.0 + 5.0),
                            ({"series": "other", "status": "500"}, 4.0)]


def test_the_cap_reads_the_same_readings_as_the_series_limit_after_a_full_parse() -> None:
    """Folding while the page is read gives the figures and the warning folding after gives."""
    from console.series_limit import SeriesLimit
    from services.collectors.prometheus import PrometheusPageReader

    page = _queues_page(1500)
    before, now = SeriesLimit(1000), SeriesLimit(1000)
    full = PrometheusPageReader("mq")
    expected = before.apply(full.readings(full.scrape(page, 0.0), None, 5.0))
    capped = PrometheusPageReader("mq", max_series=1000)
    scrape = capped.scrape(page, 0.0)
    got = now.apply(capped.readings(scrape, None, 5.0), scrape.folded.items())

    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert now.warning() == before.warning()
    assert now.warning().startswith("500 queue_depth series folded into 'other'")


def test_a_page_of_bytes_is_read_a_piece_at_a_time_as_its_text_would_be() -> None:
    """Pages of several 64 KiB pieces, names with characters of 2-4 bytes and a bad byte:
    the bytes, decoded a piece at a time, read as the whole page decoded at once."""
    registry = CollectorRegistry()
    depth = Gauge("celery_queue_length", "depth", ["queue_name"], registry=registry)
    for i in range(6000):
        depth.labels(f"fila-ç€😀-{i}").set(i)
    page = generate_latest(registry) + b'celery_queue_length{queue_name="bad\xff"} 1\n'
    wanted = {"celery_queue_length"}
    assert len(page) > 4 * 65536
    got = parse_samples(page, wanted)
    assert got == parse_samples(page.decode("utf-8", errors="replace"), wanted)
    assert len(got["celery_queue_length"]) == 6001


# -- a page read through the last page's shape -----------------------------------------------

def _revalued(page: str, values: list[str]) -> str:
    """The page with each simple sample line's value replaced, in turn, by ``values``."""
    lines = []
    for i, line in enumerate(page.split("\n")):
        head, sep, _value = line.rpartition(" ")
        if sep and head and not line.lstrip().startswith("#"):
            lines.append(f"{head} {values[i % len(values)]}")
        else:
            lines.append(line)
    return "\n".join(lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=PAGES, values=st.lists(CLEAN_VALUES | VALUES, min_size=1, max_size=5),
       other=PAGES, wanted=WANTED)
def test_a_page_read_through_the_last_ones_shape_is_read_as_in_full(
        first: str, values: list[str], other: str, wanted: set[str]) -> None:
    from services.collectors.prom_parse import PageShape

    shape = PageShape()
    for page in (first, _revalued(first, values), _revalued(first, values[::-1]), other, first):
        try:
            expected = comparable(parse_samples(page, wanted))
        except PromParseError:
            with pytest.raises(PromParseError):
                shape.parse(page, wanted)
            continue
        assert comparable(shape.parse(page, wanted)) == expected


def test_a_scrape_like_the_last_is_read_through_its_shape_and_a_new_series_in_full() -> None:
    from services.collectors.prom_parse import PageShape

    registry = CollectorRegistry()
    Gauge("celery_queue_length", "depth", registry=registry).set(9)  # a value before ours
    hits = Counter("http_requests", "requests", ["status"], registry=registry)
    hits.labels("200").inc(3)
    shape = PageShape()
    wanted = {"http_requests_total"}
    assert shape.parse(generate_latest(registry), wanted) == {
        "http_requests_total": [({"status": "200"}, 3.0)]}
    hits.labels("200").inc(2)
    page = generate_latest(registry)
    import services.collectors.prom_parse as prom_parse

    calls: list[int] = []
    full = prom_parse.parse_samples

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return full(*args, **kwargs)  # type: ignore[arg-type]

    prom_parse.parse_samples = counted  # type: ignore[assignment]
    try:
        assert shape.parse(page, wanted) == {"http_requests_total": [({"status": "200"}, 5.0)]}
        assert calls == []  # the same series: its values read alone
        hits.labels("500").inc()
        assert shape.parse(generate_latest(registry), wanted) == {
            "http_requests_total": [({"status": "200"}, 5.0), ({"status": "500"}, 1.0)]}
        assert calls  # a new series: the page parsed in full
    finally:
        prom_parse.parse_samples = full


def test_past_the_cap_a_page_is_never_read_through_a_shape() -> None:
    from services.collectors.prom_parse import LabelSetCap, PageShape

    page = _queues_page(30)
    cap = LabelSetCap(20)
    shape = PageShape()
    for _ in range(3):
        rows = shape.parse(page, {"rabbitmq_queue_messages"}, cap)["rabbitmq_queue_messages"]
        assert len(rows) == 21 and rows[-1] == ({"series": "other"},
                                                float(sum(i % 7 for i in range(20, 30))))
        assert cap.folded == {"rabbitmq_queue_messages": 10}
