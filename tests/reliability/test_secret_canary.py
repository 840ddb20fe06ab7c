"""A canary secret in every secret field of a profile (literals and env: references, and in
URLs) never shows, raw or encoded, in the log, the errors (str, repr, tracebacks), diagnose's
table/JSON/HTML/bundle or an exported profile, while every source fails or refuses us.

tests/integration/test_bundle_redaction.py covers the same outputs against working servers;
here every server fails, refuses the credentials, or echoes back what it was sent (the way a
debugging proxy or a chatty error page does), so the secrets travel through error paths.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import secrets
import socket
import traceback
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import tomli_w

from console.own_cost import OWN_SOURCE
from console.profile import (
    Backend,
    DatabaseConfig,
    Probe,
    Profile,
    SecretRef,
    Source,
    profile_to_dict,
)
from tests import servers
from tests.reliability.support import RawServer, raw_server, silent, wait_until

pytestmark = pytest.mark.integration

# Characters that URL-encoding and base64 both change; unique per run.
CANARY = f"CANARY-s3cr3t-Zq9!/+={secrets.token_hex(3)}"
USERS = ("monitor", "guest", "", "canary")


def forms(secret: str) -> dict[str, str]:
    """Every way the secret may be written: raw, URL-encoded, base64 (standard and URL-safe,
    padded or not) and base64 of ``user:secret`` as in a Basic auth header."""
    out: dict[str, str] = {"raw": secret, "quote": quote(secret, safe=""),
                           "quote /": quote(secret), "quote_plus": quote_plus(secret)}
    for name, encode in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
        text = encode(secret.encode()).decode()
        out[name] = text
        out[name + " unpadded"] = text.rstrip("=")
    for user in USERS:
        basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
        out[f"basic {user}:"] = basic.rstrip("=")
    return out


FORMS = forms(CANARY)


def assert_clean(text: str, where: str) -> None:
    for name, form in FORMS.items():
        assert form not in text, f"{where} holds the canary ({name}: {form!r})"


def echo(conn: socket.socket, server: RawServer) -> None:
    """Answer every request with an error that repeats the request (headers included):
    400 with a Prometheus-style JSON error under /api/v1, else 401 with a JSON echo."""
    while not server.stopping:
        head = server.read_request(conn)
        if not head:
            return
        text = head.decode("latin-1").replace("\\", "/").replace('"', "'")
        path = text.split(" ", 2)[1] if " " in text else "/"
        status = 400 if path.startswith("/api/v1/") else 401
        body = ('{"status": "error", "error": "' + text.replace("\r\n", " | ")
                + '", "errors": {"token": "' + text.replace("\r\n", " | ") + '"}}').encode()
        server.send(conn, f"HTTP/1.1 {status} No\r\nContent-Type: application/json\r\n"
                          f"WWW-Authenticate: Basic realm=x\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"BR_CANARY_{secrets.token_hex(3).upper()}"
    monkeypatch.setenv(name, CANARY)
    return name


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server whose password is not the canary (so ours is refused)."""
    from tests.integration.local_servers import binary, process_on_port

    exe = binary("redis-server", "/usr/bin/redis-server")
    port = servers.free_port()
    command = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
               "no", "--dir", str(tmp_path), "--requirepass", "the-real-one"]
    with process_on_port(command, port, "redis-server", cwd=tmp_path):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[tuple[Path, object]]:
    """The console's logging (verbose) into a fresh directory, taken down afterwards."""
    from services.local.logsetup import setup_logging

    directory = tmp_path / "logs"
    root = logging.getLogger()
    level = root.level
    masking = setup_logging(verbose=True, directory=directory)
    try:
        yield directory, masking
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_backroom", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


@pytest.fixture
def canary_profile(canary_env: str, private_redis: str, rabbitmq_api: str,
                   amqp_url: str) -> Iterator[Profile]:
    literal, env = SecretRef.literal(CANARY), SecretRef("env", canary_env)
    refused = f"127.0.0.1:{servers.free_port()}"
    in_url = quote(CANARY, safe="")
    with raw_server(echo) as evil, raw_server(silent) as quiet:
        host = f"127.0.0.1:{evil.port}"
        amqp_host = amqp_url.split("@", 1)[1]
        yield Profile(
            name="Canary Deli",
            backend=Backend(base_url=f"http://{host}", token=literal, timeout_s=2),
            probes=(
                Probe("home", f"http://{host}/", interval_s=0.3, timeout_s=1, token=literal),
                Probe("menu", f"http://{host}/menu?x=1", interval_s=0.3, timeout_s=1,
                      token=env),
                Probe("quiet", f"{quiet.url}/", interval_s=0.3, timeout_s=0.5, token=literal),
                Probe("userinfo", f"http://monitor:{in_url}@{host}/private", interval_s=0.3,
                      timeout_s=1),
            ),
            sources=(
                Source("web", "prometheus", f"http://{host}/metrics", interval_s=0.3,
                       timeout_s=1, user="monitor", password=env),
                Source("fleet", "prometheus-server", f"http://{host}", interval_s=0.3,
                       timeout_s=1, user="monitor", password=literal),
                Source("cache", "redis", private_redis, interval_s=0.3, timeout_s=1,
                       password=literal),
                Source("cache url", "redis",
                       private_redis.replace("redis://", f"redis://:{in_url}@"),
                       interval_s=0.3, timeout_s=1),
                Source("celery", "celery-redis", private_redis, interval_s=0.3, timeout_s=1,
                       password=env, queues=("celery",)),
                Source("broker", "rabbitmq", rabbitmq_api, interval_s=0.3, timeout_s=2,
                       user="guest", password=literal, queues=("celery",)),
                Source("broker amqp", "rabbitmq", f"amqp://guest:{in_url}@{amqp_host}",
                       interval_s=0.3, timeout_s=2, queues=("celery",)),
                Source("orders db", "database",
                       f"postgresql+psycopg://canary@{refused}/shop", interval_s=0.3,
                       timeout_s=1, password=literal),
            ),
            database=DatabaseConfig(url=f"postgresql+psycopg://canary@{refused}/shop",
                                    password=env, timeout_s=1, interval_s=0.3),
        )


def error_texts(err: BaseException) -> str:
    """What an error can show: str, repr and the whole traceback with its causes."""
    return "\n".join([str(err), repr(err), *traceback.format_exception(err)])


def test_canary_is_nowhere_while_every_source_fails(canary_profile: Profile,
                                                    logs: tuple[Path, object],
                                                    tmp_path: Path) -> None:
    from commands.diagnose import diagnose_main
    from services.bootstrap import build_services
    from services.collectors import build_collectors

    log_dir, masking = logs
    log = logging.getLogger("backroom.reliability")

    # 1. every collector once, its error logged with the traceback, its texts checked
    collectors = build_collectors(canary_profile, timeout_cap_s=2)
    errors: dict[str, str] = {}
    try:
        for collector in collectors:
            try:
                report = collector.collect()
            except Exception as err:
                errors[collector.name] = type(err).__name__
                log.exception("collecting %s failed", collector.name)
                assert_clean(error_texts(err), f"the error of {collector.name}")
            else:  # a probe that reached the server reports the refusal as a failed check
                assert report.status.value == "fail", collector.name
                errors[collector.name] = report.detail
                log.warning("%s: %s", collector.name, report.detail)
                assert_clean(report.detail, f"the report of {collector.name}")
    finally:
        for collector in collectors:
            collector.close()
    failing = {c.name for c in collectors} - {"orders db", "database"}
    assert failing <= set(errors), f"every source failed: {errors}"

    # 2. the console itself: poller, history, shop repository, for a few polls
    services = build_services(canary_profile, directory=tmp_path / "data", masking=masking)
    services.start()
    try:
        poller = services.poller

        def failed_twice(status: object) -> bool:  # a probe's 401 is a failed check, not down
            report = poller.last_report(status.name)  # type: ignore[attr-defined]
            return status.failures >= 2 or (  # type: ignore[attr-defined]
                report is not None and report.status.value == "fail")

        # every source of the profile (the console's own cost source reads no server)
        wait_until(lambda: all(failed_twice(s) for s in poller.statuses()
                               if s.name != OWN_SOURCE), 30)
        statuses = poller.statuses()
        shop = services.shop
        assert shop is not None
        from console.shop import BookingQuery, ShopError

        for action in (lambda: shop.list_bookings(BookingQuery(), limit=5),
                       lambda: shop.get_booking(1), shop.today):
            with pytest.raises(ShopError) as caught:
                action()
            log.error("the bookings page could not load", exc_info=caught.value)
            assert_clean(error_texts(caught.value), "a shop API error")
    finally:
        services.stop()
    for status in statuses:
        assert_clean(status.last_error, f"the poller's error of {status.name}")

    # 3. diagnose: table, JSON, HTML report and support bundle
    out_table, out_json, err_text = io.StringIO(), io.StringIO(), io.StringIO()
    html, bundle = tmp_path / "report.html", tmp_path / "support.zip"
    diagnose_main(canary_profile, as_json=False, samples=1, stdout=out_table, stderr=err_text,
                  timeout_cap_s=2)
    diagnose_main(canary_profile, as_json=True, samples=1, stdout=out_json, stderr=err_text,
                  html_path=html, bundle_path=bundle, timeout_cap_s=2)
    assert "Canary Deli" in out_table.getvalue() and '"checks"' in out_json.getvalue()
    assert_clean(out_table.getvalue(), "diagnose's table")
    assert_clean(out_json.getvalue(), "diagnose --json")
    assert_clean(err_text.getvalue(), "diagnose's stderr")
    assert_clean(html.read_text(encoding="utf-8"), "diagnose --html")
    with zipfile.ZipFile(bundle) as archive:
        for name in archive.namelist():
            assert_clean(archive.read(name).decode("utf-8", "replace"), f"the bundle's {name}")
    assert_clean(bundle.read_bytes().decode("latin-1"), "the bundle zip")

    # 4. the log, after all of that
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(log_dir.glob("backroom.log*")))
    assert "Traceback" in text and "collecting web failed" in text
    assert_clean(text, "the console's log")


def test_exported_profile_leaves_literal_secrets_out(canary_env: str, tmp_path: Path) -> None:
    profile = Profile(
        name="Export",
        backend=Backend("https://shop.example", token=SecretRef.literal(CANARY)),
        probes=(Probe("home", "https://shop.example/", token=SecretRef.literal(CANARY)),),
        sources=(Source("cache", "redis", "redis://cache:6379/0",
                        password=SecretRef.literal(CANARY)),
                 Source("mq", "rabbitmq", "http://mq:15672", user="m",
                        password=SecretRef("env", canary_env))),
        database=DatabaseConfig("postgresql+psycopg://shop@db/shop",
                                password=SecretRef.literal(CANARY)),
    )
    exported = tomli_w.dumps(profile_to_dict(profile, redact=True))
    assert_clean(exported, "the exported profile")
    assert f"env:{canary_env}" in exported, "references are kept"
    assert_clean(repr(profile), "the profile's repr")


def test_exported_profile_masks_passwords_in_urls() -> None:
    in_url = quote(CANARY, safe="")
    profile = Profile(
        name="Export",
        sources=(Source("cache", "redis", f"redis://:{in_url}@cache:6379/0"),),
        database=DatabaseConfig(f"postgresql+psycopg://shop:{in_url}@db/shop"),
    )
    assert_clean(tomli_w.dumps(profile_to_dict(profile, redact=True)), "the exported profile")


def test_saved_profile_is_private_and_resolves_nothing(canary_env: str, tmp_path: Path) -> None:
    from services.local.profiles import load_profile, save_profile

    profile = Profile(name="Saved", backend=Backend("https://shop.example",
                                                    token=SecretRef("env", canary_env)))
    path = save_profile(profile, tmp_path / "saved.toml")
    assert_clean(path.read_text(encoding="utf-8"), "a saved profile with env: references")
    assert load_profile(path) == profile
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


def test_log_masks_a_basic_auth_header(logs: tuple[Path, object]) -> None:
    """A Basic header (base64 of user:secret) cannot be found by the secret's own encodings;
    the log masks the header's value whoever the user is."""
    log_dir, masking = logs
    masking.add_secret(CANARY)  # type: ignore[attr-defined]
    log = logging.getLogger("backroom.reliability")
    for user in USERS:
        header = base64.b64encode(f"{user}:{CANARY}".encode()).decode()
        log.warning("proxy said: Authorization: Basic %s", header)
        log.warning("proxy said: authorization: basic %s, bye", header)
    text = (log_dir / "backroom.log").read_text(encoding="utf-8")
    assert text.count("Basic ***") + text.count("basic ***") == 2 * len(USERS)
    assert_clean(text, "the console's log")


def test_shop_api_errors_hold_no_secret_from_the_url_or_token() -> None:
    """The shop API adapter with the canary as its token and in its base URL's user info:
    refused, silent, echoing and TLS-failing servers give errors without it."""
    from console.shop import BookingQuery, ShopError
    from services.shop.api import ApiShopRepository

    in_url = quote(CANARY, safe="")
    with raw_server(echo) as evil, raw_server(silent) as quiet:
        bases = [f"http://shop:{in_url}@127.0.0.1:{servers.free_port()}",
                 f"http://shop:{in_url}@127.0.0.1:{evil.port}",
                 f"http://shop:{in_url}@127.0.0.1:{quiet.port}",
                 f"https://shop:{in_url}@127.0.0.1:{evil.port}"]
        for base in bases:
            repo = ApiShopRepository(base, CANARY, timeout=0.5)
            try:
                for call in (partial(repo.list_bookings, BookingQuery(), limit=5),
                             partial(repo.get_booking, 7), repo.today):
                    with pytest.raises(ShopError) as caught:
                        call()
                    assert_clean(error_texts(caught.value), f"an adapter error for {base[:8]}")
            finally:
                repo.close()
