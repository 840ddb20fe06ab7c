"""The console's own cost against real HTTP servers: what it says it asked is what they served."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import demo.app
from commands.diagnose import diagnose_main
from console.own_cost import OWN_SOURCE, CostWindow, PollCost, cost_rows
from console.profile import parse_profile
from console.store import MetricStore
from services.collectors.http_probe import HttpProbe
from services.collectors.prometheus import PrometheusCollector
from services.http.client import new_session
from services.monitoring.own_cost import with_own_cost
from services.monitoring.poller import Poller
from tests.support.demo_shop import quiet_demo


class AccessLog:
    """WSGI middleware: the server's own count of requests and body bytes, per path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.bytes: dict[str, int] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        body = list(self.app(environ, start_response))
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            self.bytes[path] = self.bytes.get(path, 0) + sum(len(b) for b in body)
        return body

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.bytes.clear()


@pytest.fixture
def logged_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, AccessLog]]:
    logs: list[AccessLog] = []
    original = demo.app.create_app

    def create_app(ctx: Any) -> Any:
        flask_app = original(ctx)
        flask_app.wsgi_app = AccessLog(flask_app.wsgi_app)  # type: ignore[method-assign]
        logs.append(flask_app.wsgi_app)
        return flask_app

    monkeypatch.setattr(demo.app, "create_app", create_app)
    with quiet_demo(tmp_path, seed_scale=0.1) as shop:
        yield shop, logs[0]


def test_requests_and_bytes_per_second_match_the_shops_own_access_log(logged_shop) -> None:
    shop, access = logged_shop
    session = new_session()
    metrics = PrometheusCollector("shop-metrics", shop.metrics_url, session, interval_s=0.1)
    health = HttpProbe("shop-health", shop.base_url + "/health", session,
                                interval_s=0.05)
    store = MetricStore()
    polled, cost = with_own_cost([metrics, health])
    poller = Poller(polled, store, cost=cost)
    access.reset()
    started = time.monotonic()
    poller.start()
    time.sleep(4.0)
    assert poller.stop(timeout=5.0)
    seconds = time.monotonic() - started
    window = cost.since_start()
    by_source = {s.source: s for s in window.sources}
    served = {"shop-metrics": "/metrics", "shop-health": "/health"}
    for source, path in served.items():
        ours = by_source[source]
        server_rps = access.requests[path] / seconds
        server_bps = access.bytes[path] / seconds
        assert ours.requests_per_s == pytest.approx(server_rps, rel=0.05), source
        assert ours.bytes_per_s == pytest.approx(server_bps, rel=0.05), source
        assert ours.requests >= 30  # the comparison is over many polls, not two
    # the /metrics page is several KiB, /health a few hundred bytes: the bytes tell them apart
    per_request = {name: s.bytes / s.requests for name, s in by_source.items()}
    assert per_request["shop-metrics"] > 10 * per_request["shop-health"]
    assert OWN_SOURCE not in by_source
    assert sum(s.poll_share for s in window.sources) == pytest.approx(1.0)
    # the own series are in the store, per source, as the Diagnostics table reads them
    cpu, rows = cost_rows([r for name in store.series_names()
                           if (r := store.latest(name)) is not None])
    assert cpu is not None and 0.0 <= cpu <= 100.0 * (os.cpu_count() or 1)
    assert {row[0] for row in rows} == {"shop-metrics", "shop-health"}


class _Pages(BaseHTTPRequestHandler):
    heavy = b"".join(b'shop_item_views_total{item="%d",shelf="s%d"} %d\n' % (i, i % 97, i)
                     for i in range(60_000))

    def do_GET(self) -> None:
        body = self.heavy if self.path == "/heavy" else b"up 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def pages() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, name="test-pages", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _window(url: str, seconds: float) -> CostWindow:
    session = new_session()
    collector = PrometheusCollector("page", url, session, interval_s=0.1, timeout_s=5.0)
    cost = PollCost()
    poller = Poller([collector], MetricStore(), cost=cost, series_limits={"page": 100_000})
    cost.window()
    poller.start()
    time.sleep(seconds)
    window = cost.window()
    poller.stop(timeout=5.0)
    session.close()
    return window


def test_cpu_share_is_a_share_and_rises_under_a_heavy_page(pages: str) -> None:
    light = _window(pages + "/light", 2.0)
    heavy = _window(pages + "/heavy", 2.0)  # 3 MB, 60,000 series to parse
    cores = os.cpu_count() or 1
    for window in (light, heavy):
        assert 0.0 <= window.cpu_percent <= 100.0 * cores
    assert heavy.cpu_percent > light.cpu_percent + 10.0, (light.cpu_percent, heavy.cpu_percent)
    # the poller thread's own CPU (not the test server's): reading the heavy page costs it
    assert heavy.sources[0].cpu_s > 5 * light.sources[0].cpu_s


def test_diagnose_json_and_report_tell_what_the_run_asked_of_the_shop(logged_shop,
                                                                      tmp_path: Path) -> None:
    shop, access = logged_shop
    profile = parse_profile({
        "name": "Bistro",
        "probes": [{"name": "health", "url": shop.base_url + "/health"}],
        "sources": [{"name": "web", "kind": "prometheus", "url": shop.metrics_url,
                     "interval_s": 10}],
    })
    access.reset()
    out, err = io.StringIO(), io.StringIO()
    report = tmp_path / "report.html"
    code = diagnose_main(profile, as_json=True, samples=4, stdout=out, stderr=err,
                         html_path=report)
    assert code in (0, 1), err.getvalue()
    cost = json.loads(out.getvalue())["console_cost"]
    by_source = {s["source"]: s for s in cost["sources"]}
    assert by_source["health"]["requests"] == access.requests["/health"] == 4
    assert by_source["web"]["requests"] == access.requests["/metrics"] == 1
    assert by_source["web"]["bytes"] == pytest.approx(access.bytes["/metrics"], rel=0.05)
    # polled every 10 s, the page asks one request per 10 s of the shop
    assert by_source["web"]["polling_requests_per_s"] == pytest.approx(0.1)
    assert by_source["web"]["polling_bytes_per_s"] == pytest.approx(
        access.bytes["/metrics"] / 10, rel=0.05)
    assert 0.0 <= cost["cpu_percent"] <= 100.0 * (os.cpu_count() or 1)
    html = report.read_text(encoding="utf-8")
    assert "Backroom&#39;s own cost" in html or "Backroom's own cost" in html
