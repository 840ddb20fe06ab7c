"""Starting and stopping demo shops: threads, ports, reuse of the seeded file, the CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from demo import DemoShop

pytestmark = pytest.mark.integration

TIMEOUT = 10
REPO = Path(__file__).resolve().parents[2]


def counter(shop: DemoShop, name: str) -> float:
    text = requests.get(shop.metrics_url, timeout=TIMEOUT).text
    return sum(s.value for fam in text_string_to_metric_families(text) for s in fam.samples
               if s.name == name)


def port_listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_stop_joins_every_thread_and_frees_the_port(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    shop = DemoShop(tmp_path / "shop.sqlite3", traffic=True, traffic_rate=40, seed_scale=0.05)
    shop.start()
    port = shop.port
    started = {t.name for t in set(threading.enumerate()) - before}
    assert {"demo-http", "demo-worker-1", "demo-worker-2", "demo-traffic-1"} <= started
    assert all(name.startswith("demo-") for name in started), started
    deadline = time.monotonic() + 15
    while counter(shop, "http_requests_total") < 25 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counter(shop, "http_requests_total") >= 25, "simulated customers made no requests"
    start = time.monotonic()
    shop.stop(timeout=5.0)
    assert time.monotonic() - start < 6
    assert set(threading.enumerate()) - before == set()
    assert not port_listening(port)
    with socket.socket() as sock:  # a new server can bind it at once (as servers do)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    shop.stop()  # idempotent
    with pytest.raises(RuntimeError):
        shop.start()


def test_a_reserved_shop_answers_once_started_in_the_background(tmp_path: Path) -> None:
    """The console binds the port first (its URL goes into the profile before the window
    paints) and starts the shop after: a request made in between waits and is answered."""
    before = set(threading.enumerate())
    shop = DemoShop(tmp_path / "shop.sqlite3", traffic=False, seed_scale=0.05).reserve()
    port = shop.port
    assert port_listening(port)
    early: dict[str, object] = {}
    asker = threading.Thread(target=lambda: early.setdefault(
        "status", requests.get(shop.base_url + "/health", timeout=TIMEOUT).status_code))
    asker.start()
    ready = threading.Event()
    outcome: list[BaseException | None] = []
    shop.start_in_background(lambda error: (outcome.append(error), ready.set()))
    assert ready.wait(TIMEOUT) and outcome == [None]
    asker.join(TIMEOUT)
    assert early["status"] == 200, "the request made before the start was answered"
    shop.stop()
    assert set(threading.enumerate()) - before == set()
    assert not port_listening(port)


def test_stopping_while_it_starts_leaves_nothing_behind(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    shop = DemoShop(tmp_path / "shop.sqlite3", traffic=True, seed_scale=0.05).reserve()
    port = shop.port
    shop.start_in_background()
    shop.stop(timeout=10.0)  # at once: the start is under way or not begun
    assert set(threading.enumerate()) - before == set()
    assert not port_listening(port)


def test_a_reserved_shop_never_started_frees_its_port(tmp_path: Path) -> None:
    shop = DemoShop(tmp_path / "shop.sqlite3", traffic=False).reserve()
    port = shop.port
    shop.stop()
    assert not port_listening(port)


def test_context_manager_and_fixed_port(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with DemoShop(tmp_path / "s.sqlite3", port=port, traffic=False, seed_scale=0.02,
                  token="fixed-token") as shop:
        assert shop.base_url == f"http://127.0.0.1:{port}"
        assert shop.metrics_url == f"http://127.0.0.1:{port}/metrics"
        r = requests.get(shop.base_url + "/api/products", timeout=TIMEOUT,
                         headers={"Authorization": "Bearer fixed-token"})
        assert r.status_code == 200
    assert not port_listening(port)


def test_a_taken_port_fails_start_cleanly(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        shop = DemoShop(tmp_path / "s.sqlite3", port=sock.getsockname()[1], traffic=False,
                        seed_scale=0.02)
        with pytest.raises(OSError):
            shop.start()
    assert set(threading.enumerate()) - before == set()


def test_stop_with_the_servers_wakeup_pipe_closed_under_it(tmp_path: Path) -> None:
    """Seen once in CI: the pipe that wakes the HTTP server's thread was closed under it.
    The stop then raised and left the server's thread behind, and the test process never
    exited. Now the stop still takes every part down and frees the port."""
    before = set(threading.enumerate())
    shop = DemoShop(tmp_path / "shop.sqlite3", traffic=False, seed_scale=0.02).start()
    port = shop.port
    assert requests.get(shop.base_url + "/health", timeout=TIMEOUT).status_code == 200
    trigger = shop._parts["server"]._server.trigger
    os.close(trigger.trigger)  # the write end, as a stray close elsewhere would
    deadline = time.monotonic() + 5
    while not trigger._closed and time.monotonic() < deadline:  # the server sees EOF
        time.sleep(0.02)
    start = time.monotonic()
    shop.stop(timeout=3.0)
    assert time.monotonic() - start < 4
    assert not port_listening(port)
    assert set(threading.enumerate()) - before == set()


def test_restart_reuses_the_seeded_file(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    with DemoShop(path, traffic=False, seed_scale=0.05) as first:
        assert first.seeded["bookings"] > 100 and first.seeded["orders"] > 100
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {first.token}"
        made = s.post(first.base_url + "/api/bookings", timeout=TIMEOUT, json={
            "customer_name": "Still Here", "party_size": 3,
            "start_at": time.strftime("%Y-%m-%dT19:00:00Z", time.gmtime(time.time() + 86400 * 2)),
        }).json()
        s.close()
    start = time.perf_counter()
    with DemoShop(path, traffic=False, seed_scale=0.05, token="t") as second:
        elapsed = time.perf_counter() - start
        assert "customers" not in second.seeded and second.seeded.get("bookings", 0) == 0
        r = requests.get(f"{second.base_url}/api/bookings/{made['id']}", timeout=TIMEOUT,
                         headers={"Authorization": "Bearer t"})
        assert r.json()["customer_name"] == "Still Here"
    assert elapsed < 5


def test_full_seed_is_quick(tmp_path: Path) -> None:
    start = time.perf_counter()
    with DemoShop(tmp_path / "full.sqlite3", traffic=False) as shop:
        elapsed = time.perf_counter() - start
        assert shop.seeded["products"] == 300 and shop.seeded["customers"] == 2000
        assert shop.seeded["bookings"] > 5000 and shop.seeded["orders"] > 3000
    assert elapsed < 5, f"seeding and starting took {elapsed:.1f} s"


def test_two_shops_in_one_process_keep_their_own_metrics(tmp_path: Path) -> None:
    with DemoShop(tmp_path / "a.sqlite3", traffic=False, seed_scale=0.02) as a, \
            DemoShop(tmp_path / "b.sqlite3", traffic=False, seed_scale=0.02) as b:
        assert a.port != b.port and a.token != b.token
        r = requests.post(a.base_url + "/api/bookings", timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {a.token}"}, json={
                              "customer_name": "Only A", "party_size": 2,
                              "start_at": time.strftime("%Y-%m-%dT13:00:00Z",
                                                        time.gmtime(time.time() + 86400))})
        assert r.status_code == 201
        assert counter(a, "shop_bookings_created_total") == 1
        assert counter(b, "shop_bookings_created_total") == 0
        assert requests.get(b.base_url + "/api/bookings", timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {a.token}"}).status_code == 401


def test_traffic_can_start_later_and_is_real_http(tmp_path: Path) -> None:
    with DemoShop(tmp_path / "t.sqlite3", traffic=False, seed_scale=0.05) as shop:
        assert counter(shop, "shop_orders_created_total") == 0
        shop.set_scenario(traffic_rate=40.0)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (
                counter(shop, "shop_orders_created_total") < 1
                or counter(shop, "jobs_processed_total") < 1):
            time.sleep(0.2)
        assert counter(shop, "shop_orders_created_total") >= 1
        assert counter(shop, "jobs_processed_total") >= 1
        assert counter(shop, "cache_hits_total") + counter(shop, "cache_misses_total") > 0


@pytest.mark.parametrize("command", [["-m", "demo"], ["main.py", "demo"]],
                         ids=["python -m demo", "backroom demo"])
def test_serve_main_runs_until_sigterm(tmp_path: Path, command: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, *command, "serve", "--port", "0", "--db",
         str(tmp_path / "cli.sqlite3"), "--no-traffic", "--seed-scale", "0.02",
         "--token", "cli-token"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        text = "".join(lines)
        assert "cli-token" in text, text + (proc.stderr.read() if proc.stderr else "")
        url = next(w for w in text.split() if w.startswith("http://127.0.0.1:"))
        r = requests.get(url + "/api/products/categories", timeout=TIMEOUT,
                         headers={"Authorization": "Bearer cli-token"})
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert not port_listening(int(url.rsplit(":", 1)[1]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
