"""services.diagnostics.pg_live on real PostgreSQL: sessions, cancel and terminate, the right
to do so, blocking chains, and statement statistics as deltas in the local history."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.collectors.database import pg_statement_totals as read_statement_totals
from services.diagnostics.pg_live import (
    blocking_tree,
    cancel_query,
    may_reset_statements,
    pg_connection,
    read_sessions,
    read_waits,
    reset_statements,
    signal_right,
    terminate_session,
)
from services.local.statement_history import StatementHistory
from tests.support.pg_sessions import (
    LiveDatabase,
    Running,
    blocking_chain,
    live_database,
    wait_until,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def db(postgres_url: str) -> Iterator[LiveDatabase]:
    with live_database() as live:
        yield live


def _sessions(url: str) -> dict[int, object]:
    with pg_connection(url, None, 5.0) as conn:
        return {s.pid: s for s in read_sessions(conn)}


def test_a_running_query_is_listed_and_cancelled(db: LiveDatabase) -> None:
    running = Running(db.engine(application="shop-web"),
                      ["SELECT pg_sleep(30) AS slow_report_of_bookings"])

    def found() -> object:
        return next((s for s in _sessions(db.url).values()
                     if "slow_report_of_bookings" in s.query and s.state == "active"), None)

    session = wait_until(found)
    assert session.application == "shop-web"
    assert session.user == "postgres"
    assert session.wait_event_type == "Timeout" and session.wait_event == "PgSleep"
    assert session.query_start is not None
    time.sleep(0.3)
    assert wait_until(found).duration_s >= 0.2
    assert cancel_query(db.url, None, session.pid) is True
    assert running.done.wait(5)
    assert "canceling statement due to user request" in str(running.error)


def test_terminate_ends_an_idle_session(db: LiveDatabase) -> None:
    conn = db.engine(application="shop-worker").connect()
    pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    conn.commit()
    assert _sessions(db.url)[pid].state == "idle"
    assert terminate_session(db.url, None, pid) is True
    wait_until(lambda: pid not in _sessions(db.url))
    with pytest.raises(sa.exc.DBAPIError):
        conn.exec_driver_sql("SELECT 1")
    conn.invalidate()
    assert cancel_query(db.url, None, pid) is False  # gone: nothing to signal


def test_a_role_without_the_right_is_told_why_and_a_granted_one_may(db: LiveDatabase) -> None:
    with pg_connection(db.url, None, 5.0) as conn:
        assert signal_right(conn).allowed
        assert may_reset_statements(conn)
    with pg_connection(db.weak_url, None, 5.0) as conn:
        right = signal_right(conn)
        assert not may_reset_statements(conn)
    assert not right.allowed and right.user == db.weak_role
    assert f"GRANT pg_signal_backend TO {db.weak_role}" in right.reason
    with db.admin.connect() as conn:
        conn.exec_driver_sql(f'GRANT pg_signal_backend TO "{db.weak_role}"')
    with pg_connection(db.weak_url, None, 5.0) as conn:
        assert signal_right(conn).allowed


def test_blocking_chain_names_the_holder_and_its_lock(db: LiveDatabase) -> None:
    with blocking_chain(db) as (a, b, c), pg_connection(db.url, None, 5.0) as conn:
        waits = read_waits(conn)
        words = {w.words() for w in waits}
        assert f"pid {b} waits for pid {a} (holds RowExclusiveLock on table bookings)" in words
        assert f"pid {c} waits for pid {a} (holds RowExclusiveLock on table bookings)" in words
        assert any(w.pid == c and w.blocker == b for w in waits)
        by_pid = {w.pid: w for w in waits}
        assert by_pid[c].wanted == "AccessExclusiveLock on bookings"
        sessions = {s.pid: s for s in read_sessions(conn)}
        assert sessions[b].wait_event_type == "Lock"
    tree = blocking_tree(waits)
    assert [root.pid for root in tree] == [a]
    children = {child.pid: child for child in tree[0].children}
    assert set(children) == {b, c}
    assert [grand.pid for grand in children[b].children] == [c]


def test_statement_deltas_answer_the_last_hour_and_the_day(db: LiveDatabase,
                                                           tmp_path: Path) -> None:
    history = StatementHistory(tmp_path / "statements.sqlite")
    engine = db.engine()

    def run(times: int) -> None:
        with engine.connect() as conn:
            for guests in range(times):
                conn.execute(sa.text("SELECT count(*) FROM bookings WHERE customer_name ILIKE "
                                     ":pattern AND guests > :g"), {"pattern": "%ada%", "g": guests})

    def sample(at: float) -> int:
        with pg_connection(db.url, None, 5.0) as conn:
            return history.record("shop", "database", read_statement_totals(conn), now=at)

    now = time.time()
    run(2)
    assert sample(now - 7200) == 0  # the first sample is the baseline
    run(3)
    assert sample(now - 3700) >= 1
    run(4)
    sample(now)

    def ours(since: float) -> list:
        return [s for s in history.top("shop", "database", since, limit=50)
                if "customer_name ILIKE" in s.query]

    assert [s.calls for s in ours(now - 3600)] == [4]
    assert [s.calls for s in ours(now - 86400)] == [7]
    assert ours(now - 86400)[0].total_ms > 0
    assert history.oldest("shop", "database") == pytest.approx(now - 3700)

    reset_statements(db.url, None)
    with pg_connection(db.url, None, 5.0) as conn:
        assert not [t for t in read_statement_totals(conn) if "customer_name ILIKE" in t[1]]
    run(2)
    sample(now + 60)  # after a reset the counters start again: all of them are new
    assert [s.calls for s in ours(now - 3600)] == [6]
    history.close()


def test_the_database_source_samples_the_history_while_it_polls(db: LiveDatabase,
                                                                tmp_path: Path) -> None:
    from services.collectors import attach_statement_history
    from services.collectors.database import (
        STATEMENT_SAMPLE_S,
        DatabaseCollector,
        database_engine,
    )

    clock = [time.time()]
    collector = DatabaseCollector("database", database_engine(db.url), url=db.url,
                                  clock=lambda: clock[0])
    attach_statement_history([collector], tmp_path / "statements.sqlite", "shop")
    history = collector.statement_history
    engine = db.engine()

    def run(times: int) -> None:
        with engine.connect() as conn:
            for _ in range(times):
                conn.execute(sa.text("SELECT guests FROM bookings WHERE id = :id"), {"id": 7})

    def calls() -> list[int]:
        return [s.calls for s in history.top("shop", "database", 0, limit=100)
                if "FROM bookings WHERE id" in s.query]

    collector.collect()  # the baseline
    run(3)
    clock[0] += STATEMENT_SAMPLE_S / 2
    collector.collect()  # too soon: not sampled
    assert calls() == []
    clock[0] += STATEMENT_SAMPLE_S / 2
    collector.collect()
    assert calls() == [3]
    collector.close()
    history.close()


def test_the_view_shows_what_the_profiles_database_source_sampled(
        db: LiveDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built by the composition root as the console builds them: the profile's database
    source (made on its first collect) samples into the data folder's statement history,
    and the live view's window reads that same history."""
    from console.profile import DatabaseConfig, Profile
    from services.bootstrap import Diagnostics, build_services

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    profile = Profile(name="shop", database=DatabaseConfig(url=db.url))
    services = build_services(profile)
    tools = Diagnostics().database_live_tools()
    try:
        [source] = [c for c in services.collectors if c.kind == "database"]
        source.collect()  # the source's first sample: the baseline
        with db.engine().connect() as conn:
            for _ in range(4):
                conn.execute(sa.text("SELECT guests FROM bookings WHERE id = :id"), {"id": 3})
        target = tools.target(profile, "database", "postgresql")
        assert target is not None
        window = tools.statement_window(target, 3600.0, "total")  # the view's sample
        assert [s.calls for s in window.statements
                if "FROM bookings WHERE id" in s.query] == [4]
        assert window.oldest is not None
    finally:
        services.stop()
        tools.close()


def test_the_consoles_own_statements_and_sessions_are_labelled(db: LiveDatabase,
                                                               tmp_path: Path) -> None:
    """The console names its connections (application_name, set when it connects) and tags
    its statements: in the statements over time, its own reads are told from the shop's."""
    from services.diagnostics.database_live import DatabaseLiveTools, LiveTarget
    from services.diagnostics.db_insights import make_engine

    tools = DatabaseLiveTools(tmp_path / "statements.sqlite")
    target = LiveTarget("Shop", "shop", db.url, None, 5.0)
    try:
        tools.statement_window(target, 3600.0, "calls")  # the baseline
        with db.engine(application="shop-web").connect() as conn:
            conn.execute(sa.text("SELECT count(*) FROM bookings WHERE guests > 3"))
        console = make_engine(db.url).connect()  # as the console's database views connect
        try:
            # a statement of its own: pg_stat_statements keeps one text per normalised
            # statement and user, the first seen (the same SELECT by the shop's user first
            # would keep the shop's text)
            console.execute(sa.text("SELECT max(guests) FROM bookings WHERE guests > 5"))
            mine = int(console.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
            sessions, _right = tools.sessions(target)
            assert {s.pid: s.application for s in sessions}[mine] == "backroom-insights"
        finally:
            console.close()
        window = tools.statement_window(target, 3600.0, "calls")
        by_query = {s.query: window.own(s) for s in window.statements}
        shops = [q for q in by_query if "count(*) FROM bookings" in q]
        owns = [q for q in by_query if "guests >" in q and q.startswith("/* backroom */")]
        assert shops and owns
        assert not any(by_query[q] for q in shops) and all(by_query[q] for q in owns)
        # the views' own reads of pg_stat_statements and pg_stat_activity are the console's
        assert any(by_query[q] for q in by_query if "pg_stat_activity" in q)
    finally:
        tools.close()
