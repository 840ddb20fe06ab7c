"""The one duration format of the console: the words at each boundary."""

from __future__ import annotations

import pytest

from console import alerts, correlate
from console.durations import format_duration


@pytest.mark.parametrize(("seconds", "words"), [
    (0, "0 s"),
    (0.4, "0 s"),
    (30, "30 s"),
    (59.4, "59 s"),
    (59.6, "1 min"),  # rounded to the second first: never "60 s"
    (60, "1 min"),
    (90, "1 min 30 s"),
    (125, "2 min 5 s"),
    (3599.4, "59 min 59 s"),
    (3599.6, "1 h"),  # never "60 min"
    (3600, "1 h"),
    (3659, "1 h"),  # above an hour, whole minutes
    (3660, "1 h 1 min"),
    (3780, "1 h 3 min"),
    (7200, "2 h"),
    (90_000, "25 h"),
])
def test_words_at_the_boundaries(seconds: float, words: str) -> None:
    assert format_duration(seconds) == words


def test_the_sign_is_the_callers_to_say() -> None:
    assert format_duration(-30) == "30 s"
    assert format_duration(-59.6) == "1 min"


def test_the_alerts_and_what_moved_first_say_durations_alike() -> None:
    assert alerts.format_duration is correlate.format_duration is format_duration
