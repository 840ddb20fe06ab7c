"""DemoControl against the real demo shop: read and change switches, read the event log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from services.shop.demo_control import DemoControl, DemoControlError
from tests.servers import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from demo import DemoShop

    path: Path = tmp_path_factory.mktemp("shop") / "shop.sqlite"
    running = DemoShop(path, port=0, traffic=False, seed_scale=0.02)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def control(shop) -> Iterator[DemoControl]:
    with requests.Session() as session:
        yield DemoControl(shop.base_url, shop.token, session, timeout_s=5)


def test_switches_round_trip_and_are_logged(control: DemoControl) -> None:
    before = control.scenario()
    assert before.cache is True
    started = time.time() - 1
    after = control.set_scenario(cache=False, workers=0)
    assert (after.cache, after.workers) == (False, 0)
    assert control.scenario() == after
    whats = [e.what for e in control.events(since_ts=started)]
    assert any("cache" in w for w in whats)
    assert any("workers" in w for w in whats)
    assert all(e.ts >= started for e in control.events(since_ts=started))
    restored = control.set_scenario(cache=True, workers=before.workers)
    assert restored.cache is True


def test_slow_endpoint_injection(control: DemoControl) -> None:
    changed = control.set_scenario(slow_endpoint="/api/availability", slow_ms=250)
    assert (changed.slow_endpoint, changed.slow_ms) == ("/api/availability", 250)
    cleared = control.set_scenario(slow_endpoint=None, slow_ms=0)
    assert cleared.slow_endpoint is None


def test_errors_say_what_happened(shop, control: DemoControl) -> None:
    with pytest.raises(DemoControlError) as info:
        control.set_scenario(workers=99)
    assert "workers" in info.value.fields
    with pytest.raises(DemoControlError, match="no switch named"):
        control.set_scenario(turbo=True)
    with requests.Session() as session:
        wrong = DemoControl(shop.base_url, "not-the-token", session, timeout_s=5)
        with pytest.raises(DemoControlError, match="401"):
            wrong.scenario()
        gone = DemoControl(f"http://127.0.0.1:{free_port()}", "x", session, timeout_s=2)
        with pytest.raises(DemoControlError, match="cannot reach"):
            gone.events()


def test_back_end_errors_switch_fails_api_requests_and_the_metrics_say_so(
        shop, control: DemoControl) -> None:
    from services.collectors.prometheus import PrometheusCollector
    from services.http.client import new_session

    changed = control.set_scenario(error_ratio=1.0)
    assert changed.error_ratio == 1.0
    try:
        with new_session() as session:
            page = PrometheusCollector("shop", f"{shop.base_url}/metrics", session, timeout_s=5)
            page.collect()
            headers = {"Authorization": f"Bearer {shop.token}"}
            answers = [session.get(f"{shop.base_url}/api/menu", headers=headers,
                                   timeout=5).status_code for _ in range(10)]
            health = session.get(f"{shop.base_url}/health", timeout=5).status_code
            got = {r.series: r.value for r in page.collect().readings}
    finally:
        cleared = control.set_scenario(error_ratio=0)
    assert answers == [503] * 10
    assert health == 200  # the switch fails the API, not the health check
    # 10 of the 12 requests in the window (the /health and the first /metrics answered 200)
    assert got["shop/error_ratio"] == pytest.approx(10 / 12)
    assert cleared.error_ratio == 0.0
    assert any(e.what == "back-end errors 100%" for e in control.events())
