"""``backroom diagnose`` against real local servers: figures, exit status, bounds, no secrets."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from pymemcache.client.base import Client

from commands.diagnose import diagnose_main
from console.domain import Status
from console.profile import parse_profile, profile_to_dict
from services.collectors.memcached import parse_address
from services.diagnostics.diagnose import run_diagnose
from tests import servers
from tests.integration.local_servers import (
    http_server,
    memcached,
    redis_server,
    reply,
    silent_server,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def metrics_page() -> bytes:
    registry = CollectorRegistry()
    latency = Histogram("http_request_duration_seconds", "latency", registry=registry,
                        buckets=(0.05, 0.1, 0.5, 1.0))
    for seconds in [0.03] * 8 + [0.3] * 2:
        latency.observe(seconds)
    Counter("cache_hits", "hits", registry=registry).inc(9)
    Counter("cache_misses", "misses", registry=registry).inc(1)
    return generate_latest(registry)


def run_json(profile_data: dict, **kwargs: object) -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    code = diagnose_main(parse_profile(profile_data), as_json=True, stdout=out, stderr=err,
                         **kwargs)  # type: ignore[arg-type]
    return code, json.loads(out.getvalue())


def test_sweep_reports_known_figures(tmp_path: Path, redis_url: str) -> None:
    queue = f"backroom-diag-{uuid.uuid4().hex[:8]}"
    shared = redis.Redis.from_url(redis_url, socket_timeout=2)
    shared.lpush(queue, *[b"job"] * 3)
    routes = {"/health": reply(delay_s=0.05), "/metrics": reply(body=metrics_page())}
    try:
        with http_server(routes) as site, redis_server(tmp_path) as cache_url:
            cache = redis.Redis.from_url(cache_url, socket_timeout=2)
            cache.set("menu", "soup")
            for key in ["menu"] * 9 + ["gone"]:
                cache.get(key)
            code, data = run_json({
                "name": "Bistro",
                "probes": [{"name": "health", "url": f"{site}/health"}],
                "sources": [
                    {"name": "web", "kind": "prometheus", "url": f"{site}/metrics"},
                    {"name": "cache", "kind": "redis", "url": cache_url},
                    {"name": "jobs", "kind": "celery-redis", "url": redis_url,
                     "queues": [queue]},
                ],
            }, samples=4)
            cache.close()
    finally:
        shared.delete(queue)
        shared.close()
    assert code == 0, data
    assert data["profile"] == "Bistro" and data["status"] == "ok"
    assert [(c["name"], c["status"]) for c in data["checks"]] == [
        ("health", "ok"), ("web", "ok"), ("cache", "ok"), ("jobs", "ok")]
    health = data["metrics"]["latency_ms"]["health"]
    assert health["count"] == 4
    assert 50 <= health["p50"] <= health["p95"] <= health["p99"] < 150
    # one reading of a page: its histogram since the app started judges nothing
    assert "web" not in data["metrics"]["latency_ms"]
    # one reading: the hit rates since start (90 %) are context, not a judged figure
    assert data["metrics"]["cache_hit_rate"] == {"cache": None}
    assert "hit rate 90% (since restart)" in data["checks"][2]["detail"]
    assert data["metrics"]["queue_depth"] == {f"jobs/{queue}": 3}
    assert data["findings"] == []


def test_low_hit_rate_is_a_finding_that_sets_the_exit_status() -> None:
    with memcached() as address:
        client = Client(parse_address(address), connect_timeout=2, timeout=2)
        client.set("menu", b"soup")
        stop = threading.Event()

        def shop() -> None:  # 1 hit in 4 lookups, all through the window
            while not stop.is_set():
                for key in ("menu", "gone", "gone", "gone"):
                    client.get(key)
                time.sleep(0.01)

        worker = threading.Thread(target=shop, name="test-shop-lookups")
        worker.start()
        try:
            code, data = run_json({"name": "x", "sources": [
                {"name": "sessions", "kind": "memcached", "address": address}]},
                window_s=1.0)
        finally:
            stop.set()
            worker.join(5)
            client.close()
    assert code == 2
    assert data["checks"][0]["status"] == "ok"
    assert data["metrics"]["cache_hit_rate"]["sessions"] == pytest.approx(0.25, abs=0.03)
    assert data["status"] == "fail"
    assert data["findings"][0]["severity"] == "fail"
    assert data["findings"][0]["evidence"] in {f"sessions: hit rate {n}%" for n in (24, 25, 26)}


def test_host_that_never_answers_ends_within_the_timeouts() -> None:
    with silent_server() as url:
        profile = parse_profile({"name": "x", "probes": [
            {"name": "stuck", "url": url + "/", "timeout_s": 0.5}], "sources": [
            {"name": "web", "kind": "prometheus", "url": url + "/metrics", "timeout_s": 0.5},
            {"name": "fleet", "kind": "prometheus-server", "url": url, "timeout_s": 0.5}]})
        start = time.monotonic()
        result = run_diagnose(profile, samples=3)
        took = time.monotonic() - start
    assert took < 4.0  # 3 probe requests of 0.5 s each, the sources alongside
    assert result.status is Status.FAIL
    assert all(c.status is Status.FAIL for c in result.checks)
    assert all("timeout" in c.detail for c in result.checks), [c.detail for c in result.checks]


def test_no_secret_reaches_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKROOM_TEST_CACHE_PW", "wrong-but-secret-pw")
    with redis_server(tmp_path) as url:
        admin = redis.Redis.from_url(url, socket_timeout=2)
        admin.config_set("requirepass", "the-right-one")
        admin.close()
        inline = url.replace("redis://", "redis://:wrong-but-secret-pw@")
        code, data = run_json({"name": "x", "sources": [
            {"name": "cache", "kind": "redis", "url": url,
             "password": "env:BACKROOM_TEST_CACHE_PW"},
            {"name": "jobs", "kind": "celery-redis", "url": inline}]})
    text = json.dumps(data)
    assert code == 2
    assert data["checks"][0]["detail"].startswith("auth:")
    assert "wrong-but-secret-pw" not in text


def test_window_gives_rates() -> None:
    registry = CollectorRegistry()
    requests_total = Counter("http_requests_total", "requests", ["status"], registry=registry)

    def page(request: object) -> None:
        requests_total.labels("200").inc(10)
        reply(body=generate_latest(registry))(request)  # type: ignore[arg-type]

    with http_server({"/metrics": page}) as site:
        profile = parse_profile({"name": "x", "sources": [
            {"name": "web", "kind": "prometheus", "url": f"{site}/metrics"}]})
        result = run_diagnose(profile, window_s=0.5)
    rates = {r.series: r.value for r in result.readings}
    assert 10 <= rates["web/request_rate"] <= 20  # 10 requests in a little over 0.5 s
    assert result.status is Status.OK


def test_cli_prints_a_table_and_maps_fail_to_exit_2(tmp_path: Path) -> None:
    with http_server({"/": reply(503)}) as site:
        profile = tmp_path / "shop.toml"
        profile.write_text(f'name = "Bistro"\n[[probes]]\nname = "home"\nurl = "{site}/"\n')
        result = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "diagnose", "--profile", str(profile),
             "--samples", "2"], check=False, capture_output=True, text=True, timeout=60,
            cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert "Backroom diagnose: Bistro: FAIL" in result.stdout
    assert "HTTP 503" in result.stdout


def test_secret_query_values_are_masked_in_every_diagnose_output(tmp_path: Path) -> None:
    """A probe or source URL with ?api_key=, ?token=, ?password=...: diagnose's table, JSON,
    HTML report and the bundle (report and profile) show the URL with *** in its place."""
    import zipfile

    secret = f"Qv4l-{uuid.uuid4().hex[:8]}"
    keys = ("password", "sslpassword", "api_key", "apikey", "token", "access_token", "key",
            "secret", "client_secret", "auth", "Api-Key")
    with http_server({"/health": reply(503), "/metrics": reply(401)}) as site:
        profile = parse_profile({"name": "Query Deli", "probes": [
            {"name": f"probe {key}", "url": f"{site}/health?day=today&{key}={secret}"}
            for key in keys], "sources": [
            {"name": "web", "kind": "prometheus", "url": f"{site}/metrics?token={secret}"}]})
        table, as_json, err = io.StringIO(), io.StringIO(), io.StringIO()
        html, bundle = tmp_path / "report.html", tmp_path / "support.zip"
        diagnose_main(profile, as_json=False, samples=1, stdout=table, stderr=err)
        diagnose_main(profile, as_json=True, samples=1, stdout=as_json, stderr=err,
                      html_path=html, bundle_path=bundle)
    details = {c["name"]: c["detail"] for c in json.loads(as_json.getvalue())["checks"]}
    for key in keys:
        assert details[f"probe {key}"].endswith(f"/health?day=today&{key}=***"), details
    assert "/metrics?token=*** refused our credentials" in details["web"]
    outputs = {"table": table.getvalue(), "json": as_json.getvalue(), "stderr": err.getvalue(),
               "html": html.read_text(encoding="utf-8")}
    with zipfile.ZipFile(bundle) as archive:
        outputs |= {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert "api_key=***" in outputs["html"] and "api_key=***" in outputs["report.html"]
    assert f"{site}/metrics?token=***" in outputs["profile.toml"]
    for name, text in outputs.items():
        assert secret not in text, f"diagnose's {name} holds the secret"


def test_the_shop_back_end_is_checked_and_nothing_reachable_is_never_ok() -> None:
    down = f"http://127.0.0.1:{servers.free_port()}"
    code, data = run_json({"name": "x", "backend": {"base_url": down, "timeout_s": 1}})
    assert code == 2, data
    assert data["status"] == "fail"
    assert [(c["name"], c["kind"], c["status"]) for c in data["checks"]] == [
        ("backend", "http", "fail")]
    with http_server({"/health": reply(body=b'{"status": "ok"}')}) as site:
        code, data = run_json({"name": "x", "backend": {"base_url": site}})
    assert code == 0, data
    assert [(c["name"], c["status"]) for c in data["checks"]] == [("backend", "ok")]
    with http_server({"/health": reply(503)}) as site:
        code, data = run_json({"name": "x", "backend": {"base_url": site + "/"}})
    assert code == 2 and data["checks"][0]["detail"].startswith("HTTP 503"), data


def test_a_profile_with_nothing_to_check_is_not_ok() -> None:
    code, data = run_json({"name": "empty"})
    assert code == 2, data
    assert data["checks"][0]["detail"].startswith("nothing to check")


def test_diagnose_reads_the_query_plans_as_the_sweep_does(tmp_path: Path) -> None:
    from demo import DemoShop
    from services.local.profiles import demo_profile

    with DemoShop(tmp_path / "shop.sqlite", port=0, traffic=False, seed_scale=0.3) as shop:
        profile = demo_profile(shop.base_url, shop.token, shop.db_path)
        shop.set_scenario(booking_time_index=False)
        code, data = run_json(profile_to_dict(profile), samples=1)
        shop.set_scenario(booking_time_index=True)
        fixed_code, fixed = run_json(profile_to_dict(profile), samples=1)
    titles = [f["title"] for f in data["findings"]]
    assert "Bookings by start time reads the whole table: likely a missing index" in titles
    assert code == 1, data
    assert not any("reads the whole table" in f["title"] for f in fixed["findings"])
    assert fixed_code == 0, fixed


def test_diagnose_judges_a_traffic_rise_by_the_history_a_console_keeps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.domain import Reading
    from services.bootstrap import history_path
    from services.monitoring.history_writer import History

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the data folder of this "machine"
    registry = CollectorRegistry()
    requests_total = Counter("http_requests_total", "requests", ["status"], registry=registry)

    def page(request: object) -> None:  # ~20 requests a second over diagnose's window
        requests_total.labels("200").inc(10)
        reply(body=generate_latest(registry))(request)  # type: ignore[arg-type]

    with http_server({"/metrics": page}) as site:
        profile = parse_profile({"name": "Bistro", "sources": [
            {"name": "web", "kind": "prometheus", "url": f"{site}/metrics"}]})
        code, data = run_json(profile_to_dict(profile), window_s=0.5)
        assert data["metrics"]["traffic"]["web"]["usual_requests_per_s"] is None
        assert "Busier than usual" not in [f["title"] for f in data["findings"]]
        # a console ran here on this profile: 6 minutes at ~4 requests a second
        now = time.time()
        history = History(history_path("Bistro", tmp_path / "backroom"))
        history.record([Reading("web/request_rate", now - 360 + t, 4.0)
                        for t in range(0, 360, 5)])
        assert history.stop()
        code, data = run_json(profile_to_dict(profile), window_s=0.5)
    assert data["metrics"]["traffic"]["web"]["usual_requests_per_s"] == 4.0
    titles = [f["title"] for f in data["findings"]]
    assert titles == ["Busier than usual"], data["findings"]
    assert code == 0  # news, not a fault
