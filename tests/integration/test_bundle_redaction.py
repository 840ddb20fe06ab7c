"""A canary in every secret field of a profile appears nowhere: bundle, reports or log."""

from __future__ import annotations

import base64
import io
import logging
import secrets
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from commands.diagnose import diagnose_main
from console.domain import Reading
from console.profile import Backend, DatabaseConfig, Probe, Profile, SecretRef, Source
from console.report_html import render_html
from console.store import MetricStore
from services.diagnostics.bundle import write_bundle
from services.diagnostics.sweep import report_sections, run_sweep
from services.local.logsetup import setup_logging
from tests.support.demo_shop import quiet_demo

pytestmark = pytest.mark.integration

# Characters that URL-encoding and base64 both change.
CANARY = f"Cn4ry/s3cr+t=Zq!{secrets.token_hex(4)}"


def variants(secret: str) -> set[str]:
    encoded = base64.b64encode(secret.encode()).decode()
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), encoded,
            encoded.rstrip("="), base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")}


def assert_clean(text: str, where: str) -> None:
    for variant in variants(CANARY):
        assert variant not in text, f"{where} holds the canary as {variant!r}"


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    """The console's logging set up into a fresh directory, taken down afterwards."""
    directory = tmp_path / "logs"
    root = logging.getLogger()
    level = root.level
    masking = setup_logging(directory=directory)
    masking.add_secret(CANARY)  # what the composition root does for each resolved secret
    try:
        yield directory
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_backroom", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[object]:
    with quiet_demo(tmp_path, seed_scale=0.2, token=CANARY) as demo:
        yield demo


@pytest.fixture
def canary_profile(shop: object, postgres_url: str, redis_url: str, rabbitmq_api: str,
                   monkeypatch: pytest.MonkeyPatch) -> Profile:
    env_name = f"BR_TEST_CANARY_{secrets.token_hex(3).upper()}"
    monkeypatch.setenv(env_name, CANARY)
    literal = SecretRef.literal(CANARY)
    base = shop.base_url  # type: ignore[attr-defined]
    redis_with_password = redis_url.replace("redis://", f"redis://:{quote(CANARY, safe='')}@")
    return Profile(
        name="Canary Bistro",
        backend=Backend(base_url=base, token=literal),
        probes=(Probe("health", f"{base}/health", token=literal),
                Probe("availability", f"{base}/api/availability?date={{today}}&party_size=2",
                      token=SecretRef("env", env_name))),
        sources=(Source("shop", "prometheus", f"{base}/metrics", user="monitor",
                        password=literal),
                 Source("cache", "redis", redis_url, password=literal, timeout_s=3),
                 Source("cache in url", "redis", redis_with_password, timeout_s=3),
                 Source("broker", "rabbitmq", rabbitmq_api, user="guest", password=literal,
                        timeout_s=3),
                 Source("shop db", "database",
                        f"sqlite:///{shop.db_path}")),  # type: ignore[attr-defined]
        database=DatabaseConfig(url=postgres_url, password=SecretRef("env", env_name)),
    )


def test_canary_is_nowhere(canary_profile: Profile, log_dir: Path, tmp_path: Path) -> None:
    # an older log file, written before masking knew the secret, must be masked on the way in
    (log_dir / "backroom.log.1").write_text(
        "".join(f"2026-01-01 old line {form}\n" for form in variants(CANARY)), encoding="utf-8")

    result = run_sweep(canary_profile, samples=1)
    assert {c.name for c in result.checks} >= {"health", "cache", "broker", "shop db"}

    html = render_html(result, sections=report_sections(result.insights))
    assert_clean(html, "the HTML report")
    assert_clean(result.to_json(), "the JSON report")

    store = MetricStore()
    now = time.time()
    store.append([Reading("shop/latency_p95", now - 60, 0.12), Reading("shop/latency_p95", now,
                                                                        0.2)])
    path = write_bundle(tmp_path / "bundle.zip", result=result, profile=canary_profile,
                        store=store, log_dir=log_dir, versions=[("Qt", "6.x")],
                        sections=report_sections(result.insights))
    raw = path.read_bytes()
    assert_clean(raw.decode("latin-1"), "the zip file")
    with zipfile.ZipFile(io.BytesIO(raw)) as bundle:
        names = bundle.namelist()
        assert names == ["README.txt", "report.html", "report.json", "metrics.csv",
                         "backroom.log", "profile.toml", "versions.txt"]
        members = {name: bundle.read(name).decode("utf-8") for name in names}
    for name, text in members.items():
        assert_clean(text, name)
    assert "old line ***" in members["backroom.log"]
    assert "shop/latency_p95," in members["metrics.csv"]
    assert "backend.token" in members["profile.toml"]  # says a literal secret was removed
    assert 'token = "env:' in members["profile.toml"]  # references are kept, not values
    assert "redis://:***@127.0.0.1" in members["profile.toml"]
    assert "Qt: 6.x" in members["versions.txt"]
    assert "server cache:" in members["versions.txt"]
    assert "Canary Bistro" in members["report.html"]

    log_text = (log_dir / "backroom.log").read_text(encoding="utf-8")
    assert_clean(log_text, "the console's log")


def test_log_masks_what_its_filter_knows(log_dir: Path, tmp_path: Path) -> None:
    log = logging.getLogger("backroom.test")
    encoded = base64.b64encode(CANARY.encode()).decode()
    for form in (CANARY, quote(CANARY, safe=""), quote_plus(CANARY), encoded):
        log.warning("connecting with %s", form)
    text = (log_dir / "backroom.log").read_text(encoding="utf-8")
    assert text.count("connecting with ***") == 4
    for form in (CANARY, quote(CANARY, safe=""), quote_plus(CANARY), encoded.rstrip("=")):
        assert form not in text


def test_log_masks_every_encoding(log_dir: Path, tmp_path: Path) -> None:
    log = logging.getLogger("backroom.test")
    for form in variants(CANARY):
        log.warning("connecting with %s", form)
    log.info("url https://user:%s@shop.example/ and Bearer %s", CANARY, CANARY)
    text = (log_dir / "backroom.log").read_text(encoding="utf-8")
    assert_clean(text, "the console's log")
    assert CANARY[-8:] not in text
    path = write_bundle(tmp_path / "bundle.zip", result=_EmptyResult(),
                        profile=Profile(name="x", backend=Backend(
                            "http://127.0.0.1:1", token=SecretRef.literal(CANARY))),
                        log_dir=log_dir)
    with zipfile.ZipFile(path) as bundle:
        assert CANARY[-8:] not in bundle.read("backroom.log").decode()


class _EmptyResult:
    profile = "x"
    checks = ()
    findings = ()


def test_cli_html_and_bundle_hold_no_secret(canary_profile: Profile, log_dir: Path,
                                            tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    html_path = tmp_path / "report.html"
    bundle_path = tmp_path / "support.zip"
    status = diagnose_main(canary_profile, as_json=True, samples=1, stdout=out, stderr=err,
                           html_path=html_path, bundle_path=bundle_path)
    assert status in (0, 1, 2)
    assert f"wrote {html_path}" in err.getvalue()
    assert_clean(out.getvalue(), "diagnose --json")
    assert_clean(err.getvalue(), "diagnose's stderr")
    html = html_path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert_clean(html, "diagnose --html")
    with zipfile.ZipFile(bundle_path) as bundle:
        for name in bundle.namelist():
            assert_clean(bundle.read(name).decode("utf-8"), f"diagnose --bundle {name}")
        assert "metrics.csv" in bundle.namelist()
        assert bundle.read("metrics.csv").decode().count("\n") > 1


def test_cli_exporters_add_the_database_views(canary_profile: Profile, log_dir: Path,
                                              tmp_path: Path) -> None:
    from services.diagnostics.diagnose import run_diagnose
    from services.diagnostics.report_export import write_bundle as export_bundle
    from services.diagnostics.report_export import write_html_report

    result = run_diagnose(canary_profile, samples=1)
    html = write_html_report(result, canary_profile, tmp_path / "r.html").read_text("utf-8")
    assert "query plans of the shop" in html
    assert "top statements by total time" in html
    assert_clean(html, "report_export HTML")
    with zipfile.ZipFile(export_bundle(result, canary_profile, tmp_path / "b.zip")) as bundle:
        for name in bundle.namelist():
            assert_clean(bundle.read(name).decode("utf-8"), f"report_export bundle {name}")
        assert "server shop db: SQLite" in bundle.read("versions.txt").decode()
