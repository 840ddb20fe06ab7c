"""Series names: any source, metric and labels survive naming and parsing exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.domain import labels_text, parse_labels, series_name, split_series

HOSTILE = ['orders",x="1', 'orders",x="2', "a\\", '\\"', "line\nbreak", "a,b", "}", "{", "=",
           "a/b", "GET /slow/", " ", "", "\\n", 'x="y"}', "\t"]
#: Short strings of the characters that matter to the syntax, hostile ones, and any text.
text = st.one_of(st.text(alphabet='ab/\\"=,{} \n\t\rxé', max_size=6),
                 st.sampled_from(HOSTILE), st.text())


@given(text, text, st.dictionaries(text, text, max_size=5))
def test_any_name_and_labels_round_trip(source: str, metric: str,
                                        labels: dict[str, str]) -> None:
    assert split_series(series_name(source, metric, labels)) == (source, metric, labels)


@given(st.dictionaries(text, text, max_size=5))
def test_any_labels_round_trip(labels: dict[str, str]) -> None:
    assert parse_labels(labels_text(labels)[1:-1]) == labels


def test_label_values_cannot_forge_labels() -> None:
    one = series_name("mq", "queue_depth", {"queue": 'orders",x="1'})
    two = series_name("mq", "queue_depth", {"queue": 'orders",x="2'})

    assert one != two
    assert split_series(one)[2] == {"queue": 'orders",x="1'}
    assert split_series(two)[2] == {"queue": 'orders",x="2'}


def test_a_source_named_with_slashes_keeps_its_name() -> None:
    name = series_name("GET /slow/", "latency_p95")

    assert split_series(name) == ("GET /slow/", "latency_p95", {})


def test_plain_names_read_as_they_always_did() -> None:
    """Names already in a history file (nothing to escape) keep their exact text."""
    assert series_name("web", "latency_p95", {"route": "/orders", "method": "GET"}) == \
        'web/latency_p95{method="GET",route="/orders"}'
    assert split_series('broker/queue_depth{queue="celery"}') == \
        ("broker", "queue_depth", {"queue": "celery"})
