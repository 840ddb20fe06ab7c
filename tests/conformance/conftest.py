"""Real apps, caches, a database and a Prometheus server, shared by tests/conformance/ alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import redis
import requests

from tests import servers
from tests.conformance.load import SteadyLoad
from tests.integration.local_servers import binary, memcached, wait_port

ROOT = Path(__file__).resolve().parents[2]
#: The machine Redis' database the Django cache uses (flushed before and after).
REDIS_DB = 12
#: The database and key prefix of the load behind redis_exporter (its keys deleted after).
EXPORTER_DB = 13
EXPORTER_PREFIX = "conform-exporter:"
#: Scrape intervals of the two Prometheus jobs.
FAST_SCRAPE_S = 5
#: The Django shop is scraped once per site label.
SITES = ("north", "south")
SLOW_SCRAPE_S = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/conformance/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.conformance)
            item.add_marker(pytest.mark.integration)


@contextmanager
def app_process(command: list[str], port: int, what: str, tmp: Path,
                env: dict[str, str] | None = None) -> Iterator[str]:
    """Start a server process from the worktree root, wait until it listens, stop it after;
    its output goes to a log file shown when it fails to start."""
    log_path = tmp / f"{what}-{port}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    try:
        try:
            wait_port(port, process, what, timeout_s=30)
        except RuntimeError as err:
            raise RuntimeError(f"{err}:\n{log_path.read_text()[-3000:]}") from err
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="package")
def conform_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="package")
def shop_database() -> Iterator[str]:
    """A PostgreSQL database of our own with an orders table, dropped at the end."""
    servers.require_port("PostgreSQL", "127.0.0.1", 5432)
    name = f"conform_{os.getpid()}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(admin.replace("dbname=postgres", f"dbname={name}")) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE conform_orders (id serial PRIMARY KEY, total int)")
            conn.execute("INSERT INTO conform_orders (total) SELECT g % 50 "
                         "FROM generate_series(1, 2000) g")
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="package")
def shop_redis() -> Iterator[str]:
    """The machine's Redis, a database of the suite's own, flushed before and after."""
    servers.require_port("Redis", "127.0.0.1", 6379)
    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="package")
def shop_memcached() -> Iterator[str]:
    with memcached() as address:
        yield address


def _gunicorn(app: str, port: int, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
            str(workers), "--threads", "4", "--log-level", "warning", app]


@pytest.fixture(scope="package")
def django_shop(shop_database: str, shop_redis: str, conform_tmp: Path) -> Iterator[str]:
    """The Django shop under gunicorn; yields its base URL."""
    port = servers.free_port()
    env = {"SHOP_PG_DB": shop_database, "SHOP_REDIS_URL": shop_redis}
    with app_process(_gunicorn("tests.conformance.apps.django_shop:application", port), port,
                     "django", conform_tmp, env) as address:
        yield f"http://{address}"


@pytest.fixture(scope="package")
def flask_shop(shop_memcached: str, conform_tmp: Path) -> Iterator[str]:
    port = servers.free_port()
    with app_process(_gunicorn("tests.conformance.apps.flask_shop:app", port), port,
                     "flask", conform_tmp, {"SHOP_MEMCACHED": shop_memcached}) as address:
        yield f"http://{address}"


@pytest.fixture(scope="package")
def flask_shop_two_workers(shop_memcached: str, conform_tmp: Path) -> Iterator[str]:
    """The Flask shop under 2 gunicorn workers without prometheus_client's multiprocess
    mode: each worker counts on its own, and /metrics shows whichever answers."""
    port = servers.free_port()
    with app_process(_gunicorn("tests.conformance.apps.flask_shop:app", port, workers=2),
                     port, "flask2", conform_tmp, {"SHOP_MEMCACHED": shop_memcached}) as address:
        yield f"http://{address}"


@pytest.fixture(scope="package")
def fastapi_shops(conform_tmp: Path) -> Iterator[list[str]]:
    """Three uvicorn instances of the FastAPI shop; the last is 2x slower."""
    with _fastapi(conform_tmp, "1") as a, _fastapi(conform_tmp, "1") as b, \
            _fastapi(conform_tmp, "2") as c:
        yield [a, b, c]


@contextmanager
def _fastapi(tmp: Path, slowdown: str) -> Iterator[str]:
    port = servers.free_port()
    command = [sys.executable, "-m", "uvicorn", "tests.conformance.apps.fastapi_shop:app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
               "--no-access-log"]
    with app_process(command, port, "fastapi", tmp, {"SHOP_SLOWDOWN": slowdown}) as address:
        yield f"http://{address}"


@dataclass(frozen=True, slots=True)
class RedisExporter:
    """Debian's prometheus-redis-exporter in front of the machine's Redis."""

    url: str  # its /metrics page
    address: str  # host:port, the instance label Prometheus gives it
    client: redis.Redis  # the load's client: EXPORTER_DB, keys under EXPORTER_PREFIX


@pytest.fixture(scope="package")
def redis_exporter(conform_tmp: Path) -> Iterator[RedisExporter]:
    """redis_exporter on a free port against 127.0.0.1:6379, and listed in the targets file
    the fleet's Prometheus job ``redis`` reads (file_sd), so both may scrape it."""
    exe = binary("prometheus-redis-exporter", "/usr/bin/prometheus-redis-exporter")
    servers.require_port("Redis", "127.0.0.1", 6379)
    port = servers.free_port()
    command = [exe, "-redis.addr", "redis://127.0.0.1:6379",
               "-web.listen-address", f"127.0.0.1:{port}"]
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{EXPORTER_DB}", socket_timeout=5)
    targets = conform_tmp / "redis-exporter-targets.json"
    try:
        with app_process(command, port, "redis_exporter", conform_tmp) as address:
            written = conform_tmp / "redis-exporter.tmp"  # renamed whole: no half file read
            written.write_text(json.dumps([{"targets": [address]}]))
            written.rename(targets)
            yield RedisExporter(f"http://{address}/metrics", address, client)
    finally:
        targets.unlink(missing_ok=True)
        keys = list(client.scan_iter(match=EXPORTER_PREFIX + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@dataclass(frozen=True, slots=True)
class Fleet:
    """A Prometheus server scraping the shops, and the steady load they are under."""

    url: str
    django: str
    fastapi: list[str]
    flask: str
    load: SteadyLoad
    started: float  # time.monotonic() when the load began

    def wait_steady(self, window_s: float) -> None:
        """Wait until a rate window holds no series younger than itself: PromQL's rate()
        extrapolates a series born inside its window on its own, so ratios of young series
        are not yet the load's."""
        time.sleep(max(0.0, self.started + window_s + 2 * FAST_SCRAPE_S - time.monotonic()))

    def query(self, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
        """PromQL evaluated at ``at`` (epoch seconds), straight from the HTTP API."""
        answer = requests.get(self.url + "/api/v1/query", params={"query": expr, "time": at},
                              timeout=10).json()
        assert answer["status"] == "success", answer
        return [(item["metric"], float(item["value"][1])) for item in answer["data"]["result"]]

    def samples(self, expr: str,
                at: float) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """The raw samples of a range selector (``x[5m]``) at ``at``: what was scraped."""
        answer = requests.get(self.url + "/api/v1/query", params={"query": expr, "time": at},
                              timeout=10).json()
        assert answer["status"] == "success", answer
        return [(item["metric"], [(float(t), float(v)) for t, v in item["values"]])
                for item in answer["data"]["result"]]

    def next_scrape(self, job: str, base: str, timeout_s: float = 20.0) -> float:
        """Wait for the server's next scrape of ``base`` in ``job`` (of each of its targets
        there, one per site); the time of the last of them (epoch s)."""
        address = base.rsplit("//", maxsplit=1)[-1]
        start = time.time()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            targets = requests.get(self.url + "/api/v1/targets", timeout=5).json()
            scraped = [datetime.fromisoformat(target["lastScrape"]).timestamp()
                       if target["health"] == "up" else 0.0
                       for target in targets["data"]["activeTargets"]
                       if target["labels"].get("job") == job
                       and target["labels"].get("instance") == address]
            if scraped and min(scraped) > start:
                return max(scraped)
            time.sleep(0.25)
        raise AssertionError(f"no scrape of {address} in job {job} within {timeout_s} s")

    def window_quantile(self, q: float, family: str, job: str, base: str, first: float,
                        last: float) -> float:
        """PromQL's histogram_quantile over exactly the increase between two scrapes."""
        sel = f'{family}_bucket{{job="{job}",instance="{base.rsplit("//", maxsplit=1)[-1]}"}}'
        expr = (f"histogram_quantile({q}, sum by (le) ({sel} @ {last + 1:.3f} - "
                f"({sel} @ {first + 1:.3f} or {sel} @ {last + 1:.3f} * 0)))")
        ((_labels, value),) = self.query(expr, last + 1)
        return value


#: The steady load's plan: per FastAPI instance 9 items then 1 failure (10 % errors).
def _plan(fastapi: list[str]) -> list[str]:
    plan = []
    for step in range(10):
        for base in fastapi:
            plan.append(f"{base}/fail" if step == 9 else f"{base}/items/{step}")
    return plan


@pytest.fixture(scope="package")
def fleet(django_shop: str, fastapi_shops: list[str], flask_shop: str,
          conform_tmp: Path) -> Iterator[Fleet]:
    """Debian's prometheus scraping everything every 5 s (jobs ``django``, ``fastapi``,
    ``flask``, and ``redis``: whatever redis_exporter the ``redis_exporter`` fixture lists
    in a targets file) and the FastAPI instances again every 60 s (job ``fastapi-60s``), with the
    FastAPI instances under a steady load of 15 requests/s. The Django shop is scraped as
    two sites (label ``site``), as a chain's Prometheus sees two shops of one kind."""
    exe = binary("prometheus", "/usr/bin/prometheus")
    port = servers.free_port()

    def job(name: str, interval: int, targets: list[str], sites: tuple[str, ...] = ()) -> str:
        hosts = ", ".join(f"'{t.split('//')[1]}'" for t in targets)
        groups = "".join(f"      - targets: [{hosts}]\n        labels: {{site: '{site}'}}\n"
                         for site in sites) or f"      - targets: [{hosts}]\n"
        return (f"  - job_name: '{name}'\n    scrape_interval: {interval}s\n"
                f"    scrape_timeout: {min(interval - 1, 10)}s\n"
                f"    static_configs:\n{groups}")

    config = conform_tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n"
                      "scrape_configs:\n"
                      + job("django", FAST_SCRAPE_S, [django_shop], SITES)
                      + job("fastapi", FAST_SCRAPE_S, fastapi_shops)
                      + job("flask", FAST_SCRAPE_S, [flask_shop])
                      + job("fastapi-60s", SLOW_SCRAPE_S, fastapi_shops)
                      + f"  - job_name: 'redis'\n    scrape_interval: {FAST_SCRAPE_S}s\n"
                        f"    file_sd_configs:\n      - files: ['{conform_tmp}/redis-*.json']\n")
    command = [exe, f"--config.file={config}", f"--storage.tsdb.path={conform_tmp / 'tsdb'}",
               f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    load = SteadyLoad(_plan(fastapi_shops), per_second=15)
    with app_process(command, port, "prometheus", conform_tmp) as address:
        base = f"http://{address}"
        deadline = time.monotonic() + 30
        while requests.get(base + "/-/ready", timeout=2).status_code != 200:
            assert time.monotonic() < deadline, "prometheus did not get ready in 30 s"
            time.sleep(0.2)
        load.start()
        try:
            yield Fleet(base, django_shop, fastapi_shops, flask_shop, load, time.monotonic())
        finally:
            load.stop()
