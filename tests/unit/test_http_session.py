"""The console's HTTP session reads the environment once: proxies, CA bundle and netrc."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.http.client import new_session

ENVIRONMENT = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
               "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC")


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    return monkeypatch


def test_nothing_in_the_environment_means_no_lookup_per_request(plain_environment) -> None:
    with new_session() as session:
        assert session.trust_env is False


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "http_proxy"])
def test_a_proxy_in_the_environment_is_honoured(plain_environment, name: str) -> None:
    plain_environment.setenv(name, "http://proxy.example:3128")
    with new_session() as session:
        assert session.trust_env is True
        settings = session.merge_environment_settings(
            "https://shop.example/metrics", {}, False, True, None)
    assert "http://proxy.example:3128" in settings["proxies"].values()


@pytest.mark.parametrize("name", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_in_the_environment_is_used_without_a_lookup_per_request(
        plain_environment, name: str) -> None:
    plain_environment.setenv(name, "/etc/ssl/company-ca.pem")
    with new_session() as session:
        assert session.trust_env is False
        default = session.merge_environment_settings("https://shop.example/", {}, False, True,
                                                     None)
        own = session.merge_environment_settings("https://shop.example/", {}, False,
                                                 "/profile/ca.pem", None)
        off = session.merge_environment_settings("https://shop.example/", {}, False, False,
                                                 None)
    assert default["verify"] == "/etc/ssl/company-ca.pem"
    assert own["verify"] == "/profile/ca.pem"  # the profile's ca_bundle wins
    assert off["verify"] is False


def test_a_netrc_file_is_honoured(plain_environment, tmp_path: Path) -> None:
    (tmp_path / ".netrc").write_text("machine shop.example login a password b\n")
    with new_session() as session:
        assert session.trust_env is True
