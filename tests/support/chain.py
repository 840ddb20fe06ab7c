"""A chain of 20 sites behind one real Prometheus (Debian's), shared by a session fixture."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests import servers
from tests.integration.local_servers import binary, process_on_port
from tests.support.chain_sites import site_names

ROOT = Path(__file__).resolve().parents[2]
SITES = 20
SLOW_SITE = "site-07"
FAILING_SITE = "site-13"
SCRAPE_S = 1


@dataclass(frozen=True, slots=True)
class Chain:
    """Prometheus at ``url`` scraping ``sites`` (label ``site``, job ``chain``)."""

    url: str
    sites: tuple[str, ...]
    slow: str
    failing: str

    def query(self, expr: str, at: float | None = None) -> dict[str, float]:
        """PromQL straight from the HTTP API: the value per ``site`` label ('' for none), at
        ``at`` to the millisecond as the console asks (Prometheus' own precision)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        answer = requests.get(self.url + "/api/v1/query", params=params, timeout=10).json()
        assert answer["status"] == "success", answer
        return {item["metric"].get("site", ""): float(item["value"][1])
                for item in answer["data"]["result"]}

    def profile_text(self, site: str, *, grouped: bool = False) -> str:
        """A profile of one site (``selector``), or of the whole chain grouped by site."""
        name = "The whole chain" if grouped else f"Bistro {site}"
        where = 'group_by = ["site"]' if grouped else f"selector = 'site=\"{site}\"'"
        return (f'name = "{name}"\n\n[[sources]]\nname = "web"\nkind = "prometheus-server"\n'
                f'url = "{self.url}"\n{where}\ninterval_s = 5\ntimeout_s = 5\n'
                f"scrape_interval_s = {SCRAPE_S}\n\n"
                '[[alerts]]\nname = "Slow responses"\nsource = "web"\nmetric = "latency_p95"\n'
                'above = 0.5\nfor_s = 30\nseverity = "warn"\n')

    def write_profiles(self, folder: Path, count: int | None = None) -> list[Path]:
        """One profile file per site in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for site in self.sites[:count]:
            path = folder / f"{site}.toml"
            path.write_text(self.profile_text(site), encoding="utf-8")
            paths.append(path)
        return paths

    def wait_for_rates(self, timeout_s: float = 30.0) -> None:
        """Until every site has a request rate and a p95 (two scrapes of each)."""
        deadline = time.monotonic() + timeout_s
        expr = ("histogram_quantile(0.95, sum by (le, site) "
                "(rate(http_request_duration_seconds_bucket[60s])))")
        while len(self.query(expr)) < len(self.sites):
            assert time.monotonic() < deadline, f"no p95 for every site in {timeout_s} s"
            time.sleep(0.5)


def _config(port: int, sites: list[str]) -> str:
    groups = "".join(f"      - targets: ['127.0.0.1:{port}']\n"
                     f"        labels: {{__metrics_path__: '/{site}/metrics'}}\n"
                     for site in sites)
    return ("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: 'chain'\n"
            f"    scrape_interval: {SCRAPE_S}s\n    scrape_timeout: {SCRAPE_S}s\n"
            f"    static_configs:\n{groups}"
            "    relabel_configs:\n"
            "      - source_labels: [__metrics_path__]\n"
            "        regex: '/([^/]+)/metrics'\n"
            "        target_label: site\n")


@contextmanager
def running_chain(tmp: Path, count: int = SITES) -> Iterator[Chain]:
    """The sites' process and a Prometheus scraping them every second, its storage in
    ``tmp``; both stopped on the way out."""
    exe = binary("prometheus", "/usr/bin/prometheus")
    sites = site_names(count)
    with ExitStack() as stack:
        sites_port = servers.free_port()
        stack.enter_context(process_on_port(
            [sys.executable, "-m", "tests.support.chain_sites", str(sites_port), str(count),
             SLOW_SITE, FAILING_SITE], sites_port, "chain sites", cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}))
        config = tmp / "prometheus.yml"
        config.write_text(_config(sites_port, sites), encoding="utf-8")
        port = servers.free_port()
        stack.enter_context(process_on_port(
            [exe, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], port,
            "prometheus", cwd=tmp, timeout_s=30))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while requests.get(url + "/-/ready", timeout=2).status_code != 200:
            assert time.monotonic() < deadline, "prometheus did not get ready in 30 s"
            time.sleep(0.2)
        yield Chain(url, tuple(sites), SLOW_SITE, FAILING_SITE)


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """20 sites (one slow, one failing 3 % of requests) behind one real Prometheus,
    scraped every second, with a p95 for every site before the first test runs."""
    with running_chain(tmp_path_factory.mktemp("chain")) as made:
        made.wait_for_rates()
        yield made
