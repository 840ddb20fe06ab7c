""""Test connection" against real servers: each outcome a user can meet, in words, bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from console.profile import Backend, DatabaseConfig, Probe, SecretRef, Source
from services.diagnostics.connection_check import ConnectionResult, Outcome, check_target, classify
from services.local.secrets import SecretError
from tests import servers
from tests.integration.local_servers import (
    binary,
    http_server,
    process_on_port,
    reply,
    silent_server,
)

pytestmark = pytest.mark.integration

METRICS = (b"# TYPE http_requests_total counter\n"
           b'http_requests_total{method="GET",status="200"} 12\n')
SECRET = "Top-Secret-9876"


def literal(value: str) -> SecretRef:
    return SecretRef.literal(value)


def timed(kind: str, item: object) -> tuple[ConnectionResult, float]:
    start = time.perf_counter()
    result = check_target(kind, item)
    return result, time.perf_counter() - start


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[str, str, str]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    return str(cert_file), str(key_file), str(ca_file)


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from demo import DemoShop

    path = tmp_path_factory.mktemp("conn-test") / "shop.sqlite3"
    with DemoShop(path, traffic=False, seed_scale=0.05, workers=1) as running:
        yield running


def test_a_prometheus_page_is_reachable() -> None:
    with http_server({"/metrics": reply(body=METRICS)}) as url:
        result, _ = timed("source", Source("web", "prometheus", url + "/metrics"))
    assert result.outcome is Outcome.REACHABLE, result.detail
    assert result.title == "Reachable"
    assert "answered in" in result.detail


def test_auth_failed_is_told_apart_and_the_password_never_shown() -> None:
    with http_server({"/metrics": reply(401, b"no")}) as url:
        source = Source("web", "prometheus", url + "/metrics", user="scraper",
                        password=literal(SECRET))
        result, _ = timed("source", source)
    assert result.outcome is Outcome.AUTH_FAILED
    assert result.title == "Authentication failed"
    assert SECRET not in result.detail


def test_tls_error_then_reachable_with_the_ca_bundle(tls_files) -> None:
    cert, key, ca = tls_files
    with http_server({"/metrics": reply(body=METRICS)}, tls=(cert, key)) as url:
        untrusted, _ = timed("source", Source("web", "prometheus", url + "/metrics"))
        trusted, _ = timed("source", Source("web", "prometheus", url + "/metrics",
                                            ca_bundle=ca))
    assert untrusted.outcome is Outcome.TLS_ERROR
    assert untrusted.title == "TLS error"
    assert "ca_bundle" in untrusted.detail
    assert trusted.outcome is Outcome.REACHABLE, trusted.detail


def test_a_silent_server_times_out_within_its_timeout() -> None:
    with silent_server() as url:
        result, took = timed("source", Source("web", "prometheus", url + "/metrics",
                                              timeout_s=0.5))
    assert result.outcome is Outcome.TIMEOUT
    assert result.title == "Timed out"
    assert took < 3.0


def test_nothing_listening_is_unreachable() -> None:
    port = servers.free_port()
    result, took = timed("source", Source("cache", "redis", f"redis://127.0.0.1:{port}/0",
                                          timeout_s=1.0))
    assert result.outcome is Outcome.UNREACHABLE
    assert result.title == "Unreachable"
    assert took < 3.0


def test_wrong_kind_of_server() -> None:
    with http_server({"/": reply(body=b"<html>hello</html>", content_type="text/html")}) as url:
        api_as_rabbit, _ = timed("source", Source("broker", "rabbitmq", url, user="guest",
                                                  password=literal("guest"), timeout_s=2))
        redis_at_http, _ = timed("source", Source("cache", "redis",
                                                  url.replace("http", "redis") + "/0",
                                                  timeout_s=2))
    assert api_as_rabbit.outcome is Outcome.WRONG_SERVER, api_as_rabbit.detail
    assert api_as_rabbit.title == "Wrong kind of server"
    assert redis_at_http.outcome is Outcome.WRONG_SERVER, redis_at_http.detail
    assert "does not speak Redis" in redis_at_http.detail


def test_a_real_redis_is_reachable_and_a_bad_password_refused(tmp_path: Path) -> None:
    exe = binary("redis-server", "/usr/bin/redis-server")
    port = servers.free_port()
    command = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path), "--requirepass", "right-one"]
    url = f"redis://127.0.0.1:{port}/0"
    with process_on_port(command, port, "redis-server", cwd=tmp_path):
        ok, _ = timed("source", Source("cache", "redis", url, password=literal("right-one")))
        refused, _ = timed("source", Source("cache", "redis", url, password=literal(SECRET)))
        without, _ = timed("source", Source("cache", "redis", url))
    assert ok.outcome is Outcome.REACHABLE, ok.detail
    assert "Redis" in ok.detail
    assert refused.outcome is Outcome.AUTH_FAILED, refused.detail
    assert SECRET not in refused.detail
    assert without.outcome is Outcome.AUTH_FAILED, without.detail


def test_a_password_for_a_redis_that_needs_none_is_said_to_be_unchecked(tmp_path: Path) -> None:
    exe = binary("redis-server", "/usr/bin/redis-server")
    port = servers.free_port()
    command = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]
    url = f"redis://127.0.0.1:{port}/0"
    with process_on_port(command, port, "redis-server", cwd=tmp_path):
        given, _ = timed("source", Source("cache", "redis", url, password=literal(SECRET)))
        none, _ = timed("source", Source("cache", "redis", url))
    assert given.outcome is Outcome.REACHABLE
    assert given.detail.startswith("this Redis needs no password, so the one given is not "
                                   "checked"), given.detail
    assert SECRET not in given.detail
    assert none.outcome is Outcome.REACHABLE and "password" not in none.detail


def test_a_wrong_database_name_or_user_is_named_not_unreachable(postgres_url: str) -> None:
    base, _name = postgres_url.rsplit("/", 1)
    no_db, _ = timed("database", DatabaseConfig(url=base + "/no_such_db_firsthour"))
    assert no_db.outcome is Outcome.NOT_FOUND and no_db.title == "No such database"
    assert "has no database named 'no_such_db_firsthour'" in no_db.detail
    assert "server is running" not in no_db.detail
    scheme, rest = postgres_url.split("://", 1)
    host = rest.split("@", 1)[-1]
    no_user, _ = timed("database", DatabaseConfig(url=f"{scheme}://nobody_firsthour@{host}"))
    assert no_user.outcome is Outcome.AUTH_FAILED, no_user.detail
    assert "has no user named 'nobody_firsthour'" in no_user.detail


def test_rabbitmq_management_api_with_a_wrong_password(rabbitmq_api: str) -> None:
    result, _ = timed("source", Source("broker", "rabbitmq", rabbitmq_api, user="guest",
                                       password=literal(SECRET), timeout_s=5))
    assert result.outcome is Outcome.AUTH_FAILED, result.detail
    assert SECRET not in result.detail


def test_the_database_config_is_tested_like_a_database_source(postgres_url: str) -> None:
    result, _ = timed("database", DatabaseConfig(url=postgres_url))
    assert result.outcome is Outcome.REACHABLE, result.detail
    assert "PostgreSQL" in result.detail or "postgres" in result.detail.lower()


def test_a_probe_with_a_refused_token_is_auth_failed() -> None:
    with http_server({"/": reply(401, b"who are you")}) as url:
        result, _ = timed("probe", Probe("home", url + "/", token=literal(SECRET)))
    assert result.outcome is Outcome.AUTH_FAILED
    assert "HTTP 401" in result.detail


def test_the_backend_check_tells_token_problems_and_wrong_servers(demo_shop) -> None:
    base, token = demo_shop.base_url, demo_shop.token
    good, _ = timed("backend", Backend(base, token=literal(token)))
    assert good.outcome is Outcome.REACHABLE, good.detail
    assert good.detail.startswith("shop API")
    bad, _ = timed("backend", Backend(base, token=literal(SECRET)))
    assert bad.outcome is Outcome.AUTH_FAILED
    assert "token was refused" in bad.detail and SECRET not in bad.detail
    missing, _ = timed("backend", Backend(base))
    assert missing.outcome is Outcome.AUTH_FAILED
    with http_server({"/health": reply(body=b"OK")}) as other:
        wrong, _ = timed("backend", Backend(other, token=literal(token)))
    assert wrong.outcome is Outcome.WRONG_SERVER
    assert "health document" in wrong.detail


def test_a_missing_keychain_entry_is_a_secret_problem() -> None:
    def resolve(_ref: SecretRef) -> str:
        raise SecretError("no secret named 'x' in the OS keychain")

    source = Source("cache", "redis", "redis://127.0.0.1:1/0",
                    password=SecretRef("keyring", "x"))
    result = check_target("source", source, resolve=resolve)
    assert result.outcome is Outcome.SECRET_MISSING
    assert result.title == "Secret missing"
    assert classify(RuntimeError("?")) is Outcome.ERROR
    assert check_target("spaceship", source).outcome is Outcome.ERROR
