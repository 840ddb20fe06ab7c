"""Profile schema: every problem reported by field path, secrets never shown, round trips."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import Severity
from console.profile import (
    SOURCE_KINDS,
    ProfileError,
    SecretRef,
    parse_profile,
    profile_to_dict,
)

GOOD = """
name = "Main Street Bistro"
role = "manager"

[backend]
base_url = "https://bistro.example.com/"
token = "keyring:backroom/bistro-api"

[[probes]]
name = "home page"
url = "https://bistro.example.com/"
interval_s = 5
expect_status = [200, 301]

[[sources]]
name = "web"
kind = "prometheus"
url = "https://bistro.example.com/metrics"
metrics = { latency = "my_latency_seconds" }

[[sources]]
name = "fleet"
kind = "prometheus-server"
url = "http://prometheus.internal:9090"
selector = 'job="bistro"'
query = { latency_p95 = "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))" }

[[sources]]
name = "cache"
kind = "redis"
url = "redis://cache.internal:6379/0"
password = "env:REDIS_PASSWORD"

[[sources]]
name = "sessions"
kind = "memcached"
address = "127.0.0.1:11211"

[[sources]]
name = "broker"
kind = "rabbitmq"
url = "http://mq.internal:15672"
user = "monitor"
password = "keyring:backroom/mq"
queues = ["celery", "emails"]
vhost = "shop"

[[sources]]
name = "jobs"
kind = "celery-redis"
url = "redis://cache.internal:6379/1"
queues = ["celery"]

[database]
url = "postgresql+psycopg://backroom@db.internal/bistro"
password = "keyring:backroom/db"

[[alerts]]
name = "slow"
source = "web"
metric = "latency_p95"
above = 0.5
for_s = 30

[[alerts]]
name = "emails backing up"
source = "broker"
metric = 'queue_depth{queue="emails"}'
above = 100
severity = "fail"
"""


def good() -> dict[str, Any]:
    return tomllib.loads(GOOD)


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(data, "test.toml")
    return info.value.problems


def test_good_profile_parses_into_typed_fields() -> None:
    profile = parse_profile(good(), "test.toml")
    assert profile.name == "Main Street Bistro"
    assert profile.role == "manager"
    assert profile.backend is not None
    assert profile.backend.base_url == "https://bistro.example.com"
    assert profile.backend.token == SecretRef("keyring", "backroom/bistro-api")
    assert profile.probes[0].expect_status == (200, 301)
    kinds = [s.kind for s in profile.sources]
    assert kinds == ["prometheus", "prometheus-server", "redis", "memcached", "rabbitmq",
                     "celery-redis"]
    broker = profile.sources[4]
    assert broker.queues == ("celery", "emails")
    assert broker.vhost == "shop"
    assert profile.sources[0].metric_for("latency") == "my_latency_seconds"
    assert profile.sources[3].url == "127.0.0.1:11211"
    assert profile.alerts[1].series == 'broker/queue_depth{queue="emails"}'
    assert profile.alerts[1].severity is Severity.FAIL
    assert profile.warnings == ()


def test_every_problem_is_listed_with_its_field_path() -> None:
    data = good()
    data["sources"][2]["kind"] = "redsi"
    data["probes"][0]["interval_s"] = -1
    data["probes"][0]["intervl_s"] = 5
    data["backend"]["base_url"] = "ftp://x"
    data["alerts"][0]["metric"] = "latency_p955"
    data["alerts"][1]["below"] = 3
    data["sources"][4]["queues"] = "celery"
    problems = problems_of(data)
    joined = "\n".join(problems)
    assert "sources[2].kind: unknown kind 'redsi' (expected one of prometheus," in joined
    assert "probes[0].interval_s: must be > 0" in joined
    assert "probes[0].intervl_s: unknown field" in joined
    assert "backend.base_url: 'ftp://x' is not a http/https URL" in joined
    assert "alerts[0].metric: unknown metric 'latency_p955'" in joined
    assert "alerts[1]: give either above or below, not both" in joined
    assert "sources[4].queues: expected a list" in joined
    assert len(problems) == 7


def test_duplicate_names_and_unknown_alert_source() -> None:
    data = good()
    data["sources"][1]["name"] = "web"
    data["alerts"][0]["source"] = "nowhere"
    problems = problems_of(data)
    assert any(p.startswith("sources[1].name: 'web' is already used") for p in problems)
    assert any(p.startswith("alerts[0].source: no probe or source named 'nowhere'")
               for p in problems)


def test_field_not_for_this_kind_is_rejected() -> None:
    data = {"name": "x", "sources": [{"name": "c", "kind": "redis",
                                      "url": "redis://h:6379", "queues": ["a"]}]}
    assert problems_of(data) == [
        "sources[0].queues: unknown field for kind 'redis' (expected one of app, interval_s, "
        "kind, max_series, name, password, timeout_s, url)"
    ]


def test_missing_name_and_wrong_types() -> None:
    problems = problems_of({"probes": "x", "role": "boss"})
    assert "name: required" in problems
    assert any(p.startswith("role: unknown role 'boss'") for p in problems)
    assert any(p.startswith("probes: expected a list of tables") for p in problems)


def test_unsupported_database_is_rejected() -> None:
    problems = problems_of({"name": "x", "database": {"url": "oracle://u@h/db"}})
    assert problems == ["database.url: unsupported database 'oracle' (expected one of "
                        "mariadb, mysql, postgresql, sqlite)"]
    mariadb = parse_profile({"name": "x", "database": {"url": "mysql+pymysql://u@h/db"}})
    assert mariadb.database is not None and mariadb.database.url.startswith("mysql+pymysql")


def test_literal_secret_warns_and_never_shows_in_repr() -> None:
    data = good()
    data["backend"]["token"] = "s3cret-token-value"
    profile = parse_profile(data)
    assert profile.warnings and "backend.token" in profile.warnings[0]
    assert "s3cret-token-value" not in repr(profile)
    assert "s3cret-token-value" not in str(profile.backend)
    assert profile.backend is not None and profile.backend.token is not None
    assert str(profile.backend.token) == "literal (hidden)"
    assert profile.backend.token.value == "s3cret-token-value"


def test_secret_reference_needs_a_name() -> None:
    data = good()
    data["backend"]["token"] = "keyring:"
    assert problems_of(data) == ["backend.token: keyring: needs a name, e.g. "
                                 "keyring:backroom/shop"]


def test_round_trip_through_toml_text() -> None:
    profile = parse_profile(good(), "test.toml")
    text = tomli_w.dumps(profile_to_dict(profile))
    assert parse_profile(tomllib.loads(text), "again.toml") == profile


def test_redacted_dict_leaves_literal_secrets_out_but_keeps_references() -> None:
    data = good()
    data["backend"]["token"] = "s3cret-token-value"
    profile = parse_profile(data)
    redacted = profile_to_dict(profile, redact=True)
    assert "token" not in redacted["backend"]
    assert redacted["database"]["password"] == "keyring:backroom/db"
    assert "s3cret-token-value" not in tomli_w.dumps(redacted)
    assert profile_to_dict(profile)["backend"]["token"] == "s3cret-token-value"


# ---- hypothesis: any data either parses or is rejected with field-path problems -------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000),
                    st.floats(allow_nan=True), st.text(max_size=12),
                    st.sampled_from(["keyring:x", "env:", "http://h/", "redis://h:1/0",
                                     "sqlite:///x.db", "h:11211", "latency_p95",
                                     *SOURCE_KINDS]))
KEYS = st.sampled_from(["name", "kind", "url", "address", "interval_s", "timeout_s", "queues",
                        "password", "token", "above", "below", "metric", "source", "query",
                        "metrics", "expect_status", "base_url", "vhost", "severity", "junk"])
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=5)), max_leaves=12)
SECTIONS = st.fixed_dictionaries({}, optional={
    "name": SCALARS, "role": SCALARS, "backend": VALUES, "database": VALUES,
    "probes": st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=3),
    "sources": st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=3),
    "alerts": st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=3),
    "extra": VALUES,
})


@settings(max_examples=200, deadline=None)
@given(data=SECTIONS)
def test_any_data_parses_or_fails_with_clear_problems(data: dict[str, Any]) -> None:
    try:
        profile = parse_profile(data, "fuzz.toml")
    except ProfileError as err:
        assert err.problems
        assert all(": " in p for p in err.problems)
        return
    assert parse_profile(tomllib.loads(tomli_w.dumps(profile_to_dict(profile)))) == profile


def test_celery_redis_takes_kombus_transport_options() -> None:
    """The Celery docs' broker_transport_options, copied into a source, are kept and written
    back; priorities outside kombu's 0..255 are a clear problem."""
    text = """
name = "Bistro"
[[sources]]
name = "jobs"
kind = "celery-redis"
url = "redis://cache.internal:6379/1"
global_keyprefix = "bistro:"
sep = ":"
priority_steps = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
"""
    profile = parse_profile(tomllib.loads(text))
    (source,) = profile.sources
    assert (source.key_prefix, source.priority_sep, source.priority_steps) == \
        ("bistro:", ":", tuple(range(10)))
    again = tomli_w.dumps(profile_to_dict(profile))
    assert parse_profile(tomllib.loads(again)) == profile
    with pytest.raises(ProfileError, match=r"sources\[0\]\.priority_steps: expected a list"):
        parse_profile(tomllib.loads(text.replace("[0, 1, 2", "[-1, 1, 2")))


def test_error_ratio_thresholds_and_groups_per_source() -> None:
    data = good()
    data["sources"][1].update(error_ratio_warn=0.02, error_ratio_fail=0.1,
                              group_by=["site"], scrape_interval_s=60)
    source = parse_profile(data, "test.toml").sources[1]
    assert (source.error_ratio_warn, source.error_ratio_fail) == (0.02, 0.1)
    assert source.group_by == ("site",)
    assert source.scrape_interval_s == 60
    again = parse_profile(profile_to_dict(parse_profile(data, "test.toml")), "again.toml")
    assert again.sources[1] == source
    data["sources"][1].update(error_ratio_warn=0.2, error_ratio_fail=0.1)
    data["sources"][0]["error_ratio_fail"] = 5
    joined = "\n".join(problems_of(data))
    assert "sources[1].error_ratio_warn: must not be above error_ratio_fail (0.1)" in joined
    assert "sources[0].error_ratio_fail: must be > 0 and <= 1, got 5" in joined


def test_latency_unit_is_seconds_unless_declared() -> None:
    data = good()
    assert parse_profile(data, "test.toml").sources[0].unit == "s"
    data["sources"][0]["unit"] = "ms"
    source = parse_profile(data, "test.toml").sources[0]
    assert source.unit == "ms"
    assert parse_profile(profile_to_dict(parse_profile(data)), "again").sources[0] == source
    data["sources"][0]["unit"] = "us"
    assert "sources[0].unit: unknown unit 'us' (expected one of" in "\n".join(problems_of(data))


def test_sources_probes_and_the_database_say_their_app() -> None:
    profile = parse_profile({
        "name": "x",
        "probes": [{"name": "home", "url": "https://shop.example/", "app": "shop"}],
        "sources": [{"name": "orders", "kind": "prometheus", "url": "https://o.example/metrics",
                     "app": " orders-api "},
                    {"name": "cache", "kind": "redis", "url": "redis://h:6379", "app": "shop"},
                    {"name": "jobs", "kind": "celery-redis", "url": "redis://h:6379"}],
        "database": {"url": "sqlite:///shop.db", "app": "shop"}})
    assert profile.apps() == {"home": "shop", "orders": "orders-api", "cache": "shop",
                              "jobs": "", "database": "shop"}
    assert parse_profile(profile_to_dict(profile)) == profile


def test_a_relative_alert_rule_round_trips_and_is_checked() -> None:
    data = good()
    data["alerts"][0] = {"name": "Busier than usual", "source": "web",
                         "metric": "request_rate", "above": 3, "baseline_s": 900,
                         "for_s": 30}
    profile = parse_profile(data)
    rule = profile.alerts[0]
    assert (rule.above, rule.baseline_s) == (3, 900)
    assert parse_profile(tomllib.loads(tomli_w.dumps(profile_to_dict(profile)))) == profile
    data["alerts"][0].update(above=-1, baseline_s=10)
    problems = problems_of(data)
    assert any(p.startswith("alerts[0].baseline_s: must be at least 60 s") for p in problems)
    assert any("must be above 0 (3 means 3x)" in p for p in problems)
