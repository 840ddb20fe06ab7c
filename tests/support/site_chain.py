"""A chain for tests: sites on real prometheus_client pages, a real Prometheus adding `site`."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests import servers
from tests.integration.local_servers import binary, process_on_port

ROOT = Path(__file__).resolve().parents[2]
#: Every site is scraped this often.
SCRAPE_S = 1


@dataclass(frozen=True, slots=True)
class Chain:
    """A Prometheus server (``url``) scraping each site of ``sites`` (name -> slowdown) as
    job ``chain``, the ``site`` label added by relabelling; ``pages`` serves them."""

    url: str
    pages: str
    sites: dict[str, float]

    def query(self, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
        """PromQL evaluated at ``at`` (epoch seconds), straight from the HTTP API."""
        answer = requests.get(self.url + "/api/v1/query", params={"query": expr, "time": at},
                              timeout=10).json()
        assert answer["status"] == "success", answer
        return [(item["metric"], float(item["value"][1])) for item in answer["data"]["result"]]

    def by_site(self, expr: str, at: float) -> dict[str, float]:
        """``expr`` (grouped by site) at ``at``: each site's value."""
        return {labels["site"]: value for labels, value in self.query(expr, at)}

    def set_slowdown(self, site: str, factor: float) -> None:
        requests.get(f"{self.pages}/set/{site}", params={"slowdown": factor},
                     timeout=5).raise_for_status()

    def wait_scraped(self, samples: int = 3, timeout_s: float = 30.0) -> None:
        """Wait until every site has ``samples`` scrapes in the server (rates need two)."""
        deadline = time.monotonic() + timeout_s
        expr = f'count_over_time(up{{job="chain"}}[{samples * SCRAPE_S + 30}s])'
        while True:
            counts = self.by_site(expr, time.time())
            if len(counts) == len(self.sites) and min(counts.values()) >= samples:
                return
            assert time.monotonic() < deadline, f"sites not scraped {samples}x: {counts}"
            time.sleep(0.5)


def prometheus_config(pages_port: int, sites: dict[str, float]) -> str:
    """One target per site (its page's path), and the relabelling that names the site."""
    groups = "".join(f"      - targets: ['127.0.0.1:{pages_port}']\n"
                     f"        labels: {{__metrics_path__: '/metrics/{site}'}}\n"
                     for site in sites)
    return ("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n"
            f"  - job_name: 'chain'\n    scrape_interval: {SCRAPE_S}s\n"
            "    scrape_timeout: 1s\n"
            f"    static_configs:\n{groups}"
            "    relabel_configs:\n"
            "      - source_labels: [__metrics_path__]\n"
            "        regex: '/metrics/(.+)'\n"
            "        target_label: site\n"
            "        replacement: '$1'\n")


@contextmanager
def running_chain(tmp: Path, sites: dict[str, float]) -> Iterator[Chain]:
    """The sites' pages and Debian's prometheus (own port, own storage in ``tmp``)."""
    exe = binary("prometheus", "/usr/bin/prometheus")
    pages_port, prom_port = servers.free_port(), servers.free_port()
    specs = [f"{site}:{slowdown:g}" for site, slowdown in sites.items()]
    config = tmp / "prometheus-chain.yml"
    config.write_text(prometheus_config(pages_port, sites))
    pages = [sys.executable, "-m", "tests.conformance.apps.chain_sites", str(pages_port),
             *specs]
    command = [exe, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'chain-tsdb'}",
               f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"]
    with process_on_port(pages, pages_port, "chain sites", cwd=ROOT), \
            process_on_port(command, prom_port, "prometheus", timeout_s=30):
        url = f"http://127.0.0.1:{prom_port}"
        deadline = time.monotonic() + 30
        while requests.get(url + "/-/ready", timeout=2).status_code != 200:
            assert time.monotonic() < deadline, "prometheus did not get ready in 30 s"
            time.sleep(0.2)
        yield Chain(url, f"http://127.0.0.1:{pages_port}", dict(sites))
