"""Compare sites over whole shops: real profiles read as All shops reads them, what moved first."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from console import metrics
from console.domain import Status
from console.overview import ShopRow
from console.profile import Profile, Source
from console.shop_history import line_name
from console.store import MetricStore
from services.bootstrap import Local
from services.local.profiles import load_profile
from tests.gui.test_dashboard import Services
from tests.support.chain import Chain, SiteLoad, running_chain
from tests.support.shots import save_shot
from ui.pages.dashboard import DashboardPage
from ui.pages.dashboard import compare as compare_module
from ui.pages.dashboard.compare import CompareSites

pytestmark = pytest.mark.gui
#: Three restaurants, each its own profile over the chain's Prometheus.
SHOPS = {"north": "Bistro North", "south": "Bistro South", "harbour": "Harbour Café"}


@pytest.fixture
def three_shops(tmp_path: Path) -> Iterator[tuple[Chain, Path]]:
    """A chain of its own (its sites turn slow here), a profile per site in a folder."""
    with running_chain(tmp_path, dict.fromkeys(SHOPS, SiteLoad())) as chain:
        folder = tmp_path / "profiles"
        folder.mkdir()
        for site, name in SHOPS.items():
            (folder / f"{site}.toml").write_text(chain.profile_text(site, name=name))
        chain.wait_scraped(samples=3)
        yield chain, folder


@pytest.fixture
def make_dashboard(make_page: Callable[..., DashboardPage]
                   ) -> Callable[[Profile, Path], DashboardPage]:
    """A dashboard of ``profile``, the console's config folder being ``folder``."""
    return lambda profile, folder: make_page(Services(profile, MetricStore()),
                                             local=Local(profiles_dir=folder))


@pytest.fixture
def dashboard(make_dashboard: Callable[[Profile, Path], DashboardPage],
              three_shops: tuple[Chain, Path]) -> DashboardPage:
    """Bistro North's dashboard (one shop, no sites of its own) over the three profiles."""
    _chain, folder = three_shops
    return make_dashboard(load_profile(folder / "north.toml"), folder)


def wait_reads(qtbot: Any, dialog: CompareSites, seconds: float) -> None:
    """Let the window read every shop for ``seconds`` (its reads, at the pace set below)."""
    deadline = time.monotonic() + seconds
    qtbot.waitUntil(lambda: time.monotonic() >= deadline, timeout=int(seconds * 1000) + 5000)


def p95_of(dialog: CompareSites, shop: str) -> Callable[[], float]:
    overview = dialog.shop_lines.overview if dialog.shop_lines else None
    assert overview is not None

    def latest() -> float:
        row = next(r for r in overview.history.shops() if r.shop == shop)
        return row.p95_s if row.p95_s is not None else np.nan

    return latest


@pytest.mark.integration
@pytest.mark.slow
def test_two_shops_p95_on_one_chart_and_the_first_to_move_is_named(
        dashboard: DashboardPage, three_shops: tuple[Chain, Path], qtbot: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    chain, folder = three_shops
    # All shops' pace (a read every 15 s) made 1 s, so a minute's story takes seconds
    monkeypatch.setattr(compare_module, "SHOPS_REFRESH_S", 1.0)
    monkeypatch.setattr(compare_module, "REFRESH_MS", 1000)
    page = dashboard
    assert not page.compare_button.isVisible()  # one shop, nothing read of the others yet
    page.ctx.diagnostics.shop_overview().read_folder(folder)  # as All shops does
    qtbot.waitUntil(page.compare_button.isVisible, timeout=5000)
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    dialog = page.compare
    assert dialog is not None and dialog.lines is dialog.shop_lines
    assert not dialog.what.isVisible()  # no sites in this profile: shops only
    qtbot.waitUntil(lambda: dialog.sites.count() == 3, timeout=5000)
    assert [dialog.figure.itemText(i) for i in range(dialog.figure.count())] == [
        "p95 latency", "error ratio", "cache hit rate", "queue depth"]
    assert all(re.fullmatch(r"(Bistro North|Bistro South|Harbour Café) · \d+ ms",
                            item.text()) for item in dialog.items()), \
        [item.text() for item in dialog.items()]
    with qtbot.waitSignal(dialog.sig_drawn, check_params_cb=lambda n: n == 2, timeout=5000):
        dialog.pick(["Bistro North", "Bistro South"])
    assert dialog.panel.spec.title == "p95 latency by shop"
    wait_reads(qtbot, dialog, 12)
    north, south = p95_of(dialog, "Bistro North"), p95_of(dialog, "Bistro South")
    before = max(north(), south())
    chain.set_load("north", slowdown=8.0)
    north_at = time.time()
    qtbot.waitUntil(lambda: north() > 3 * before, timeout=20_000)
    wait_reads(qtbot, dialog, 10)
    chain.set_load("south", slowdown=8.0)
    south_at = time.time()
    qtbot.waitUntil(lambda: south() > 3 * before, timeout=20_000)
    wait_reads(qtbot, dialog, 6)
    # both lines on the chart, each from the reads of its profile, in ms
    with qtbot.waitSignal(dialog.sig_drawn, check_params_cb=lambda n: n == 2, timeout=5000):
        dialog.read()
    curves = {c.style.label: c for c in dialog.panel.curves.values() if c.style.visible}
    assert set(curves) == {"Bistro North", "Bistro South"}
    assert all(c.buffer.first_ts() < north_at - 8 for c in curves.values())
    ts, _values = dialog.shop_lines.overview.history.line(
        line_name(next(r for r in dialog.shop_lines.overview.history.shops()
                       if r.shop == "Bistro North"), metrics.LATENCY_P95))
    assert ts.size >= 15  # a read every second or two, every one kept
    with qtbot.waitSignal(dialog.sig_ranked, timeout=5000) as ranked:
        dialog.show_window(north_at - 6, time.time())
    movers = ranked.args[0]
    assert len(movers) >= 2
    headline = dialog.moved.headline.text()
    found = re.fullmatch(r"Bistro North p95 latency rose (\d+) s before Bistro South p95 "
                         r"latency rose\.", headline)
    assert found is not None, headline
    assert abs(int(found.group(1)) - (south_at - north_at)) <= 5
    save_shot(dialog, "compare-shops.png")


def test_a_chain_profile_switches_between_its_sites_and_every_shop(
        make_dashboard: Callable[[Profile, Path], DashboardPage], qtbot: Any,
        tmp_path: Path) -> None:
    """Both offered: the chain's own sites first; Shops lists what All shops read (a shop
    that gave no figure says so; the open shop, read then too, is one of them), with the
    figures a shop's read has."""
    profile = Profile(name="Chain", sources=(  # a port where nothing listens
        Source("chain", "prometheus-server", "http://127.0.0.1:9", group_by=("site",)),))
    page = make_dashboard(profile, tmp_path)
    now = time.time()
    page.ctx.diagnostics.shop_overview().history.add([
        ShopRow("<b>Harbour</b>", "/p/harbour.toml", Status.WARN, p95_s=0.7, last_reading=now),
        ShopRow("North", "/p/north.toml", Status.OK, p95_s=0.1, last_reading=now),
        ShopRow("Quiet", "/p/quiet.toml", Status.FAIL, problem="web: timeout")], now)
    dialog = page.open_compare()
    assert dialog.what.isVisible() and dialog.what.currentText() == "Sites of this shop"
    assert dialog.list_label.text() == "Sites, worst first"
    dialog.what.setCurrentIndex(dialog.what.findData("shop"))
    qtbot.waitUntil(lambda: dialog.sites.count() == 4, timeout=10_000)
    assert [i.text() for i in dialog.items()] == [
        "<b>Harbour</b> · 700 ms", "North · 100 ms", "Chain · no reading", "Quiet · no reading"]
    assert dialog.list_label.text() == "Shops, worst first"
    assert dialog.figure.findText("requests") < 0  # a shop's read has no request rate
    assert dialog.hint.text() == "Pick 2 to 8 shops."
    with qtbot.waitSignal(dialog.sig_drawn, check_params_cb=lambda n: n == 2, timeout=5000):
        dialog.pick(["<b>Harbour</b>", "North"])
    assert dialog.panel.spec.title == "p95 latency by shop"
    start, end = dialog.timeline.x_range()
    assert end - start == pytest.approx(60, abs=2)  # a minute at least, up to now
    dialog.what.setCurrentIndex(dialog.what.findData("site"))
    assert dialog.figure.findText("requests") >= 0 and dialog.chosen() == []
