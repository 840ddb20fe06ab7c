"""Who changed what, the pure part: field diffs, values as text, the console's user name."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import pytest

from console.changes import Change, as_text, clean_user, default_user, field_changes, last_saved
from console.profile import ProfileError, parse_profile
from console.profile.writing import profile_to_dict


def test_only_fields_whose_text_differs_are_changes() -> None:
    before = {"party_size": 2, "notes": "", "table_no": None, "active": True,
              "start_at": datetime(2026, 12, 7, 19, 30)}
    after = {"party_size": 4, "notes": "", "table_no": 7, "active": False,
             "start_at": datetime(2026, 12, 7, 19, 30, tzinfo=UTC)}
    assert field_changes(before, after, ("party_size", "notes", "table_no", "active",
                                         "start_at")) == [
        ("party_size", "2", "4"), ("table_no", None, "7"), ("active", "true", "false")]
    assert as_text(datetime(2026, 12, 7, 19, 30)) == "2026-12-07T19:30:00Z"


def test_the_user_is_the_profiles_else_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_user(" Maria \n Rossi ") == "Maria Rossi"
    monkeypatch.setattr(getpass, "getuser", lambda: "maria")
    assert default_user(None) == default_user("   ") == "maria"

    def no_login() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_login)
    assert default_user(None) == ""
    assert len(clean_user("x" * 500)) == 120


def test_the_latest_change_is_who_saved_last() -> None:
    early = Change(datetime(2026, 12, 7, 18, tzinfo=UTC), "Maria", "notes", None, "a", 2)
    late = Change(datetime(2026, 12, 7, 19, tzinfo=UTC), "Zoë", "party_size", "2", "4", 3)
    saved = last_saved([late, early])
    assert saved is not None and (saved.user, saved.at) == ("Zoë", late.at)
    assert last_saved([]) is None


def test_the_profile_keeps_an_optional_user() -> None:
    profile = parse_profile({"name": "Bistro", "user": "  Maria Rossi "})
    assert profile.user == "Maria Rossi"
    assert profile_to_dict(profile)["user"] == "Maria Rossi"
    assert parse_profile({"name": "Bistro"}).user is None
    assert "user" not in profile_to_dict(parse_profile({"name": "Bistro"}))
    with pytest.raises(ProfileError, match="user"):
        parse_profile({"name": "Bistro", "user": "   "})
    with pytest.raises(ProfileError, match="user"):
        parse_profile({"name": "Bistro", "user": 7})
