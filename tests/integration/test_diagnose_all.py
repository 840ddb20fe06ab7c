"""`backroom diagnose --all` over 20 sites behind a real Prometheus: rows, order, exit codes."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from commands.diagnose_all import diagnose_all_main
from console import metrics
from console.domain import Status
from console.shop_history import line_name
from services.diagnostics.overview import ShopOverview
from tests.support.chain import Chain

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
#: How far PromQL asked afterwards at the console's instant may differ: a scrape under way at
#: that instant lands later with an earlier timestamp (one sample of a 60 s window).
TRUTH_REL = 0.1
P95 = ("histogram_quantile(0.95, sum by (le, site) "
       "(rate(http_request_duration_seconds_bucket{{site=\"{site}\"}}[{window}])))")


def run_cli(*args: str, config_home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          check=False, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "XDG_CONFIG_HOME": str(config_home),
                               "HOME": str(config_home)})


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def test_twenty_profiles_slow_site_first_figures_as_promql_says(chain: Chain,
                                                                tmp_path: Path) -> None:
    chain.write_profiles(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = diagnose_all_main(as_json=True, stdout=out, stderr=err, folder=tmp_path)
    rows = json.loads(out.getvalue())
    assert len(rows) == 20 and {r["shop"] for r in rows} == {f"Bistro {s}" for s in chain.sites}
    assert rows[0]["shop"] == f"Bistro {chain.slow}"
    assert rows[0]["status"] == "fail" and rows[0]["alerts"] == ["Slow responses"]
    assert code == 2  # the worst shop fails: Nagios critical
    # The truth: PromQL's own quantile for each site, at the instant its row was read.
    for row in rows:
        site = row["shop"].removeprefix("Bistro ")
        truth = chain.by_site(P95.format(site=site, window="60s"), row["last_reading"])[site]
        assert row["p95_ms"] == pytest.approx(truth * 1000, rel=TRUTH_REL), site
        assert time.time() - row["last_reading"] < 30


def test_a_grouped_profile_has_a_row_per_site(chain: Chain, tmp_path: Path) -> None:
    (tmp_path / "chain.toml").write_text(chain.profile_text("", grouped=True))
    out = io.StringIO()
    code = diagnose_all_main(as_json=True, stdout=out, stderr=io.StringIO(), folder=tmp_path)
    rows = json.loads(out.getvalue())
    assert len(rows) == 21
    assert rows[0]["group"] == {"site": chain.slow} and rows[0]["status"] == "fail"
    whole = next(r for r in rows if not r["group"])
    truth = chain.by_site("histogram_quantile(0.95, sum by (le) "
                        "(rate(http_request_duration_seconds_bucket[60s])))",
                        whole["last_reading"])[""]
    assert whole["p95_ms"] == pytest.approx(truth * 1000, rel=TRUTH_REL)
    assert code == 2


def test_the_table_lines_and_exit_code_from_the_command_line(chain: Chain,
                                                             tmp_path: Path) -> None:
    chain.write_profiles(tmp_path / "backroom", count=5)  # site-01..05: no slow site
    result = run_cli("diagnose", "--all", config_home=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["status", "shop"]
    assert len([line for line in lines[1:] if "Bistro site-0" in line]) == 5
    assert result.returncode in (0, 1), result.stderr  # nothing failing among these five
    assert "Reading 5 profiles" in result.stderr


def test_a_broken_and_a_silent_profile_are_failing_rows_within_their_timeout(
        tmp_path: Path, hanging_port: int) -> None:
    (tmp_path / "broken.toml").write_text("name = 'Broken'\n[[sources]]\nkind = 'nope'\n")
    (tmp_path / "silent.toml").write_text(
        f"name = 'Silent'\n[[sources]]\nname = 'web'\nkind = 'prometheus-server'\n"
        f"url = 'http://127.0.0.1:{hanging_port}'\ntimeout_s = 30\n")
    overview = ShopOverview(timeout_s=1.0)
    start = time.monotonic()
    try:
        rows = overview.read_folder(tmp_path)
    finally:
        overview.close()
    assert time.monotonic() - start < 5  # the overview's cap, not the profile's 30 s
    assert [r.status for r in rows] == [Status.FAIL, Status.FAIL]
    problems = {r.shop: r.problem for r in rows}
    assert problems["broken"].startswith("profile not valid:")
    assert problems["Silent"].startswith("web: timeout")


def test_no_profiles_or_a_single_shop_option_is_one_line_and_exit_3(tmp_path: Path) -> None:
    empty = run_cli("diagnose", "--all", config_home=tmp_path)
    assert empty.returncode == 3 and empty.stdout == ""
    assert len(empty.stderr.strip().splitlines()) == 1 and "no profiles" in empty.stderr
    mixed = run_cli("diagnose", "--all", "--demo", config_home=tmp_path)
    assert mixed.returncode == 3
    assert mixed.stderr.strip() == ("backroom: error: --all reads every profile in the config "
                                    "folder; it does not take --demo")


def _queries_served(chain: Chain) -> float:
    """The server's own count of instant queries answered (its /metrics, the truth)."""
    text = requests.get(chain.url + "/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("prometheus_http_requests_total{")
               and 'handler="/api/v1/query"' in line)


def test_a_read_of_twenty_shops_is_five_queries_a_shop(chain: Chain, tmp_path: Path) -> None:
    chain.write_profiles(tmp_path)
    overview = ShopOverview()
    try:
        overview.read_folder(tmp_path)  # the first read also learns each server's plan
        before = _queries_served(chain)
        rows = overview.read_folder(tmp_path)
        asked = _queries_served(chain) - before
    finally:
        overview.close()
    assert len(rows) == 20 and rows[0].shop == f"Bistro {chain.slow}"
    assert asked == 20 * 5  # p95, request rate, error rate, cache hit rate, queue depth


def test_at_most_four_profiles_are_read_at_once(tmp_path: Path, hanging_port: int) -> None:
    for number in range(8):  # eight shops whose server accepts and never answers
        (tmp_path / f"shop-{number}.toml").write_text(
            f"name = 'Shop {number}'\n[[sources]]\nname = 'web'\n"
            f"kind = 'prometheus-server'\nurl = 'http://127.0.0.1:{hanging_port}'\n")
    overview = ShopOverview(max_parallel=4, timeout_s=1.0)
    start = time.monotonic()
    try:
        rows = overview.read_folder(tmp_path)
    finally:
        overview.close()
    elapsed = time.monotonic() - start
    assert len(rows) == 8 and all(r.problem.startswith("web: timeout") for r in rows)
    assert 1.9 <= elapsed < 5  # two rounds of four 1 s timeouts, not one round of eight


def test_two_views_at_one_pace_share_one_read_and_each_read_is_remembered(
        chain: Chain, tmp_path: Path) -> None:
    """All shops and Compare ask for every shop at one pace: a read younger than the pace
    is given again, not made again; each read made lands in the hour kept for Compare."""
    chain.write_profiles(tmp_path, count=3)
    overview = ShopOverview()
    try:
        rows = overview.read_folder(tmp_path)  # All shops' read (it learns each plan too)
        before = _queries_served(chain)
        again = overview.read_if_due(tmp_path, (), pace_s=60.0)  # Compare, a moment later
        shared = _queries_served(chain) - before
        later = overview.read_if_due(tmp_path, (), pace_s=0.0)  # the pace come round
        made = _queries_served(chain) - before - shared
    finally:
        overview.close()
    assert again == rows and shared == 0
    assert made == 3 * 5 and len(later) == 3
    for row in later:
        ts, p95 = overview.history.line(line_name(row, metrics.LATENCY_P95))
        assert ts.size == 2 and p95[-1] == row.p95_s and ts[-1] == row.last_reading
