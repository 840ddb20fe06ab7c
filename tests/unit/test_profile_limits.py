"""Outside text and limits in a profile: alert labels with quotes and commas, max_series."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import tomli_w

from console.profile import ProfileError, parse_profile, profile_to_dict


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(data, "test.toml")
    return info.value.problems


def test_alert_labels_with_quotes_and_commas_survive_saving() -> None:
    """A rule on a queue named ``orders",x="1`` keeps watching that queue after a save."""
    data = {"name": "x", "sources": [{"name": "mq", "kind": "rabbitmq",
                                      "url": "http://127.0.0.1:15672"}],
            "alerts": [{"name": "backlog", "source": "mq", "above": 10,
                        "metric": 'queue_depth{queue="orders\\",x=\\"1",vhost="a,b"}'}]}
    profile = parse_profile(data)
    assert profile.alerts[0].labels == (("queue", 'orders",x="1'), ("vhost", "a,b"))
    again = parse_profile(tomllib.loads(tomli_w.dumps(profile_to_dict(profile))))
    assert again.alerts == profile.alerts


def test_max_series_per_source_is_read_checked_and_saved() -> None:
    def source(**extra: Any) -> dict[str, Any]:
        return {"name": "x", "sources": [{"name": "mq", "kind": "rabbitmq",
                                          "url": "http://127.0.0.1:15672", **extra}]}

    profile = parse_profile(source(max_series=250))
    assert profile.sources[0].max_series == 250
    assert parse_profile(source()).sources[0].max_series == 1000
    again = parse_profile(tomllib.loads(tomli_w.dumps(profile_to_dict(profile))))
    assert again.sources[0].max_series == 250
    for bad in (0, -5, 2.5, "many", 10**9):
        assert problems_of(source(max_series=bad))[0].startswith("sources[0].max_series: ")
