"""A chain of sites behind one real Prometheus (Debian's), and the session fixture sharing 20."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests import servers
from tests.integration.local_servers import binary, process_on_port

ROOT = Path(__file__).resolve().parents[2]
#: Every site is scraped this often.
SCRAPE_S = 1


@dataclass(frozen=True, slots=True)
class SiteLoad:
    """How a site serves: ``slowdown`` times its usual latency (about 40 ms; its queues fill
    and its cache empties with it), ``errors`` the share of requests answered 500."""

    slowdown: float = 1.0
    errors: float = 0.0


#: The shared chain: 20 sites, site-07 about 60 times slower (2.4 s), site-13 failing 3 %.
SLOW_SITE = "site-07"
FAILING_SITE = "site-13"
TWENTY = {f"site-{n:02d}": SiteLoad() for n in range(1, 21)} | {
    SLOW_SITE: SiteLoad(slowdown=60.0), FAILING_SITE: SiteLoad(errors=0.03)}


@dataclass(frozen=True, slots=True)
class Chain:
    """A Prometheus server (``url``) scraping each of ``sites`` as job ``chain``, the
    ``site`` label added by relabelling; ``pages`` serves the sites' /metrics pages."""

    url: str
    pages: str
    sites: dict[str, SiteLoad]

    @property
    def slow(self) -> str:
        """The slowest site as it was started."""
        return max(self.sites, key=lambda s: self.sites[s].slowdown)

    @property
    def failing(self) -> str:
        """The site with the most errors as it was started."""
        return max(self.sites, key=lambda s: self.sites[s].errors)

    def query(self, expr: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """PromQL straight from the HTTP API, at ``at`` to the millisecond as the console
        asks (Prometheus' own precision), else now."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        answer = requests.get(self.url + "/api/v1/query", params=params, timeout=10).json()
        assert answer["status"] == "success", answer
        return [(item["metric"], float(item["value"][1])) for item in answer["data"]["result"]]

    def by_site(self, expr: str, at: float | None = None) -> dict[str, float]:
        """``expr`` (grouped by site) at ``at``: each site's value ('' for no site label)."""
        return {labels.get("site", ""): value for labels, value in self.query(expr, at)}

    def set_load(self, site: str, *, slowdown: float | None = None,
                 errors: float | None = None) -> None:
        """Make a site slower or faster, or fail more or less, while it runs."""
        asked = {k: v for k, v in (("slowdown", slowdown), ("errors", errors)) if v is not None}
        requests.get(f"{self.pages}/set/{site}", params=asked, timeout=5).raise_for_status()

    def profile_text(self, site: str, *, grouped: bool = False, name: str = "") -> str:
        """A profile of one site (``selector``), or of the whole chain grouped by site."""
        name = name or ("The whole chain" if grouped else f"Bistro {site}")
        where = 'group_by = ["site"]' if grouped else f"selector = 'site=\"{site}\"'"
        return (f'name = "{name}"\n\n[[sources]]\nname = "web"\nkind = "prometheus-server"\n'
                f'url = "{self.url}"\n{where}\ninterval_s = 5\ntimeout_s = 5\n'
                f"scrape_interval_s = {SCRAPE_S}\n\n"
                '[[alerts]]\nname = "Slow responses"\nsource = "web"\nmetric = "latency_p95"\n'
                'above = 0.5\nfor_s = 30\nseverity = "warn"\n')

    def write_profiles(self, folder: Path, count: int | None = None) -> list[Path]:
        """One profile file per site (the first ``count``) in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for site in list(self.sites)[:count]:
            path = folder / f"{site}.toml"
            path.write_text(self.profile_text(site), encoding="utf-8")
            paths.append(path)
        return paths

    def wait_scraped(self, samples: int = 3, timeout_s: float = 30.0) -> None:
        """Wait until every site has ``samples`` scrapes in the server (rates need two)."""
        deadline = time.monotonic() + timeout_s
        expr = f'count_over_time(up{{job="chain"}}[{samples * SCRAPE_S + 30}s])'
        while True:
            counts = self.by_site(expr)
            if len(counts) == len(self.sites) and min(counts.values()) >= samples:
                return
            assert time.monotonic() < deadline, f"sites not scraped {samples}x: {counts}"
            time.sleep(0.5)


def prometheus_config(pages_port: int, sites: Iterable[str]) -> str:
    """One target per site (its page's path), and the relabelling that names the site."""
    groups = "".join(f"      - targets: ['127.0.0.1:{pages_port}']\n"
                     f"        labels: {{__metrics_path__: '/metrics/{site}'}}\n"
                     for site in sites)
    return ("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n"
            f"  - job_name: 'chain'\n    scrape_interval: {SCRAPE_S}s\n"
            f"    scrape_timeout: {SCRAPE_S}s\n"
            f"    static_configs:\n{groups}"
            "    relabel_configs:\n"
            "      - source_labels: [__metrics_path__]\n"
            "        regex: '/metrics/(.+)'\n"
            "        target_label: site\n"
            "        replacement: '$1'\n")


@contextmanager
def running_chain(tmp: Path, sites: Mapping[str, SiteLoad] = TWENTY) -> Iterator[Chain]:
    """The sites' pages (``tests.support.chain_sites``) and Debian's prometheus scraping
    them every second (own ports, storage in ``tmp``); both stopped on the way out."""
    exe = binary("prometheus", "/usr/bin/prometheus")
    pages_port, prom_port = servers.free_port(), servers.free_port()
    specs = [f"{site}:{load.slowdown:g}:{load.errors:g}" for site, load in sites.items()]
    config = tmp / "prometheus-chain.yml"
    config.write_text(prometheus_config(pages_port, sites), encoding="utf-8")
    pages = [sys.executable, "-m", "tests.support.chain_sites", str(pages_port), *specs]
    command = [exe, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'chain-tsdb'}",
               f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"]
    with ExitStack() as stack:
        stack.enter_context(process_on_port(pages, pages_port, "chain sites", cwd=ROOT,
                                            env={**os.environ, "PYTHONPATH": str(ROOT)}))
        stack.enter_context(process_on_port(command, prom_port, "prometheus", cwd=tmp,
                                            timeout_s=30))
        url = f"http://127.0.0.1:{prom_port}"
        deadline = time.monotonic() + 30
        while requests.get(url + "/-/ready", timeout=2).status_code != 200:
            assert time.monotonic() < deadline, "prometheus did not get ready in 30 s"
            time.sleep(0.2)
        yield Chain(url, f"http://127.0.0.1:{pages_port}", dict(sites))


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """20 sites (site-07 slow, site-13 failing 3 % of requests) behind one real Prometheus,
    scraped every second, each scraped four times before the first test runs. Shared: a
    test that changes a site's load starts a chain of its own."""
    with running_chain(tmp_path_factory.mktemp("chain")) as made:
        made.wait_scraped(samples=4)
        yield made
