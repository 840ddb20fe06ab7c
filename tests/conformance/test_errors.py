"""A real back end answering errors under load: readings, diagnose verdict and the advisor."""

from __future__ import annotations

import json

import pytest

from console.domain import Severity, Status
from console.profile import Profile, Source
from console.report import render_json, render_table
from services.diagnostics.diagnose import run_diagnose
from tests.conformance.compare import record
from tests.conformance.load import SteadyLoad


def test_a_backend_answering_only_errors_is_failing(flask_shop: str) -> None:
    profile = Profile(name="Bistro", sources=(
        Source("flask", "prometheus", flask_shop + "/metrics", timeout_s=5),))
    load = SteadyLoad([flask_shop + "/fail"], per_second=20)
    load.start(workers=2)
    try:
        result = run_diagnose(profile, window_s=2.0)
    finally:
        load.stop()
    sent = load.log.count()
    assert sent > 20 and load.log.errors() == sent
    assert result.status is Status.FAIL
    errors = [f for f in result.findings if f.rule == "error-ratio"]
    assert [f.severity for f in errors] == [Severity.FAIL]
    traffic = json.loads(render_json(result))["metrics"]["traffic"]["flask"]
    # Every request of the load failed (the exporter leaves /metrics out).
    record("prometheus-flask-exporter", "error ratio, all failing", traffic["error_ratio"], 1.0,
           "load log")
    assert traffic["error_ratio"] == 1.0
    assert traffic["requests_per_s"] == pytest.approx(traffic["errors_per_s"], rel=0.05)
    table = render_table(result)
    assert "FAIL (failing)" in table.splitlines()[0]
    assert "TRAFFIC" in table and "Requests are failing" in table


def test_a_source_can_accept_more_errors(flask_shop: str) -> None:
    lenient = Source("flask", "prometheus", flask_shop + "/metrics", timeout_s=5,
                     error_ratio_warn=0.5, error_ratio_fail=0.9)
    load = SteadyLoad([flask_shop + "/dish/1"] * 9 + [flask_shop + "/fail"], per_second=30)
    load.start(workers=2)
    try:
        result = run_diagnose(Profile(name="Bistro", sources=(lenient,)), window_s=2.0)
    finally:
        load.stop()
    assert load.log.errors() > 0
    assert not [f for f in result.findings if f.rule == "error-ratio"]
    assert result.status is Status.OK
