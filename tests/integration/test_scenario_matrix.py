"""The scenario matrix on the real demo shop: the headline, the light and diagnose name each
switch (the rows of docs/dashboard.md; tests/integration/scenario_matrix.py runs them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.local.profiles import demo_profile
from tests.integration.scenario_matrix import (
    INTERVAL_S,
    SWITCHES,
    as_markdown,
    run_matrix,
)

#: six switches of ~65 s each (a fresh shop, 20 s of calm, diagnose's 30 s window), and
#: traffic x5's 5 min of calm (a usual of 15 min needs a third of it)
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

#: The switches whose cause the console names today, and index dropped (on a shop of seed
#: 0.3: 2,717 bookings), whose light and headline are reported, not asserted: the bookings'
#: whole-table reads rise only when the availability cache (15 s) is recomputed, which the
#: customers' requests time, so the rate passes the demo's 0.5/s within 2-51 s (docs/dashboard.md).
NAMED = ("cache off", "index dropped", "workers 0", "slow endpoint", "traffic x5",
         "back-end errors")
LIGHT = tuple(name for name in NAMED if name != "index dropped")
#: The switches whose cause "what moved first" names in its headline, with its lead. Not yet
#: "cache off": in a CI run the availability p95 moved 5 s before the hit rate was named (3 of
#: 4 runs named it); its row is reported, not asserted, until the headline holds it.
HEADLINE = tuple(name for name in LIGHT if name != "cache off")
#: The switches whose cause diagnose --window 30 names as its top finding (traffic x5's
#: against the usual it reads from the console's history file).
DIAGNOSED = NAMED


def test_each_switch_is_named_by_the_headline_the_light_and_diagnose(tmp_path: Path) -> None:
    chosen = tuple(s for s in SWITCHES if s.name in NAMED)
    rows, took = run_matrix(tmp_path, chosen, seed_scale=0.05)  # a small shop starts fast
    table = as_markdown(rows) + f"\n\nwall time {took:.0f} s"
    print(table)  # the rows of docs/dashboard.md (pytest -s shows them)
    switches = {s.name: s for s in chosen}
    pending = {r.name: r.for_s for r in demo_profile("http://demo", "t", tmp_path).alerts}
    assert len(rows) == len(chosen)
    for row in rows:
        rule = switches[row.switch].rule
        if row.switch in HEADLINE:
            assert row.to_headline_s is not None and row.to_headline_s <= 60, table
        if row.switch in LIGHT:
            assert row.to_status_s is not None, table
            # the light names it within the rule's pending time and one poll (a back end's
            # failing requests show at once as "shop: 14% of requests fail", before the rule
            # fires; its per-poll error ratio dips under 5 % now and then at ~17 requests a
            # poll, which restarts the rule's 30 s, so the rule itself may fire later)
            assert row.to_status_s <= pending[rule] + INTERVAL_S, table
            assert switches[row.switch].named_by_light(row.status), table
        if row.switch in DIAGNOSED:
            assert row.finding_named, table
