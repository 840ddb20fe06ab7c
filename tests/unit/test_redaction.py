"""One redaction everywhere: secrets in URL query strings are masked like URL passwords, the
log masks what the reports mask, and the profile check warns about secrets in URLs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from console.profile import Backend, DatabaseConfig, Probe, Profile, Source, parse_profile
from services.diagnostics.bundle import redacted_profile_toml
from services.local.logsetup import SecretMaskingFilter, setup_logging

SECRET = "Qs7-v4lue-9k"
#: Query keys that carry a secret, as libpq, redis-py and the usual web APIs write them.
SECRET_KEYS = ("password", "sslpassword", "api_key", "apikey", "token", "access_token", "key",
               "secret", "client_secret", "auth", "API_KEY", "Password", "x-api-key")


def probe_url(key: str, value: str = SECRET) -> str:
    return f"https://bistro.example/api/health?date=today&{key}={value}&party_size=2"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[tuple[Path, SecretMaskingFilter]]:
    """The console's logging into a fresh folder, taken down afterwards."""
    root = logging.getLogger()
    level = root.level
    masking = setup_logging(directory=tmp_path / "logs")
    try:
        yield tmp_path / "logs" / "backroom.log", masking
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_backroom", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def test_a_three_character_secret_is_masked_in_the_log_as_in_reports(
        log_file: tuple[Path, SecretMaskingFilter]) -> None:
    """Reports masked secrets of 3 characters and more, the log only of 4 and more."""
    path, masking = log_file
    masking.add_secret("k9z")
    logging.getLogger("backroom.test").warning("redis said: WRONGPASS k9z is not it")
    text = path.read_text(encoding="utf-8")
    assert "WRONGPASS *** is not it" in text
    assert "k9z" not in text


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_the_log_masks_a_secret_in_a_query_string(key: str,
                                                  log_file: tuple[Path, SecretMaskingFilter]
                                                  ) -> None:
    path, _masking = log_file
    log = logging.getLogger("backroom.test")
    log.warning("probe failed: %s", probe_url(key))
    log.warning("urllib3: GET /api/health?%s=%s HTTP/1.1 500", key, SECRET)
    log.warning("GET /menu?page=2&sort=price&monkey=1&%s=%s", key, SECRET)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert f"?date=today&{key}=***&party_size=2" in text  # the rest of the URL stays
    assert f"GET /api/health?{key}=*** HTTP/1.1 500" in text
    assert f"GET /menu?page=2&sort=price&monkey=1&{key}=***" in text


def test_the_log_masks_a_secret_the_profile_writes_in_a_url(
        log_file: tuple[Path, SecretMaskingFilter], tmp_path: Path) -> None:
    """The composition root tells the log every secret a profile's URLs hold, so an echo of
    the value alone (no key= beside it) is masked too."""
    from services.bootstrap import build_services

    path, masking = log_file
    profile = Profile(name="Echo", probes=(Probe("home", probe_url("token")),))
    build_services(profile, directory=tmp_path / "data", history=False, poll=False,
                   masking=masking).stop()
    logging.getLogger("backroom.test").warning("the proxy said: bad credential %s", SECRET)
    assert SECRET not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_the_profile_check_warns_about_a_secret_in_a_query_string(key: str) -> None:
    profile = parse_profile({"name": "Bistro", "probes": [
        {"name": "menu", "url": "https://bistro.example/menu?page=2&sort=price&monkey=1"},
        {"name": "home", "url": probe_url(key)}]})
    assert profile.warnings == (f"probes[1].url: the URL's query string holds a secret ({key}); "
                                "put it in a secret field as keyring:NAME or env:NAME instead",)
    assert SECRET not in " ".join(profile.warnings)


def test_the_profile_check_warns_about_libpq_and_redis_query_passwords() -> None:
    profile = parse_profile({"name": "Bistro", "sources": [
        {"name": "cache", "kind": "redis", "url": f"redis://cache:6379/0?password={SECRET}"},
        {"name": "orders", "kind": "database",
         "url": f"postgresql+psycopg://shop@db/shop?sslpassword={SECRET}"}],
        "database": {"url": f"postgresql+psycopg://shop@db/shop?password={SECRET}"}})
    assert [w.split(":")[0] for w in profile.warnings] == [
        "sources[0].url", "sources[1].url", "database.url"]
    assert "(sslpassword)" in profile.warnings[1]


def profile_with_secret_queries() -> Profile:
    return Profile(
        name="Query Deli",
        backend=Backend(f"https://deli.example?api_key={SECRET}"),
        probes=tuple(Probe(f"probe {i}", probe_url(key)) for i, key in enumerate(SECRET_KEYS)),
        sources=(Source("cache", "redis", f"redis://cache:6379/0?password={SECRET}"),),
        database=DatabaseConfig(f"postgresql+psycopg://shop@db/shop?sslpassword={SECRET}"
                                "&connect_timeout=5"))


def test_the_support_bundles_profile_masks_secret_query_values() -> None:
    text = redacted_profile_toml(profile_with_secret_queries())
    assert SECRET not in text
    for key in SECRET_KEYS:
        assert f"?date=today&{key}=***&party_size=2" in text
    assert "redis://cache:6379/0?password=***" in text
    assert "?sslpassword=***&connect_timeout=5" in text


def test_an_exported_profile_leaves_secret_query_values_out() -> None:
    """Settings' export (profile_to_dict with redact) drops them, as it drops URL passwords;
    the other parameters stay as written."""
    from console.profile import profile_to_dict

    text = tomli_w.dumps(profile_to_dict(profile_with_secret_queries(), redact=True))
    assert SECRET not in text
    assert text.count("?date=today&party_size=2") == len(SECRET_KEYS)
    for key in SECRET_KEYS:
        assert f"&{key}=" not in text
    assert 'url = "redis://cache:6379/0"' in text
    assert "shop@db/shop?connect_timeout=5" in text


def test_a_profile_problem_quoting_a_url_masks_its_secrets() -> None:
    """The problems go to stderr (``--profile``), the Settings list's tooltip and the log."""
    from console.profile import ProfileError

    with pytest.raises(ProfileError) as caught:
        parse_profile({"name": "Bistro", "sources": [
            {"name": "cache", "kind": "redis", "url": f"http://cache:6379?password={SECRET}"},
            {"name": "db", "kind": "database", "url": f"shop.sqlite?token={SECRET}"}]})
    text = str(caught.value)
    assert SECRET not in text
    assert "'http://cache:6379?password=***' is not a redis" in text
    assert "'shop.sqlite?token=***' is not a database URL" in text


def test_an_error_message_quoting_urls_is_masked_like_a_url() -> None:
    """The collectors pass a library's error text through mask_url (``_http._reason``)."""
    from console.redaction import mask_url

    text = (f"Max retries exceeded with url: /x?token={SECRET}&b=2 (Caused by proxy "
            f"redis://:{SECRET}@cache:6379)")
    assert mask_url(text) == ("Max retries exceeded with url: /x?token=***&b=2 (Caused by proxy "
                              "redis://:***@cache:6379)")


def test_a_restaurants_session_and_sort_parameters_are_not_secrets() -> None:
    """Over-masking has a cost too: a URL the profile check warns about for nothing, an
    export that drops a parameter the probe needs."""
    url = "https://bistro.example/api/availability?session=dinner&sort=time&party_size=2"
    profile = parse_profile({"name": "Bistro", "probes": [
        {"name": "dinner", "url": url}, {"name": "home", "url": probe_url("key")}]})
    assert [w.split(":")[0] for w in profile.warnings] == ["probes[1].url"]
    from console.profile import profile_to_dict

    assert profile_to_dict(profile, redact=True)["probes"][0]["url"] == url
